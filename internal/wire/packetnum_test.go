package wire

import (
	"math/rand/v2"
	"testing"
)

// TestDecodePacketNumberRFC9000Sample checks the example of RFC 9000 §A.3.
func TestDecodePacketNumberRFC9000Sample(t *testing.T) {
	if got := DecodePacketNumber(0xa82f30ea, 0x9b32, 2); got != 0xa82f9b32 {
		t.Fatalf("DecodePacketNumber(0xa82f30ea, 0x9b32, 2) = %#x, want 0xa82f9b32", got)
	}
}

// TestPacketNumberLenRFC9000Samples checks the examples of RFC 9000 §A.2
// and §17.1.
func TestPacketNumberLenRFC9000Samples(t *testing.T) {
	for _, c := range []struct {
		pn, acked int64
		want      int
	}{
		{0xac5c02, 0xabe8b3, 2}, // 29,519 unacked: 16 bits
		{0xace8fe, 0xabe8b3, 3}, // 18 bits needed: 24-bit encoding
		{0, -1, 1},
		{127, -1, 1},
		{128, -1, 2},
		{1 << 40, 0, 4},
	} {
		if got := PacketNumberLen(c.pn, c.acked); got != c.want {
			t.Errorf("PacketNumberLen(%#x, %#x) = %d, want %d", c.pn, c.acked, got, c.want)
		}
	}
}

func TestDecodePacketNumberEdges(t *testing.T) {
	for _, c := range []struct {
		largest   int64
		truncated uint64
		n         int
		want      int64
	}{
		{-1, 0, 1, 0},
		{-1, 0xff, 1, 0xff},
		{0xff, 0x00, 1, 0x100},
		{0x100, 0xff, 1, 0xff},  // just below the window's low edge
		{0x17f, 0x00, 1, 0x200}, // wraps forward
		{1<<62 - 2, 0xff, 1, 1<<62 - 1},
	} {
		if got := DecodePacketNumber(c.largest, c.truncated, c.n); got != c.want {
			t.Errorf("DecodePacketNumber(%#x, %#x, %d) = %#x, want %#x", c.largest, c.truncated, c.n, got, c.want)
		}
	}
}

// TestPacketNumberRoundTrip encodes with PacketNumberLen and decodes with
// the receiver's largest equal to the largest acknowledged (the worst case
// the sender plans for) or anything between that and pn-1.
func TestPacketNumberRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		acked := rng.Int64N(1<<40) - 1
		pn := acked + 1 + rng.Int64N(1<<uint(rng.IntN(31)))
		n := PacketNumberLen(pn, acked)
		enc := AppendPacketNumber(nil, pn, n)
		var trunc uint64
		for _, c := range enc {
			trunc = trunc<<8 | uint64(c)
		}
		if n == 4 && pn-acked > 1<<31 {
			continue // beyond what any encoding can recover
		}
		largest := acked + rng.Int64N(pn-acked)
		if got := DecodePacketNumber(largest, trunc, n); got != pn {
			t.Fatalf("pn %#x acked %#x largest %#x: %d-byte encoding decodes to %#x", pn, acked, largest, n, got)
		}
	}
}
