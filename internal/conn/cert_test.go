package conn

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// withClientDecision gives the client a certificate decision.
func withClientDecision(d CertificateDecision) pairOption {
	return func(p *pair, cc *Config, _ *tls.Config) { cc.DecideCertificate = d }
}

func TestPendingCertificateDecisionHoldsBothSides(t *testing.T) {
	asks := 0
	p := newPair(t, withClientDecision(func() (bool, error) { asks++; return true, nil }))
	p.client.c.Start()
	p.runUntil(2*time.Second, func() bool { return false })
	if asks != 1 {
		t.Fatalf("decision asked %d times, want 1", asks)
	}
	if p.client.has("Connected") || p.server.has("Connected") {
		t.Fatalf("connected while the decision was pending: client %v, server %v", p.client.names(), p.server.names())
	}
	p.client.c.CompleteCertificateValidation(true, 0)
	if !p.runUntil(time.Second, func() bool { return p.client.has("Connected") && p.server.has("Connected") }) {
		t.Fatalf("no handshake after acceptance: client %v, server %v", p.client.names(), p.server.names())
	}
	if asks != 1 {
		t.Fatalf("decision asked %d times, want 1", asks)
	}
}

func TestCertificateAcceptedInsideTheDecisionCompletes(t *testing.T) {
	var p *pair
	p = newPair(t, withClientDecision(func() (bool, error) {
		p.client.c.CompleteCertificateValidation(true, 0) // queued; runs after the decision
		return true, nil
	}))
	p.handshake()
}

func TestRejectedCertificateSendsTheAlert(t *testing.T) {
	p := newPair(t, withClientDecision(func() (bool, error) { return true, nil }))
	p.client.c.Start()
	p.runUntil(time.Second, func() bool { return false })
	p.client.c.CompleteCertificateValidation(false, 48)
	p.runUntil(5*time.Second, func() bool { return p.server.has("ShutdownComplete") && p.client.has("ShutdownComplete") })
	ev, ok := p.server.find("ShutdownByTransport")
	if !ok || ev.r.Code != uint64(wire.CryptoError(48)) || !ev.r.Remote {
		t.Fatalf("server close = %+v, want the client's CRYPTO_ERROR(unknown_ca)", ev.r)
	}
	ev, ok = p.client.find("ShutdownByTransport")
	if !ok || ev.r.Code != uint64(wire.CryptoError(48)) || ev.r.Remote {
		t.Fatalf("client close = %+v, want its own CRYPTO_ERROR(unknown_ca)", ev.r)
	}
	if p.client.has("Connected") || p.server.has("Connected") {
		t.Fatal("a rejected certificate connected")
	}
}

func TestSynchronousRejectionFailsTheHandshake(t *testing.T) {
	p := newPair(t, withClientDecision(func() (bool, error) {
		return false, &wire.Error{Code: wire.CryptoError(42), Reason: "no"}
	}))
	p.client.c.Start()
	p.runUntil(5*time.Second, func() bool { return p.server.has("ShutdownComplete") })
	if ev, ok := p.server.find("ShutdownByTransport"); !ok || ev.r.Code != uint64(wire.CryptoError(42)) {
		t.Fatalf("server close = %+v, want CRYPTO_ERROR(bad_certificate)", ev.r)
	}
}

func TestUndecidedCertificateFailsAtTheHandshakeIdleTimeout(t *testing.T) {
	p := newPair(t, withClientDecision(func() (bool, error) { return true, nil }))
	start := p.now
	p.client.c.Start()
	// The server keeps probing, which restarts the ordinary idle timer;
	// the decision's own deadline still holds.
	if !p.runUntil(30*time.Second, func() bool { return p.client.has("ShutdownByTransport") }) {
		t.Fatalf("no close for an undecided certificate: %v", p.client.names())
	}
	ev, _ := p.client.find("ShutdownByTransport")
	if ev.r.Local != ReasonIdle {
		t.Fatalf("close reason %+v, want the idle reason", ev.r)
	}
	// The decision was asked one round trip after Start; the deadline is
	// the 10 s handshake idle timeout after that.
	if d := ev.at.Sub(start); d < 10*time.Second || d > 10*time.Second+time.Second {
		t.Fatalf("closed %v after Start, want the handshake idle timeout (10s) after the decision", d)
	}
	p.client.c.CompleteCertificateValidation(true, 0) // too late: ignored
	p.runUntil(time.Second, func() bool { return false })
	if p.client.has("Connected") {
		t.Fatal("a late acceptance connected")
	}
}

func TestServerDecidesOnTheClientBeforeCompleting(t *testing.T) {
	asks := 0
	p := newPair(t)
	p.serverDecide = func() (bool, error) { asks++; return true, nil }
	p.client.c.Start()
	p.runUntil(2*time.Second, func() bool { return false })
	if asks != 1 || p.server.has("Connected") {
		t.Fatalf("asks=%d, server %v; want one pending decision and no connection", asks, p.server.names())
	}
	p.server.c.CompleteCertificateValidation(true, 0)
	if !p.runUntil(time.Second, func() bool { return p.client.has("Connected") && p.server.has("Connected") }) {
		t.Fatalf("no handshake after acceptance: client %v, server %v", p.client.names(), p.server.names())
	}
}
