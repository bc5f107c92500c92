package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// RFC 9000, Section 4.6: a local stream opened beyond the peer's stream
// limit sends nothing for that stream, not even RESET_STREAM, STOP_SENDING
// or an announcement, until the peer raises the limit; the peer would
// close the connection with STREAM_LIMIT_ERROR.
func TestStreamBeyondPeerLimitSendsNoFrameUntilAccepted(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 1
	p.server.echo = true
	p.handshake()
	frames := p.tap(p.client)
	c := p.client.c
	s1 := startStream(p, []byte("one"), false, 1)
	aborted := c.NewStream(0)
	c.StreamStart(aborted, StreamStartIndicatePeerAccept)
	announced := c.NewStream(0)
	c.StreamStart(announced, StreamStartImmediate|StreamStartIndicatePeerAccept)
	c.StreamShutdown(aborted, StreamShutdownAbortSend|StreamShutdownAbortReceive, 5)
	p.runUntil(time.Second, func() bool { return false })

	if p.client.has("ShutdownByPeer") || p.client.has("ShutdownByTransport") {
		t.Fatalf("the connection closed: %v", p.client.events)
	}
	for _, w := range *frames {
		if id, ok := streamIDOf(w.f); ok && (id == uint64(aborted.ID()) || id == uint64(announced.ID())) {
			t.Fatalf("client sent %v for a stream beyond the server's limit", w.f)
		}
	}

	// Ending stream 1 frees a slot for the aborted stream, whose reset
	// then goes out and frees the next slot for the announced one.
	c.StreamShutdown(s1, StreamShutdownGraceful, 0)
	if !p.runUntil(5*time.Second, func() bool { return p.client.streamFinished(aborted) }) {
		t.Fatalf("the aborted stream never finished: %v", p.client.streamEvents(aborted))
	}
	if len(framesOf[wire.DebugResetStream](*frames)) == 0 {
		t.Errorf("no RESET_STREAM once the stream was allowed: %s", frameSummary(*frames))
	}
	if !p.runUntil(5*time.Second, func() bool { _, ok := p.client.streamEvent(announced, "PeerAccepted"); return ok }) {
		t.Errorf("the announced stream was never accepted: %v", p.client.streamEvents(announced))
	}
	if p.client.has("ShutdownByPeer") || p.client.has("ShutdownByTransport") {
		t.Fatalf("the connection closed: %v", p.client.events)
	}
}

// streamIDOf returns the stream a frame addresses.
func streamIDOf(f wire.DebugFrame) (uint64, bool) {
	switch f := f.(type) {
	case wire.DebugStream:
		return f.ID, true
	case wire.DebugResetStream:
		return f.ID, true
	case wire.DebugStopSending:
		return f.ID, true
	case wire.DebugMaxStreamData:
		return f.ID, true
	case wire.DebugStreamDataBlocked:
		return f.ID, true
	}
	return 0, false
}
