package recovery

import (
	"math"
	"testing"
	"time"
)

func newCubicTest(t *testing.T) *lossTest {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	return tt
}

// cubicAfterLoss runs slow start at rtt until the window reaches at least
// lossAt bytes, then loses one packet of the next round. It returns the
// window at the loss.
func cubicAfterLoss(tt *lossTest, next *int64, rtt time.Duration, lossAt int) float64 {
	for tt.l.cc.window() < lossAt {
		tt.roundTrip(next, rtt)
	}
	w := tt.l.cubic.cwnd
	tt.roundTrip(next, rtt, *next)
	return w
}

func TestCubicMultiplicativeDecrease(t *testing.T) {
	// RFC 9438 Section 4.6: ssthresh = cwnd * β_cubic (0.7); W_max = cwnd
	// on the first event.
	tt := newCubicTest(t)
	var next int64
	w := cubicAfterLoss(tt, &next, 100*time.Millisecond, 96000)
	wantVar(t, "W at loss", w, 96000.0)
	st := tt.l.Stats()
	wantVar(t, "cwnd", st.CongestionWindow, 67200)
	wantVar(t, "ssthresh", st.SlowStartThreshold, 67200)
	wantVar(t, "W_max", tt.l.cubic.wMax, 96000.0)
}

func TestCubicConcaveAndConvexRegions(t *testing.T) {
	// RFC 9438 Sections 4.2, 4.4, 4.5: after a loss at W_max = 1280
	// packets the window follows W_cubic(t) = C(t-K)^3 + W_max, K =
	// cbrt(W_max(1-β)/C) ≈ 9.87 s: concave up to W_max, a plateau around
	// t = K, convex beyond. At this size and a 100 ms RTT the Reno-friendly
	// estimate stays below W_cubic throughout.
	const rtt = 100 * time.Millisecond
	tt := newCubicTest(t)
	var next int64
	wmax := cubicAfterLoss(tt, &next, rtt, 1536000)
	wantVar(t, "W_max", wmax, 1536000.0)
	k := math.Cbrt(wmax * (1 - cubicBeta) / 1200 / cubicC)
	var cwnd, ts []float64
	for i := range 140 {
		tt.roundTrip(&next, rtt)
		c := &tt.l.cubic
		cwnd = append(cwnd, c.cwnd)
		ts = append(ts, tt.now.Sub(c.epoch).Seconds())
		if i > 0 && c.wCubic(ts[i]) < c.wEst {
			t.Fatalf("round %d is Reno-friendly", i)
		}
	}
	wantVar(t, "K", math.Abs(tt.l.cubic.k-k) < 1e-9, true)

	// Each round the window moves to the target W_cubic(t + RTT) (Section
	// 4.2), within one packet.
	for i, w := range cwnd {
		if i == 0 {
			continue // the epoch starts with the first ACK
		}
		want := tt.l.cubic.wCubic(ts[i] + rtt.Seconds())
		if math.Abs(w-want) > 1200 {
			t.Errorf("round %d (t=%.2fs): cwnd %.0f, W_cubic %.0f", i, ts[i], w, want)
		}
	}
	// Growth per round: the plateau around K is flatter than the start of
	// the concave region and than the convex region after it.
	growth := func(from, to float64) float64 {
		var a, b float64
		for i, t := range ts {
			if t <= from {
				a = cwnd[i]
			}
			if t <= to {
				b = cwnd[i]
			}
		}
		return b - a
	}
	early := growth(0.1, 1.1)
	plateau := growth(k-0.5, k+0.5)
	late := growth(k+2, k+3)
	if !(plateau < early/4 && plateau < late/4) {
		t.Errorf("growth over 1s: concave start %.0f, plateau %.0f, convex %.0f", early, plateau, late)
	}
	// Concave: below W_max before K; convex: above after.
	for i, w := range cwnd {
		switch {
		case ts[i] < k-0.3 && w >= wmax:
			t.Errorf("t=%.2f < K: cwnd %.0f ≥ W_max", ts[i], w)
		case ts[i] > k+0.3 && w <= wmax:
			t.Errorf("t=%.2f > K: cwnd %.0f ≤ W_max", ts[i], w)
		}
	}
	// Increments shrink through the concave region and grow through the
	// convex one (sampled 0.5 s apart to stay clear of rounding).
	for _, pair := range [][2]float64{{0.2, 1.0}, {1.0, 2.0}, {2.0, 3.0}} {
		if g1, g2 := growth(pair[0], pair[0]+0.5), growth(pair[1], pair[1]+0.5); g2 >= g1 {
			t.Errorf("concave: growth at %.1fs (%.0f) not above growth at %.1fs (%.0f)", pair[0], g1, pair[1], g2)
		}
	}
	for _, pair := range [][2]float64{{k + 0.5, k + 1.5}, {k + 1.5, k + 2.5}} {
		if g1, g2 := growth(pair[0], pair[0]+0.5), growth(pair[1], pair[1]+0.5); g2 <= g1 {
			t.Errorf("convex: growth at %.1fs (%.0f) not below growth at %.1fs (%.0f)", pair[0], g1, pair[1], g2)
		}
	}
}

func TestCubicRenoFriendlyRegion(t *testing.T) {
	// RFC 9438 Section 4.3: with a short RTT and a small window, W_est (AIMD
	// with α_cubic) outgrows W_cubic and sets the window: α_cubic ≈ 0.53
	// packets per RTT until W_est reaches cwnd_prior, then 1.
	const rtt = 10 * time.Millisecond
	tt := newCubicTest(t)
	var next int64
	wprior := cubicAfterLoss(tt, &next, rtt, 24000)
	wantVar(t, "cwnd after loss", tt.l.cubic.cwnd, 16800.0)
	start := tt.l.cubic.cwnd
	rounds := 0
	for tt.l.cubic.wEst < wprior {
		before := tt.l.cubic.cwnd
		tt.roundTrip(&next, rtt)
		rounds++
		c := &tt.l.cubic
		if rounds > 1 {
			if c.cwnd != c.wEst {
				t.Fatalf("round %d: cwnd %.0f != W_est %.0f", rounds, c.cwnd, c.wEst)
			}
			if w := c.wCubic(tt.now.Sub(c.epoch).Seconds()); w >= c.wEst {
				t.Fatalf("round %d: W_cubic %.0f ≥ W_est %.0f", rounds, w, c.wEst)
			}
			if g := c.cwnd - before; g < 0.45*1200 || g > cubicAlpha*1200+1 {
				t.Fatalf("round %d: growth %.0f, want about α_cubic packets", rounds, g)
			}
		}
		if rounds > 100 {
			t.Fatalf("W_est never reached cwnd_prior")
		}
	}
	if rounds < int((wprior-start)/1200/cubicAlpha) {
		t.Errorf("W_est reached cwnd_prior after %d rounds; too fast for α_cubic", rounds)
	}
	// Past cwnd_prior, α = 1: one packet per RTT, like Reno.
	before := tt.l.cubic.cwnd
	for range 5 {
		tt.roundTrip(&next, rtt)
	}
	if g := (tt.l.cubic.cwnd - before) / 5; g < 1100 || g > 1201 {
		t.Errorf("growth per RTT with α=1: %.0f, want ≈ 1200", g)
	}
}

func TestCubicFastConvergence(t *testing.T) {
	// RFC 9438 Section 4.7: a loss below the previous W_max lowers W_max to
	// cwnd * (1+β)/2.
	const rtt = 100 * time.Millisecond
	tt := newCubicTest(t)
	var next int64
	cubicAfterLoss(tt, &next, rtt, 96000)
	for range 3 {
		tt.roundTrip(&next, rtt)
	}
	w2 := tt.l.cubic.cwnd
	if w2 >= 96000 {
		t.Fatalf("window %.0f already above W_max", w2)
	}
	tt.roundTrip(&next, rtt, next)
	c := &tt.l.cubic
	wantVar(t, "W_max", math.Abs(c.wMax-w2*(1+cubicBeta)/2) < 1e-6, true)
	wantVar(t, "cwnd_prior", c.cwndPrior, w2)
	wantVar(t, "ssthresh", tt.l.Stats().SlowStartThreshold, int(w2*cubicBeta))
	tt.roundTrip(&next, rtt)
	wantK := math.Cbrt((c.wMax - float64(int(w2*cubicBeta))) / 1200 / cubicC)
	wantVar(t, "K from the lowered W_max", math.Abs(c.k-wantK) < 1e-9, true)

	// A loss above W_max keeps W_max = cwnd.
	for c.cwnd < c.wMax+2400 {
		tt.roundTrip(&next, rtt)
	}
	w3 := c.cwnd
	tt.roundTrip(&next, rtt, next)
	wantVar(t, "W_max above previous", c.wMax, w3)
}

func TestCubicAppLimitedPauseExcluded(t *testing.T) {
	// RFC 9438 Section 5.8: t must not include application-limited periods.
	const rtt = 100 * time.Millisecond
	run := func(pause int) float64 {
		tt := newCubicTest(t)
		var next int64
		cubicAfterLoss(tt, &next, rtt, 96000)
		for range 5 {
			tt.roundTrip(&next, rtt)
		}
		for range pause {
			tt.send(SpaceApp, next)
			tt.l.OnAppLimited()
			tt.advance(rtt)
			tt.ack(SpaceApp, rng(next, next))
			next++
		}
		for range 10 {
			tt.roundTrip(&next, rtt)
		}
		return tt.l.cubic.cwnd
	}
	busy, paused := run(0), run(30)
	if math.Abs(busy-paused) > 600 {
		t.Errorf("cwnd after 15 busy rounds: %.0f without pause, %.0f with a 3 s app-limited pause", busy, paused)
	}
}

func TestCubicPersistentCongestionRestartsCurve(t *testing.T) {
	// After persistent congestion the next congestion-avoidance stage uses
	// W_max = cwnd at its start and K = 0 (RFC 9438 Section 4.8).
	tt := newCubicTest(t)
	c := &tt.l.cubic
	c.onCongestionEvent(tt.now)
	c.onPersistentCongestion()
	wantVar(t, "cwnd", c.window(), 2400)
	c.cwnd = float64(c.ssth) // slow start reached ssthresh
	a := ackEvent{now: tt.now, bytes: 1200, rtt: &tt.l.rtt}
	c.onAck(&a)
	wantVar(t, "K", c.k, 0.0)
	wantVar(t, "W_max", c.wMax, float64(c.ssth))
}
