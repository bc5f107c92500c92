package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

func TestLiveStreamCountIsAdvertisedAtOnce(t *testing.T) {
	p := newPair(t)
	p.handshake()
	frames := p.tap(p.server)
	s := p.server.c.set
	s.PeerBidiStreamCount = 500
	p.server.c.UpdateSettings(s)
	p.runUntil(time.Second, func() bool { return false })
	var got []uint64
	for _, f := range framesOf[wire.DebugMaxStreams](*frames) {
		if f.Bidi {
			got = append(got, f.Max)
		}
	}
	if len(got) == 0 || got[len(got)-1] != 500 {
		t.Fatalf("MAX_STREAMS (bidi) sent %v, want 500", got)
	}
	if bidi, _ := p.client.c.streams.available(); bidi != 500 {
		t.Fatalf("client may open %d streams, want 500", bidi)
	}
}

func TestLiveKeepAliveStartsAndStops(t *testing.T) {
	p := newPair(t)
	p.handshake()
	frames := p.tap(p.client)
	s := p.client.c.set
	s.KeepAliveInterval = time.Second
	p.client.c.UpdateSettings(s)
	p.runUntil(5500*time.Millisecond, func() bool { return false })
	if n := len(framesOf[wire.DebugPing](*frames)); n < 4 || n > 6 {
		t.Fatalf("%d PINGs in 5.5 s with a 1 s keep-alive, want about 5", n)
	}
	s.KeepAliveInterval = 0
	p.client.c.UpdateSettings(s)
	p.runUntil(10*time.Millisecond, func() bool { return false })
	before := len(framesOf[wire.DebugPing](*frames))
	p.runUntil(5*time.Second, func() bool { return false })
	if n := len(framesOf[wire.DebugPing](*frames)); n != before {
		t.Fatalf("%d PINGs after the keep-alive was turned off", n-before)
	}
}

func TestLiveIdleTimeoutApplies(t *testing.T) {
	p := newPair(t)
	p.handshake()
	s := p.client.c.set
	s.IdleTimeout = 2 * time.Second
	p.client.c.UpdateSettings(s)
	start := p.now
	if !p.runUntil(40*time.Second, func() bool { return p.client.has("ShutdownByTransport") }) {
		t.Fatal("no idle timeout")
	}
	ev, _ := p.client.find("ShutdownByTransport")
	if d := ev.at.Sub(start); ev.r.Local != ReasonIdle || d > 3*time.Second {
		t.Fatalf("closed %v after the change (%+v), want the 2 s idle timeout", d, ev.r)
	}
}

func TestLiveStreamCountUnblocksAWaitingStream(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 1
	p.handshake()
	c := p.client.c
	for i := range 2 {
		s := c.NewStream(0)
		flags := uint32(StreamStartImmediate)
		if i == 1 {
			flags |= StreamStartIndicatePeerAccept
		}
		c.StreamStart(s, flags)
	}
	p.server.handler = func(ev event) {
		if ev.name == "PeerNeedsStreams" {
			s := p.server.c.set
			s.PeerBidiStreamCount = 10
			p.server.c.UpdateSettings(s)
		}
	}
	if !p.runUntil(5*time.Second, func() bool { return p.client.has("PeerAccepted") }) {
		ev, _ := p.client.find("ShutdownByTransport")
		t.Fatalf("no PeerAccepted: client %v (%+v), server %v", p.client.names(), ev.r, p.server.names())
	}
}

func TestImmediateStartBeyondThePeerLimitWaits(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 1
	p.handshake()
	c := p.client.c
	for range 2 {
		c.StreamStart(c.NewStream(0), StreamStartImmediate)
	}
	p.runUntil(3*time.Second, func() bool { return false })
	if p.server.has("ShutdownByTransport") || p.server.count("PeerStreamStarted") != 1 {
		t.Fatalf("server %v: the second immediate stream was announced beyond the limit", p.server.names())
	}
}

func TestDelayedStreamCreditReturnsAtClose(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 1
	var peer *Stream
	p.server.handler = func(ev event) {
		if ev.name == "PeerStreamStarted" {
			ev.s.SetDelayIDFCUpdates()
			peer = ev.s
		}
	}
	p.server.echo = true
	p.handshake()
	c := p.client.c
	first := startStream(p, []byte("one"), true, "1")
	if !p.runUntil(2*time.Second, func() bool { return p.client.streamFinished(first) }) {
		t.Fatal("first stream did not finish")
	}
	second := c.NewStream(0)
	c.StreamStart(second, StreamStartImmediate|StreamStartIndicatePeerAccept)
	p.runUntil(2*time.Second, func() bool { return false })
	if p.client.has("PeerAccepted") {
		t.Fatal("the peer got its stream credit back before the stream was closed")
	}
	p.server.closeStream(peer)
	if !p.runUntil(2*time.Second, func() bool { return p.client.has("PeerAccepted") }) {
		t.Fatal("no credit after the server closed the stream")
	}
}
