package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"sync"
	"testing"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// The echo protocol is examples/echo's: on each client-initiated
// bidirectional stream the server sends back every byte it receives and
// ends its side after the client's FIN.

// hquicEchoStream is the hquic echo server's stream handler. Received
// chunks are copied because receive buffers are only lent to the handler.
func hquicEchoStream(*quic.Stream) quic.StreamHandler {
	return func(s *quic.Stream, ev quic.StreamEvent) error {
		switch ev := ev.(type) {
		case *quic.ReceiveEvent:
			var data []byte
			for _, b := range ev.Buffers {
				data = append(data, b...)
			}
			flags := quic.SendNone
			if ev.Flags&quic.ReceiveFIN != 0 {
				flags = quic.SendFIN
			}
			if len(data) > 0 || flags != quic.SendNone {
				if err := s.Send([][]byte{data}, flags, nil); err != nil {
					s.Shutdown(quic.StreamShutdownAbort, 1)
				}
			}
		case *quic.PeerSendAbortedEvent:
			s.Shutdown(quic.StreamShutdownAbort, ev.ErrorCode)
		case *quic.StreamShutdownCompleteEvent:
			if !ev.AppCloseInProgress {
				s.Close()
			}
		}
		return nil
	}
}

// goEchoServe echoes every stream of a quic-go connection until it closes.
func goEchoServe(gc *qgo.Conn) {
	for {
		s, err := gc.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go func() {
			if _, err := io.Copy(s, s); err != nil {
				s.CancelWrite(1)
				s.CancelRead(1)
				return
			}
			s.Close()
		}()
	}
}

// echoResult is what came back on one stream.
type echoResult struct {
	n   int64
	sum [sha256.Size]byte
	err error
}

// hquicEcho sends each payload on its own stream of an hquic client
// connection and returns what came back on each.
func hquicEcho(t *testing.T, h *hq, addr netip.AddrPort, alpn string, payloads [][]byte) []echoResult {
	t.Helper()
	rec := newConnRec(nil)
	c, err := h.reg.NewConnection(rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetRemoteAddr(addr); err != nil {
		t.Fatal(err)
	}
	results := make([]echoResult, len(payloads))
	done := make(chan int, len(payloads))
	for i, p := range payloads {
		var (
			hs   hash.Hash = sha256.New()
			n    int64
			fin  bool
			rerr error
		)
		s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
			switch ev := ev.(type) {
			case *quic.ReceiveEvent:
				for _, b := range ev.Buffers {
					hs.Write(b)
					n += int64(len(b))
				}
				if ev.Flags&quic.ReceiveFIN != 0 {
					fin = true
				}
			case *quic.StartCompleteEvent:
				if ev.Status.Failed() && rerr == nil {
					rerr = fmt.Errorf("start failed: %v", ev.Status)
				}
			case *quic.PeerSendAbortedEvent:
				rerr = fmt.Errorf("peer aborted sending with code %d", ev.ErrorCode)
			case *quic.StreamShutdownCompleteEvent:
				if ev.ConnectionShutdown && rerr == nil {
					rerr = fmt.Errorf("connection shut down (status %v, code %d)", ev.ConnectionCloseStatus, ev.ConnectionErrorCode)
				}
				if !fin && rerr == nil {
					rerr = errors.New("stream ended without FIN")
				}
				results[i] = echoResult{n: n, err: rerr}
				copy(results[i].sum[:], hs.Sum(nil))
				s.Close()
				done <- i
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send([][]byte{p}, quic.SendStart|quic.SendFIN, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Start(h.clientConfig(alpn), quic.AddressFamilyUnspec, "localhost", addr.Port()); err != nil {
		t.Fatal(err)
	}
	for range payloads {
		select {
		case <-done:
		case ev := <-rec.transport:
			t.Fatalf("connection closed by the transport: %v", ev.Err)
		case ev := <-rec.peer:
			t.Fatalf("connection closed by the peer with code %d", ev.ErrorCode)
		case <-timeoutC():
			t.Fatal("timed out waiting for echoes")
		}
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	wait(t, rec.complete, "hquic shutdown complete")
	return results
}

// goEcho sends each payload on its own stream of a quic-go client
// connection, all in parallel, and returns what came back on each.
func goEcho(t *testing.T, addr netip.AddrPort, alpn string, payloads [][]byte) []echoResult {
	t.Helper()
	gc, err := goDial(t, addr, alpn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	results := make([]echoResult, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := gc.OpenStreamSync(ctx)
			if err != nil {
				results[i].err = err
				return
			}
			werr := make(chan error, 1)
			go func() {
				_, err := s.Write(p)
				if err == nil {
					err = s.Close()
				}
				werr <- err
			}()
			hs := sha256.New()
			n, err := io.Copy(hs, s)
			if err == nil {
				err = <-werr
			}
			results[i] = echoResult{n: n, err: err}
			copy(results[i].sum[:], hs.Sum(nil))
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("timed out waiting for echoes")
	}
	gc.CloseWithError(0, "")
	return results
}

func checkEchoes(t *testing.T, payloads [][]byte, results []echoResult) {
	t.Helper()
	bad := 0
	for i, p := range payloads {
		r := results[i]
		switch {
		case r.err != nil:
			t.Errorf("stream %d: %v", i, r.err)
		case r.n != int64(len(p)):
			t.Errorf("stream %d: echoed %d bytes, want %d", i, r.n, len(p))
		case !bytes.Equal(r.sum[:], sumOf(p)):
			t.Errorf("stream %d: echo checksum mismatch", i)
		default:
			continue
		}
		if bad++; bad == 5 {
			t.Fatal("too many failed streams")
		}
	}
}

func sumOf(p []byte) []byte {
	s := sha256.Sum256(p)
	return s[:]
}

func payloads(streams, size int) [][]byte {
	out := make([][]byte, streams)
	for i := range out {
		out[i] = testData(i, size)
	}
	return out
}

var echoCases = []struct {
	name          string
	streams, size int
}{
	{"1x10MiB", 1, 10 << 20},
	{"200x64KiB", 200, 64 << 10},
}

func TestEchoHquicClientGoServer(t *testing.T) {
	for _, tc := range echoCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHQ(t)
			addr, conns := goListen(t, "echo", nil)
			go func() {
				for gc := range conns {
					go goEchoServe(gc)
				}
			}()
			p := payloads(tc.streams, tc.size)
			checkEchoes(t, p, hquicEcho(t, h, addr, "echo", p))
		})
	}
}

func TestEchoGoClientHquicServer(t *testing.T) {
	for _, tc := range echoCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHQ(t)
			addr, _, _ := h.listen(h.serverConfig("echo"), "echo", hquicEchoStream)
			p := payloads(tc.streams, tc.size)
			checkEchoes(t, p, goEcho(t, addr, "echo", p))
		})
	}
}
