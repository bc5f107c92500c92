package quicnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/nettest"
)

func TestStreamEchoThroughIOCopy(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		ctx := context.Background()
		go func() {
			s, err := server.AcceptStream(ctx)
			if err != nil {
				return
			}
			io.Copy(s, s)
			s.Close()
		}()
		s, err := client.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, 3<<20)
		rand.Read(msg)
		go func() {
			s.Write(msg)
			s.CloseWrite()
		}()
		got, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("echo differs: got %d bytes, sent %d", len(got), len(msg))
		}
		s.Close()
	})
}

// openPair opens a bidirectional stream from client to server and returns
// both ends; one byte is sent and read so the server knows of the stream.
func openPair(t testing.TB, client, server *Conn) (local, remote *Stream) {
	t.Helper()
	ctx := context.Background()
	local, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	remote, err = server.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(remote, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	return local, remote
}

// The conformance suite runs subtests, which a synctest bubble does not
// allow, so it runs over the simulated network on the real clock.
func TestStreamPassesNetConnConformance(t *testing.T) {
	t.Cleanup(waitReleased)
	tn := newTestNet()
	client, server := testPair(t, tn, nil)
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := openPair(t, client, server)
		return a, b, func() { a.Close(); b.Close() }, nil
	})
}

func TestReadDeadlineInThePastFailsEvenWithDataWaiting(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, b := openPair(t, client, server)
		a.Write([]byte("data"))
		b.SetReadDeadline(time.Now().Add(-time.Second))
		_, err := b.Read(make([]byte, 10))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read after the deadline = %v, want os.ErrDeadlineExceeded", err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("%v is not a net.Error with Timeout", err)
		}
		b.SetReadDeadline(time.Time{})
		buf := make([]byte, 4)
		if _, err := io.ReadFull(b, buf); err != nil || string(buf) != "data" {
			t.Fatalf("Read after clearing the deadline = %q, %v", buf, err)
		}
	})
}

func TestReadDeadlineUnblocksABlockedRead(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		_, b := openPair(t, client, server)
		done := make(chan error)
		go func() {
			_, err := b.Read(make([]byte, 10))
			done <- err
		}()
		b.SetReadDeadline(time.Now().Add(-time.Second))
		if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("blocked Read = %v, want os.ErrDeadlineExceeded", err)
		}
	})
}

func TestWriteBlocksOnceWindowAndBufferAreFull(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		const sendBuffer = 64 << 10
		const peerWindow = 64 << 10 // the server's default StreamRecvWindowBidiRemoteDefault
		client, server := testPair(t, tn, &Config{SendBuffer: sendBuffer})
		a, _ := openPair(t, client, server) // the server never reads again
		type result struct {
			n   int
			err error
		}
		done := make(chan result)
		go func() {
			n, err := a.Write(make([]byte, 8<<20))
			done <- result{n, err}
		}()
		a.SetWriteDeadline(time.Now().Add(-time.Second))
		r := <-done
		if !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write = %d, %v; want os.ErrDeadlineExceeded", r.n, r.err)
		}
		if r.n > sendBuffer+peerWindow {
			t.Fatalf("Write accepted %d bytes while the peer read nothing; at most the send buffer and the peer's window (%d) fit",
				r.n, sendBuffer+peerWindow)
		}
	})
}

func TestPeerResetIsAStreamErrorOnRead(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, b := openPair(t, client, server)
		b.CancelWrite(7)
		_, err := io.ReadAll(a)
		var se *StreamError
		if !errors.As(err, &se) || se.Code != 7 || !se.Remote {
			t.Fatalf("Read after the peer's reset = %v, want a remote *StreamError with code 7", err)
		}
		if !errors.Is(err, &StreamError{Code: 7, Remote: true}) {
			t.Fatalf("errors.Is does not match %v", err)
		}
	})
}

func TestPeerStopSendingIsAStreamErrorOnWrite(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, b := openPair(t, client, server)
		b.CancelRead(9)
		buf := make([]byte, 64<<10)
		var err error
		for err == nil {
			_, err = a.Write(buf)
		}
		var se *StreamError
		if !errors.As(err, &se) || se.Code != 9 || !se.Remote {
			t.Fatalf("Write after the peer's STOP_SENDING = %v, want a remote *StreamError with code 9", err)
		}
	})
}

func TestLocalCancelsFailLaterCalls(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, _ := openPair(t, client, server)
		a.CancelRead(3)
		a.CancelWrite(4)
		if _, err := a.Read(make([]byte, 1)); !errors.Is(err, &StreamError{Code: 3}) {
			t.Fatalf("Read after CancelRead(3) = %v", err)
		}
		if _, err := a.Write([]byte{1}); !errors.Is(err, &StreamError{Code: 4}) {
			t.Fatalf("Write after CancelWrite(4) = %v", err)
		}
	})
}

func TestCloseUnblocksReadAndFailsWrite(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, _ := openPair(t, client, server)
		done := make(chan error)
		go func() {
			_, err := a.Read(make([]byte, 1))
			done <- err
		}()
		a.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read blocked at Close = %v, want net.ErrClosed", err)
		}
		if _, err := a.Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write after Close = %v, want net.ErrClosed", err)
		}
	})
}

func TestCloseWriteDeliversEOFAfterTheData(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, b := openPair(t, client, server)
		a.Write([]byte("last words"))
		a.CloseWrite()
		if _, err := a.Write([]byte{1}); err == nil {
			t.Fatal("Write after CloseWrite succeeded")
		}
		got, err := io.ReadAll(b)
		if err != nil || string(got) != "last words" {
			t.Fatalf("ReadAll = %q, %v", got, err)
		}
		// The other direction still works.
		b.Write([]byte("reply"))
		b.Close()
		got, err = io.ReadAll(a)
		if err != nil || string(got) != "reply" {
			t.Fatalf("reply = %q, %v", got, err)
		}
	})
}

// A FIN that arrives on its own, after the last data was indicated and
// while the reader still holds it, is told by PeerSendShutdownEvent alone
// (no ReceiveEvent carries it): reading the data must then end in EOF.
func TestFINAfterTheLastDataWasIndicatedEndsTheRead(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, b := openPair(t, client, server)
		a.Write([]byte("data"))
		head := make([]byte, 2)
		if _, err := io.ReadFull(b, head); err != nil { // the data is indicated and held
			t.Fatal(err)
		}
		a.CloseWrite()
		time.Sleep(time.Second) // the FIN arrives in a packet of its own
		synctest.Wait()
		rest, err := io.ReadAll(b)
		if got := string(head) + string(rest); err != nil || got != "data" {
			t.Fatalf("read %q, %v; want the data and EOF", got, err)
		}
		b.Close()
		a.Close()
	})
}

func TestUnidirectionalStreams(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		ctx := context.Background()
		out, err := client.OpenUniStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := out.Read(make([]byte, 1)); err == nil {
			t.Fatal("Read on a send-only stream succeeded")
		}
		out.Write([]byte("one way"))
		out.Close()
		in, err := server.AcceptUniStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Write([]byte{1}); err == nil {
			t.Fatal("Write on a receive-only stream succeeded")
		}
		got, err := io.ReadAll(in)
		if err != nil || string(got) != "one way" {
			t.Fatalf("ReadAll = %q, %v", got, err)
		}
	})
}
