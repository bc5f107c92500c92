package wire

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVarintRFC9000Samples checks the sample encodings of RFC 9000 §A.1.
func TestVarintRFC9000Samples(t *testing.T) {
	for _, c := range []struct {
		hex       string
		v         uint64
		canonical bool
	}{
		{"c2197c5eff14e88c", 151288809941952652, true},
		{"9d7f3e7d", 494878333, true},
		{"7bbd", 15293, true},
		{"25", 37, true},
		{"4025", 37, false}, // valid but not the shortest encoding
	} {
		b := mustHex(t, c.hex)
		v, n := ConsumeVarint(b)
		if v != c.v || n != len(b) {
			t.Errorf("ConsumeVarint(%s) = %d, %d; want %d, %d", c.hex, v, n, c.v, len(b))
		}
		if got := AppendVarint(nil, c.v); c.canonical && !bytes.Equal(got, b) {
			t.Errorf("AppendVarint(%d) = %x, want %s", c.v, got, c.hex)
		}
		if c.canonical && SizeVarint(c.v) != len(b) {
			t.Errorf("SizeVarint(%d) = %d, want %d", c.v, SizeVarint(c.v), len(b))
		}
		if got := AppendVarintLen(nil, c.v, len(b)); !bytes.Equal(got, b) {
			t.Errorf("AppendVarintLen(%d, %d) = %x, want %s", c.v, len(b), got, c.hex)
		}
	}
}

func TestVarintBoundaries(t *testing.T) {
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, MaxVarint} {
		b := AppendVarint(nil, v)
		if len(b) != SizeVarint(v) {
			t.Errorf("len(AppendVarint(%d)) = %d, SizeVarint = %d", v, len(b), SizeVarint(v))
		}
		got, n := ConsumeVarint(b)
		if got != v || n != len(b) {
			t.Errorf("round trip of %d: got %d, %d", v, got, n)
		}
		for i := range len(b) {
			if _, n := ConsumeVarint(b[:i]); n >= 0 {
				t.Errorf("ConsumeVarint(%x) truncated to %d bytes: n = %d, want < 0", b, i, n)
			}
		}
		for _, l := range []int{1, 2, 4, 8} {
			if l < SizeVarint(v) {
				continue
			}
			got, n := ConsumeVarint(AppendVarintLen(nil, v, l))
			if got != v || n != l {
				t.Errorf("AppendVarintLen(%d, %d) decodes to %d, %d", v, l, got, n)
			}
		}
	}
}

func TestPutVarint2PatchesLength(t *testing.T) {
	b := []byte{0x40, 0x00}
	PutVarint2(b, 1234)
	if v, n := ConsumeVarint(b); v != 1234 || n != 2 {
		t.Fatalf("patched %x decodes to %d, %d", b, v, n)
	}
	PutVarint2(b, 16383)
	if v, _ := ConsumeVarint(b); v != 16383 {
		t.Fatalf("patched %x decodes to %d", b, v)
	}
}

func TestAppendVarintRejectsOutOfRange(t *testing.T) {
	for name, f := range map[string]func(){
		"AppendVarint":    func() { AppendVarint(nil, MaxVarint+1) },
		"AppendVarintLen": func() { AppendVarintLen(nil, 64, 1) },
		"PutVarint2":      func() { PutVarint2(make([]byte, 2), 1<<14) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s accepted an out-of-range value", name)
				}
			}()
			f()
		}()
	}
}

func FuzzVarint(f *testing.F) {
	for _, s := range []string{"c2197c5eff14e88c", "9d7f3e7d", "7bbd", "25", "4025", "", "c0"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n := ConsumeVarint(b)
		if n < 0 {
			if len(b) >= 8 || (len(b) > 0 && len(b) >= 1<<(b[0]>>6)) {
				t.Fatalf("ConsumeVarint(%x) rejected a complete varint", b)
			}
			return
		}
		if n > len(b) || n != 1<<(b[0]>>6) || v > MaxVarint {
			t.Fatalf("ConsumeVarint(%x) = %d, %d", b, v, n)
		}
		enc := AppendVarint(nil, v)
		if len(enc) > n || len(enc) != SizeVarint(v) {
			t.Fatalf("re-encoding %d gave %x, longer than the input %x", v, enc, b[:n])
		}
		if got, m := ConsumeVarint(enc); got != v || m != len(enc) {
			t.Fatalf("re-encoding of %d decodes to %d, %d", v, got, m)
		}
		if typ, m := ConsumeFrameType(b); (m >= 0) != (len(enc) == n) || (m >= 0 && typ != v) {
			t.Fatalf("ConsumeFrameType(%x) = %d, %d; minimal = %v", b, typ, m, len(enc) == n)
		}
		if got := AppendVarintLen(nil, v, n); !bytes.Equal(got, b[:n]) {
			t.Fatalf("AppendVarintLen(%d, %d) = %x, want %x", v, n, got, b[:n])
		}
	})
}
