package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

func TestFlushAtItsLimitAsksToRunAgain(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.InitialWindowPackets = 1000 }))
	p.serverSettings.StreamRecvWindowBidiRemote = 1 << 20
	p.handshake()
	c := p.client.c
	startStream(p, make([]byte, 1<<20), true, nil)
	sent := p.sentCount[p.client]
	more, _ := c.Run(p.now)
	first := p.sentCount[p.client] - sent
	if first == 0 {
		t.Fatal("the first run sent nothing")
	}
	if !more {
		t.Fatalf("a run that sent %d datagrams with more data and window left did not ask to run again", first)
	}
	more, _ = c.Run(p.now)
	if got := p.sentCount[p.client] - sent - first; got == 0 {
		t.Errorf("the second run sent nothing (more %v)", more)
	}
}

func TestReplyFromReceiveEventLeavesWithTheAck(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	frames := p.tap(p.server)
	first := p.sentCount[p.server]
	s := openSend(p, []byte("ping"), true)
	if !p.runUntil(time.Second, func() bool { return string(p.client.received[s.ID()]) == "ping" }) {
		t.Fatal("no echo")
	}
	var ack, data bool
	for _, f := range *frames {
		if f.n != first {
			continue
		}
		switch f.f.(type) {
		case wire.DebugAck:
			ack = true
		case wire.DebugStream:
			data = true
		}
	}
	if !ack || !data {
		t.Errorf("the server's first datagram after the request holds ACK %v, STREAM %v; want both: %s", ack, data, frameSummary(*frames))
	}
}

func TestDisconnectTimerStopsWhenDiscardedSpacesHeldTheLastInFlight(t *testing.T) {
	noSearch := func(s *Settings) { s.DisconnectTimeout, s.MinimumMTU, s.MaximumMTU = 3*time.Second, 1280, 1280 }
	p := newPair(t, withClientSettings(noSearch))
	noSearch(&p.serverSettings)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	for _, e := range []*endpoint{p.client, p.server} {
		if e.c.loss.BytesInFlight() == 0 && !e.c.timers[timerDisconnect].IsZero() {
			t.Errorf("%s: disconnect timer armed with nothing in flight", e.name)
		}
	}
}
