package relay

import (
	"bytes"
	"testing"
)

// longHeader builds a long-header packet: type bits t (v1 numbering mapped
// for the version), the IDs, an Initial token, and payload bytes counted
// by the Length field.
func longHeader(version uint32, t byte, dcid, scid, token []byte, payload int) []byte {
	if version == Version2 {
		t = (t + 1) & 3
	}
	b := []byte{0xc0 | t<<4, byte(version >> 24), byte(version >> 16), byte(version >> 8), byte(version)}
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	if t == 0 && version != Version2 || version == Version2 && t == 1 {
		b = append(b, byte(len(token)))
		b = append(b, token...)
	}
	b = append(b, 0x40|byte(payload>>8), byte(payload))
	return append(b, make([]byte, payload)...)
}

func TestDecodeCoalesced(t *testing.T) {
	dcid, scid := []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9, 9, 9, 9}
	d := longHeader(Version1, 0, dcid, scid, []byte("tok"), 30)
	hs := longHeader(Version1, 2, dcid, scid, nil, 40)
	short := append([]byte{0x41}, make([]byte, 50)...)
	dgram := append(append(append([]byte(nil), d...), hs...), short...)
	got := Decode(dgram)
	if len(got) != 3 {
		t.Fatalf("decoded %d packets, want 3: %+v", len(got), got)
	}
	if got[0].Type != TypeInitial || got[0].Version != Version1 || !bytes.Equal(got[0].DCID, dcid) ||
		!bytes.Equal(got[0].SCID, scid) || string(got[0].Token) != "tok" || got[0].Size != len(d) {
		t.Errorf("Initial: %+v", got[0])
	}
	if got[1].Type != TypeHandshake || got[1].Size != len(hs) {
		t.Errorf("Handshake: %+v", got[1])
	}
	if got[2].Type != TypeShort || got[2].Size != len(short) || !bytes.Equal(got[2].Prefix, short[:PrefixLen]) {
		t.Errorf("short: %+v", got[2])
	}
}

func TestDecodeVersion2Types(t *testing.T) {
	for v1type, want := range []PacketType{TypeInitial, Type0RTT, TypeHandshake} {
		p := longHeader(Version2, byte(v1type), []byte{1}, []byte{2}, nil, 5)
		got := Decode(p)
		if len(got) != 1 || got[0].Type != want || got[0].Version != Version2 {
			t.Errorf("v2 type %d: %+v, want %v", v1type, got, want)
		}
	}
}

func TestDecodeRetryAndVersionNegotiation(t *testing.T) {
	retry := []byte{0xf0, 0, 0, 0, 1, 1, 7, 2, 8, 8}
	retry = append(retry, "token"...)
	retry = append(retry, make([]byte, 16)...)
	got := Decode(retry)
	if len(got) != 1 || got[0].Type != TypeRetry || string(got[0].Token) != "token" {
		t.Errorf("Retry: %+v", got)
	}
	vn := []byte{0x80, 0, 0, 0, 0, 1, 7, 1, 8, 0, 0, 0, 1}
	got = Decode(vn)
	if len(got) != 1 || got[0].Type != TypeVersionNegotiation {
		t.Errorf("Version Negotiation: %+v", got)
	}
}

func TestDecodeTruncated(t *testing.T) {
	p := longHeader(Version1, 2, []byte{1, 2}, []byte{3}, nil, 20)
	for n := 0; n < len(p); n++ {
		if got := Decode(p[:n]); len(got) != 0 {
			t.Errorf("Decode of %d of %d bytes returned %+v", n, len(p), got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(longHeader(Version1, 0, []byte{1, 2, 3, 4}, []byte{5}, []byte("t"), 10))
	f.Add(longHeader(Version2, 2, []byte{1}, nil, nil, 3))
	f.Add([]byte{0x40, 1, 2, 3})
	f.Add([]byte{0x80, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, d []byte) {
		total := 0
		for _, h := range Decode(d) {
			if h.Size <= 0 {
				t.Fatalf("packet of size %d", h.Size)
			}
			total += h.Size
		}
		if total > len(d) {
			t.Fatalf("packets cover %d of %d bytes", total, len(d))
		}
	})
}
