package main

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/wire"
)

// The client Initial keys of RFC 9001 Appendix A.1.
func TestClientInitialKeysMatchRFC9001(t *testing.T) {
	dcid, _ := hex.DecodeString("8394c8f03e515708")
	key, iv, hp := newSealer().keys(dcid)
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"key", key, "1f369613dd76d5467730efcbe3b1a22d"},
		{"iv", iv, "fa044b2f42a3fd3b46fb255c"},
		{"hp", hp, "9f50449e04a0e810283a1e9933adedd2"},
	} {
		if hex.EncodeToString(c.got) != c.want {
			t.Errorf("%s = %x, want %s", c.name, c.got, c.want)
		}
	}
}

// Flood Initials are 1200-byte datagrams that hquic's own packet reader
// opens with the server's Initial keys for their DCID, carrying the
// ClientHello in CRYPTO frames: one datagram for an X25519 ClientHello,
// two when it offers ML-KEM.
func TestSealedInitialsOpenWithTheLibrarysKeys(t *testing.T) {
	for _, mlkem := range []bool{false, true} {
		h, err := newHello("localhost", "echo", mlkem)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if mlkem {
			want = 2
		}
		if h.datagrams() != want {
			t.Fatalf("mlkem %v: a %d-byte ClientHello in %d datagrams, want %d", mlkem, len(h.msg), h.datagrams(), want)
		}
		bufs := [][]byte{make([]byte, 0, initialSize), make([]byte, 0, initialSize)}
		pkts, dcid := newSealer().seal(bufs, &h)
		var hello []byte
		for i, pkt := range pkts {
			if len(pkt) != initialSize {
				t.Fatalf("datagram of %d bytes, want %d", len(pkt), initialSize)
			}
			lh, ok := wire.ParseLongHeader(pkt)
			if !ok || lh.Type != wire.PacketInitial || !bytes.Equal(lh.DCID, dcid) || !bytes.Equal(lh.SCID, h.scid) || lh.Len != len(pkt) {
				t.Fatalf("header %+v (ok %v) does not describe the whole datagram", lh, ok)
			}
			_, read := protect.InitialKeys(quicV1, dcid, false)
			pn, hdrLen, ok := packet.Unprotect(pkt, lh.PNOffset, &read.HP, int64(i)-1)
			if !ok || pn != int64(i) {
				t.Fatalf("header protection: pn %d, ok %v; want %d", pn, ok, i)
			}
			payload, err := packet.Open(pkt, hdrLen, pn, &read.AEAD)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			off, data, n := wire.ConsumeCrypto(payload)
			if n < 0 || off != uint64(len(hello)) {
				t.Fatalf("CRYPTO frame at offset %d (n %d), want %d", off, n, len(hello))
			}
			hello = append(hello, data...)
			for _, b := range payload[n:] {
				if b != 0 {
					t.Fatal("frames after the CRYPTO frame are not PADDING")
				}
			}
		}
		if !bytes.Equal(hello, h.msg) {
			t.Fatalf("mlkem %v: CRYPTO data is not the ClientHello", mlkem)
		}
	}
}

// BenchmarkSealInitial is the generator's cost per flood Initial, from the
// random DCID to the protected datagram.
func BenchmarkSealInitial(b *testing.B) {
	h, err := newHello("localhost", "echo", false)
	if err != nil {
		b.Fatal(err)
	}
	s := newSealer()
	bufs := [][]byte{make([]byte, 0, initialSize)}
	b.ReportAllocs()
	for b.Loop() {
		s.seal(bufs, &h)
	}
}

// A pool holds one sealed Initial per DCID asked for, each DCID distinct,
// taking the source addresses in turn.
func TestPoolSealsDistinctInitialsFromEachAddressInTurn(t *testing.T) {
	h, err := newHello("localhost", "echo", false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFlooder(netip.MustParseAddrPort("127.0.0.1:9"), 3, []hello{h})
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	f.fillPool(8)
	if len(f.pool) != 8 {
		t.Fatalf("%d pooled datagrams, want 8", len(f.pool))
	}
	dcids := map[string]bool{}
	for i, p := range f.pool {
		lh, ok := wire.ParseLongHeader(p.pkt)
		if !ok || lh.Type != wire.PacketInitial || len(p.pkt) != initialSize {
			t.Fatalf("pooled datagram %d is not a %d-byte Initial", i, initialSize)
		}
		dcids[string(lh.DCID)] = true
		if !bytes.Equal(p.src, f.srcs[i%3]) {
			t.Errorf("pooled datagram %d goes from source %x, want %x", i, p.src, f.srcs[i%3])
		}
	}
	if len(dcids) != 8 {
		t.Errorf("%d distinct DCIDs among 8 Initials", len(dcids))
	}
}
