// Package rangeset implements a sorted set of non-overlapping half-open
// integer ranges.
//
// The engine uses it for received packet numbers (ACK ranges), received
// stream offsets, and acknowledged send offsets. A Set keeps its ranges in
// one slice in ascending order; once the slice has grown to its working size
// no operation allocates.
package rangeset

// Integer is the set of element types a Set can hold.
type Integer interface {
	~int64 | ~uint64
}

// Range is the half-open interval [Start, End).
type Range[T Integer] struct {
	Start, End T
}

// Size returns End-Start.
func (r Range[T]) Size() T { return r.End - r.Start }

// Contains reports whether v is in r.
func (r Range[T]) Contains(v T) bool { return r.Start <= v && v < r.End }

// Set is a sorted set of non-overlapping, non-adjacent ranges.
// The zero value is an empty set ready to use.
type Set[T Integer] struct {
	r []Range[T]
}

// Add inserts [start, end) into the set, merging it with any ranges it
// overlaps or touches. Empty ranges are ignored.
func (s *Set[T]) Add(start, end T) {
	if start >= end {
		return
	}
	n := len(s.r)
	// Fast path: appending at or after the last range (in-order arrival).
	if n == 0 || s.r[n-1].End < start {
		s.r = append(s.r, Range[T]{start, end})
		return
	}
	if s.r[n-1].Start <= start {
		if end > s.r[n-1].End {
			s.r[n-1].End = end
		}
		return
	}
	// i: first range whose End >= start (may merge with it).
	i := s.search(start)
	if i > 0 && s.r[i-1].End == start {
		i--
	}
	// j: first range whose Start > end (no merge).
	j := i
	for j < n && s.r[j].Start <= end {
		j++
	}
	if i == j {
		// No overlap: insert a new range at i.
		s.r = append(s.r, Range[T]{})
		copy(s.r[i+1:], s.r[i:])
		s.r[i] = Range[T]{start, end}
		return
	}
	merged := Range[T]{min(start, s.r[i].Start), max(end, s.r[j-1].End)}
	s.r[i] = merged
	s.r = append(s.r[:i+1], s.r[j:]...)
}

// Remove deletes [start, end) from the set, splitting a range if needed.
func (s *Set[T]) Remove(start, end T) {
	if start >= end {
		return
	}
	i := s.search(start)
	for i < len(s.r) && s.r[i].Start < end {
		r := s.r[i]
		switch {
		case r.Start < start && r.End > end:
			// Split r into two.
			s.r = append(s.r, Range[T]{})
			copy(s.r[i+2:], s.r[i+1:])
			s.r[i] = Range[T]{r.Start, start}
			s.r[i+1] = Range[T]{end, r.End}
			return
		case r.Start < start:
			s.r[i].End = start
			i++
		case r.End > end:
			s.r[i].Start = end
			return
		default:
			s.r = append(s.r[:i], s.r[i+1:]...)
		}
	}
}

// RemoveBelow deletes every value less than v.
func (s *Set[T]) RemoveBelow(v T) {
	i := 0
	for i < len(s.r) && s.r[i].End <= v {
		i++
	}
	if i > 0 {
		s.r = append(s.r[:0], s.r[i:]...)
	}
	if len(s.r) > 0 && s.r[0].Start < v {
		s.r[0].Start = v
	}
}

// RemoveFirst deletes the lowest range. It does nothing on an empty set.
func (s *Set[T]) RemoveFirst() {
	if len(s.r) > 0 {
		s.r = append(s.r[:0], s.r[1:]...)
	}
}

// Contains reports whether v is in the set.
func (s *Set[T]) Contains(v T) bool {
	i := s.search(v)
	return i < len(s.r) && s.r[i].Start <= v
}

// ContainsRange reports whether every value of [start, end) is in the set.
func (s *Set[T]) ContainsRange(start, end T) bool {
	if start >= end {
		return true
	}
	i := s.search(start)
	return i < len(s.r) && s.r[i].Start <= start && end <= s.r[i].End
}

// search returns the index of the first range whose End > v.
func (s *Set[T]) search(v T) int {
	lo, hi := 0, len(s.r)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.r[m].End <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Len returns the number of ranges.
func (s *Set[T]) Len() int { return len(s.r) }

// At returns the i'th range in ascending order.
func (s *Set[T]) At(i int) Range[T] { return s.r[i] }

// Min returns the lowest value in the set, or zero if it is empty.
func (s *Set[T]) Min() T {
	if len(s.r) == 0 {
		return 0
	}
	return s.r[0].Start
}

// Max returns one past the highest value in the set, or zero if it is empty.
func (s *Set[T]) Max() T {
	if len(s.r) == 0 {
		return 0
	}
	return s.r[len(s.r)-1].End
}

// IsEmpty reports whether the set holds no values.
func (s *Set[T]) IsEmpty() bool { return len(s.r) == 0 }

// Clear empties the set, keeping its storage.
func (s *Set[T]) Clear() { s.r = s.r[:0] }
