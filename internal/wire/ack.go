package wire

import "github.com/hquic/quic/internal/rangeset"

// ECNCounts are the three ECN counters of an ACK frame of type 0x03
// (RFC 9000 §19.3.2).
type ECNCounts struct {
	ECT0, ECT1, CE uint64
}

// AckFrame is a parsed ACK frame (RFC 9000 §19.3). Its ranges are read
// lazily from the frame bytes, which it aliases, through Iter; ConsumeAck
// has already validated all of them.
type AckFrame struct {
	// Largest is the Largest Acknowledged field.
	Largest int64
	// Delay is the raw ACK Delay field; scale it by the peer's
	// ack_delay_exponent (RFC 9000 §19.3).
	Delay uint64
	// ECN reports whether the frame is of type 0x03 and carries counts.
	ECN            bool
	ECT0, ECT1, CE uint64

	firstRange uint64 // First ACK Range field
	rangeCount int    // ACK Range Count field
	ranges     []byte // the encoded Gap/ACK Range Length pairs
	smallest   int64  // lowest acknowledged packet number
}

// RangeCount returns the number of acknowledged ranges the frame carries,
// including the first one (ACK Range Count + 1).
func (f *AckFrame) RangeCount() int { return f.rangeCount + 1 }

// Smallest returns the lowest packet number the frame acknowledges.
func (f *AckFrame) Smallest() int64 { return f.smallest }

// ECNCounts returns the frame's ECN counts; they are zero unless f.ECN.
func (f *AckFrame) ECNCounts() ECNCounts { return ECNCounts{f.ECT0, f.ECT1, f.CE} }

// Iter returns an iterator over the acknowledged ranges, highest first.
func (f *AckFrame) Iter() AckIter {
	return AckIter{
		next:   f.Largest,
		first:  f.firstRange,
		left:   f.rangeCount + 1,
		ranges: f.ranges,
	}
}

// AckIter walks the ranges of an AckFrame from the highest down without
// allocating.
type AckIter struct {
	next    int64  // largest packet number of the next range
	first   uint64 // length of the first range
	started bool   // the first range has been returned
	left    int    // ranges not yet returned
	ranges  []byte // remaining Gap/Length pairs
}

// Next returns the next range [smallest, largest] (inclusive), from the
// highest down, or ok = false when all ranges have been returned.
func (it *AckIter) Next() (smallest, largest int64, ok bool) {
	if it.left == 0 {
		return 0, 0, false
	}
	it.left--
	length := it.first
	if !it.started {
		it.started = true
	} else {
		gap, n := ConsumeVarint(it.ranges)
		it.ranges = it.ranges[n:]
		var m int
		length, m = ConsumeVarint(it.ranges)
		it.ranges = it.ranges[m:]
		it.next -= int64(gap) + 2
	}
	largest = it.next
	smallest = largest - int64(length)
	it.next = smallest
	return smallest, largest, true
}

// ConsumeAck parses an ACK frame of type 0x02 or 0x03 (RFC 9000 §19.3) and
// validates every range: a range reaching below packet number 0 MUST be
// treated as FRAME_ENCODING_ERROR (RFC 9000 §19.3.1) and is rejected, as is
// a range count that the remaining bytes cannot hold (each range takes at
// least two bytes), so the work is bounded by len(b).
func ConsumeAck(b []byte) (f AckFrame, n int) {
	if len(b) == 0 || b[0]&^1 != FrameAck {
		return AckFrame{}, -1
	}
	f.ECN = b[0] == FrameAckECN
	n = 1
	var fields [4]uint64 // Largest, Delay, Range Count, First Range
	for i := range fields {
		v, m := ConsumeVarint(b[n:])
		if m < 0 {
			return AckFrame{}, -1
		}
		fields[i] = v
		n += m
	}
	largest, count, first := fields[0], fields[2], fields[3]
	if first > largest || count > uint64(len(b)-n)/2 {
		return AckFrame{}, -1
	}
	f.Largest = int64(largest)
	f.Delay = fields[1]
	f.firstRange = first
	f.rangeCount = int(count)
	start := n
	smallest := largest - first
	for range count {
		gap, m := ConsumeVarint(b[n:])
		if m < 0 {
			return AckFrame{}, -1
		}
		n += m
		length, m := ConsumeVarint(b[n:])
		if m < 0 {
			return AckFrame{}, -1
		}
		n += m
		// The next range's largest is smallest - gap - 2 and its smallest
		// is that minus length; both must be >= 0 (RFC 9000 §19.3.1).
		if smallest < 2 || gap > smallest-2 || length > smallest-2-gap {
			return AckFrame{}, -1
		}
		smallest = smallest - 2 - gap - length
	}
	f.ranges = b[start:n]
	f.smallest = int64(smallest)
	if f.ECN {
		var counts [3]uint64
		for i := range counts {
			v, m := ConsumeVarint(b[n:])
			if m < 0 {
				return AckFrame{}, -1
			}
			counts[i] = v
			n += m
		}
		f.ECT0, f.ECT1, f.CE = counts[0], counts[1], counts[2]
	}
	return f, n
}

// AppendAck appends one ACK frame (type 0x03 with the counts if ecn is
// non-nil, else 0x02) acknowledging the ranges of the set, highest first,
// in at most maxLen bytes. Lowest ranges that do not fit are left out
// (RFC 9000 §13.2.4 lets a sender limit the ranges it reports). ackDelay is
// the already-scaled ACK Delay field. It returns b unchanged if the set is
// empty or not even the highest range fits.
func AppendAck(b []byte, ranges *rangeset.Set[int64], ackDelay uint64, ecn *ECNCounts, maxLen int) []byte {
	nr := ranges.Len()
	if nr == 0 {
		return b
	}
	top := ranges.At(nr - 1)
	largest := uint64(top.End - 1)
	first := uint64(top.End - 1 - top.Start)
	fixed := 1 + SizeVarint(largest) + SizeVarint(ackDelay) + SizeVarint(first)
	if ecn != nil {
		fixed += SizeVarint(ecn.ECT0) + SizeVarint(ecn.ECT1) + SizeVarint(ecn.CE)
	}
	if fixed+1 > maxLen {
		return b
	}
	// Count how many further ranges fit, highest first.
	count, size := 0, 0
	prevSmallest := top.Start
	for i := nr - 2; i >= 0; i-- {
		r := ranges.At(i)
		pair := SizeVarint(uint64(prevSmallest-r.End-1)) + SizeVarint(uint64(r.End-1-r.Start))
		if fixed+SizeVarint(uint64(count+1))+size+pair > maxLen {
			break
		}
		count++
		size += pair
		prevSmallest = r.Start
	}
	typ := byte(FrameAck)
	if ecn != nil {
		typ = FrameAckECN
	}
	b = append(b, typ)
	b = AppendVarint(b, largest)
	b = AppendVarint(b, ackDelay)
	b = AppendVarint(b, uint64(count))
	b = AppendVarint(b, first)
	prevSmallest = top.Start
	for i := nr - 2; i >= nr-1-count; i-- {
		r := ranges.At(i)
		b = AppendVarint(b, uint64(prevSmallest-r.End-1)) // Gap
		b = AppendVarint(b, uint64(r.End-1-r.Start))      // ACK Range Length
		prevSmallest = r.Start
	}
	if ecn != nil {
		b = AppendVarint(b, ecn.ECT0)
		b = AppendVarint(b, ecn.ECT1)
		b = AppendVarint(b, ecn.CE)
	}
	return b
}
