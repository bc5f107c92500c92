package wire

import (
	"bytes"
	"testing"
)

func TestVersionNegotiationLayout(t *testing.T) {
	dcid, scid := []byte{1, 2, 3}, []byte{4, 5}
	b := AppendVersionNegotiation(nil, 0x2a, dcid, scid, []uint32{Version1, 0x1a2a3a4a})
	want := mustHex(t, "aa"+"00000000"+"03010203"+"020405"+"00000001"+"1a2a3a4a")
	if !bytes.Equal(b, want) {
		t.Fatalf("AppendVersionNegotiation = %x, want %x", b, want)
	}
	d, s, versions, ok := ParseVersionNegotiation(b)
	if !ok || !bytes.Equal(d, dcid) || !bytes.Equal(s, scid) || len(versions) != 8 {
		t.Fatalf("ParseVersionNegotiation = %x, %x, %x, %v", d, s, versions, ok)
	}
	if !VersionListContains(versions, Version1) || !VersionListContains(versions, 0x1a2a3a4a) || VersionListContains(versions, Version2) {
		t.Error("VersionListContains disagrees with the list")
	}
	h, ok := ParseLongHeader(b)
	if !ok || h.Type != PacketVersionNegotiation || h.Version != 0 || h.Len != len(b) || !bytes.Equal(h.DCID, dcid) {
		t.Errorf("ParseLongHeader of VN = %+v, %v", h, ok)
	}
	// Long connection IDs are allowed in VN (RFC 8999 §6).
	long := bytes.Repeat([]byte{7}, 200)
	if d, _, _, ok := ParseVersionNegotiation(AppendVersionNegotiation(nil, 0, long, nil, []uint32{1})); !ok || len(d) != 200 {
		t.Error("VN with a 200-byte DCID rejected")
	}
	for name, bad := range map[string][]byte{
		"ragged version list": b[:len(b)-1],
		"nonzero version":     append([]byte{0xc0, 0, 0, 0, 1}, b[5:]...),
		"short header":        append([]byte{0x40}, b[1:]...),
		"truncated SCID":      b[:9],
	} {
		if _, _, _, ok := ParseVersionNegotiation(bad); ok {
			t.Errorf("%s: accepted %x", name, bad)
		}
	}
}

// TestRetryRFC9001Vector parses the Retry packets of RFC 9001 §A.4 and
// RFC 9369 §A.4 and rebuilds them byte for byte.
func TestRetryRFC9001Vector(t *testing.T) {
	odcid := mustHex(t, "8394c8f03e515708")
	for _, c := range []struct {
		version uint32
		packet  string
	}{
		{Version1, "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"},
		{Version2, "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"},
	} {
		p := mustHex(t, c.packet)
		v, dcid, scid, token, tag, ok := ParseRetry(p)
		if !ok || v != c.version || len(dcid) != 0 || !bytes.Equal(scid, mustHex(t, "f067a5502a4262b5")) ||
			string(token) != "token" || !bytes.Equal(tag[:], p[len(p)-16:]) {
			t.Fatalf("v%#x: ParseRetry = %#x, %x, %x, %q, %x, %v", c.version, v, dcid, scid, token, tag, ok)
		}
		re := AppendRetry(nil, v, p[0]&0x0f, dcid, scid, token)
		if !bytes.Equal(re, p[:len(p)-16]) {
			t.Fatalf("v%#x: AppendRetry = %x, want %x", c.version, re, p[:len(p)-16])
		}
		pseudo := AppendRetryPseudoPacket(nil, odcid, re)
		if pseudo[0] != 8 || !bytes.Equal(pseudo[1:9], odcid) || !bytes.Equal(pseudo[9:], re) {
			t.Fatalf("v%#x: pseudo-packet %x", c.version, pseudo)
		}
	}
}

func TestParseRetryRejects(t *testing.T) {
	good := append(AppendRetry(nil, Version1, 0, []byte{1}, []byte{2}, []byte("tok")), make([]byte, 16)...)
	if _, _, _, _, _, ok := ParseRetry(good); !ok {
		t.Fatal("good Retry rejected")
	}
	initial := buildLong(PacketInitial, Version1, []byte{1}, []byte{2}, nil, 0, 1, make([]byte, 20))
	for name, b := range map[string][]byte{
		// A client MUST discard a Retry with a zero-length token
		// (RFC 9000 §17.2.5.2).
		"empty token":     append(AppendRetry(nil, Version1, 0, []byte{1}, []byte{2}, nil), make([]byte, 16)...),
		"truncated tag":   good[:len(good)-14],
		"not a Retry":     initial,
		"unknown version": append(append([]byte{good[0]}, 0, 0, 0, 9), good[5:]...),
	} {
		if _, _, _, _, _, ok := ParseRetry(b); ok {
			t.Errorf("%s: ParseRetry accepted %x", name, b)
		}
	}
}

func FuzzVersionNegotiation(f *testing.F) {
	f.Add(AppendVersionNegotiation(nil, 0x2a, []byte{1, 2, 3}, []byte{4}, []uint32{Version1, Version2, 0x0a0a0a0a}))
	f.Add(AppendVersionNegotiation(nil, 0, nil, nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		dcid, scid, versions, ok := ParseVersionNegotiation(b)
		if !ok {
			return
		}
		if len(versions)%4 != 0 {
			t.Fatalf("ragged version list %x", versions)
		}
		var list []uint32
		for i := 0; i < len(versions); i += 4 {
			list = append(list, uint32(versions[i])<<24|uint32(versions[i+1])<<16|uint32(versions[i+2])<<8|uint32(versions[i+3]))
		}
		for _, v := range list {
			if !VersionListContains(versions, v) {
				t.Fatalf("VersionListContains misses %#x", v)
			}
		}
		re := AppendVersionNegotiation(nil, b[0], dcid, scid, list)
		if !bytes.Equal(re, b) {
			t.Fatalf("re-encoding %x differs from %x", re, b)
		}
	})
}

func FuzzRetryPacket(f *testing.F) {
	f.Add(mustHex(f, "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"))
	f.Add(mustHex(f, "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, dcid, scid, token, tag, ok := ParseRetry(b)
		if !ok {
			return
		}
		if !IsSupportedVersion(v) || len(token) == 0 || len(dcid) > MaxCIDLen || len(scid) > MaxCIDLen {
			t.Fatalf("accepted %#x %x %x %x", v, dcid, scid, token)
		}
		re := AppendRetry(nil, v, b[0], dcid, scid, token)
		re = append(re, tag[:]...)
		if len(re) != len(b) || !bytes.Equal(re[1:], b[1:]) || (re[0]^b[0])&^FixedBit != 0 {
			t.Fatalf("re-encoding %x differs from %x", re, b)
		}
	})
}
