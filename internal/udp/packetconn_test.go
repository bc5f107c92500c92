package udp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"

	"github.com/hquic/quic/netsim"
)

// A PacketConn that is not a UDP socket gets the portable path: a GSO
// batch goes out segment by segment, a read returns one datagram, ECN
// marks are dropped, and Capabilities says so.
func TestPacketConnSplitsBatchesAndReportsNoOffload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.New(netsim.Config{})
		h := n.Host(netip.MustParseAddr("10.0.0.1"))
		pa, _ := h.ListenPacket("udp4", netip.AddrPort{})
		pb, _ := h.ListenPacket("udp4", netip.AddrPort{})
		a, err := FromPacketConn(pa, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := FromPacketConn(pb, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		defer b.Close()
		if c := a.Capabilities(); c.GSO || c.GRO || c.ECN || c.PktInfo || c.Batch || c.MaxSegments != 1 {
			t.Errorf("capabilities %+v, want none", c)
		}
		batch := bytes.Repeat([]byte{1}, 1000)
		batch = append(batch, bytes.Repeat([]byte{2}, 1000)...)
		batch = append(batch, 3)
		if n, err := a.WriteBatch([]Msg{{Buf: batch, SegSize: 1000, Addr: b.LocalAddr(), ECN: 2}}); n != 1 || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
		msgs := make([]Msg, 4)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 0, 2048)
		}
		for _, want := range []struct {
			first byte
			n     int
		}{{1, 1000}, {2, 1000}, {3, 1}} {
			n, err := b.ReadBatch(msgs)
			m := msgs[0]
			if n != 1 || err != nil || len(m.Buf) != want.n || m.Buf[0] != want.first || m.Addr != a.LocalAddr() || m.ECN != 0 || m.SegSize != 0 {
				t.Fatalf("ReadBatch = %d, %v: %d bytes starting %d from %v, ECN %d; want %d bytes starting %d", n, err, len(m.Buf), m.Buf[0], m.Addr, m.ECN, want.n, want.first)
			}
			msgs[0].Buf = msgs[0].Buf[:0]
		}
		b.Close()
		if _, err := b.ReadBatch(msgs); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadBatch after Close = %v", err)
		}
	})
}
