package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// buildLong writes a complete long-header packet with a pnLen-byte packet
// number and payload, patching Length.
func buildLong(t PacketType, version uint32, dcid, scid, token []byte, pn int64, pnLen int, payload []byte) []byte {
	b, lenOff := AppendLongHeader(nil, t, version, dcid, scid, token, pnLen)
	start := len(b)
	b = AppendPacketNumber(b, pn, pnLen)
	b = append(b, payload...)
	PutVarint2(b[lenOff:], uint64(len(b)-start))
	return b
}

func TestLongHeaderTypeBits(t *testing.T) {
	// RFC 9000 §17.2 (v1) and RFC 9369 §3.2 (v2) Long Packet Type codes.
	for _, c := range []struct {
		version uint32
		typ     PacketType
		bits    byte
	}{
		{Version1, PacketInitial, 0b00},
		{Version1, Packet0RTT, 0b01},
		{Version1, PacketHandshake, 0b10},
		{Version2, PacketInitial, 0b01},
		{Version2, Packet0RTT, 0b10},
		{Version2, PacketHandshake, 0b11},
	} {
		p := buildLong(c.typ, c.version, []byte{1, 2, 3, 4}, []byte{5, 6}, nil, 7, 2, make([]byte, 20))
		if got := p[0] >> 4 & 3; got != c.bits {
			t.Errorf("%v v%#x: type bits %02b, want %02b", c.typ, c.version, got, c.bits)
		}
		if p[0]&0xc0 != 0xc0 || p[0]&3 != 1 {
			t.Errorf("%v v%#x: first byte %08b lacks form/fixed bits or pn length", c.typ, c.version, p[0])
		}
		h, ok := ParseLongHeader(p)
		if !ok || h.Type != c.typ || h.Version != c.version {
			t.Errorf("%v v%#x: parsed %+v, %v", c.typ, c.version, h, ok)
		}
	}
	for _, c := range []struct {
		version uint32
		bits    byte
	}{{Version1, 0b11}, {Version2, 0b00}} {
		p := AppendRetry(nil, c.version, 0xf, nil, []byte{1}, []byte("tok"))
		p = append(p, make([]byte, 16)...)
		if got := p[0] >> 4 & 3; got != c.bits {
			t.Errorf("Retry v%#x: type bits %02b, want %02b", c.version, got, c.bits)
		}
		if h, ok := ParseLongHeader(p); !ok || h.Type != PacketRetry {
			t.Errorf("Retry v%#x: parsed %+v, %v", c.version, h, ok)
		}
	}
}

func TestLongHeaderFields(t *testing.T) {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	scid := []byte{0xaa}
	token := []byte("a token")
	payload := bytes.Repeat([]byte{0xee}, 40)
	p := buildLong(PacketInitial, Version1, dcid, scid, token, 2, 4, payload)
	next := buildLong(PacketHandshake, Version1, dcid, scid, nil, 0, 1, payload[:30])
	datagram := append(append([]byte(nil), p...), next...)

	h, ok := ParseLongHeader(datagram)
	if !ok {
		t.Fatal("ParseLongHeader rejected an Initial packet")
	}
	if !bytes.Equal(h.DCID, dcid) || !bytes.Equal(h.SCID, scid) || !bytes.Equal(h.Token, token) {
		t.Errorf("fields: %+v", h)
	}
	wantPN := 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 1 + len(token) + 2
	if h.PNOffset != wantPN || h.Len != len(p) {
		t.Errorf("PNOffset, Len = %d, %d; want %d, %d", h.PNOffset, h.Len, wantPN, len(p))
	}
	if !bytes.Equal(datagram[h.PNOffset:h.PNOffset+4], []byte{0, 0, 0, 2}) {
		t.Errorf("packet number bytes %x", datagram[h.PNOffset:h.PNOffset+4])
	}
	h2, ok := ParseLongHeader(datagram[h.Len:])
	if !ok || h2.Type != PacketHandshake || h2.Token != nil || h.Len+h2.Len != len(datagram) {
		t.Errorf("coalesced Handshake: %+v, %v", h2, ok)
	}
}

func TestParseLongHeaderRejects(t *testing.T) {
	good := buildLong(PacketHandshake, Version1, []byte{1, 2}, []byte{3}, nil, 1, 1, make([]byte, 20))
	long21 := bytes.Repeat([]byte{9}, 21)
	for name, b := range map[string][]byte{
		"empty":             nil,
		"short header":      append([]byte{0x40}, good[1:]...),
		"unknown version":   append(append([]byte{good[0]}, 0x1a, 0x2a, 0x3a, 0x4a), good[5:]...),
		"length past end":   good[:len(good)-1],
		"DCID over 20":      buildLong(PacketHandshake, Version1, long21, nil, nil, 1, 1, nil),
		"SCID over 20":      buildLong(PacketHandshake, Version1, nil, long21, nil, 1, 1, nil),
		"token past end":    append(AppendVarint([]byte{0xc0, 0, 0, 0, 1, 0, 0}, 10), 1, 2),
		"missing length":    []byte{0xe0, 0, 0, 0, 1, 0, 0},
		"retry empty token": append(AppendRetry(nil, Version1, 0, nil, nil, nil), make([]byte, 16)...),
		"retry no tag":      AppendRetry(nil, Version1, 0, nil, nil, []byte("token")),
		"vn ragged list":    AppendVersionNegotiation(nil, 0, nil, nil, []uint32{1})[:9],
	} {
		if h, ok := ParseLongHeader(b); ok {
			t.Errorf("%s: ParseLongHeader accepted %x as %+v", name, b, h)
		}
	}
	for i := range len(good) {
		if _, ok := ParseLongHeader(good[:i]); ok {
			t.Errorf("ParseLongHeader accepted a packet truncated to %d bytes", i)
		}
	}
}

// TestParseLongHeaderIgnoresFixedBit: receivers that advertised
// grease_quic_bit MUST accept a clear QUIC Bit (RFC 9287 §3), so the check
// is the caller's.
func TestParseLongHeaderIgnoresFixedBit(t *testing.T) {
	p := buildLong(PacketHandshake, Version2, []byte{1}, []byte{2}, nil, 1, 1, make([]byte, 20))
	p[0] &^= FixedBit
	if h, ok := ParseLongHeader(p); !ok || h.Type != PacketHandshake {
		t.Fatalf("parsed %+v, %v", h, ok)
	}
}

func TestParseInvariantHeader(t *testing.T) {
	dcid := bytes.Repeat([]byte{1}, 255)
	scid := bytes.Repeat([]byte{2}, 40)
	b := []byte{0xc3}
	b = binary.BigEndian.AppendUint32(b, 0x1a2a3a4a)
	b = append(append(b, 255), dcid...)
	b = append(append(b, 40), scid...)
	b = append(b, "anything"...)
	v, d, s, ok := ParseInvariantHeader(b)
	if !ok || v != 0x1a2a3a4a || !bytes.Equal(d, dcid) || !bytes.Equal(s, scid) {
		t.Fatalf("ParseInvariantHeader = %#x, %d-byte DCID, %d-byte SCID, %v", v, len(d), len(s), ok)
	}
	if _, ok := ParseLongHeader(b); ok {
		t.Error("ParseLongHeader accepted an unknown version")
	}
	if _, _, _, ok := ParseInvariantHeader(b[:6+255+1+39]); ok {
		t.Error("ParseInvariantHeader accepted a truncated SCID")
	}
	if _, _, _, ok := ParseInvariantHeader(append([]byte{0x40}, b[1:]...)); ok {
		t.Error("ParseInvariantHeader accepted a short header")
	}
}

func TestParseDCID(t *testing.T) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	long := buildLong(PacketInitial, Version1, dcid, []byte{9}, nil, 0, 1, make([]byte, 20))
	if got, ok := ParseDCID(long, 4); !ok || !bytes.Equal(got, dcid) {
		t.Errorf("long header: %x, %v", got, ok)
	}
	short := AppendShortHeader(nil, dcid, 2, false, false)
	short = append(short, 0, 1, 0xaa)
	if got, ok := ParseDCID(short, len(dcid)); !ok || !bytes.Equal(got, dcid) {
		t.Errorf("short header: %x, %v", got, ok)
	}
	if got, ok := ParseDCID(short[:1], 0); !ok || len(got) != 0 {
		t.Errorf("zero-length short CID: %x, %v", got, ok)
	}
	for name, c := range map[string]struct {
		b []byte
		l int
	}{
		"empty":               {nil, 0},
		"short truncated":     {short[:5], 8},
		"long truncated":      {long[:10], 0},
		"long no length byte": {long[:5], 0},
	} {
		if got, ok := ParseDCID(c.b, c.l); ok {
			t.Errorf("%s: ParseDCID accepted %x as %x", name, c.b, got)
		}
	}
}

func TestShortHeaderBits(t *testing.T) {
	for _, c := range []struct {
		pnLen           int
		keyPhase, spin  bool
		fixed           bool
		want            byte
		grease, plainOK bool
	}{
		{1, false, false, true, 0x40, false, true},
		{4, true, false, true, 0x47, false, true},
		{2, false, true, true, 0x61, false, true},
		{3, true, true, false, 0x26, true, false},
	} {
		var b []byte
		if c.grease {
			b = AppendShortHeaderGrease(nil, []byte{0xab}, c.pnLen, c.keyPhase, c.spin, c.fixed)
		} else {
			b = AppendShortHeader(nil, []byte{0xab}, c.pnLen, c.keyPhase, c.spin)
		}
		if b[0] != c.want || b[1] != 0xab || len(b) != 2 {
			t.Errorf("%+v: header %x, want first byte %02x", c, b, c.want)
		}
		if IsLongHeader(b[0]) {
			t.Errorf("%+v: short header looks long", c)
		}
	}
}

func TestPacketTypeString(t *testing.T) {
	for typ, want := range map[PacketType]string{
		PacketInitial: "Initial", Packet0RTT: "0-RTT", PacketHandshake: "Handshake",
		PacketRetry: "Retry", Packet1RTT: "1-RTT", PacketVersionNegotiation: "VersionNegotiation",
		0: "PacketType(0)",
	} {
		if typ.String() != want {
			t.Errorf("%d.String() = %q, want %q", typ, typ.String(), want)
		}
	}
}

func TestVersions(t *testing.T) {
	for v, want := range map[uint32]bool{0x0a0a0a0a: true, 0x1a2a3a4a: true, 0xfafafafa: true, 1: false, 0x0a0a0a0b: false} {
		if IsReservedVersion(v) != want {
			t.Errorf("IsReservedVersion(%#x) = %v", v, !want)
		}
	}
	if !IsSupportedVersion(Version1) || !IsSupportedVersion(Version2) || IsSupportedVersion(0xff00001d) || IsSupportedVersion(0) {
		t.Error("IsSupportedVersion disagrees with {v1, v2}")
	}
}

func FuzzLongHeader(f *testing.F) {
	f.Add(buildLong(PacketInitial, Version1, []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9}, []byte("tok"), 1, 2, make([]byte, 30)))
	f.Add(buildLong(PacketHandshake, Version2, []byte{1}, nil, nil, 1, 4, make([]byte, 30)))
	f.Add(buildLong(Packet0RTT, Version1, nil, []byte{1}, nil, 1, 1, make([]byte, 30)))
	f.Add(append(AppendRetry(nil, Version2, 3, []byte{1}, []byte{2}, []byte("tok")), make([]byte, 16)...))
	f.Add(AppendVersionNegotiation(nil, 0x3f, []byte{1}, []byte{2}, []uint32{Version1, Version2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := ParseLongHeader(b)
		v, dcid, scid, iok := ParseInvariantHeader(b)
		d, dok := ParseDCID(b, 8)
		if ok && !iok {
			t.Fatalf("long header %+v fails the invariants", h)
		}
		if iok && (!dok || !bytes.Equal(d, dcid)) {
			t.Fatalf("ParseDCID = %x, %v; invariant DCID %x", d, dok, dcid)
		}
		if !ok {
			return
		}
		if h.Version != v || !bytes.Equal(h.DCID, dcid) || !bytes.Equal(h.SCID, scid) {
			t.Fatalf("ParseLongHeader %+v disagrees with invariants %#x %x %x", h, v, dcid, scid)
		}
		if h.Len <= 0 || h.Len > len(b) || h.PNOffset > h.Len {
			t.Fatalf("bounds: %+v for %d bytes", h, len(b))
		}
		switch h.Type {
		case PacketVersionNegotiation, PacketRetry:
			if h.Len != len(b) {
				t.Fatalf("%v Len = %d, want %d", h.Type, h.Len, len(b))
			}
			return
		}
		if len(h.DCID) > MaxCIDLen || len(h.SCID) > MaxCIDLen {
			t.Fatalf("CID over 20 bytes accepted: %+v", h)
		}
		// Rebuild the header and expect identical fields.
		pnLen := int(b[0]&3) + 1
		re, lenOff := AppendLongHeader(nil, h.Type, h.Version, h.DCID, h.SCID, h.Token, pnLen)
		if lenOff != len(re)-2 || re[0] != (b[0]|FixedBit)&^0x0c {
			t.Fatalf("rebuilt header %x: length at %d, first byte vs %02x", re, lenOff, b[0])
		}
		PutVarint2(re[lenOff:], 0)
		h2, ok := ParseLongHeader(re)
		if !ok || h2.Type != h.Type || h2.Version != h.Version || !bytes.Equal(h2.DCID, h.DCID) ||
			!bytes.Equal(h2.SCID, h.SCID) || !bytes.Equal(h2.Token, h.Token) || h2.PNOffset != len(re) {
			t.Fatalf("rebuilt header parses to %+v, %v; original %+v", h2, ok, h)
		}
	})
}

func FuzzShortHeader(f *testing.F) {
	f.Add(append(AppendShortHeader(nil, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 2, true, false), 1, 2, 3), 8)
	f.Add(AppendShortHeader(nil, nil, 1, false, true), 0)
	f.Add(buildLong(PacketInitial, Version1, []byte{1, 2, 3, 4}, nil, nil, 0, 1, nil), 4)
	f.Fuzz(func(t *testing.T, b []byte, cidLen int) {
		d, ok := ParseDCID(b, cidLen)
		if !ok {
			return
		}
		if len(b) == 0 {
			t.Fatal("accepted an empty datagram")
		}
		if IsLongHeader(b[0]) {
			if len(d) != int(b[5]) || !bytes.Equal(d, b[6:6+len(d)]) {
				t.Fatalf("long DCID %x from %x", d, b)
			}
			return
		}
		if len(d) != cidLen || !bytes.Equal(d, b[1:1+cidLen]) {
			t.Fatalf("short DCID %x from %x with length %d", d, b, cidLen)
		}
	})
}

func TestAppendLongHeaderRejectsOtherTypes(t *testing.T) {
	for _, typ := range []PacketType{PacketRetry, Packet1RTT, PacketVersionNegotiation} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendLongHeader(%v) did not panic", typ)
				}
			}()
			AppendLongHeader(nil, typ, Version1, nil, nil, nil, 1)
		}()
	}
}
