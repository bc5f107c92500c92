package lend

import "testing"

// A returned item is lent again before a new one is made, and at most Max
// free items are kept.
func TestLenderReusesUpToMax(t *testing.T) {
	made := 0
	l := Lender[int]{Max: 2, New: func() *int { made++; return new(int) }}
	a, b, c := l.Get(), l.Get(), l.Get()
	if made != 3 {
		t.Fatalf("made %d items for three gets, want 3", made)
	}
	l.Put(a)
	l.Put(b)
	l.Put(c) // beyond Max: left to the collector
	if len(l.free) != 2 {
		t.Fatalf("%d free items kept, want Max 2", len(l.free))
	}
	x, y := l.Get(), l.Get()
	if made != 3 || (x != a && x != b) || (y != a && y != b) || x == y {
		t.Fatalf("gets after puts made %d items, want the two kept ones again", made-3)
	}
	l.Get()
	if made != 4 {
		t.Fatalf("a get with nothing free made %d new items, want 1", made-3)
	}
}
