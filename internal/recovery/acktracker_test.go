package recovery

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

func newTracker(space Space, maxRanges int) *AckTracker {
	a := &AckTracker{}
	a.Init(space, 25*time.Millisecond, maxRanges)
	return a
}

func TestAckPolicy(t *testing.T) {
	// RFC 9000 Section 13.2.1 and 13.2.2.
	ms := time.Millisecond
	type recv struct {
		at           time.Duration
		pn           int64
		ackEliciting bool
		ecn          ECN
	}
	for _, tc := range []struct {
		name     string
		space    Space
		recvs    []recv
		sentAck  bool          // OnAckSent after the first packet
		deadline time.Duration // relative to t0; -1 = none
	}{
		{"one ack-eliciting: max_ack_delay", SpaceApp,
			[]recv{{0, 0, true, 0}}, false, 25 * ms},
		{"timer from the first unacked packet", SpaceApp,
			[]recv{{0, 0, true, 0}, {5 * ms, 1, false, 0}}, false, 25 * ms},
		{"second ack-eliciting: immediately", SpaceApp,
			[]recv{{0, 0, true, 0}, {5 * ms, 1, true, 0}}, false, 5 * ms},
		{"non-ack-eliciting alone: no ACK", SpaceApp,
			[]recv{{0, 0, false, 0}, {1 * ms, 1, false, 0}}, false, -1},
		{"gap created: immediately", SpaceApp,
			[]recv{{0, 0, true, 0}, {3 * ms, 2, true, 0}}, true, 3 * ms},
		{"gap filled: immediately", SpaceApp,
			[]recv{{0, 0, true, 0}, {1 * ms, 2, false, 0}, {3 * ms, 1, true, 0}}, true, 3 * ms},
		{"in order after ACK sent: delayed", SpaceApp,
			[]recv{{0, 0, true, 0}, {3 * ms, 1, true, 0}}, true, 28 * ms},
		{"CE: immediately", SpaceApp,
			[]recv{{2 * ms, 0, true, ECNCE}}, false, 2 * ms},
		{"CE on non-ack-eliciting with ACK pending", SpaceApp,
			[]recv{{0, 0, true, 0}, {2 * ms, 1, false, ECNCE}}, false, 2 * ms},
		{"CE on non-ack-eliciting alone", SpaceApp,
			[]recv{{2 * ms, 0, false, ECNCE}}, false, -1},
		{"Initial: immediately", SpaceInitial,
			[]recv{{1 * ms, 0, true, 0}}, false, 1 * ms},
		{"Handshake: immediately", SpaceHandshake,
			[]recv{{1 * ms, 0, true, 0}}, false, 1 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTracker(tc.space, 0)
			for i, r := range tc.recvs {
				a.OnPacketReceived(t0.Add(r.at), r.pn, r.ackEliciting, r.ecn)
				if i == 0 && tc.sentAck {
					a.OnAckSent(t0.Add(r.at))
				}
			}
			got := a.AckDeadline()
			switch {
			case tc.deadline < 0 && got != 0:
				t.Errorf("deadline t0+%v, want none", got.Sub(t0))
			case tc.deadline >= 0 && got != t0.Add(tc.deadline):
				t.Errorf("deadline %v (t0+%v), want t0+%v", got, got.Sub(t0), tc.deadline)
			}
			if tc.deadline >= 0 {
				wantVar(t, "ShouldSendAck before", a.ShouldSendAck(t0.Add(tc.deadline-1)), false)
				wantVar(t, "ShouldSendAck at", a.ShouldSendAck(t0.Add(tc.deadline)), true)
			}
		})
	}
}

func TestAckTrackerBasics(t *testing.T) {
	a := newTracker(SpaceApp, 0)
	wantVar(t, "LargestReceived", a.LargestReceived(), int64(-1))
	wantVar(t, "AckDelay before any packet", a.AckDelay(t0), time.Duration(0))
	if _, ok := a.ECNCounts(); ok {
		t.Errorf("ECN counts without marked packets")
	}
	now := t0
	for _, pn := range []int64{0, 1, 2, 5, 6, 4} {
		a.OnPacketReceived(now, pn, true, ECNECT0)
		now = now.Add(time.Millisecond)
	}
	a.OnPacketReceived(now, 7, true, ECNCE)
	a.OnPacketReceived(now, 8, true, ECNECT1)
	wantVar(t, "IsDuplicate(5)", a.IsDuplicate(5), true)
	wantVar(t, "IsDuplicate(3)", a.IsDuplicate(3), false)
	wantVar(t, "LargestReceived", a.LargestReceived(), int64(8))
	wantVar(t, "Reordered", a.Reordered(), uint64(1))
	wantVar(t, "AckDelay", a.AckDelay(now.Add(7*time.Millisecond)), 7*time.Millisecond)
	c, ok := a.ECNCounts()
	wantVar(t, "ECN counts", c, ECNCounts{ECT0: 6, ECT1: 1, CE: 1})
	wantVar(t, "ECN ok", ok, true)
	r := a.Ranges()
	wantVar(t, "ranges", r.Len(), 2)
	wantVar(t, "range 0", r.At(0).Start == 0 && r.At(0).End == 3, true)
	wantVar(t, "range 1", r.At(1).Start == 4 && r.At(1).End == 9, true)

	// Duplicates change nothing.
	a.OnPacketReceived(now, 5, true, ECNCE)
	c, _ = a.ECNCounts()
	wantVar(t, "duplicate not counted", c.CE, uint64(1))

	a.OnAckSent(now)
	wantVar(t, "no ACK pending", a.AckDeadline(), mono.Time(0))

	// The ACK carrying ranges up to 8 was acknowledged: forget them.
	a.OnAckAcked(6)
	wantVar(t, "ranges after ack-of-ack", r.Len(), 1)
	wantVar(t, "kept", r.At(0).Start == 7 && r.At(0).End == 9, true)
	wantVar(t, "3 now below the floor", a.IsDuplicate(3), true)
	a.OnAckAcked(2)
	wantVar(t, "older ack-of-ack is a no-op", r.At(0).Start, int64(7))
}

// A lost ACK frame makes a new one due at once, unless the peer is known
// to have what it reported (a later ACK frame of ours was acknowledged).
func TestAckTrackerLostAckIsReplaced(t *testing.T) {
	a := newTracker(SpaceApp, 0)
	now := t0
	for pn := int64(0); pn < 4; pn++ {
		a.OnPacketReceived(now, pn, true, ECNNotECT)
	}
	a.OnAckSent(now)
	later := now.Add(time.Second)
	wantVar(t, "lost ACK of 3 replaced", a.OnAckLost(later, 3), true)
	wantVar(t, "due at once", a.AckDeadline(), later)
	a.OnAckSent(later)
	a.OnAckAcked(3)
	wantVar(t, "lost ACK the peer no longer needs", a.OnAckLost(later, 2), false)
	wantVar(t, "nothing due", a.AckDeadline(), mono.Time(0))
}

func TestAckTrackerRangeBound(t *testing.T) {
	// Adversarial gaps: every other packet number. The set keeps at most
	// maxRanges ranges; older ones become the duplicate floor.
	a := newTracker(SpaceApp, 8)
	for pn := int64(0); pn < 1000; pn += 2 {
		a.OnPacketReceived(t0, pn, true, 0)
		if a.Ranges().Len() > 8 {
			t.Fatalf("after %d: %d ranges", pn, a.Ranges().Len())
		}
	}
	wantVar(t, "ranges", a.Ranges().Len(), 8)
	wantVar(t, "lowest kept", a.Ranges().Min(), int64(1000-16))
	wantVar(t, "forgotten gap treated as duplicate", a.IsDuplicate(1), true)
	wantVar(t, "gap above the floor is new", a.IsDuplicate(1000-15), false)
}

// ackModel is the reference: a plain set of received packet numbers.
type ackModel struct {
	got     map[int64]bool
	largest int64
}

// TestAckTrackerProperty compares the tracker with a model under random
// arrival orders: reordering, duplicates and loss, with and without
// ack-of-ack pruning and with a small range bound.
func TestAckTrackerProperty(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, seed*7919))
		maxRanges := 4 + r.IntN(40)
		a := newTracker(SpaceApp, maxRanges)
		m := ackModel{got: map[int64]bool{}, largest: -1}
		n := 50 + r.IntN(400)
		// Arrival order: packet numbers 0..n-1, displaced by up to 8,
		// some dropped, some duplicated.
		var order []int64
		for pn := range int64(n) {
			if r.IntN(10) == 0 {
				continue
			}
			order = append(order, pn)
			if r.IntN(20) == 0 {
				order = append(order, pn)
			}
		}
		for i := range order {
			j := min(i+r.IntN(9), len(order)-1)
			order[i], order[j] = order[j], order[i]
		}
		now := t0
		ackFloor := int64(0)
		var pendingSince mono.Time // first ack-eliciting packet since the last ACK sent
		pending := 0
		for _, pn := range order {
			now = now.Add(time.Duration(r.IntN(1000)) * time.Microsecond)
			dup := a.IsDuplicate(pn)
			switch {
			case pn < a.floor:
				if !dup {
					t.Fatalf("seed %d: %d below floor %d not a duplicate", seed, pn, a.floor)
				}
			case dup != m.got[pn]:
				t.Fatalf("seed %d: IsDuplicate(%d) = %v, model %v", seed, pn, dup, m.got[pn])
			}
			if dup {
				continue
			}
			ae := r.IntN(4) != 0
			a.OnPacketReceived(now, pn, ae, 0)
			m.got[pn] = true
			m.largest = max(m.largest, pn)
			if ae {
				if pending == 0 {
					pendingSince = now
				}
				pending++
			}
			// ACK policy: pending ack-eliciting packets always have a
			// deadline within max_ack_delay of the first; two or more
			// make it immediate.
			d := a.AckDeadline()
			switch {
			case pending == 0 && d != 0:
				t.Fatalf("seed %d: deadline without ack-eliciting packets", seed)
			case pending > 0 && (d == 0 || d > pendingSince.Add(25*time.Millisecond)):
				t.Fatalf("seed %d: deadline %v, first pending at %v", seed, d, pendingSince)
			case pending >= 2 && d > now:
				t.Fatalf("seed %d: two pending but deadline in the future", seed)
			}
			if r.IntN(5) == 0 {
				a.OnAckSent(now)
				pending = 0
			}
			if r.IntN(30) == 0 && m.largest > 0 {
				acked := m.largest - int64(r.IntN(5))
				a.OnAckAcked(acked)
				ackFloor = max(ackFloor, acked+1)
			}
			if a.floor < ackFloor {
				t.Fatalf("seed %d: floor %d below ack-of-ack floor %d", seed, a.floor, ackFloor)
			}
			checkTracker(t, seed, a, &m, maxRanges)
		}
	}
}

func checkTracker(t *testing.T, seed uint64, a *AckTracker, m *ackModel, maxRanges int) {
	t.Helper()
	rs := a.Ranges()
	if rs.Len() > maxRanges {
		t.Fatalf("seed %d: %d ranges > %d", seed, rs.Len(), maxRanges)
	}
	wantVar(t, "largest", a.LargestReceived(), m.largest)
	// Everything at or above the floor matches the model exactly.
	for pn := a.floor; pn <= m.largest; pn++ {
		if rs.Contains(pn) != m.got[pn] {
			t.Fatalf("seed %d: Contains(%d) = %v, model %v (floor %d)", seed, pn, rs.Contains(pn), m.got[pn], a.floor)
		}
	}
	if !rs.IsEmpty() && rs.Min() < a.floor {
		t.Fatalf("seed %d: range below floor", seed)
	}
	for i := 1; i < rs.Len(); i++ {
		if rs.At(i-1).End >= rs.At(i).Start {
			t.Fatalf("seed %d: ranges not disjoint and sorted", seed)
		}
	}
}
