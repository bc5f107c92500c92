package conn

import (
	"testing"
	"time"
)

// RFC 9002, Section 7.8: a sender that does not fill its congestion window
// (application- or flow-control-limited) must not grow it. A trickle of
// small writes, each acknowledged before the next, leaves the window where
// the handshake left it, instead of adding every acknowledged byte to it.
func TestApplicationLimitedSenderDoesNotGrowItsWindow(t *testing.T) {
	p := newPair(t)
	p.handshake()
	c := p.client.c
	s := openSend(p, make([]byte, 1000), false)
	p.runUntil(time.Second, func() bool { return c.loss.BytesInFlight() == 0 })
	before := c.loss.Stats().CongestionWindow
	for range 300 {
		c.StreamSend(s, [][]byte{make([]byte, 1000)}, 0, nil)
		if !p.runUntil(time.Second, func() bool { return c.loss.BytesInFlight() == 0 }) {
			t.Fatal("a 1000-byte send was never acknowledged")
		}
	}
	if after := c.loss.Stats().CongestionWindow; after > before {
		t.Fatalf("congestion window grew from %d to %d bytes while never more than 1000 bytes were in flight", before, after)
	}
}
