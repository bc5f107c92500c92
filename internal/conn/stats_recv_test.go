package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// countPackets returns the number of QUIC packets coalesced in a datagram.
func countPackets(data []byte) int {
	n := 0
	for len(data) > 0 {
		n++
		if !wire.IsLongHeader(data[0]) {
			break
		}
		h, ok := wire.ParseLongHeader(data)
		if !ok {
			break
		}
		data = data[h.Len:]
	}
	return n
}

func TestRecvTotalsCountABufferedPacketOnce(t *testing.T) {
	// The server's first datagram (its Initial and the start of its
	// Handshake flight) is lost: the client buffers the Handshake packet
	// of the second until the resent Initial gives it the keys.
	lostPackets, lostBytes := 0, 0
	p := newPair(t)
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.server && n == 0 {
			lostPackets, lostBytes = countPackets(data), len(data)
			return true
		}
		return false
	}
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	cs, ss := p.client.c.statistics(), p.server.c.statistics()
	if lostPackets == 0 || p.server.c.stats.SendTotalPackets == 0 {
		t.Fatal("nothing was lost")
	}
	if got, want := cs.RecvTotalPackets, ss.SendTotalPackets-uint64(lostPackets); got != want {
		t.Errorf("client RecvTotalPackets %d, want the %d packets that arrived", got, want)
	}
	if got, want := cs.RecvTotalBytes, ss.SendTotalBytes-uint64(lostBytes); got != want {
		t.Errorf("client RecvTotalBytes %d, want the %d bytes that arrived", got, want)
	}
	if cs.RecvDroppedPackets != 0 {
		t.Errorf("client dropped %d packets; the buffered one was processed", cs.RecvDroppedPackets)
	}
}

func TestRecvTotalPacketsCountsWhatIsDropped(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	var last []byte
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && !wire.IsLongHeader(data[0]) {
			last = append(last[:0], data...)
		}
		return false
	}
	startStream(p, []byte("x"), true, "d")
	p.runUntil(time.Second, func() bool { return p.server.has("PeerSendShutdown") })
	sc := p.server.c
	before := sc.statistics()
	sc.QueueDatagram(Datagram{Data: append([]byte(nil), last...), Peer: clientAddr, Local: serverAddr})
	junk := append([]byte(nil), last...)
	junk[len(junk)-1] ^= 0xff
	sc.QueueDatagram(Datagram{Data: junk, Peer: clientAddr, Local: serverAddr})
	p.step()
	after := sc.statistics()
	if after.RecvTotalPackets != before.RecvTotalPackets+2 || after.RecvDroppedPackets != before.RecvDroppedPackets+2 {
		t.Fatalf("RecvTotalPackets %d→%d, RecvDroppedPackets %d→%d; want +2 each (a duplicate, a packet that fails to decrypt)",
			before.RecvTotalPackets, after.RecvTotalPackets, before.RecvDroppedPackets, after.RecvDroppedPackets)
	}
}
