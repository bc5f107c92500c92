package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

func TestDestinationCIDChangesAfterIdle(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.DestCIDUpdateIdleTimeout = 5 * time.Second }))
	p.handshake()
	c := p.client.c
	before := c.cids.remote[0].seq
	frames := p.tap(p.client)
	c.ForceKeyUpdate() // any send below the timeout keeps the ID
	p.runUntil(time.Second, func() bool { return false })
	if c.cids.remote[0].seq != before {
		t.Fatal("the destination connection ID changed before the idle timeout")
	}
	p.runUntil(6*time.Second, func() bool { return false })
	startStream(p, []byte("after a pause"), true, "d")
	if !p.runUntil(2*time.Second, func() bool { return p.server.has("PeerSendShutdown") }) {
		ev, _ := p.client.find("ShutdownByTransport")
		t.Fatalf("no transfer after the ID change: client %v (%+v) server %v", p.client.names(), ev.r, p.server.names())
	}
	if c.cids.remote[0].seq == before {
		t.Fatal("the destination connection ID did not change after 6 s idle")
	}
	var retired bool
	for _, f := range framesOf[wire.DebugRetireConnectionID](*frames) {
		retired = retired || f.Seq == before
	}
	if !retired {
		t.Fatalf("the old ID %d was not retired", before)
	}
}
