package recovery

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

func TestInitDefaults(t *testing.T) {
	var l State
	l.Init(Config{}, false)
	st := l.Stats()
	wantVar(t, "initial window", st.CongestionWindow, DefaultInitialWindowPackets*DefaultMaxDatagramSize)
	wantVar(t, "ssthresh unset", st.SlowStartThreshold, math.MaxInt)
	wantVar(t, "smoothed RTT", st.SmoothedRTT, DefaultInitialRTT)
	wantVar(t, "PTO", l.PTO(), DefaultInitialRTT+4*DefaultInitialRTT/2+DefaultMaxAckDelay)
	wantVar(t, "no ECN by default", l.ECNMarking(), false)
	wantVar(t, "no timer", l.LossDetectionDeadline().IsZero(), true)

	l.Init(Config{InitialWindowPackets: 4, MaxDatagramSize: 1500, Algorithm: NewReno}, true)
	wantVar(t, "InitialWindowPackets", l.Stats().CongestionWindow, 6000)
}

func TestStatsCounters(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceApp, 0, 1, 2)
	tt.sendPacket(Sent{PN: 3, Space: SpaceApp, Size: 50})
	st := tt.l.Stats()
	wantVar(t, "PacketsSent", st.PacketsSent, uint64(4))
	wantVar(t, "RetransmittablePacketsSent", st.RetransmittablePacketsSent, uint64(3))
	wantVar(t, "BytesSent", st.BytesSent, uint64(3650))
	wantVar(t, "BytesInFlight", st.BytesInFlight, 3600)
	tt.advance(30 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 3))
	st = tt.l.Stats()
	wantVar(t, "SmoothedRTT", st.SmoothedRTT, 30*time.Millisecond)
	wantVar(t, "MinRTT", st.MinRTT, 30*time.Millisecond)
	wantVar(t, "MaxRTT", st.MaxRTT, 30*time.Millisecond)
	wantVar(t, "LatestRTT", st.LatestRTT, 30*time.Millisecond)
	wantVar(t, "RTTVariance", st.RTTVariance, 15*time.Millisecond)
}

func TestSetMaxDatagramSize(t *testing.T) {
	// RFC 9002 Section 7.2: the minimum window follows the datagram size;
	// a decrease before the handshake completes resets the window to the
	// new initial window.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: NewReno}, false)
	tt.l.SetMaxDatagramSize(1400)
	wantVar(t, "increase keeps cwnd", tt.l.Stats().CongestionWindow, 12000)
	tt.l.SetMaxDatagramSize(1250)
	wantVar(t, "decrease during handshake", tt.l.Stats().CongestionWindow, 12500)
	tt.l.SetMaxDatagramSize(0)
	wantVar(t, "invalid size ignored", tt.l.params.mds, 1250)

	tt.l.OnHandshakeConfirmed()
	tt.size = 1250
	var next int64
	tt.roundTrip(&next, 100*time.Millisecond)
	tt.l.SetMaxDatagramSize(1200)
	wantVar(t, "decrease after confirmation keeps cwnd", tt.l.Stats().CongestionWindow, 25000)

	for _, alg := range []Algorithm{NewReno, Cubic} {
		t.Run("minimum window "+alg.name(), func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: alg, InitialWindowPackets: 2}, true)
			tt.l.OnHandshakeConfirmed()
			tt.l.cc.onPersistentCongestion()
			tt.l.SetMaxDatagramSize(1500)
			wantVar(t, "cwnd ≥ 2 × new size", tt.l.Stats().CongestionWindow, 3000)
		})
	}
}

func TestOnPathChanged(t *testing.T) {
	for _, resetRTT := range []bool{false, true} {
		tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, ECN: true}, true)
		tt.l.OnHandshakeConfirmed()
		var next int64
		tt.roundTrip(&next, 30*time.Millisecond)
		tt.roundTrip(&next, 30*time.Millisecond, next)
		tt.l.OnAppLimited()
		tt.l.OnPathChanged(tt.now, resetRTT)
		st := tt.l.Stats()
		wantVar(t, "cwnd", st.CongestionWindow, 12000)
		wantVar(t, "ssthresh", st.SlowStartThreshold, math.MaxInt)
		wantVar(t, "ECN testing again", tt.l.ECNMarking(), true)
		wantVar(t, "app-limited cleared", tt.l.appLimited, false)
		wantVar(t, "RTT reset", !tt.l.RTT().HasSample, resetRTT)
		if resetRTT {
			wantVar(t, "smoothed", tt.l.RTT().Smoothed, 100*time.Millisecond)
		}
	}
}

func TestPacketNumbersMustIncrease(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	tt.send(SpaceApp, 5)
	tt.send(SpaceHandshake, 0) // spaces are independent
	defer func() {
		if recover() == nil {
			t.Errorf("no panic for a repeated packet number")
		}
	}()
	tt.send(SpaceApp, 5)
}

// RFC 9000 §9.4: packets sent on the old path do not count for the new
// path's congestion control or RTT estimate. AbandonInFlight hands them
// over as lost at once, with no congestion response, and a late
// acknowledgment of one is spurious and gives no RTT sample.
func TestAbandonInFlight(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	var next int64
	tt.roundTrip(&next, 30*time.Millisecond)
	tt.rec.events = nil
	first := next
	tt.send(SpaceApp, pnRange(first, first+9)...)
	cwnd := tt.l.Stats().CongestionWindow
	tt.advance(time.Millisecond)
	tt.l.OnPathChanged(tt.now, true)
	var gone []int64
	tt.l.AbandonInFlight(tt.now, SpaceApp, func(p *Sent) { gone = append(gone, p.PN) })
	if !slices.Equal(gone, pnRange(first, first+9)) {
		t.Errorf("abandoned %v, want %d..%d", gone, first, first+9)
	}
	st := tt.l.Stats()
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 0)
	wantVar(t, "ack-eliciting in flight", tt.l.AckElicitingInFlight(SpaceApp), false)
	wantVar(t, "congestion events", st.CongestionEvents, uint64(0))
	wantVar(t, "the new path's window", st.CongestionWindow, min(cwnd, 12000))
	wantVar(t, "no probe timer with nothing in flight", tt.l.LossDetectionDeadline(), mono.Time(0))
	tt.advance(500 * time.Millisecond)
	tt.ack(SpaceApp, rng(first, first+9))
	wantVar(t, "RTT still the initial one", tt.l.RTT().HasSample, false)
	wantVar(t, "spurious losses", tt.l.Stats().PacketsSpuriouslyLost, uint64(10))
}
