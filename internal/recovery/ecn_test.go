package recovery

import (
	"testing"
	"time"
)

// sendMarked sends ack-eliciting App packets marked as ECNMarking says.
func (tt *lossTest) sendMarked(pns ...int64) {
	tt.t.Helper()
	for _, pn := range pns {
		tt.sendPacket(Sent{PN: pn, Space: SpaceApp, Size: tt.size, AckEliciting: true, ECT: tt.l.ECNMarking()})
	}
}

func pnRange(lo, hi int64) []int64 {
	var pns []int64
	for pn := lo; pn <= hi; pn++ {
		pns = append(pns, pn)
	}
	return pns
}

func newECNTest(t *testing.T) *lossTest {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, ECN: true, Algorithm: NewReno}, true)
	tt.l.OnHandshakeConfirmed()
	return tt
}

func TestECNTestingThenCapable(t *testing.T) {
	// RFC 9000 Section 13.4.2: mark the first packets on a path; here ten,
	// then stop until the marks are validated.
	tt := newECNTest(t)
	wantVar(t, "marking while testing", tt.l.ECNMarking(), true)
	tt.sendMarked(pnRange(0, 9)...)
	wantVar(t, "testing over", tt.l.ECNMarking(), false)
	tt.sendMarked(10, 11)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 0, &ECNCounts{ECT0: 10}, rng(0, 11))
	wantVar(t, "validated", tt.l.ECNMarking(), true)
	wantVar(t, "ECNCapable", tt.l.Stats().ECNCapable, true)
}

func TestECNValidation(t *testing.T) {
	// RFC 9000 Section 13.4.2.1. Ten ECT(0) packets 0..9 are in flight.
	type ack struct {
		ranges []AckRange
		counts *ECNCounts
	}
	for _, tc := range []struct {
		name string
		acks []ack
		ok   bool
	}{
		{"counts match", []ack{{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 5}}}, true},
		{"CE replaces ECT(0)", []ack{{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 4, CE: 1}}}, true},
		{"counts above acked (lost ACKs)", []ack{{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 7}}}, true},
		{"counts missing", []ack{{[]AckRange{rng(0, 4)}, nil}}, false},
		{"marks removed", []ack{{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 3, CE: 1}}}, false},
		{"ECT(1) never sent", []ack{{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 5, ECT1: 1}}}, false},
		{"more ECT(0) than sent", []ack{{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 11}}}, false},
		{"counts decrease", []ack{
			{[]AckRange{rng(0, 4)}, &ECNCounts{ECT0: 5, CE: 1}},
			{[]AckRange{rng(5, 9)}, &ECNCounts{ECT0: 10, CE: 0}},
		}, false},
		{"reordered ACK does not fail", []ack{
			{[]AckRange{rng(5, 9)}, &ECNCounts{ECT0: 5}},
			{[]AckRange{rng(0, 9)}, &ECNCounts{ECT0: 2}},
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newECNTest(t)
			tt.sendMarked(pnRange(0, 9)...)
			tt.advance(100 * time.Millisecond)
			for _, a := range tc.acks {
				tt.ackFull(SpaceApp, 0, a.counts, a.ranges...)
			}
			wantVar(t, "ECNCapable", tt.l.Stats().ECNCapable, tc.ok)
			wantVar(t, "ECNMarking", tt.l.ECNMarking(), tc.ok)
			failures := uint32(0)
			if !tc.ok {
				failures = 1
			}
			wantVar(t, "ECNFailures", tt.l.Stats().ECNFailures, failures)
			tt.sendMarked(10)
			if !tc.ok {
				wantVar(t, "marking stays off", tt.l.ECNMarking(), false)
			}
		})
	}
}

func TestECNUnmarkedAckWithoutCountsIsFine(t *testing.T) {
	tt := newECNTest(t)
	tt.sendPacket(Sent{PN: 0, Space: SpaceApp, Size: 1200, AckEliciting: true})
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	wantVar(t, "still testing", tt.l.ECNMarking(), true)
}

func TestECNAllTestingPacketsLost(t *testing.T) {
	// RFC 9000 Section 13.4.2: if every marked packet is lost, marking may
	// be what drops them: disable it.
	tt := newECNTest(t)
	tt.sendMarked(pnRange(0, 9)...)
	tt.sendMarked(10, 11, 12)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(10, 12))
	wantVar(t, "lost", tt.l.Stats().PacketsLost, uint64(10))
	wantVar(t, "validation failed", tt.l.ECNMarking(), false)
	tt.l.OnPathChanged(tt.now, false)
	wantVar(t, "new path: testing again", tt.l.ECNMarking(), true)
}

func TestECNCongestionResponse(t *testing.T) {
	// RFC 9002 Section 7.1 / Appendix B.7: an increase of the CE count is a
	// congestion event, at most one per recovery period.
	tt := newECNTest(t)
	tt.sendMarked(pnRange(0, 9)...)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 0, &ECNCounts{ECT0: 10}, rng(0, 9))
	wantVar(t, "cwnd", tt.l.Stats().CongestionWindow, 24000)

	tt.advance(time.Microsecond)
	tt.sendMarked(pnRange(10, 19)...)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 0, &ECNCounts{ECT0: 14, CE: 1}, rng(0, 14))
	st := tt.l.Stats()
	wantVar(t, "ECN congestion events", st.ECNCongestionEvents, uint64(1))
	wantVar(t, "congestion events", st.CongestionEvents, uint64(1))
	wantVar(t, "cwnd halved", st.CongestionWindow, 12000)
	wantVar(t, "nothing lost", st.PacketsLost, uint64(0))

	tt.advance(time.Millisecond)
	tt.ackFull(SpaceApp, 0, &ECNCounts{ECT0: 18, CE: 2}, rng(0, 19))
	wantVar(t, "same round trip: no second response", tt.l.Stats().ECNCongestionEvents, uint64(1))

	tt.advance(time.Microsecond)
	tt.sendMarked(pnRange(20, 24)...)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 0, &ECNCounts{ECT0: 22, CE: 3}, rng(0, 24))
	st = tt.l.Stats()
	wantVar(t, "next round trip: second response", st.ECNCongestionEvents, uint64(2))
	wantVar(t, "cwnd halved again", st.CongestionWindow, 6000)
}

func TestECNDisabled(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	wantVar(t, "marking", tt.l.ECNMarking(), false)
	tt.send(SpaceApp, 0, 1)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 0, &ECNCounts{CE: 2}, rng(0, 1))
	wantVar(t, "CE ignored", tt.l.Stats().CongestionEvents, uint64(0))
	tt.l.OnPathChanged(tt.now, false)
	wantVar(t, "still off after path change", tt.l.ECNMarking(), false)
}

func TestECNCEIgnoredAfterFailure(t *testing.T) {
	tt := newECNTest(t)
	tt.sendMarked(pnRange(0, 9)...)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 0, nil, rng(0, 4))
	tt.ackFull(SpaceApp, 0, &ECNCounts{CE: 5}, rng(0, 9))
	wantVar(t, "no congestion event", tt.l.Stats().CongestionEvents, uint64(0))
}
