package packet

import (
	"bytes"
	"testing"

	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/wire"
)

func keysPair(t testing.TB) (client, server *protect.Keys) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	cw, _ := protect.InitialKeys(wire.Version1, dcid, true)
	_, sr := protect.InitialKeys(wire.Version1, dcid, false)
	return cw, sr
}

func TestCoalescedPacketsPaddedAndOpened(t *testing.T) {
	cw, sr := keysPair(t)
	var b Builder
	b.Reset(make([]byte, 0, 2000))
	b.StartDatagram(1252)
	if !b.StartLong(wire.PacketInitial, wire.Version1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9}, nil, 0, -1, cw) {
		t.Fatal("no room for Initial")
	}
	b.Buf = wire.AppendPing(b.Buf)
	b.Finish()
	if !b.StartLong(wire.PacketHandshake, wire.Version1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9}, nil, 1, -1, cw) {
		t.Fatal("no room for Handshake")
	}
	b.Buf = wire.AppendPing(b.Buf)
	b.Finish()
	padded, n := b.EndDatagram(1200)
	if n != 1200 || padded == 0 {
		t.Fatalf("datagram length %d (padded %d), want 1200", n, padded)
	}
	dg := b.Buf[:n]
	var pns []int64
	for len(dg) > 0 {
		h, ok := wire.ParseLongHeader(dg)
		if !ok {
			t.Fatalf("bad header at %d", n-len(dg))
		}
		pkt := dg[:h.Len]
		dg = dg[h.Len:]
		pn, hdrLen, ok := Unprotect(pkt, h.PNOffset, &sr.HP, -1)
		if !ok {
			t.Fatal("unprotect failed")
		}
		payload, err := Open(pkt, hdrLen, pn, &sr.AEAD)
		if err != nil {
			t.Fatalf("open packet %d: %v", pn, err)
		}
		if payload[0] != wire.FramePing {
			t.Fatalf("first frame %#x, want PING", payload[0])
		}
		pns = append(pns, pn)
	}
	if len(pns) != 2 || pns[0] != 0 || pns[1] != 1 {
		t.Fatalf("packet numbers %v", pns)
	}
}

func TestShortPacketRoundTripAndSamplePadding(t *testing.T) {
	cw, sr := keysPair(t)
	var b Builder
	b.Reset(make([]byte, 0, 1500))
	b.StartDatagram(1452)
	dcid := []byte{0xaa, 0xbb, 0xcc, 0xdd}
	if !b.StartShort(dcid, 1000, 998, ShortBits{KeyPhase: true}, cw) {
		t.Fatal("no room")
	}
	b.Buf = wire.AppendPing(b.Buf) // 1 byte: needs sample padding
	b.Finish()
	_, n := b.EndDatagram(0)
	pkt := bytes.Clone(b.Buf[:n])
	pn, hdrLen, ok := Unprotect(pkt, 1+len(dcid), &sr.HP, 999)
	if !ok || pn != 1000 {
		t.Fatalf("pn = %d ok=%v", pn, ok)
	}
	if !KeyPhase(pkt[0]) || ReservedBitsSet(pkt[0]) {
		t.Fatalf("first byte %#x", pkt[0])
	}
	if _, err := Open(pkt, hdrLen, pn, &sr.AEAD); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailsWithoutRoom(t *testing.T) {
	cw, _ := keysPair(t)
	var b Builder
	b.Reset(make([]byte, 0, 100))
	b.StartDatagram(30)
	if b.StartShort(make([]byte, 20), 0, -1, ShortBits{}, cw) {
		t.Fatal("packet started without room for a tag")
	}
	if len(b.Buf) != 0 {
		t.Fatal("failed start wrote bytes")
	}
}

func TestBuildDoesNotAllocate(t *testing.T) {
	cw, _ := keysPair(t)
	var b Builder
	buf := make([]byte, 0, 65536)
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	payload := make([]byte, 1000)
	pn := int64(0)
	allocs := testing.AllocsPerRun(100, func() {
		b.Reset(buf)
		for i := 0; i < 10; i++ {
			b.StartDatagram(1252)
			b.StartShort(dcid, pn, pn-1, ShortBits{}, cw)
			b.Buf = append(b.Buf, payload...)
			b.Finish()
			b.EndDatagram(0)
			pn++
		}
	})
	if allocs != 0 {
		t.Fatalf("building allocated %v times", allocs)
	}
}
