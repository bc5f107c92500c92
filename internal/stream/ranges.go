package stream

import "github.com/hquic/quic/internal/rangeset"

// firstEndAbove returns the index of the first range of s that ends after v.
func firstEndAbove(s *rangeset.Set[uint64], v uint64) int {
	lo, hi := 0, s.Len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.At(m).End <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// forGaps calls fn for each maximal sub-range of [start, end) that is not in
// s, in ascending order.
func forGaps(s *rangeset.Set[uint64], start, end uint64, fn func(start, end uint64)) {
	pos := start
	for i := firstEndAbove(s, pos); pos < end; i++ {
		if i >= s.Len() {
			fn(pos, end)
			return
		}
		r := s.At(i)
		if r.Start > pos {
			fn(pos, min(r.Start, end))
		}
		pos = r.End
	}
}
