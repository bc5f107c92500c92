package conn

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// Seeded randomized scenarios: the properties of the other scenario tests
// must hold together and under loss.

func TestSmallWindowsManyStreamsUnderLossNeverStall(t *testing.T) {
	p := newPair(t)
	p.serverSettings.ConnFlowControlWindow = 32 << 10
	p.serverSettings.StreamRecvWindowBidiRemote = 8 << 10
	got := map[uint64][]byte{}
	r := rand.New(rand.NewPCG(9, 9))
	// A slow reader: it consumes a random part of what it is offered and
	// resumes itself a little later.
	p.server.recvFn = func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult) {
		var all []byte
		for _, b := range bufs {
			all = append(all, b...)
		}
		n := len(all)
		if n > 0 && r.IntN(3) == 0 {
			n = r.IntN(n + 1)
			p.server.c.Do(func(c *Conn, _ mono.Time) { c.StreamSetReceiveEnabled(s, true) })
		}
		got[s.ID()] = append(got[s.ID()], all[:n]...)
		return uint64(n), ReceiveDone
	}
	p.handshake()
	p.lossRate, p.reorderRate = 0.05, 0.05
	var streams []*Stream
	var sent [][]byte
	for i := 0; i < 20; i++ {
		data := payload(uint64(100+i), 100<<10)
		sent = append(sent, data)
		streams = append(streams, startStream(p, data, true, i))
	}
	if !p.runUntil(10*time.Minute, func() bool { return p.server.count("PeerSendShutdown") == len(streams) }) {
		n := 0
		for _, s := range streams {
			n += len(got[s.ID()])
		}
		t.Fatalf("stalled: %d of %d bytes; client %v", n, 20*100<<10, tail(p.client.names()))
	}
	for i, s := range streams {
		if !bytes.Equal(got[s.ID()], sent[i]) {
			t.Fatalf("stream %d: %d bytes, want %d intact", i, len(got[s.ID()]), len(sent[i]))
		}
	}
	st := p.client.c.statistics()
	t.Logf("virtual %v, %d packets sent, %d lost, %d stream bytes", p.now.Sub(0)-time.Hour, st.SendTotalPackets, st.SendSuspectedLostPackets, st.SendTotalStreamBytes)
}

func TestRandomAbortsUnderLossFinishEveryStreamAndCompleteEverySend(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	r := rand.New(rand.NewPCG(5, 5))
	p.handshake()
	p.lossRate, p.reorderRate = 0.1, 0.1
	type plan struct {
		s     *Stream
		flags uint32
		code  uint64
	}
	var plans []plan
	sends := 0
	for i := 0; i < 60; i++ {
		c := p.client.c
		s := c.NewStream(0)
		c.StreamStart(s, 0)
		for j := 0; j < 3; j++ {
			c.StreamSend(s, [][]byte{payload(uint64(i*3+j), r.IntN(30<<10))}, 0, fmt.Sprint(i, "/", j))
			sends++
		}
		flags := []uint32{
			StreamShutdownGraceful,
			StreamShutdownAbortSend,
			StreamShutdownAbortReceive,
			StreamShutdownAbortSend | StreamShutdownAbortReceive,
		}[i%4]
		plans = append(plans, plan{s, flags, uint64(0x100 + i)})
	}
	p.runUntil(30*time.Millisecond, func() bool { return false })
	for _, pl := range plans {
		p.client.c.StreamShutdown(pl.s, pl.flags, pl.code)
		if pl.flags&StreamShutdownAbortReceive != 0 {
			// The client no longer reads: it finishes its own side too.
			p.client.c.StreamShutdown(pl.s, StreamShutdownGraceful, 0)
		}
	}
	// The server ends its side of streams the client reset.
	p.server.handler = func(ev event) {
		if ev.name == "PeerSendAborted" {
			p.server.c.StreamShutdown(ev.s, StreamShutdownGraceful, 0)
		}
	}
	if !p.runUntil(10*time.Minute, func() bool {
		return p.client.count("StreamShutdownComplete") == len(plans) && p.server.count("StreamShutdownComplete") == len(plans)
	}) {
		for _, pl := range plans {
			if !p.client.streamFinished(pl.s) {
				t.Errorf("stream %d (flags %#x) unfinished: client %v server %v", pl.s.ID(), pl.flags, p.client.streamEvents(pl.s), p.server.streamEvents(p.server.peerStream(pl.s.ID())))
			}
		}
		t.FailNow()
	}
	sc := p.client.sendCompletes()
	if len(sc) != sends {
		t.Errorf("%d of %d sends completed", len(sc), sends)
	}
	for ctx, n := range sc {
		if n != 1 {
			t.Errorf("send %v completed %d times", ctx, n)
		}
	}
	for _, pl := range plans {
		ss := p.server.peerStream(pl.s.ID())
		if pl.flags&StreamShutdownAbortSend != 0 {
			if ev, ok := p.server.streamEvent(ss, "PeerSendAborted"); ok && ev.a != pl.code {
				t.Errorf("stream %d: PeerSendAborted(%#x), want %#x", pl.s.ID(), ev.a, pl.code)
			}
		}
		if pl.flags&StreamShutdownAbortReceive != 0 {
			if ev, ok := p.server.streamEvent(ss, "PeerReceiveAborted"); ok && ev.a != pl.code {
				t.Errorf("stream %d: PeerReceiveAborted(%#x), want %#x", pl.s.ID(), ev.a, pl.code)
			}
		}
	}
	if p.client.has("ShutdownByTransport") || p.server.has("ShutdownByTransport") {
		t.Errorf("connection closed: client %v server %v", tail(p.client.names()), tail(p.server.names()))
	}
}

func TestStreamLimitCyclesThroughManyStreamsWithPeerAccepted(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 5
	p.serverSettings.PeerUniStreamCount = 3
	p.server.echo = true
	p.handshake()
	p.lossRate = 0.03
	var bidi, uni []*Stream
	for i := 0; i < 100; i++ {
		s := p.client.c.NewStream(0)
		p.client.c.StreamStart(s, StreamStartIndicatePeerAccept)
		p.client.c.StreamSend(s, [][]byte{payload(uint64(i), 500)}, SendFlagFIN, i)
		bidi = append(bidi, s)
		u := p.client.c.NewStream(StreamOpenUnidirectional)
		p.client.c.StreamStart(u, StreamStartIndicatePeerAccept)
		p.client.c.StreamSend(u, [][]byte{payload(uint64(1000+i), 300)}, SendFlagFIN, 1000+i)
		uni = append(uni, u)
	}
	if !p.runUntil(10*time.Minute, func() bool { return p.client.count("StreamShutdownComplete") == 200 }) {
		t.Fatalf("%d of 200 streams finished", p.client.count("StreamShutdownComplete"))
	}
	for i, s := range bidi {
		if !bytes.Equal(p.client.received[s.ID()], payload(uint64(i), 500)) {
			t.Fatalf("bidi stream %d echo wrong", i)
		}
		_, accepted := p.client.streamEvent(s, "PeerAccepted")
		ev, _ := p.client.streamEvent(s, "StartComplete")
		if (ev.c == 1) == accepted {
			t.Errorf("bidi stream %d: accepted at start %d, PeerAccepted event %v", i, ev.c, accepted)
		}
	}
	for i, u := range uni {
		if !bytes.Equal(p.server.received[u.ID()], payload(uint64(1000+i), 300)) {
			t.Fatalf("uni stream %d data wrong", i)
		}
	}
	if p.server.count("PeerNeedsStreams") == 0 {
		t.Error("server never heard STREAMS_BLOCKED")
	}
}

func TestKeyUpdatesUnderLossBothSidesRepeatedly(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	p.lossRate, p.reorderRate = 0.05, 0.1
	data := payload(77, 3<<20)
	s := openSend(p, data, true)
	for i := 0; i < 12 && !p.client.streamFinished(s); i++ {
		e := p.client
		if i%3 == 1 {
			e = p.server
		}
		e.c.ForceKeyUpdate()
		p.runUntil(100*time.Millisecond, func() bool { return false })
	}
	if !p.runUntil(10*time.Minute, func() bool { return p.client.streamFinished(s) }) {
		t.Fatalf("echo stalled at %d of %d bytes", len(p.client.received[s.ID()]), len(data))
	}
	if !bytes.Equal(p.client.received[s.ID()], data) {
		t.Fatal("echo corrupted")
	}
	cu, su := p.client.c.app.updates, p.server.c.app.updates
	if cu < 3 || cu != su {
		t.Errorf("key updates client %d server %d", cu, su)
	}
	t.Logf("%d key updates", cu)
}

// Echoes of random sizes on many streams at once, with loss up to 25%,
// reordering, one-way delays of 1–50 ms and key updates every 11–75 KiB
// on both sides: every echo completes intact and neither side closes. The
// seeds this runs found a server dropping the read keys its silent client
// still used, and a lost ACK frame never replaced (each until the
// disconnect timeout).
func TestRandomEchoesUnderLossAndKeyUpdates(t *testing.T) {
	t.Parallel() // a seed sweep of independent pairs; sequential tests count allocations alone
	for seed := uint64(1); seed <= sweepSeeds(1200); seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		keyBytes := uint64(22<<10 + r.IntN(128<<10))
		p := newPair(t, withClientSettings(func(s *Settings) { s.MaxBytesPerKey = keyBytes }))
		p.rng = rand.New(rand.NewPCG(seed, 2))
		p.serverSettings.MaxBytesPerKey = keyBytes / 2
		p.server.echo = true
		p.delay = time.Duration(1+r.IntN(50)) * time.Millisecond
		p.handshake()
		p.lossRate = []float64{0, 0.02, 0.1, 0.25}[r.IntN(4)]
		p.reorderRate = []float64{0, 0.05, 0.2}[r.IntN(3)]
		want := map[*Stream][]byte{}
		for i := range 1 + r.IntN(40) {
			data := payload(seed<<8|uint64(i), r.IntN(1<<(1+r.IntN(16))))
			want[openSend(p, data, true)] = data
		}
		done := p.runUntil(10*time.Minute, func() bool { return p.client.streamsFinished(want) })
		closed := p.client.has("ShutdownComplete") || p.server.has("ShutdownComplete")
		if !done || closed {
			t.Fatalf("seed %d (loss %v, reorder %v, delay %v, key bytes %d): finished %v, closed %v: client %v",
				seed, p.lossRate, p.reorderRate, p.delay, keyBytes, done, closed, p.client.names())
		}
		for s, data := range want {
			if got := p.client.received[s.ID()]; !bytes.Equal(got, data) {
				t.Fatalf("seed %d: stream %d echoed %d bytes, want %d intact", seed, s.ID(), len(got), len(data))
			}
		}
	}
}
