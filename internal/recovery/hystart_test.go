package recovery

import (
	"testing"
	"time"
)

// hsRound waits 1µs, sends what the window allows in App and, rtt later,
// acknowledges each packet with its own ACK frame (one RTT sample each).
func (tt *lossTest) hsRound(next *int64, rtt time.Duration) {
	tt.t.Helper()
	tt.advance(time.Microsecond)
	first := *next
	for range tt.l.CongestionWindowAvailable() / tt.size {
		tt.send(SpaceApp, *next)
		*next++
	}
	tt.advance(rtt)
	for pn := first; pn < *next; pn++ {
		tt.ack(SpaceApp, rng(pn, pn))
	}
	tt.rec.events = nil
}

func (tt *lossTest) hystart() *hystart {
	if tt.l.cfg.Algorithm == NewReno {
		return &tt.l.reno.hs
	}
	return &tt.l.cubic.hs
}

func newHyStartTest(t *testing.T, alg Algorithm, on bool) *lossTest {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: alg, HyStart: on}, true)
	tt.l.OnHandshakeConfirmed()
	return tt
}

func TestHyStartExit(t *testing.T) {
	// RFC 9406 Section 4.3: an RTT increase of at least
	// clamp(lastRoundMinRTT/8, 4ms, 16ms) after N_RTT_SAMPLE samples enters
	// Conservative Slow Start (growth / CSS_GROWTH_DIVISOR); after
	// CSS_ROUNDS rounds in CSS, ssthresh = cwnd and congestion avoidance
	// begins. Non-paced: L = 8 (one packet per ACK here).
	for _, alg := range []Algorithm{Cubic, NewReno} {
		t.Run(alg.name(), func(t *testing.T) {
			tt := newHyStartTest(t, alg, true)
			hs := tt.hystart()
			var next int64
			ms := time.Millisecond
			tt.hsRound(&next, 100*ms)
			tt.hsRound(&next, 100*ms)
			wantVar(t, "slow start", tt.l.cc.window(), 48000)
			wantVar(t, "not in CSS", hs.inCSS, false)

			// 120 ms ≥ 100 + 12.5 ms: CSS from the 8th sample of the round.
			tt.hsRound(&next, 120*ms)
			wantVar(t, "in CSS", hs.inCSS, true)
			wantVar(t, "cwnd: 7 full + 33 quarter increments", tt.l.cc.window(), 48000+7*1200+33*300)
			wantVar(t, "ssthresh unset", tt.l.cc.ssthresh(), noSSThresh)

			for i, want := range []int{82800, 103500, 129300, 161400} {
				tt.hsRound(&next, 120*ms)
				wantVar(t, "CSS round "+string(rune('1'+i)), tt.l.cc.window(), want)
				wantVar(t, "still slow start", tt.l.cc.inSlowStart(), true)
			}
			tt.hsRound(&next, 120*ms)
			wantVar(t, "ssthresh = cwnd at exit", tt.l.cc.ssthresh(), 161400)
			wantVar(t, "congestion avoidance", tt.l.cc.inSlowStart(), false)
			wantVar(t, "HyStart done", hs.done, true)
			if w := tt.l.cc.window(); w < 161400 || w > 161400+2400 {
				t.Errorf("cwnd after the first congestion-avoidance round = %d", w)
			}
		})
	}
}

func TestHyStartCSSBackToSlowStart(t *testing.T) {
	// RFC 9406 Section 4.3: if the RTT in CSS falls below the baseline, the
	// increase was spurious and slow start resumes.
	tt := newHyStartTest(t, Cubic, true)
	var next int64
	ms := time.Millisecond
	tt.hsRound(&next, 100*ms)
	tt.hsRound(&next, 100*ms)
	tt.hsRound(&next, 120*ms)
	wantVar(t, "in CSS", tt.hystart().inCSS, true)
	tt.hsRound(&next, 100*ms)
	wantVar(t, "back in slow start", tt.hystart().inCSS, false)
	wantVar(t, "cwnd: 7 CSS + 48 full increments", tt.l.cc.window(), 66300+7*300+48*1200)
	wantVar(t, "ssthresh unset", tt.l.cc.ssthresh(), noSSThresh)
}

func TestHyStartSmallRTTIncrease(t *testing.T) {
	// An increase below the threshold (here 4 ms floor at 20 ms RTT) keeps
	// standard slow start.
	tt := newHyStartTest(t, Cubic, true)
	var next int64
	ms := time.Millisecond
	tt.hsRound(&next, 20*ms)
	tt.hsRound(&next, 20*ms)
	tt.hsRound(&next, 23*ms)
	wantVar(t, "no CSS for +3ms", tt.hystart().inCSS, false)
	tt.hsRound(&next, 27*ms)
	wantVar(t, "CSS for +4ms", tt.hystart().inCSS, true)
}

func TestHyStartDisabled(t *testing.T) {
	tt := newHyStartTest(t, Cubic, false)
	var next int64
	ms := time.Millisecond
	tt.hsRound(&next, 100*ms)
	tt.hsRound(&next, 100*ms)
	tt.hsRound(&next, 200*ms)
	wantVar(t, "standard slow start", tt.l.cc.window(), 96000)
}

func TestHyStartLossInCSS(t *testing.T) {
	// Loss during CSS ends slow start with the normal reduction.
	tt := newHyStartTest(t, Cubic, true)
	var next int64
	ms := time.Millisecond
	tt.hsRound(&next, 100*ms)
	tt.hsRound(&next, 100*ms)
	tt.hsRound(&next, 120*ms)
	w := tt.l.cc.window()
	tt.roundTrip(&next, 120*ms, next)
	wantVar(t, "ssthresh = β cwnd", tt.l.cc.ssthresh(), int(float64(w)*cubicBeta))
	wantVar(t, "HyStart done", tt.hystart().done, true)
}

func TestHyStartAckGrowthLimit(t *testing.T) {
	// RFC 9406 Section 4.3: cwnd += min(N, L*SMSS), L = 8 unpaced and
	// infinity when paced.
	for _, tc := range []struct {
		name  string
		paced bool
		want  int
	}{
		{"unpaced L=8", false, 12000 + 8*1200},
		{"paced L=inf", true, 24000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, HyStart: true, Pacing: tc.paced}, true)
			var next int64
			tt.roundTrip(&next, 100*time.Millisecond)
			wantVar(t, "cwnd", tt.l.cc.window(), tc.want)
		})
	}
}
