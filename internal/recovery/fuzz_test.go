package recovery

import (
	"errors"
	"testing"
	"time"
)

// FuzzAckTracker feeds arbitrary packet-number arrivals, ACK sends and
// ACK-of-ACKs to an AckTracker and checks its invariants after each step.
// Each operation takes two bytes: b0 selects the operation and flags, b1 a
// packet-number offset and a clock step.
func FuzzAckTracker(f *testing.F) {
	f.Add([]byte{4, 0, 1, 1, 1, 2, 1, 3, 0x30, 0, 0x31, 200})
	f.Add([]byte{0, 0, 1, 2, 1, 4, 1, 6, 1, 8, 1, 10, 1, 12, 1, 14, 1, 0xfe, 1, 0xfc})
	f.Add([]byte{2, 0, 0x07, 5, 0x0f, 3, 0x3f, 1, 0x17, 0x81, 0x31, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 1 {
			return
		}
		maxRanges := 1 + int(ops[0]%16)
		var a AckTracker
		a.Init(SpaceApp, 25*time.Millisecond, maxRanges)
		now := t0
		pending := 0
		for i := 1; i+1 < len(ops); i += 2 {
			b0, b1 := ops[i], ops[i+1]
			now = now.Add(time.Duration(b1) * 100 * time.Microsecond)
			switch b0 >> 4 {
			case 3:
				if b0&1 == 0 {
					a.OnAckSent(now)
					pending = 0
				} else {
					a.OnAckAcked(a.LargestReceived() - int64(b1%8))
				}
			default:
				pn := max(a.LargestReceived(), 0) + int64(int8(b1))
				ae := b0&1 != 0
				dup := a.IsDuplicate(pn)
				a.OnPacketReceived(now, pn, ae, ECN((b0>>1)&3))
				if pn >= 0 && !dup {
					if !a.IsDuplicate(pn) {
						t.Fatalf("received %d but not a duplicate afterwards", pn)
					}
					if ae {
						pending++
					}
				}
			}
			rs := a.Ranges()
			if rs.Len() > maxRanges {
				t.Fatalf("%d ranges > %d", rs.Len(), maxRanges)
			}
			for k := 0; k < rs.Len(); k++ {
				r := rs.At(k)
				if r.Start >= r.End || r.Start < a.floor || (k > 0 && rs.At(k-1).End >= r.Start) {
					t.Fatalf("bad ranges (floor %d) at %d: %v", a.floor, k, r)
				}
			}
			if !rs.IsEmpty() && rs.Max()-1 != a.LargestReceived() {
				t.Fatalf("largest %d, ranges end at %d", a.LargestReceived(), rs.Max())
			}
			if (pending > 0) != (a.AckDeadline() != 0) {
				t.Fatalf("pending %d, deadline %v", pending, a.AckDeadline())
			}
			if pending >= 2 && a.AckDeadline() > now {
				t.Fatalf("two pending, deadline in the future")
			}
		}
	})
}

// FuzzAckFrames sends packets in all spaces and feeds arbitrary ACK frames
// (hostile network input), ECN counts and timer expiries to a State, checking
// its accounting after each step.
func FuzzAckFrames(f *testing.F) {
	f.Add([]byte{0x80, 10, 0, 9, 0, 0x40, 0, 0x80, 20, 2, 5, 0, 0xc0, 0})
	f.Add([]byte{0x80, 30, 0x01, 29, 3, 0x01, 1, 2, 0xc0, 0, 0xc0, 0, 0x80, 5})
	f.Add([]byte{0x81, 5, 0x81, 5, 0x41, 3, 0x00, 0x42, 2, 0, 0xc0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var l State
		// The input's length picks the controller: CUBIC, NewReno or BBR.
		l.Init(Config{InitialRTT: 50 * time.Millisecond, ECN: true, Pacing: true, HyStart: true, Algorithm: Algorithm(len(ops) % 3)}, false)
		var rec recorder
		now := t0
		var next [NumSpaces]int64
		var ranges []AckRange
		for i := 0; i+1 < len(ops); i += 2 {
			b0, b1 := ops[i], ops[i+1]
			space := Space(b0 & 3 % 3)
			now = now.Add(time.Duration(b1) * time.Millisecond)
			switch b0 >> 6 {
			case 2: // send b1%32 packets
				for range b1 % 32 {
					p := l.NewSent()
					p.PN = next[space]
					next[space] += 1 + int64(b0>>5&1) // sometimes skip numbers
					p.Space = space
					p.Size = 1200
					p.AckEliciting = b0&4 == 0
					p.InFlight = true
					p.ECT = l.ECNMarking()
					l.OnPacketSent(now, p)
				}
			case 0, 1: // ACK: ranges from the following bytes
				ranges = ranges[:0]
				largest := int64(b1)
				n := 1 + int(b0>>2&7)
				for k := 0; k < n && i+2 < len(ops); k++ {
					i++
					gap := int64(ops[i] & 15)
					size := int64(ops[i] >> 4)
					lo := largest - size
					if lo < 0 {
						break
					}
					ranges = append(ranges, AckRange{Smallest: lo, Largest: largest})
					largest = lo - gap - 2
					if largest < 0 {
						break
					}
				}
				var ecn *ECNCounts
				if b0&0x40 != 0 {
					ecn = &ECNCounts{ECT0: uint64(b1), CE: uint64(b1 % 7)}
				}
				err := l.OnAckReceived(now, space, ranges, time.Duration(b1)*time.Millisecond, ecn, &rec)
				if err != nil && !errors.Is(err, ErrAckOfUnsentPacket) {
					t.Fatalf("unexpected error %v", err)
				}
			case 3:
				switch b1 % 4 {
				case 0:
					if d := l.LossDetectionDeadline(); d != 0 && d > now {
						now = d
					}
					l.OnLossDetectionTimeout(now, &rec)
				case 1:
					l.DiscardSpace(space)
				case 2:
					l.OnHandshakeConfirmed()
				case 3:
					l.OnAppLimited()
				}
			}
			checkState(t, &l)
			l.NextSendTime(now)
			l.BurstPackets(now)
		}
	})
}

// checkState verifies the accounting of l against its records.
func checkState(t *testing.T, l *State) {
	t.Helper()
	total := 0
	for s := range l.spaces {
		sp := &l.spaces[s]
		inFlight, ae := 0, 0
		prev := int64(-1)
		for _, e := range sp.sent.live() {
			if e.pn <= prev {
				t.Fatalf("space %d: packet numbers out of order", s)
			}
			prev = e.pn
			if p := e.p; p != nil && p.InFlight && !p.lost {
				inFlight++
				total += p.Size
				if p.AckEliciting {
					ae++
				}
			}
		}
		if inFlight != sp.inFlight || ae != sp.ackElicitingInFlight {
			t.Fatalf("space %d: counted %d/%d in flight, state says %d/%d", s, inFlight, ae, sp.inFlight, sp.ackElicitingInFlight)
		}
	}
	if total != l.bytesInFlight {
		t.Fatalf("bytes in flight %d, records sum to %d", l.bytesInFlight, total)
	}
	if w := l.cc.window(); w < l.params.minWindow() {
		t.Fatalf("cwnd %d below minimum", w)
	}
	if l.CongestionWindowAvailable() < 0 {
		t.Fatalf("negative window room")
	}
	if r := l.cc.pacingRate(); r < 0 || r != r {
		t.Fatalf("pacing rate %v", r)
	}
}
