package conn

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// Handshake scenarios: loss of any datagram or flight,
// timeouts, anti-amplification, refusal and TLS failures.

// withClientSettings edits the client's settings.
func withClientSettings(f func(s *Settings)) pairOption {
	return func(p *pair, cc *Config, _ *tls.Config) { f(&cc.Settings) }
}

// withClientTLS edits the client's TLS configuration.
func withClientTLS(f func(c *tls.Config)) pairOption {
	return func(p *pair, cc *Config, tc *tls.Config) { f(tc) }
}

// lastEvent returns the last recorded event's name.
func (e *endpoint) lastEvent() string {
	if len(e.events) == 0 {
		return ""
	}
	return e.events[len(e.events)-1].name
}

// bothDone reports whether both connections delivered SHUTDOWN_COMPLETE.
func (p *pair) bothDone() bool {
	return p.client.has("ShutdownComplete") && p.server.has("ShutdownComplete")
}

// echoWorks checks that a message still makes the round trip.
func echoWorks(t *testing.T, p *pair) {
	t.Helper()
	p.server.echo = true
	msg := []byte("still alive")
	s := openSend(p, msg, true)
	if !p.runUntil(10*time.Second, func() bool { return bytes.Equal(p.client.received[s.ID()], msg) }) {
		t.Fatalf("echo after the scenario failed: client %v server %v", tail(p.client.names()), tail(p.server.names()))
	}
}

// flightsOf returns the indexes of the datagrams each side sends during
// a clean handshake, grouped into flights (datagrams sent at the same
// instant).
func flightsOf(t *testing.T, setup func(p *pair)) map[string][][]int {
	p := newPair(t)
	setup(p)
	times := map[string][]mono.Time{}
	p.drop = func(from *endpoint, n int, data []byte) bool {
		times[from.name] = append(times[from.name], p.now)
		return false
	}
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	out := map[string][][]int{}
	for side, ts := range times {
		var flights [][]int
		for i, at := range ts {
			if i == 0 || at != ts[i-1] {
				flights = append(flights, nil)
			}
			flights[len(flights)-1] = append(flights[len(flights)-1], i)
		}
		out[side] = flights
	}
	return out
}

// TestHandshakeCompletesDespiteLossOfAnySingleDatagramOrFlight drops each
// datagram, and each multi-datagram flight, of either side once; with a
// large certificate chain the server's flight also hits the
// anti-amplification limit.
func TestHandshakeCompletesDespiteLossOfAnySingleDatagramOrFlight(t *testing.T) {
	for _, large := range []bool{false, true} {
		t.Run(fmt.Sprintf("largeChain=%v", large), func(t *testing.T) {
			setup := func(p *pair) {
				if large {
					withLargeCertChain(p)
				}
			}
			handshakeUnderSingleLoss(t, setup)
		})
	}
}

func handshakeUnderSingleLoss(t *testing.T, setup func(p *pair)) {
	flights := flightsOf(t, setup)
	if len(flights["client"]) < 2 || len(flights["server"]) < 1 {
		t.Fatalf("unexpected clean handshake: %v", flights)
	}
	type loss struct {
		side string
		drop []int
	}
	var cases []loss
	for _, side := range []string{"client", "server"} {
		n := 0
		for _, f := range flights[side] {
			n += len(f)
			if len(f) > 1 {
				cases = append(cases, loss{side, f})
			}
		}
		for k := 0; k < n; k++ {
			cases = append(cases, loss{side, []int{k}})
		}
	}
	for _, lc := range cases {
		t.Run(fmt.Sprintf("%s%v", lc.side, lc.drop), func(t *testing.T) {
			p := newPair(t)
			setup(p)
			p.drop = func(from *endpoint, n int, data []byte) bool {
				if from.name != lc.side {
					return false
				}
				for _, k := range lc.drop {
					if n == k {
						return true
					}
				}
				return false
			}
			start := p.now
			p.handshake()
			if d := p.now.Sub(start); d > 5*time.Second {
				t.Errorf("handshake took %v of virtual time", d)
			}
			if !p.server.c.life.handshakeConfirmed {
				t.Error("server not confirmed")
			}
			for _, e := range []*endpoint{p.client, p.server} {
				if e.count("Connected") != 1 || e.has("ShutdownByTransport") {
					t.Errorf("%s events %v", e.name, e.names())
				}
			}
			echoWorks(t, p)
		})
	}
}

func TestIdleTimeoutSmallerValueWinsOnBothSidesSilently(t *testing.T) {
	// long 0 is "disabled" on that side: the other side's value applies
	// to both (RFC 9000 §10.1).
	for _, long := range []time.Duration{30 * time.Second, 0} {
		for _, clientShorter := range []bool{true, false} {
			idleTimeoutCase(t, 5*time.Second, long, clientShorter)
		}
	}
}

func idleTimeoutCase(t *testing.T, short, long time.Duration, clientShorter bool) {
	t.Run(fmt.Sprintf("long=%v/clientShorter=%v", long, clientShorter), func(t *testing.T) {
		cIdle, sIdle := long, short
		if clientShorter {
			cIdle, sIdle = short, long
		}
		p := newPair(t, withClientSettings(func(s *Settings) { s.IdleTimeout = cIdle }))
		p.serverSettings.IdleTimeout = sIdle
		p.handshake()
		p.runUntil(500*time.Millisecond, func() bool { return false })
		quiet := p.now
		sent := p.sentCount[p.client] + p.sentCount[p.server]
		if !p.runUntil(time.Minute, p.bothDone) {
			t.Fatalf("no idle close: client %v server %v", p.client.names(), p.server.names())
		}
		if got := p.sentCount[p.client] + p.sentCount[p.server]; got != sent {
			t.Errorf("%d datagrams sent while idle; an idle close is silent", got-sent)
		}
		for _, e := range []*endpoint{p.client, p.server} {
			ev, ok := e.find("ShutdownByTransport")
			if !ok || ev.r.Local != ReasonIdle || ev.r.Remote {
				t.Fatalf("%s: want ShutdownByTransport(idle), events %v (%+v)", e.name, e.names(), ev.r)
			}
			if d := ev.at.Sub(quiet); d > short || d < short-time.Second {
				t.Errorf("%s idle close %v after the connection went quiet, want ≈ %v", e.name, d, short)
			}
			if sc, _ := e.find("ShutdownComplete"); sc.a != 1 || sc.b != 0 || e.lastEvent() != "ShutdownComplete" {
				t.Errorf("%s ShutdownComplete(hs=%d, peerAck=%d) last=%s", e.name, sc.a, sc.b, e.lastEvent())
			}
		}
	})
}

func TestHandshakeIdleTimeoutWhenServerNeverAnswers(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.HandshakeIdleTimeout = 3 * time.Second }))
	p.drop = func(from *endpoint, n int, data []byte) bool { return from == p.client }
	start := p.now
	p.client.c.Start()
	if !p.runUntil(time.Minute, func() bool { return p.client.has("ShutdownComplete") }) {
		t.Fatalf("client never gave up: %v", p.client.names())
	}
	ev, _ := p.client.find("ShutdownByTransport")
	if ev.r.Local != ReasonIdle {
		t.Errorf("close reason %+v, want handshake idle timeout", ev.r)
	}
	if d := ev.at.Sub(start); d != 3*time.Second {
		t.Errorf("gave up after %v, want the 3s handshake idle timeout", d)
	}
	if sc, _ := p.client.find("ShutdownComplete"); sc.a != 0 || p.client.has("Connected") {
		t.Errorf("client events %v, ShutdownComplete hs=%d", p.client.names(), sc.a)
	}
	if p.sentCount[p.client] < 3 {
		t.Errorf("client sent %d Initials, want retransmissions", p.sentCount[p.client])
	}
}

// withLargeCertChain makes the server's first flight far larger than three
// times the client's Initial.
func withLargeCertChain(p *pair) {
	cert, _ := certOnce()
	big := cert
	big.Certificate = nil
	for i := 0; i < 16; i++ {
		big.Certificate = append(big.Certificate, cert.Certificate[0])
	}
	p.serverTLS = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{big}}
}

func TestServerSendsAtMostThreeTimesReceivedBeforeAddressValidation(t *testing.T) {
	p := newPair(t)
	withLargeCertChain(p)
	// The server gets the client's first flight (the ClientHello) and
	// nothing else, so it never validates the client's address.
	start, first := p.now, 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from != p.client || p.now != start {
			return from == p.client
		}
		first += len(data)
		return false
	}
	p.client.c.Start()
	p.runUntil(30*time.Second, func() bool { return false })
	recv, sent := p.recvBytes[p.server], p.sentBytes[p.server]
	if recv != first || first < 1200 {
		t.Fatalf("server received %d bytes, want only the client's first flight (%d bytes)", recv, first)
	}
	if sent == 0 || sent > 3*recv {
		t.Fatalf("server sent %d bytes having received %d, want 0 < sent <= %d", sent, recv, 3*recv)
	}
	t.Logf("server sent %d bytes in %d datagrams for %d received", sent, p.sentCount[p.server], recv)
}

func TestHandshakeWithLargeFlightRespectsAmplificationLimitAndCompletes(t *testing.T) {
	p := newPair(t)
	withLargeCertChain(p)
	checked := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.server && !p.server.c.path.validated {
			checked++
			if p.sentBytes[p.server] > 3*p.recvBytes[p.server] {
				t.Errorf("server datagram %d: %d bytes sent for %d received before validation", n, p.sentBytes[p.server], p.recvBytes[p.server])
			}
		}
		return false
	}
	p.handshake()
	if checked == 0 {
		t.Fatal("no server datagram before address validation")
	}
	echoWorks(t, p)
}

func TestRejectedConnectionClosesClientWithConnectionRefused(t *testing.T) {
	p := newPair(t)
	p.rejectConn = true
	p.client.c.Start()
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("ShutdownComplete") }) {
		t.Fatalf("client not closed: %v", p.client.names())
	}
	ev, _ := p.client.find("ShutdownByTransport")
	if !ev.r.Remote || ev.r.App || ev.r.Code != uint64(wire.ConnectionRefused) {
		t.Errorf("client close %+v, want remote CONNECTION_REFUSED", ev.r)
	}
	if p.client.has("Connected") {
		t.Error("client connected")
	}
	p.runUntil(10*time.Second, func() bool { return p.server.closed })
	if !p.server.closed {
		t.Error("refused server connection never terminated")
	}
	if got := p.server.names(); len(got) != 1 || got[0] != "NewConnection" {
		t.Errorf("server events %v, want only NewConnection", got)
	}
}

func TestALPNMismatchClosesClientWithNoApplicationProtocolAlert(t *testing.T) {
	p := newPair(t, withClientTLS(func(c *tls.Config) { c.NextProtos = []string{"unknown"} }))
	p.client.c.Start()
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("ShutdownComplete") }) {
		t.Fatalf("client not closed: %v", p.client.names())
	}
	ev, _ := p.client.find("ShutdownByTransport")
	if !ev.r.Remote || ev.r.Code != 0x178 {
		t.Errorf("client close %+v, want remote CRYPTO_ERROR 0x178 (no_application_protocol)", ev.r)
	}
	if sc, _ := p.client.find("ShutdownComplete"); sc.a != 0 {
		t.Error("ShutdownComplete says the handshake completed")
	}
}

func TestBadCertificateClosesWithCryptoErrorOnBothSides(t *testing.T) {
	p := newPair(t, withClientTLS(func(c *tls.Config) { c.RootCAs = x509.NewCertPool() }))
	p.client.c.Start()
	if !p.runUntil(10*time.Second, p.bothDone) {
		t.Fatalf("not closed: client %v server %v", p.client.names(), p.server.names())
	}
	cev, _ := p.client.find("ShutdownByTransport")
	if cev.r.Remote || !wire.ErrorCode(cev.r.Code).IsCrypto() {
		t.Errorf("client close %+v, want a local CRYPTO_ERROR", cev.r)
	}
	sev, _ := p.server.find("ShutdownByTransport")
	if !sev.r.Remote || sev.r.Code != cev.r.Code {
		t.Errorf("server close %+v, want the client's code %#x from the peer", sev.r, cev.r.Code)
	}
	for _, e := range []*endpoint{p.client, p.server} {
		if e.has("Connected") && e == p.client {
			t.Error("client connected with an untrusted certificate")
		}
		if sc, _ := e.find("ShutdownComplete"); e.lastEvent() != "ShutdownComplete" || (e == p.client && sc.a != 0) {
			t.Errorf("%s events %v", e.name, e.names())
		}
	}
}

// TestHandshakeCompletesUnderRandomLossAndReordering runs seeded
// handshakes with 15% loss and 20% reordering, with a normal and with an
// amplification-limited server flight.
func TestHandshakeCompletesUnderRandomLossAndReordering(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		for _, large := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed=%d/largeChain=%v", seed, large), func(t *testing.T) {
				p := newPair(t)
				if large {
					withLargeCertChain(p)
				}
				p.rng = rand.New(rand.NewPCG(seed, 3))
				p.lossRate, p.reorderRate = 0.15, 0.2
				p.client.c.Start()
				ok := p.runUntil(time.Minute, func() bool {
					return p.client.c.life.handshakeConfirmed && p.server.has("Connected") || p.client.has("ShutdownComplete")
				})
				if !ok || p.client.has("ShutdownComplete") {
					ev, _ := p.client.find("ShutdownByTransport")
					t.Fatalf("handshake failed at %v (%+v): client %v server %v", p.now.Sub(0)-time.Hour, ev.r, p.client.names(), p.server.names())
				}
				p.lossRate = 0
				echoWorks(t, p)
			})
		}
	}
}
