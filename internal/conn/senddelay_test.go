package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

func TestDelayedSendWaitsForAnotherReasonToSend(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false }) // quiet
	frames := p.tap(p.client)
	c := p.client.c
	s := c.NewStream(0)
	c.StreamStart(s, 0)
	c.StreamSend(s, [][]byte{[]byte("held")}, SendFlagDelay, "d1")
	p.runUntil(time.Second, func() bool { return false })
	if n := len(framesOf[wire.DebugStream](*frames)); n != 0 {
		t.Fatalf("%d STREAM frames for a delayed send with nothing else to do", n)
	}
	// The next send without the flag takes the held data along.
	c.StreamSend(s, [][]byte{[]byte(" and more")}, SendFlagFIN, "d2")
	if !p.runUntil(time.Second, func() bool { return p.server.has("PeerSendShutdown") }) {
		t.Fatal("data not sent after a normal send")
	}
	ss := p.server.peerStream(s.ID())
	if got := string(p.server.received[ss.ID()]); got != "held and more" {
		t.Fatalf("server received %q", got)
	}
	if f := framesOf[wire.DebugStream](*frames); len(f) == 0 || string(f[0].Data) != "held and more" {
		t.Fatalf("frames %v, want the two sends in one STREAM frame", f)
	}
}

func TestDelayedSendGoesWithTheNextReceivedPacket(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	c := p.client.c
	s := c.NewStream(0)
	c.StreamStart(s, 0)
	c.StreamSend(s, [][]byte{[]byte("held")}, SendFlagDelay|SendFlagFIN, "d")
	p.runUntil(100*time.Millisecond, func() bool { return false })
	if p.server.has("PeerStreamStarted") {
		t.Fatal("delayed data sent at once")
	}
	// The server sends something; the client's receipt of it flushes.
	sc := p.server.c
	us := sc.NewStream(StreamOpenUnidirectional)
	sc.StreamSend(us, [][]byte{[]byte("ping")}, SendFlagStart|SendFlagFIN, "u")
	if !p.runUntil(time.Second, func() bool { return p.server.has("PeerSendShutdown") }) {
		t.Fatal("delayed data not sent with the next pass")
	}
}

func TestCancelOnLossAbortsTheStreamWithTheApplicationsCode(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.SendBuffering = false }))
	p.handshake()
	p.client.cancelOnLossCode = 77
	c := p.client.c
	s := c.NewStream(0)
	c.StreamStart(s, 0)
	dropped := false
	p.drop = func(from *endpoint, _ int, data []byte) bool {
		if from == p.client && !dropped && len(data) > 1000 {
			dropped = true
			return true
		}
		return false
	}
	c.StreamSend(s, [][]byte{payload(3, 20000)}, SendFlagCancelOnLoss, "x")
	if !p.runUntil(5*time.Second, func() bool { return p.server.has("PeerSendAborted") }) {
		t.Fatalf("no abort after a loss: client %v, server %v", p.client.names(), p.server.names())
	}
	if p.client.count("CancelOnLoss") != 1 {
		t.Fatalf("%d CancelOnLoss events, want 1", p.client.count("CancelOnLoss"))
	}
	if ev, _ := p.server.find("PeerSendAborted"); ev.a != 77 {
		t.Fatalf("RESET_STREAM code %d, want the handler's 77", ev.a)
	}
	if sc, ok := p.client.find("SendComplete"); !ok || sc.a != 1 {
		t.Fatal("the send did not complete as canceled")
	}
}

func TestStreamWithoutCancelOnLossRetransmits(t *testing.T) {
	p := newPair(t)
	p.handshake()
	dropped := false
	p.drop = func(from *endpoint, _ int, data []byte) bool {
		if from == p.client && !dropped && len(data) > 1000 {
			dropped = true
			return true
		}
		return false
	}
	startStream(p, payload(3, 20000), true, "x")
	if !p.runUntil(5*time.Second, func() bool { return p.server.has("PeerSendShutdown") }) || p.client.has("CancelOnLoss") {
		t.Fatalf("client %v", p.client.names())
	}
}

func TestPriorityWorkSendRunsAheadOfQueuedOperations(t *testing.T) {
	p := newPair(t)
	p.handshake()
	c := p.client.c
	s := c.NewStream(0)
	c.StreamStart(s, 0)
	p.runUntil(10*time.Millisecond, func() bool { return false })
	// Both are queued before the connection runs; the priority one runs
	// first, so its bytes come first on the stream.
	c.StreamSend(s, [][]byte{[]byte("normal")}, SendFlagFIN, "n")
	c.StreamSend(s, [][]byte{[]byte("urgent ")}, SendFlagPriorityWork, "u")
	if !p.runUntil(2*time.Second, func() bool { return p.server.has("PeerSendShutdown") }) {
		t.Fatal("no data")
	}
	if got := string(p.server.received[s.ID()]); got != "urgent normal" {
		t.Fatalf("server received %q, want the priority send first", got)
	}
}
