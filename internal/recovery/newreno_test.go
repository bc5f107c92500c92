package recovery

import (
	"testing"
	"time"
)

func newRenoTest(t *testing.T) *lossTest {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: NewReno}, true)
	tt.l.OnHandshakeConfirmed()
	return tt
}

func TestNewRenoWindowCurve(t *testing.T) {
	// RFC 9002 Section 7.3: slow start doubles per round trip; a loss
	// halves the window (kLossReductionFactor 0.5); congestion avoidance
	// adds one max_datagram_size per window acknowledged.
	tt := newRenoTest(t)
	const rtt = 100 * time.Millisecond
	var next int64
	wantVar(t, "initial window", tt.l.Stats().CongestionWindow, 12000)
	for i, want := range []int{24000, 48000, 96000} {
		tt.roundTrip(&next, rtt)
		wantVar(t, "slow start round "+string(rune('1'+i)), tt.l.Stats().CongestionWindow, want)
	}
	tt.roundTrip(&next, rtt, next) // first packet of the round lost
	st := tt.l.Stats()
	wantVar(t, "cwnd after loss", st.CongestionWindow, 48000)
	wantVar(t, "ssthresh after loss", st.SlowStartThreshold, 48000)
	wantVar(t, "congestion events", st.CongestionEvents, uint64(1))
	want := 48000
	for range 5 {
		tt.roundTrip(&next, rtt)
		want += 1200
		wantVar(t, "congestion avoidance", tt.l.Stats().CongestionWindow, want)
	}
}

func TestRecoveryPeriodOneReduction(t *testing.T) {
	// RFC 9002 Section 7.3.2: one reduction per recovery period; losses of
	// packets sent before the period began do not reduce again.
	tt := newRenoTest(t)
	var pns []int64
	for pn := int64(0); pn <= 12; pn++ {
		pns = append(pns, pn)
	}
	tt.send(SpaceApp, pns...)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(2, 5))
	wantVar(t, "cwnd after first loss", tt.l.Stats().CongestionWindow, 6000)
	tt.advance(time.Millisecond)
	tt.ack(SpaceApp, rng(7, 12), rng(2, 5))
	st := tt.l.Stats()
	wantVar(t, "lost", st.PacketsLost, uint64(3))
	wantVar(t, "still one congestion event", st.CongestionEvents, uint64(1))
	wantVar(t, "no growth in recovery", st.CongestionWindow, 6000)

	tt.advance(time.Millisecond)
	tt.send(SpaceApp, 13, 14, 15, 16, 17)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(15, 17))
	st = tt.l.Stats()
	wantVar(t, "loss after recovery began: new event", st.CongestionEvents, uint64(2))
	wantVar(t, "cwnd halved again, floored at kMinimumWindow", st.CongestionWindow, 3000)
}

func TestNewRenoMinimumWindow(t *testing.T) {
	tt := newRenoTest(t)
	var next int64
	for range 6 {
		tt.advance(time.Second)
		tt.roundTrip(&next, 100*time.Millisecond, next)
		if tt.l.spaces[SpaceApp].lossTime != 0 {
			tt.advanceToTimer()
		}
	}
	wantVar(t, "cwnd floor", tt.l.Stats().CongestionWindow, 2400)
	wantVar(t, "ssthresh floor", tt.l.Stats().SlowStartThreshold, 2400)
}

func TestAppLimitedDoesNotGrowWindow(t *testing.T) {
	// RFC 9002 Section 7.8.
	for _, alg := range []Algorithm{NewReno, Cubic} {
		t.Run(alg.name(), func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: alg}, true)
			tt.send(SpaceApp, 0, 1)
			tt.l.OnAppLimited()
			tt.advance(100 * time.Millisecond)
			tt.ack(SpaceApp, rng(0, 1))
			wantVar(t, "app-limited: no growth", tt.l.Stats().CongestionWindow, 12000)

			// Filling the window ends the app-limited state.
			next := int64(2)
			tt.roundTrip(&next, 100*time.Millisecond)
			wantVar(t, "cwnd-limited: slow start", tt.l.Stats().CongestionWindow, 24000)

			tt.send(SpaceApp, next)
			tt.advance(100 * time.Millisecond)
			tt.ack(SpaceApp, rng(next, next))
			wantVar(t, "growth without OnAppLimited", tt.l.Stats().CongestionWindow, 25200)
		})
	}
}

func TestOnAppLimitedIgnoredWhenWindowFull(t *testing.T) {
	tt := newRenoTest(t)
	for pn := range int64(10) {
		tt.send(SpaceApp, pn)
	}
	tt.l.OnAppLimited()
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 9))
	wantVar(t, "window was full: grows", tt.l.Stats().CongestionWindow, 24000)
}

func (a Algorithm) name() string {
	if a == NewReno {
		return "NewReno"
	}
	return "Cubic"
}
