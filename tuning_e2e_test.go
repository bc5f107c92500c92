package quic

import (
	"bytes"
	"crypto/tls"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/internal/testutil"
	"github.com/hquic/quic/netsim"
)

// These tests are the tuning cases of the project specification's "When
// to Tune Retry Policies": each setting on the link it is meant for,
// against its default, end to end through the public API over netsim in
// virtual time. The client and the server run in one library on one
// simulated host; the server listens on 127.0.0.2 and the client sends
// from 127.0.0.1, so each direction is a link of its own.

// tuneNet is a library on a seeded netsim network with a listener whose
// connections get serve as their handler.
type tuneNet struct {
	lib      *Library
	reg      *Registration
	net      *netsim.Network
	srv, cli *Configuration
	listener *Listener
	addr     netip.AddrPort
}

// tuneSettings are the settings of both sides before a case changes them:
// idle timeouts long enough never to matter.
func tuneSettings() *Settings {
	return &Settings{PeerBidiStreamCount: Some[uint16](10), IdleTimeout: Some(300 * time.Second)}
}

func newTuneNet(t *testing.T, seed uint64, link netsim.Link, srv, cli *Settings, serve ConnectionHandler) *tuneNet {
	t.Helper()
	lib, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	n := &tuneNet{lib: lib, net: netsim.New(netsim.Config{Seed: seed, Link: link})}
	if err := lib.SetPacketNetwork(n.net.Host(e2eHostAddrs...)); err != nil {
		t.Fatal(err)
	}
	if n.reg, err = lib.NewRegistration(&RegistrationConfig{AppName: "tuning"}); err != nil {
		t.Fatal(err)
	}
	if n.srv, err = n.reg.NewConfiguration([]string{"tune"}, srv); err != nil {
		t.Fatal(err)
	}
	if err := n.srv.LoadCredential(&CredentialConfig{Type: CredentialTLSCertificate,
		Certificates: []tls.Certificate{testutil.ServerCertificate()}}); err != nil {
		t.Fatal(err)
	}
	if n.cli, err = n.reg.NewConfiguration([]string{"tune"}, cli); err != nil {
		t.Fatal(err)
	}
	if err := n.cli.LoadCredential(&CredentialConfig{Type: CredentialNone, Flags: CredentialClient,
		RootCAs: testutil.RootCAs()}); err != nil {
		t.Fatal(err)
	}
	n.listener, err = n.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			ev.Connection.SetHandler(func(c *Connection, ev ConnectionEvent) error {
				if _, ok := ev.(*ConnectionShutdownCompleteEvent); ok {
					defer c.Close()
				}
				if serve != nil {
					return serve(c, ev)
				}
				return nil
			})
			return ev.Connection.SetConfiguration(n.srv)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.listener.Start([]string{"tune"}, netip.MustParseAddrPort("127.0.0.2:0")); err != nil {
		t.Fatal(err)
	}
	n.addr, _ = n.listener.LocalAddr()
	t.Cleanup(n.close)
	return n
}

func (n *tuneNet) close() {
	n.listener.Close()
	n.srv.Close()
	n.cli.Close()
	<-n.reg.CloseAsync()
	n.lib.Close()
}

// dial starts a client connection with h as its handler.
func (n *tuneNet) dial(t *testing.T, h ConnectionHandler) *Connection {
	t.Helper()
	c, err := n.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
		if _, ok := ev.(*ConnectionShutdownCompleteEvent); ok {
			defer c.Close()
		}
		return h(c, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetRemoteAddr(n.addr); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(n.cli, AddressFamilyIPv4, "localhost", n.addr.Port()); err != nil {
		t.Fatal(err)
	}
	return c
}

// handshakeOutcome is how one client's handshake ended.
type handshakeOutcome struct {
	connected bool
	took      time.Duration // from Start to CONNECTED or to the transport's shutdown
	status    Status        // why the transport shut the connection down, if it did
	ptoFired  int           // the client's probe timeouts before the end
}

// ptoCounter counts a connection's expired probe timeouts from its trace.
type ptoCounter struct {
	mu    sync.Mutex
	fired int
}

func (p *ptoCounter) TraceEvent(ev *TraceEvent) {
	if ev.Name == "quic:timer_updated" && bytes.Contains(ev.Data, []byte(`"timer_type":"pto"`)) &&
		bytes.Contains(ev.Data, []byte(`"event_type":"expired"`)) {
		p.mu.Lock()
		p.fired++
		p.mu.Unlock()
	}
}

func (p *ptoCounter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired
}

// runHandshake runs one client's handshake on link with set applied to
// both sides' settings.
func runHandshake(t *testing.T, seed uint64, link netsim.Link, set func(*Settings)) handshakeOutcome {
	var h handshakeOutcome
	simTest(t, func(t *testing.T) {
		srv, cli := tuneSettings(), tuneSettings()
		set(srv)
		set(cli)
		ptos := &ptoCounter{}
		cli.Extensions.Tracer = Some[Tracer](ptos)
		n := newTuneNet(t, seed, link, srv, cli, nil)
		done := make(chan struct{})
		start := time.Now()
		n.dial(t, func(c *Connection, ev ConnectionEvent) error {
			switch ev := ev.(type) {
			case *ConnectedEvent:
				h.connected, h.took, h.ptoFired = true, time.Since(start), ptos.count()
				c.Shutdown(ConnectionShutdownNone, 0)
			case *ShutdownInitiatedByTransportEvent:
				h.status, h.took, h.ptoFired = ev.Status, time.Since(start), ptos.count()
			case *ConnectionShutdownCompleteEvent:
				close(done)
			}
			return nil
		})
		<-done
	})
	return h
}

func TestTuningInitialRTTMatchesALongLink(t *testing.T) {
	// The first probe timeout is 3 × InitialRTT (RFC 9002 §6.2.2: the
	// initial smoothed_rtt plus four times its half as rttvar). The
	// default of 333 ms makes it 999 ms: enough for a 600 ms round trip,
	// not for a 1.2 s one (a geostationary hop and a terrestrial tail),
	// where it fires before the server's first flight can arrive and
	// sends the client's Initial again for nothing. InitialRTT raised to
	// the link's round trip keeps it quiet; lowered below a third of the
	// round trip it fires on the 600 ms link too.
	for _, c := range []struct {
		name       string
		oneWay     time.Duration
		initialRTT time.Duration // 0: the default
		spurious   bool
	}{
		{"600ms RTT, default", 300 * time.Millisecond, 0, false},
		{"600ms RTT, InitialRTT 600ms", 300 * time.Millisecond, 600 * time.Millisecond, false},
		{"600ms RTT, InitialRTT 100ms", 300 * time.Millisecond, 100 * time.Millisecond, true},
		{"1.2s RTT, default", 600 * time.Millisecond, 0, true},
		{"1.2s RTT, InitialRTT 1.2s", 600 * time.Millisecond, 1200 * time.Millisecond, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := runHandshake(t, 1, netsim.Link{Latency: c.oneWay}, func(s *Settings) {
				if c.initialRTT != 0 {
					s.InitialRTT = Some(c.initialRTT)
				}
			})
			if !h.connected || h.took != 2*c.oneWay {
				t.Fatalf("connected=%v after %v, want one round trip (%v): the client's second flight needs none", h.connected, h.took, 2*c.oneWay)
			}
			if fired := h.ptoFired > 0; fired != c.spurious {
				t.Errorf("%d probe timeouts fired during the handshake over a lossless link, want spurious=%v", h.ptoFired, c.spurious)
			}
		})
	}
}

// handshakeSeeds is how many loss patterns the lossy handshake cases
// try.
const handshakeSeeds = 64

func TestTuningHandshakeRetriesOnAHighLossLink(t *testing.T) {
	t.Parallel() // CPU-bound and self-contained; the sequential tests measure goroutines and memory alone
	// A satellite-like link (600 ms round trip) losing 30% of the
	// datagrams in fades of five datagrams on average: a fade swallows
	// several probe rounds in a row (the client's first flight is two
	// datagrams, and probes repeat it).
	link := netsim.Link{Latency: 300 * time.Millisecond, Loss: 0.3, LossBurst: 5}
	run := func(set func(*Settings)) []handshakeOutcome {
		var hs []handshakeOutcome
		for seed := range uint64(handshakeSeeds) {
			hs = append(hs, runHandshake(t, seed+1, link, set))
		}
		return hs
	}
	// Raised: two minutes of handshake idle timeout, and as long to wait
	// for an acknowledgment (DisconnectTimeout, 16 s by default, bounds
	// every retransmission, the handshake's too); MaxPacketRetryCount
	// counts probe rounds, and hquic's default (0) sets no count, so
	// raising it means a count the link's fades fit in.
	raised := run(func(s *Settings) {
		s.HandshakeIdleTimeout = Some(120 * time.Second)
		s.DisconnectTimeout = Some(120 * time.Second)
		s.Extensions.MaxPacketRetryCount = Some[uint32](12)
	})
	def := run(func(*Settings) {})
	lowered := run(func(s *Settings) {
		s.HandshakeIdleTimeout = Some(2 * time.Second)
		s.Extensions.MaxPacketRetryCount = Some[uint32](1)
	})
	failed := func(hs []handshakeOutcome) int {
		n := 0
		for _, h := range hs {
			if !h.connected {
				n++
			}
		}
		return n
	}
	for i, h := range raised {
		if !h.connected {
			t.Errorf("raised, seed %d: the handshake failed after %v (%v)", i+1, h.took, h.status)
		}
	}
	if failed(def) == 0 {
		t.Errorf("with the defaults every handshake completed: the link does not need the raised settings")
	}
	for i, h := range def {
		if !h.connected && h.took < 10*time.Second {
			t.Errorf("default, seed %d: gave up after %v, before the 10 s handshake idle timeout", i+1, h.took)
		}
	}
	if failed(lowered) <= failed(def) {
		t.Errorf("lowered settings failed %d handshakes, the defaults %d", failed(lowered), failed(def))
	}
	for i, h := range lowered {
		if !h.connected && h.took > 5*time.Second {
			t.Errorf("lowered, seed %d: gave up after %v, not fast (%v)", i+1, h.took, h.status)
		}
	}
	t.Logf("failed handshakes of %d: raised %d, default %d, lowered %d", handshakeSeeds, failed(raised), failed(def), failed(lowered))
}

func TestTuningDisconnectTimeoutLetsADrainFinish(t *testing.T) {
	// A server drains: its listener stops taking connections, and it
	// closes each connection gracefully once its streams are done. A
	// client's download is in flight when the path goes dark for 20 s
	// (a rolling upgrade moving an address, a radio outage). The
	// server's data stays unacknowledged all that time: with
	// DisconnectTimeout raised to a minute the download finishes once
	// the path is back; with the default 16 s, or lowered, the server
	// declares the connection dead and the stream never finishes.
	const size = 1 << 20
	const outage = 20 * time.Second
	for _, c := range []struct {
		name     string
		timeout  time.Duration // 0: the default
		finishes bool
	}{
		{"raised to 60s", 60 * time.Second, true},
		{"default", 0, false},
		{"lowered to 2s", 2 * time.Second, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			simTest(t, func(t *testing.T) {
				// Both ends: the downloading client keeps a PING in flight
				// (RFC 9000 §13.2.4), so its own timeout runs through the
				// outage too.
				srv, cli := tuneSettings(), tuneSettings()
				if c.timeout != 0 {
					srv.DisconnectTimeout = Some(c.timeout)
					cli.DisconnectTimeout = Some(c.timeout)
				}
				link := netsim.Link{Latency: 25 * time.Millisecond, Bandwidth: 20e6}
				var n *tuneNet
				serverClosed := make(chan Status, 1)
				n = newTuneNet(t, 1, link, srv, cli, func(sc *Connection, ev ConnectionEvent) error {
					switch ev := ev.(type) {
					case *PeerStreamStartedEvent:
						// The drain begins with this request.
						n.listener.Stop()
						ev.Stream.SetHandler(func(s *Stream, ev StreamEvent) error {
							switch ev.(type) {
							case *PeerSendShutdownEvent:
								s.Send([][]byte{make([]byte, size)}, SendFIN, nil)
							case *StreamShutdownCompleteEvent:
								s.Close()
								sc.Shutdown(ConnectionShutdownNone, 0)
							}
							return nil
						})
					case *ShutdownInitiatedByTransportEvent:
						serverClosed <- ev.Status
					}
					return nil
				})
				got, finished := 0, false
				done := make(chan struct{})
				n.dial(t, func(cc *Connection, ev ConnectionEvent) error {
					switch ev.(type) {
					case *ConnectedEvent:
						s, err := cc.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
							switch ev := ev.(type) {
							case *ReceiveEvent:
								for _, b := range ev.Buffers {
									got += len(b)
								}
								finished = finished || ev.Flags&ReceiveFIN != 0
							case *StreamShutdownCompleteEvent:
								s.Close()
							}
							return nil
						})
						if err != nil {
							t.Error(err)
							return nil
						}
						s.Send([][]byte{[]byte("GET")}, SendStart|SendFIN, nil)
					case *ConnectionShutdownCompleteEvent:
						close(done)
					}
					return nil
				})
				// The outage starts while the download is under way: a
				// megabyte takes about 420 ms at 20 Mbit/s.
				time.Sleep(300 * time.Millisecond)
				n.net.SetDefaultLink(netsim.Link{Drop: func(netsim.Datagram) bool { return true }})
				time.Sleep(outage)
				n.net.SetDefaultLink(link)
				<-done
				if finished != c.finishes || finished && got != size {
					t.Errorf("the download finished=%v with %d of %d bytes, want finished=%v", finished, got, size, c.finishes)
				}
				select {
				case st := <-serverClosed:
					if c.finishes || st != StatusConnectionTimeout {
						t.Errorf("the server's transport shut the connection down: %v", st)
					}
				default:
					if !c.finishes {
						t.Error("the server's connection did not time out")
					}
				}
			})
		})
	}
}
