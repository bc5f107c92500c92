package conn

import (
	"bytes"
	"testing"
	"time"
)

func TestHandshakeFlightSizesAgreeOnBothSides(t *testing.T) {
	p := newPair(t)
	p.handshake()
	cs, ss := p.client.c.statistics(), p.server.c.statistics()
	if cs.HandshakeClientFlight1Bytes == 0 || cs.HandshakeServerFlight1Bytes == 0 || cs.HandshakeClientFlight2Bytes == 0 {
		t.Fatalf("client flight sizes %d/%d/%d, want all known", cs.HandshakeClientFlight1Bytes, cs.HandshakeServerFlight1Bytes, cs.HandshakeClientFlight2Bytes)
	}
	if cs.HandshakeClientFlight1Bytes != ss.HandshakeClientFlight1Bytes ||
		cs.HandshakeServerFlight1Bytes != ss.HandshakeServerFlight1Bytes ||
		cs.HandshakeClientFlight2Bytes != ss.HandshakeClientFlight2Bytes {
		t.Fatalf("flight sizes differ: client %d/%d/%d, server %d/%d/%d",
			cs.HandshakeClientFlight1Bytes, cs.HandshakeServerFlight1Bytes, cs.HandshakeClientFlight2Bytes,
			ss.HandshakeClientFlight1Bytes, ss.HandshakeServerFlight1Bytes, ss.HandshakeClientFlight2Bytes)
	}
}

func TestHandshakeTimings(t *testing.T) {
	p := newPair(t) // 10 ms each way
	p.handshake()
	cs := p.client.c.statistics()
	// The client reads the server's Initial one round trip after it
	// starts, and its Handshake flight at the same time (one flight).
	if cs.TimingInitialFlightEnd < 20*time.Millisecond || cs.TimingInitialFlightEnd > 30*time.Millisecond {
		t.Fatalf("client TimingInitialFlightEnd %v, want one 20 ms round trip", cs.TimingInitialFlightEnd)
	}
	if cs.TimingHandshakeFlightEnd < cs.TimingInitialFlightEnd || cs.TimingHandshakeFlightEnd > 30*time.Millisecond {
		t.Fatalf("client TimingHandshakeFlightEnd %v after Initial end %v", cs.TimingHandshakeFlightEnd, cs.TimingInitialFlightEnd)
	}
	ss := p.server.c.statistics()
	// The server reads the client's Handshake flight one round trip after
	// its first packet.
	if d := ss.TimingHandshakeFlightEnd - ss.TimingInitialFlightEnd; d < 20*time.Millisecond || d > 30*time.Millisecond {
		t.Fatalf("server flights end %v and %v apart, want a round trip", ss.TimingInitialFlightEnd, ss.TimingHandshakeFlightEnd)
	}
}

func TestRecvDroppedPacketsCountsDuplicatesAndJunk(t *testing.T) {
	p := newPair(t)
	p.handshake()
	var last []byte
	prev := p.drop
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client {
			last = bytes.Clone(data)
		}
		return prev != nil && prev(from, n, data)
	}
	startStream(p, []byte("x"), true, "d")
	p.runUntil(time.Second, func() bool { return p.server.has("PeerSendShutdown") })
	before := p.server.c.statistics()
	sc := p.server.c
	sc.QueueDatagram(Datagram{Data: last, Peer: clientAddr, Local: serverAddr}) // a duplicate
	junk := bytes.Clone(last)
	junk[len(junk)-1] ^= 0xff // fails to decrypt
	sc.QueueDatagram(Datagram{Data: junk, Peer: clientAddr, Local: serverAddr})
	p.step()
	after := p.server.c.statistics()
	if after.RecvDroppedPackets != before.RecvDroppedPackets+2 || after.RecvDuplicatePackets != before.RecvDuplicatePackets+1 ||
		after.RecvDecryptionFailures != before.RecvDecryptionFailures+1 {
		t.Fatalf("dropped %d→%d, duplicates %d→%d, decryption failures %d→%d; want +2, +1, +1",
			before.RecvDroppedPackets, after.RecvDroppedPackets, before.RecvDuplicatePackets, after.RecvDuplicatePackets,
			before.RecvDecryptionFailures, after.RecvDecryptionFailures)
	}
	// A full receive queue (its bound: the connection window in
	// datagrams, at most maxRecvQueue) drops what does not fit.
	for range recvQueueLimit(&sc.set) + 10 {
		sc.QueueDatagram(Datagram{Data: last, Peer: clientAddr, Local: serverAddr})
	}
	if got := p.server.c.statistics().RecvDroppedPackets; got != after.RecvDroppedPackets+10 {
		t.Fatalf("RecvDroppedPackets %d after the receive queue overflowed", got)
	}
}

// The receive queue holds the default connection window's worth of full
// datagrams: a sender within flow control is not dropped while the
// receiving goroutine falls behind (the bound was capped at 4096
// datagrams, under 5 MiB of the 16 MiB window, and a download lost up to
// 4% of its packets on a busy machine).
func TestRecvQueueHoldsTheDefaultWindow(t *testing.T) {
	p := newPair(t)
	p.handshake()
	c := p.client.c
	window := c.set.ConnFlowControlWindow
	if window < 16<<20 {
		t.Fatalf("default connection window %d, want 16 MiB", window)
	}
	d := Datagram{Data: make([]byte, 1200), Peer: serverAddr, Local: clientAddr}
	n := int(window / 1200)
	for i := range n {
		if !c.QueueDatagram(d) {
			t.Fatalf("datagram %d of a %d-byte window dropped", i, window)
		}
	}
}

func TestSendPathMTUIsTheIPMTU(t *testing.T) {
	p := newPair(t)
	p.handshake()
	if got, want := p.client.c.statistics().SendPathMTU, p.client.c.path.maxDatagramSize()+48; got != want {
		t.Fatalf("SendPathMTU %d, want the UDP payload size plus 48 (%d)", got, want)
	}
}

func TestECNCapableMeansValidated(t *testing.T) {
	for _, bleach := range []bool{false, true} {
		var tr traces
		p := newPair(t, withClientSettings(func(s *Settings) { s.ECN = true }), withTraces(&tr))
		if bleach {
			prev := p.drop
			p.drop = func(from *endpoint, n int, data []byte) bool {
				p.ecn = 0 // a path that clears the ECN field
				return prev != nil && prev(from, n, data)
			}
		}
		p.handshake()
		c := p.client.c
		if c.statistics().ECNCapable && c.loss.ECNState() != "capable" {
			t.Fatal("ECNCapable while validation is under way")
		}
		startStream(p, payload(1, 64<<10), true, "d")
		p.runUntil(3*time.Second, func() bool { return p.server.has("PeerSendShutdown") })
		p.runUntil(time.Second, func() bool { return false })
		if got := c.statistics().ECNCapable; got == bleach {
			t.Fatalf("bleached=%v: ECNCapable=%v (state %s)", bleach, got, c.loss.ECNState())
		}
		// A path that clears the marks is counted, and the trace shows
		// where ECN was given up.
		failures := uint32(0)
		if bleach {
			failures = 1
		}
		if got := c.statistics().ECNFailures; got != failures {
			t.Errorf("bleached=%v: ECNFailures=%d, want %d", bleach, got, failures)
		}
		closePair(t, p)
		failed := 0
		for _, ev := range tr.checked(t, false).Events {
			if ev.Name == "quic:ecn_state_updated" && ev.Data["new"] == "failed" {
				failed++
			}
		}
		if failed != int(failures) {
			t.Errorf("bleached=%v: %d ecn_state_updated to failed in the client's trace, want %d", bleach, failed, failures)
		}
	}
}

func TestDestCIDUpdateCount(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.DestCIDUpdateIdleTimeout = time.Second }))
	p.handshake()
	p.runUntil(2*time.Second, func() bool { return false })
	startStream(p, []byte("x"), true, "d")
	p.runUntil(time.Second, func() bool { return p.server.has("PeerSendShutdown") })
	if got := p.client.c.statistics().DestCIDUpdateCount; got != 1 {
		t.Fatalf("DestCIDUpdateCount %d, want 1", got)
	}
}
