package conn

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// Transfers through a NAT next to the client that moves it to a new
// address and port, forgetting the old mapping at once: the server's
// datagrams on their way to the old mapping are lost, and the server
// learns the new address only from the client's next packet (RFC 9000
// §9.3).

// serveDownloads makes the server answer every request stream, once the
// request's FIN arrives, with data and a FIN.
func serveDownloads(p *pair, data []byte) {
	p.server.recvFn = func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult) {
		n := 0
		for _, b := range bufs {
			n += len(b)
		}
		if fin {
			p.server.c.StreamSend(s, [][]byte{data}, SendFlagFIN, nil)
		}
		return uint64(n), ReceiveDone
	}
}

// wideWindows gives both sides receive windows that a transfer never
// exhausts, so that a receiver sends no MAX_STREAM_DATA or MAX_DATA, only
// ACK frames.
func wideWindows(p *pair, cc *Config, _ *tls.Config) {
	for _, s := range []*Settings{&cc.Settings, &p.serverSettings, &p.serverStart} {
		s.ConnFlowControlWindow = 64 << 20
		s.StreamRecvWindowBidiLocal, s.StreamRecvWindowBidiRemote = 64<<20, 64<<20
	}
}

// natMove moves the client's socket to the external address to, as the
// server sees it.
func natMove(p *pair, to netip.AddrPort) {
	p.natForgets = true
	p.nat = map[netip.AddrPort]netip.AddrPort{clientAddr: to}
}

// A client that only downloads sends nothing but ACK frames, which the
// server does not acknowledge: with nothing of its own in flight it had
// no probe timer, so when its NAT moved it and the server's packets
// stopped arriving, it never sent again, and the server, which can only
// follow an address it hears from, sent into the old mapping until the
// idle timeout. A PING kept in flight (RFC 9000 §13.2.4) arms the
// client's probe timer; the probe comes from the new address, the server
// validates it and moves there, and the download completes.
func TestNATMovesDownloadingClient(t *testing.T) {
	p := newPair(t, wideWindows)
	p.delay = 5 * time.Millisecond
	p.rate = 20_000_000
	p.handshake()
	data := payload(1, 2<<20)
	serveDownloads(p, data)
	s := openSend(p, []byte("GET /file"), true)
	moved := netip.MustParseAddrPort("10.0.7.7:4100")
	start := p.now
	done := p.runUntil(20*time.Second, func() bool {
		if p.nat == nil && len(p.client.received[s.ID()]) >= 256<<10 {
			natMove(p, moved)
		}
		return p.client.streamFinished(s)
	})
	if got := p.client.received[s.ID()]; !done || !bytes.Equal(got, data) {
		t.Fatalf("download across the move: finished %v after %v, %d of %d bytes; client %v",
			done, p.now.Sub(start), len(got), len(data), tail(p.client.names()))
	}
	if n := p.server.count("PeerAddressChanged"); n != 1 || p.server.c.path.peer != moved {
		t.Errorf("server: %d PeerAddressChanged, path peer %v; want 1, %v", n, p.server.c.path.peer, moved)
	}
}

// Downloads and uploads of 1–3 s through a NAT that moves the client to a
// new address and port early in the transfer and again every 0.5–1 s,
// forgetting the old mapping at once, over links of 2–30 ms one way with
// a 2–20 Mbit/s bottleneck, some with 1% loss, and receive windows that
// need updates or do not: every transfer completes
// intact, the server following the client to every address it used.
func TestRandomNATMovesUnderLoad(t *testing.T) {
	t.Parallel() // a seed sweep of independent pairs; sequential tests count allocations alone
	for seed := uint64(1); seed <= sweepSeeds(100); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { natMovesUnderLoad(t, seed) })
	}
}

func natMovesUnderLoad(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 77))
	var opts []pairOption
	if r.IntN(2) == 0 {
		opts = append(opts, wideWindows)
	}
	p := newPair(t, opts...)
	p.rng = rand.New(rand.NewPCG(seed, 5))
	p.delay = time.Duration(2+r.IntN(29)) * time.Millisecond
	p.rate = []int64{2, 5, 10, 20}[r.IntN(4)] * 1_000_000
	p.handshake()
	p.lossRate = []float64{0, 0, 0.01}[r.IntN(3)]
	upload := r.IntN(2) == 0
	size := int(p.rate/8) * (1000 + r.IntN(2000)) / 1000
	data := payload(seed, size)
	var s *Stream
	if upload {
		s = openSend(p, data, true)
	} else {
		serveDownloads(p, data)
		s = openSend(p, []byte("GET /file"), true)
	}
	received := func() []byte {
		if upload {
			return p.server.received[s.ID()]
		}
		return p.client.received[s.ID()]
	}
	start := p.now
	next := start.Add(time.Duration(50+r.IntN(350)) * time.Millisecond)
	var moves []netip.AddrPort
	done := p.runUntil(60*time.Second, func() bool {
		if p.now >= next {
			to := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(len(moves) + 1), byte(1 + r.IntN(250))}),
				uint16(2000+r.IntN(60000)))
			natMove(p, to)
			moves = append(moves, to)
			next = p.now.Add(time.Duration(500+r.IntN(501)) * time.Millisecond)
		}
		if upload {
			return p.server.has("PeerSendShutdown") && len(received()) == len(data)
		}
		return p.client.streamFinished(s)
	})
	describe := func() string {
		return fmt.Sprintf("seed %d (upload %v, %d bytes, wide windows %v, delay %v, rate %d, loss %v, %d moves)",
			seed, upload, len(data), len(opts) > 0, p.delay, p.rate, p.lossRate, len(moves))
	}
	closed := p.client.has("ShutdownComplete") || p.server.has("ShutdownComplete")
	if got := received(); !done || closed || !bytes.Equal(got, data) {
		t.Fatalf("%s: finished %v after %v, closed %v, %d of %d bytes", describe(), done, p.now.Sub(start), closed, len(got), len(data))
	}
	if len(moves) == 0 {
		t.Fatalf("%s: the transfer ended before the first move", describe())
	}
}

// A server that follows its client to a new address resumes sending at
// once. Here the NAT still delivers what was on its way when it moved the
// client, so the client keeps acknowledging from its new address while
// the server validates it, and the server keeps sending a window's worth
// into the old mapping for that round trip. Those packets used to stay in
// bytes in flight after the move, filling the new path's initial window,
// until a probe timeout declared them lost, a second later with the RTT
// estimate reset, by when a NAT may have moved the client again. They are
// now sent again at once (RFC 9000 §9.4: packets sent on the old path do
// not count for the new path's congestion control). With only the port
// changed the window is kept and was never the problem.
func TestServerResumesAtOnceAfterFollowingNAT(t *testing.T) {
	for _, addr := range []bool{true, false} {
		t.Run(fmt.Sprint("address changed ", addr), func(t *testing.T) {
			p := newPair(t, wideWindows)
			p.delay = 30 * time.Millisecond
			p.rate = 20_000_000
			p.handshake()
			data := payload(2, 4<<20)
			serveDownloads(p, data)
			s := openSend(p, []byte("GET /file"), true)
			moved := netip.AddrPortFrom(clientAddr.Addr(), 4100)
			if addr {
				moved = netip.MustParseAddrPort("10.0.7.7:4100")
			}
			done := p.runUntil(20*time.Second, func() bool {
				if p.nat == nil && len(p.client.received[s.ID()]) >= 1<<20 {
					p.nat = map[netip.AddrPort]netip.AddrPort{clientAddr: moved}
				}
				return p.client.streamFinished(s)
			})
			if !done || !bytes.Equal(p.client.received[s.ID()], data) {
				t.Fatalf("download did not complete: %d of %d bytes", len(p.client.received[s.ID()]), len(data))
			}
			ev, ok := p.server.find("PeerAddressChanged")
			if !ok {
				t.Fatal("the server did not follow the client")
			}
			var resumed time.Duration
			for _, e := range p.client.events {
				if e.name == "Receive" && e.at > ev.at {
					resumed = e.at.Sub(ev.at)
					break
				}
			}
			if resumed == 0 || resumed > 100*time.Millisecond {
				t.Errorf("stream data reached the client %v after the server moved, want within a round trip or so (60 ms)", resumed)
			}
		})
	}
}
