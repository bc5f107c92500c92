package interop

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// Connection migration between hquic and quic-go: the client moves to a new
// socket in the middle of an echo, and the echo completes.

// migrationPayload is long enough that the move happens mid-transfer.
const migrationPayload = 8 << 20

// movedAfter is how much of the echo the client reads before it moves.
const movedAfter = 1 << 20

// A quic-go client adds a path on a new socket mid-transfer, probes it and
// switches to it; the hquic server validates the new path and reports the
// move once.
func TestMigrationGoClientHquicServer(t *testing.T) {
	h := newHQ(t)
	peerMoved := make(chan netip.AddrPort, 4)
	conns := make(chan *quic.Connection, 1)
	l, err := h.reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		ev2, ok := ev.(*quic.NewConnectionEvent)
		if !ok {
			return nil
		}
		rec := newConnRec(hquicEchoStream)
		ev2.Connection.SetHandler(func(c *quic.Connection, ev quic.ConnectionEvent) error {
			if ev, ok := ev.(*quic.PeerAddressChangedEvent); ok {
				peerMoved <- ev.Addr
			}
			return rec.handle(c, ev)
		})
		conns <- ev2.Connection
		return ev2.Connection.SetConfiguration(h.serverConfig("echo"))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	addr, err := l.LocalAddr()
	if err != nil {
		t.Fatal(err)
	}

	first, second := goTransport(t), goTransport(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gc, err := first.Dial(ctx, net.UDPAddrFromAddrPort(addr), goClientTLS(t, "echo"), goConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer gc.CloseWithError(0, "")
	s, err := gc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := testData(7, migrationPayload)
	werr := make(chan error, 1)
	go func() {
		_, err := s.Write(msg)
		if err == nil {
			err = s.Close()
		}
		werr <- err
	}()
	head := make([]byte, movedAfter)
	if _, err := io.ReadFull(s, head); err != nil {
		t.Fatal(err)
	}
	path, err := gc.AddPath(second)
	if err != nil {
		t.Fatal(err)
	}
	var moveErr error
	var moving sync.WaitGroup
	moving.Go(func() {
		if moveErr = path.Probe(ctx); moveErr == nil {
			moveErr = path.Switch()
		}
	})
	rest, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	moving.Wait()
	if moveErr != nil {
		t.Fatalf("quic-go could not move: %v", moveErr)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), msg) {
		t.Fatalf("echoed %d bytes that differ from the %d sent", len(head)+len(rest), len(msg))
	}
	// The echo may finish before the switch; one more round trip runs on
	// the new path for sure.
	goEchoOnce(t, gc, []byte("from the new path"))

	newAddr := second.Conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if got := wait(t, peerMoved, "PeerAddressChangedEvent"); got != newAddr {
		t.Errorf("PeerAddressChangedEvent %v, want %v", got, newAddr)
	}
	c := wait(t, conns, "hquic server connection")
	if ra, err := c.RemoteAddr(); err != nil || ra != newAddr {
		t.Errorf("server's RemoteAddr %v (%v), want %v", ra, err, newAddr)
	}
	if st, err := c.Statistics(); err != nil || st.PathChanges != 1 {
		t.Errorf("server PathChanges %d (%v), want 1", st.PathChanges, err)
	}
	select {
	case a := <-peerMoved:
		t.Errorf("a second PeerAddressChangedEvent (%v)", a)
	default:
	}
}

// goTransport is a quic-go Transport on a fresh 127.0.0.1 socket, closed
// at the end of the test.
func goTransport(t *testing.T) *qgo.Transport {
	t.Helper()
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &qgo.Transport{Conn: uc}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// An hquic client moves to a new local socket mid-transfer with
// SetLocalAddr; the quic-go server follows it and the echo completes.
func TestMigrationHquicClientGoServer(t *testing.T) {
	h := newHQ(t)
	addr := goEchoListen(t, nil, "echo", goConfig())
	rec := newConnRec(nil)
	moved := make(chan netip.AddrPort, 4)
	c, err := h.reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		if ev, ok := ev.(*quic.LocalAddressChangedEvent); ok {
			moved <- ev.Addr
		}
		return rec.handle(c, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetRemoteAddr(addr); err != nil {
		t.Fatal(err)
	}
	msg := testData(8, migrationPayload)
	var got []byte
	var aborted *quic.PeerSendAbortedEvent
	headDone, done := make(chan struct{}), make(chan struct{})
	s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
		switch ev := ev.(type) {
		case *quic.ReceiveEvent:
			before := len(got)
			for _, b := range ev.Buffers {
				got = append(got, b...)
			}
			if before < movedAfter && len(got) >= movedAfter {
				close(headDone)
			}
		case *quic.PeerSendAbortedEvent:
			aborted = ev
		case *quic.StreamShutdownCompleteEvent:
			s.Close()
			close(done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([][]byte{msg}, quic.SendStart|quic.SendFIN, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(h.clientConfig("echo"), quic.AddressFamilyUnspec, "localhost", addr.Port()); err != nil {
		t.Fatal(err)
	}
	wait(t, headDone, "the first MiB of the echo")
	before, err := c.LocalAddr()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetLocalAddr(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	var after netip.AddrPort
	select {
	case after = <-moved:
	case ev := <-rec.transport:
		t.Fatalf("connection closed by the transport: %v", ev.Err)
	case ev := <-rec.peer:
		t.Fatalf("connection closed by the peer with code %d", ev.ErrorCode)
	case <-timeoutC():
		t.Fatal("timed out waiting for LocalAddressChangedEvent")
	}
	if after.Port() == before.Port() {
		t.Errorf("moved from %v to %v", before, after)
	}
	wait(t, done, "the rest of the echo")
	if aborted != nil {
		t.Errorf("the server reset the stream with code %d after %d bytes", aborted.ErrorCode, len(got))
	} else if !bytes.Equal(got, msg) {
		t.Errorf("echoed %d bytes that differ from the %d sent (first difference at %d)", len(got), len(msg), firstDifference(got, msg))
	}
	if la, err := c.LocalAddr(); err != nil || la != after {
		t.Errorf("LocalAddr %v (%v), want %v", la, err, after)
	}
	if st, err := c.Statistics(); err != nil || st.PathChanges != 1 || st.PathValidationFailures != 0 {
		t.Errorf("PathChanges %d, PathValidationFailures %d (%v); want 1, 0", st.PathChanges, st.PathValidationFailures, err)
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	wait(t, rec.complete, "hquic shutdown complete")
}

// firstDifference is the first offset at which a and b differ, or the
// shorter length when one is a prefix of the other.
func firstDifference(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
