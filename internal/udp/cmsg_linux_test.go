package udp

import (
	"net/netip"
	"testing"
)

func TestControlMessagesRoundTrip(t *testing.T) {
	c := &conn{}
	for _, tc := range []struct {
		name    string
		ecn     uint8
		local   netip.Addr
		ifindex uint32
		dst4    bool
	}{
		{"v4", 3, lo4, 1, true},
		{"v6", 2, lo6, 1, false},
		{"v6-no-local", 1, netip.Addr{}, 0, false},
	} {
		b := c.appendOOB(make([]byte, 0, oobSize), 0, tc.ecn, tc.local, tc.ifindex, tc.dst4)
		var m Msg
		c.parseOOB(b, &m)
		if m.ECN != tc.ecn || m.IfIndex != tc.ifindex {
			t.Errorf("%s: parsed back ECN %d ifindex %d, want %d %d", tc.name, m.ECN, m.IfIndex, tc.ecn, tc.ifindex)
		}
		// IP_PKTINFO carries the source in ipi_spec_dst on send and the
		// destination in ipi_addr on receive, so only the IPv6 form
		// reads back the address.
		if !tc.dst4 && m.Local != tc.local {
			t.Errorf("%s: local %v, want %v", tc.name, m.Local, tc.local)
		}
	}
}

func FuzzParseOOB(f *testing.F) {
	c := &conn{}
	f.Add(c.appendOOB(make([]byte, 0, oobSize), 1200, 2, lo4, 1, true))
	f.Add(c.appendOOB(make([]byte, 0, oobSize), 1452, 3, lo6, 7, false))
	f.Add([]byte{})
	f.Add(make([]byte, 15))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		// Control buffers are 8-byte aligned; so is a fresh allocation.
		b := make([]byte, len(in), len(in)+8)
		copy(b, in)
		var m Msg
		c.parseOOB(b, &m)
		if m.ECN > 3 || m.SegSize < 0 {
			t.Fatalf("parsed ECN %d SegSize %d", m.ECN, m.SegSize)
		}
	})
}
