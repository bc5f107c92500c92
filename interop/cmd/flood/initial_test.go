package main

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/wire"
)

// The client Initial keys of RFC 9001 Appendix A.1.
func TestClientInitialKeysMatchRFC9001(t *testing.T) {
	dcid, _ := hex.DecodeString("8394c8f03e515708")
	key, iv, hp := clientInitialKeys(dcid)
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

// A flood Initial is a 1200-byte datagram that hquic's own packet reader
// opens with the server's Initial keys for its DCID, and that carries the
// ClientHello in one CRYPTO frame.
func TestSealedInitialOpensWithTheLibrarysKeys(t *testing.T) {
	h, err := newHello("localhost", "echo", false)
	if err != nil {
		t.Fatal(err)
	}
	pkt, dcid := sealInitial(make([]byte, 0, initialSize), &h)
	if len(pkt) != initialSize {
		t.Fatalf("datagram of %d bytes, want %d", len(pkt), initialSize)
	}
	lh, ok := wire.ParseLongHeader(pkt)
	if !ok || lh.Type != wire.PacketInitial || !bytes.Equal(lh.DCID, dcid) || !bytes.Equal(lh.SCID, h.scid) || lh.Len != len(pkt) {
		t.Fatalf("header %+v (ok %v) does not describe the whole datagram", lh, ok)
	}
	_, read := protect.InitialKeys(quicV1, dcid, false)
	pn, hdrLen, ok := packet.Unprotect(pkt, lh.PNOffset, &read.HP, -1)
	if !ok || pn != 0 {
		t.Fatalf("header protection: pn %d, ok %v", pn, ok)
	}
	payload, err := packet.Open(pkt, hdrLen, pn, &read.AEAD)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if payload[0] != wire.FrameCrypto {
		t.Fatalf("first frame type %#x, want CRYPTO", payload[0])
	}
	off, data, n := wire.ConsumeCrypto(payload)
	if n < 0 || off != 0 || !bytes.Equal(data, h.msg) {
		t.Fatalf("CRYPTO frame: offset %d, %d bytes, n %d; want the %d-byte ClientHello", off, len(data), n, len(h.msg))
	}
	for _, b := range payload[n:] {
		if b != 0 {
			t.Fatal("frames after the CRYPTO frame are not PADDING")
		}
	}
}
