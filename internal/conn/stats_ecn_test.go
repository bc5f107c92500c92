package conn

import (
	"testing"
	"time"
)

func TestSendECNCongestionCountCountsCEResponses(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.ECN = true }))
	p.handshake()
	c := p.client.c
	startStream(p, payload(1, 64<<10), true, "validate")
	p.runUntil(3*time.Second, func() bool { return false })
	if s := c.statistics(); !s.ECNCapable || s.SendECNCongestionCount != 0 {
		t.Fatalf("after a clean transfer: ECNCapable %v, SendECNCongestionCount %d; want true, 0", s.ECNCapable, s.SendECNCongestionCount)
	}
	// A router on the way marks every ECN-capable packet of the client
	// Congestion Experienced: the server echoes the marks in its ACKs'
	// ECN counts, and the client reduces its window, at most once a
	// round trip (RFC 9002 §7.1), without losing a packet.
	prev := p.drop
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && p.ecn != 0 {
			p.ecn = 3
		}
		return prev != nil && prev(from, n, data)
	}
	startStream(p, payload(2, 256<<10), true, "marked")
	p.runUntil(5*time.Second, func() bool { return false })
	s := c.statistics()
	if s.SendECNCongestionCount < 2 || s.SendCongestionCount != s.SendECNCongestionCount || s.SendSuspectedLostPackets != 0 {
		t.Fatalf("SendECNCongestionCount %d, SendCongestionCount %d, lost %d; want several ECN congestion events, all of the congestion events, and no loss",
			s.SendECNCongestionCount, s.SendCongestionCount, s.SendSuspectedLostPackets)
	}
}
