package recovery

import (
	"errors"
	"testing"
	"time"
)

func TestLossPacketThreshold(t *testing.T) {
	// RFC 9002 Section 6.1.1: kPacketThreshold = 3.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0, 1, 2, 3, 4)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(4, 4))
	tt.wantEvents("ack of 4 declares 0 and 1 lost",
		append(acked(SpaceApp, 4), lost(SpaceApp, 0, 1)...)...)
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 2*1200)
	// 2 and 3 are within the threshold: the time threshold takes over at
	// send time + 9/8 * max(smoothed, latest) = t0 + 112.5ms.
	tt.wantDeadline("loss time for 2 and 3", 112500*time.Microsecond)
	tt.advanceToTimer()
	tt.wantEvents("time threshold", lost(SpaceApp, 2, 3)...)
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 0)
	wantVar(t, "packets lost", tt.l.Stats().PacketsLost, uint64(4))
}

func TestLossTimeThreshold(t *testing.T) {
	// RFC 9002 Section 6.1.2: lost if sent more than
	// max(9/8 * max(smoothed_rtt, latest_rtt), 1ms) before the ACK.
	for _, tc := range []struct {
		name    string
		gap     time.Duration // between sending 0 and 1
		rtt     time.Duration // of packet 1
		wantNow bool          // 0 declared lost by the ACK itself
	}{
		{"older than 9/8 rtt", 50 * time.Millisecond, 100 * time.Millisecond, true},
		{"exactly 9/8 rtt", 12500 * time.Microsecond, 100 * time.Millisecond, true},
		{"younger than 9/8 rtt", 12 * time.Millisecond, 100 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
			tt.send(SpaceApp, 0)
			tt.advance(tc.gap)
			tt.send(SpaceApp, 1)
			tt.advance(tc.rtt)
			tt.ack(SpaceApp, rng(1, 1))
			if tc.wantNow {
				tt.wantEvents("ack", append(acked(SpaceApp, 1), lost(SpaceApp, 0)...)...)
				return
			}
			tt.wantEvents("ack", acked(SpaceApp, 1)...)
			tt.wantDeadline("loss time", 112500*time.Microsecond)
			tt.advanceToTimer()
			tt.wantEvents("timer", lost(SpaceApp, 0)...)
		})
	}
}

func TestLossGranularityFloor(t *testing.T) {
	// The time threshold is at least kGranularity (1 ms).
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Microsecond}, true)
	tt.send(SpaceApp, 0)
	tt.advance(100 * time.Microsecond)
	tt.send(SpaceApp, 1)
	tt.advance(100 * time.Microsecond)
	tt.ack(SpaceApp, rng(1, 1))
	tt.wantEvents("ack", acked(SpaceApp, 1)...)
	tt.wantDeadline("loss time = send time + 1ms", time.Millisecond)
}

func TestSpuriousLoss(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceApp, 0, 1, 2, 3)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(1, 3))
	tt.wantEvents("0 lost", append(acked(SpaceApp, 1, 2, 3), lost(SpaceApp, 0)...)...)
	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 3))
	tt.wantEvents("late ack reveals spurious loss", event{space: SpaceApp, pn: 0, wasLost: true})
	wantVar(t, "spuriously lost", tt.l.Stats().PacketsSpuriouslyLost, uint64(1))
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 0)
}

func TestLostRecordExpires(t *testing.T) {
	// A lost record is kept one PTO period, then forgotten: a later ACK no
	// longer reports it.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0, 1, 2, 3)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(1, 3))
	tt.wantEvents("0 lost", append(acked(SpaceApp, 1, 2, 3), lost(SpaceApp, 0)...)...)
	tt.advance(2 * tt.l.PTO())
	tt.send(SpaceApp, 4)
	tt.advance(time.Millisecond)
	tt.ack(SpaceApp, rng(4, 4)) // prunes the expired record
	tt.ack(SpaceApp, rng(0, 4))
	tt.wantEvents("expired record not reported", acked(SpaceApp, 4)...)
}

func TestAckOfUnsentPacket(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sent   []int64
		ranges []AckRange
		err    error
	}{
		{"above largest sent", []int64{0, 1}, []AckRange{rng(0, 2)}, ErrAckOfUnsentPacket},
		{"nothing sent", nil, []AckRange{rng(0, 0)}, ErrAckOfUnsentPacket},
		{"skipped packet number", []int64{0, 1, 3, 4}, []AckRange{rng(2, 4)}, ErrAckOfUnsentPacket},
		{"skipped in lower range", []int64{0, 2, 3}, []AckRange{rng(3, 3), rng(0, 1)}, ErrAckOfUnsentPacket},
		{"gap around skipped number", []int64{0, 1, 3, 4}, []AckRange{rng(3, 4), rng(0, 1)}, nil},
		{"valid", []int64{0, 1, 2}, []AckRange{rng(0, 2)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{}, true)
			tt.send(SpaceApp, tc.sent...)
			inflight := tt.l.BytesInFlight()
			err := tt.l.OnAckReceived(tt.now, SpaceApp, tc.ranges, 0, nil, &tt.rec)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				tt.wantEvents("no state change on error")
				wantVar(t, "bytes in flight", tt.l.BytesInFlight(), inflight)
			}
		})
	}
}

func TestAckOfUnsentInOtherSpace(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	tt.send(SpaceInitial, 0, 1)
	err := tt.l.OnAckReceived(tt.now, SpaceHandshake, []AckRange{rng(0, 0)}, 0, nil, &tt.rec)
	if !errors.Is(err, ErrAckOfUnsentPacket) {
		t.Fatalf("err = %v, want ErrAckOfUnsentPacket", err)
	}
}

func TestAckIdempotent(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	tt.send(SpaceApp, 0, 1, 2)
	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 2))
	tt.wantEvents("first", acked(SpaceApp, 0, 1, 2)...)
	tt.ack(SpaceApp, rng(0, 2))
	tt.wantEvents("duplicate ACK")
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 0)
}

func TestNonInFlightPackets(t *testing.T) {
	// ACK-only packets are tracked (for ACK-of-ACK) but do not count in
	// bytes in flight or arm the PTO.
	tt := newLossTest(t, Config{}, true)
	tt.sendPacket(Sent{PN: 0, Space: SpaceApp, Size: 40})
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 0)
	wantVar(t, "HasInFlight", tt.l.HasInFlight(SpaceApp), false)
	tt.wantDeadline("no timer", -1)
	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	tt.wantEvents("acked", acked(SpaceApp, 0)...)
}

func TestAckElicitingImpliesInFlight(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	tt.sendPacket(Sent{PN: 0, Space: SpaceApp, Size: 100, AckEliciting: true})
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 100)
}

func TestAckedInAscendingOrder(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	tt.send(SpaceApp, 0, 1, 2, 3, 4, 5, 6)
	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(5, 6), rng(3, 3), rng(0, 1))
	tt.wantEvents("ascending, then losses",
		append(acked(SpaceApp, 0, 1, 3, 5, 6), lost(SpaceApp, 2)...)...)
}

func TestFrameLogRecycled(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	p := tt.l.NewSent()
	p.PN, p.Space, p.Size, p.AckEliciting = 0, SpaceApp, 100, true
	p.Frames = append(p.Frames, 1, 2, 3, 4)
	tt.l.OnPacketSent(tt.now, p)
	tt.advance(time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	q := tt.l.NewSent()
	if q != p {
		t.Fatalf("record not recycled")
	}
	wantVar(t, "len(Frames)", len(q.Frames), 0)
	wantVar(t, "cap(Frames) kept", cap(q.Frames) >= 4, true)
	wantVar(t, "PN reset", q.PN, int64(0))
	wantVar(t, "WasLost reset", q.WasLost(), false)
}
