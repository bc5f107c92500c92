package conn

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/hquic/quic/internal/recovery"

	"github.com/hquic/quic/internal/wire"
)

func TestServerReleasesTLSOnceConfirmed(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	s := p.server.c
	if !s.hs.Released() {
		t.Fatal("server kept TLS after the handshake without resumption")
	}
	if p.client.c.hs.Released() {
		t.Error("client released TLS (it must stay ready for tickets)")
	}
	if !s.tlsCompact || s.cryptoSend(recovery.SpaceApp) != nil {
		t.Error("server kept its CRYPTO streams with nothing outstanding")
	}
	if got := s.ConnectionState().NegotiatedProtocol; got != "test" {
		t.Errorf("ConnectionState after release: ALPN %q, want test", got)
	}
	echoWorks(t, p)
}

func TestServerKeepsTLSUntilTicketSent(t *testing.T) {
	p := newPair(t)
	p.serverSettings.ServerResumption = ResumeOnly
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	s := p.server.c
	if s.hs.Released() {
		t.Fatal("server released TLS while the application may still ask for a ticket")
	}
	s.SendResumptionTicket([]byte("app"))
	p.drop = func(from *endpoint, n int, data []byte) bool { return from == p.server } // the ticket is lost
	p.runUntil(50*time.Millisecond, func() bool { return s.hs.Released() })
	if !s.hs.Released() {
		t.Fatal("server kept TLS after sending its ticket")
	}
	if s.tlsCompact {
		t.Fatal("server dropped its CRYPTO streams with the ticket unacknowledged")
	}
	p.drop = nil
	p.runUntil(time.Second, func() bool { return false })
	if !s.tlsCompact {
		t.Error("server kept its CRYPTO streams after the ticket was acknowledged")
	}
	if !p.client.has("Ticket") {
		t.Errorf("the lost ticket was not sent again: client events %v", p.client.names())
	}
	echoWorks(t, p)
}

func TestCryptoAfterReleaseIsUnexpectedMessage(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	pkt := seal1RTT(p, p.client, append(wire.AppendCryptoHeader(nil, 0, 4), 4, 0, 0, 0))
	p.server.c.QueueDatagram(Datagram{Data: pkt, Peer: clientAddr, Local: serverAddr})
	p.runUntil(time.Second, func() bool { return p.server.has("ShutdownByTransport") })
	ev, ok := p.server.find("ShutdownByTransport")
	if !ok {
		t.Fatalf("server did not close: %v", p.server.names())
	}
	if want := uint64(wire.CryptoError(10)); ev.a != want {
		t.Errorf("closed with code %#x, want CRYPTO_ERROR(unexpected_message) %#x", ev.a, want)
	}
}

// TestMain checks, after every test of the package ran, that no connection
// wrote to the shared stand-in for dropped handshake spaces.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !reflect.DeepEqual(spaceGone, space{largestAcked: -1, discarded: true}) {
		fmt.Fprintf(os.Stderr, "spaceGone was written: %+v\n", spaceGone)
		code = 1
	}
	os.Exit(code)
}

func TestSetupDroppedOnceConfirmed(t *testing.T) {
	p := newPair(t)
	var early [][]byte // the client's handshake datagrams
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && len(early) < 3 {
			early = append(early, bytes.Clone(data))
		}
		return false
	}
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	for _, e := range []*endpoint{p.client, p.server} {
		c := e.c
		if !c.life.handshakeConfirmed {
			t.Fatalf("%s: handshake not confirmed", e.name)
		}
		if c.setup != nil {
			t.Errorf("%s kept its setup state after confirmation", e.name)
		}
		for _, sp := range []recovery.Space{recovery.SpaceInitial, recovery.SpaceHandshake} {
			if c.spaces[sp] != &spaceGone {
				t.Errorf("%s: space %d not dropped", e.name, sp)
			}
		}
		if c.path.probe != nil || c.path.responses != nil {
			t.Errorf("%s: path validation state allocated without migration", e.name)
		}
	}
	if p.server.c.peerParams != nil {
		t.Error("server kept the client's full transport parameters")
	}
	echoWorks(t, p)
	// Packets of the dropped spaces are ignored, not processed.
	for _, d := range early {
		p.server.c.QueueDatagram(Datagram{Data: d, Peer: clientAddr, Local: serverAddr})
	}
	p.runUntil(time.Second, func() bool { return false })
	if p.server.c.life.closing() {
		t.Fatal("server closed on late handshake packets")
	}
	echoWorks(t, p)
}

// TestConnSizeClass guards the size of Conn: every server connection holds
// one, and it fits the 4 KiB allocation size class (the next is 4.75 KiB).
func TestConnSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 4096 {
		t.Errorf("Conn is %d bytes, above the 4096-byte size class: move rarely used state behind a pointer (setupState, pathProbe)", n)
	}
}

// hookedEvents checks that events arrive only between RunStarted and
// RunEnded.
type hookedEvents struct {
	*endpoint
	in, starts, outside int
}

func (h *hookedEvents) RunStarted() { h.in++; h.starts++ }
func (h *hookedEvents) RunEnded()   { h.in-- }

func (h *hookedEvents) check() {
	if h.in != 1 {
		h.outside++
	}
}

func (h *hookedEvents) Connected(resumed bool, alpn string) {
	h.check()
	h.endpoint.Connected(resumed, alpn)
}

func (h *hookedEvents) StreamReceive(s *Stream, off uint64, bufs [][]byte, fin, zeroRTT bool) (uint64, ReceiveResult) {
	h.check()
	return h.endpoint.StreamReceive(s, off, bufs, fin, zeroRTT)
}

func (h *hookedEvents) StreamShutdownComplete(s *Stream, info StreamShutdownInfo) {
	h.check()
	h.endpoint.StreamShutdownComplete(s, info)
}

func (h *hookedEvents) ShutdownComplete(hs, peerAck, appClose bool) {
	h.check()
	h.endpoint.ShutdownComplete(hs, peerAck, appClose)
}

func TestRunHooksFrameEveryEvent(t *testing.T) {
	p := newPair(t)
	h := &hookedEvents{endpoint: p.client}
	p.client.c.setEvents(h)
	p.handshake()
	echoWorks(t, p)
	p.client.c.Shutdown(false, 0)
	p.runUntil(10*time.Second, func() bool { return p.client.has("ShutdownComplete") })
	if !p.client.has("ShutdownComplete") {
		t.Fatalf("client did not finish: %v", p.client.names())
	}
	if h.starts == 0 || h.in != 0 || h.outside != 0 {
		t.Errorf("runs started %d, left open %d, events outside a run %d", h.starts, h.in, h.outside)
	}
}
