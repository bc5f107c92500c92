package conn

import (
	"testing"
	"time"

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
	p.runUntil(time.Second, func() bool { return false })
	if !s.hs.Released() {
		t.Error("server kept TLS after sending its ticket")
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
