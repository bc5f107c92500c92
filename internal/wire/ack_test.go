package wire

import (
	"reflect"
	"testing"

	"github.com/hquic/quic/internal/rangeset"
)

// setRanges lists the set's ranges highest first as inclusive pairs.
func setRanges(s *rangeset.Set[int64]) []DebugAckRange {
	var r []DebugAckRange
	for i := s.Len() - 1; i >= 0; i-- {
		r = append(r, DebugAckRange{s.At(i).Start, s.At(i).End - 1})
	}
	return r
}

// ackRanges iterates a parsed ACK frame.
func ackRanges(f *AckFrame) []DebugAckRange {
	var r []DebugAckRange
	it := f.Iter()
	for s, l, ok := it.Next(); ok; s, l, ok = it.Next() {
		r = append(r, DebugAckRange{s, l})
	}
	return r
}

func TestAckRoundTrip(t *testing.T) {
	var s rangeset.Set[int64]
	s.Add(0, 3)
	s.Add(5, 6)
	s.Add(10, 100)
	s.Add(1000, 1001)
	for _, ecn := range []*ECNCounts{nil, {ECT0: 5, ECT1: 1 << 40, CE: 3}} {
		b := AppendAck(nil, &s, 1234, ecn, 1500)
		f, n := ConsumeAck(b)
		if n != len(b) {
			t.Fatalf("ecn=%v: consumed %d of %d", ecn, n, len(b))
		}
		if f.Largest != 1000 || f.Delay != 1234 || f.ECN != (ecn != nil) || f.RangeCount() != 4 || f.Smallest() != 0 {
			t.Errorf("ecn=%v: parsed %+v", ecn, f)
		}
		if ecn != nil && f.ECNCounts() != *ecn {
			t.Errorf("ECN counts %+v, want %+v", f.ECNCounts(), *ecn)
		}
		if got, want := ackRanges(&f), setRanges(&s); !reflect.DeepEqual(got, want) {
			t.Errorf("ranges %v, want %v", got, want)
		}
		for i := range len(b) {
			if _, n := ConsumeAck(b[:i]); n >= 0 {
				t.Errorf("ecn=%v: truncated to %d bytes accepted", ecn, i)
			}
		}
	}
}

func TestAppendAckEmptySetWritesNothing(t *testing.T) {
	var s rangeset.Set[int64]
	if b := AppendAck([]byte{9}, &s, 0, nil, 100); len(b) != 1 {
		t.Fatalf("AppendAck of an empty set wrote %x", b[1:])
	}
}

// TestAppendAckTruncatesToMaxLen: every maxLen yields a frame of at most
// maxLen bytes that acknowledges the highest ranges, and the frame grows
// with maxLen until it holds all of them.
func TestAppendAckTruncatesToMaxLen(t *testing.T) {
	var s rangeset.Set[int64]
	for i := int64(0); i < 100; i++ {
		s.Add(i*i*50, i*i*50+i+1) // growing gaps exercise varint sizes
	}
	all := setRanges(&s)
	full := len(AppendAck(nil, &s, 100, &ECNCounts{1, 2, 3}, 1<<20))
	prev := 0
	for maxLen := 0; maxLen <= full+2; maxLen++ {
		b := AppendAck([]byte{0xaa}, &s, 100, &ECNCounts{1, 2, 3}, maxLen)
		b = b[1:]
		if len(b) > maxLen {
			t.Fatalf("maxLen %d: wrote %d bytes", maxLen, len(b))
		}
		if len(b) == 0 {
			if prev != 0 {
				t.Fatalf("maxLen %d: nothing written after %d ranges fit before", maxLen, prev)
			}
			continue
		}
		f, n := ConsumeAck(b)
		if n != len(b) {
			t.Fatalf("maxLen %d: consumed %d of %d", maxLen, n, len(b))
		}
		got := ackRanges(&f)
		if len(got) < prev || !reflect.DeepEqual(got, all[:len(got)]) {
			t.Fatalf("maxLen %d: ranges %v are not the %d highest", maxLen, got, len(got))
		}
		prev = len(got)
	}
	if prev != len(all) {
		t.Fatalf("a full-size frame holds %d of %d ranges", prev, len(all))
	}
}

func TestAckWith1000Ranges(t *testing.T) {
	var s rangeset.Set[int64]
	for i := int64(0); i < 1000; i++ {
		s.Add(i*3, i*3+2)
	}
	b := AppendAck(nil, &s, 0, nil, 1<<16)
	f, n := ConsumeAck(b)
	if n != len(b) || f.RangeCount() != 1000 || f.Largest != 2998 || f.Smallest() != 0 {
		t.Fatalf("consumed %d of %d, %d ranges, largest %d", n, len(b), f.RangeCount(), f.Largest)
	}
	if got := ackRanges(&f); !reflect.DeepEqual(got, setRanges(&s)) {
		t.Fatal("ranges differ after round trip")
	}
	d := debugAckFrom(&f)
	if got := d.Append(nil); string(got) != string(b) {
		t.Fatal("DebugAck re-encoding differs")
	}
}

// RFC 9000 §19.3.1: a range that would reach below packet number 0 MUST be
// FRAME_ENCODING_ERROR.
func TestAckRangeBelowZeroRejected(t *testing.T) {
	ack := func(largest, first uint64, pairs ...uint64) []byte {
		b := []byte{FrameAck}
		b = AppendVarint(b, largest)
		b = AppendVarint(b, 0)
		b = AppendVarint(b, uint64(len(pairs)/2))
		b = AppendVarint(b, first)
		for _, p := range pairs {
			b = AppendVarint(b, p)
		}
		return b
	}
	for name, c := range map[string]struct {
		b  []byte
		ok bool
	}{
		"first range to 0":          {ack(5, 5), true},
		"first range below 0":       {ack(5, 6), false},
		"gap to 0":                  {ack(10, 0, 8, 0), true},  // 10, then [0,0]
		"gap below 0":               {ack(10, 0, 9, 0), false}, // largest would be -1
		"length to 0":               {ack(10, 0, 0, 8), true},  // 10, then [0,8]
		"length below 0":            {ack(10, 0, 0, 9), false},
		"range after reaching zero": {ack(10, 0, 8, 0, 0, 0), false},
	} {
		if _, n := ConsumeAck(c.b); (n >= 0) != c.ok {
			t.Errorf("%s: n = %d, want ok=%v", name, n, c.ok)
		}
	}
}

// A frame claiming more ranges than its bytes can hold is rejected before
// any range is read, bounding the work by the input size.
func TestAckRangeCountBeyondBytesRejected(t *testing.T) {
	b := []byte{FrameAck}
	b = AppendVarint(b, 1<<40)
	b = AppendVarint(b, 0)
	b = AppendVarint(b, MaxVarint) // range count
	b = AppendVarint(b, 0)
	b = append(b, make([]byte, 64)...)
	if _, n := ConsumeAck(b); n >= 0 {
		t.Fatal("accepted")
	}
}

func FuzzAckFrame(f *testing.F) {
	var s rangeset.Set[int64]
	for i := int64(0); i < 20; i++ {
		s.Add(i*i, i*i+i%3+1)
	}
	f.Add(AppendAck(nil, &s, 25, nil, 1500), 1500)
	f.Add(AppendAck(nil, &s, 1<<20, &ECNCounts{1, 2, 3}, 40), 30)
	f.Add([]byte{FrameAck, 0, 0, 0, 0}, 4)
	f.Fuzz(func(t *testing.T, b []byte, maxLen int) {
		a, n := ConsumeAck(b)
		if n < 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		got := ackRanges(&a)
		if len(got) != a.RangeCount() || got[0].Largest != a.Largest || got[len(got)-1].Smallest != a.Smallest() {
			t.Fatalf("iteration %v disagrees with %+v", got, a)
		}
		var set rangeset.Set[int64]
		for i, r := range got {
			if r.Smallest < 0 || r.Smallest > r.Largest || (i > 0 && r.Largest+1 >= got[i-1].Smallest) {
				t.Fatalf("invalid ranges %v", got)
			}
			set.Add(r.Smallest, r.Largest+1)
		}
		var ecn *ECNCounts
		if a.ECN {
			c := a.ECNCounts()
			ecn = &c
		}
		// The canonical encoding (shortest varints) of the same content.
		canon := AppendAck(nil, &set, a.Delay, ecn, 1<<30)
		if len(canon) > n {
			t.Fatalf("canonical encoding is longer (%d) than the input (%d)", len(canon), n)
		}
		if d := debugAckFrom(&a).Append(nil); string(d) != string(canon) {
			t.Fatalf("DebugAck encoding %x differs from AppendAck %x", d, canon)
		}
		a2, n2 := ConsumeAck(canon)
		if n2 != len(canon) || !reflect.DeepEqual(ackRanges(&a2), got) || a2.Delay != a.Delay || a2.ECNCounts() != a.ECNCounts() {
			t.Fatalf("canonical encoding re-parses differently")
		}
		// Truncated to maxLen: a prefix of the ranges, within the limit.
		maxLen %= 2 * len(canon)
		tb := AppendAck(nil, &set, a.Delay, ecn, maxLen)
		if len(tb) > max(maxLen, 0) {
			t.Fatalf("AppendAck wrote %d bytes with maxLen %d", len(tb), maxLen)
		}
		if len(tb) > 0 {
			a3, n3 := ConsumeAck(tb)
			r3 := ackRanges(&a3)
			if n3 != len(tb) || !reflect.DeepEqual(r3, got[:len(r3)]) {
				t.Fatalf("truncated frame %x is not a prefix", tb)
			}
		}
	})
}
