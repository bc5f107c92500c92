package recovery

import (
	"math"

	"github.com/hquic/quic/internal/mono"
)

// CUBIC constants, RFC 9438 Section 5.
const (
	cubicC    = 0.4
	cubicBeta = 0.7
	// cubicAlpha is α_cubic = 3(1-β)/(1+β) (RFC 9438 Section 4.3).
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta)
)

// cubic is the CUBIC congestion controller of RFC 9438, with fast
// convergence (Section 4.7) and the Reno-friendly region (Section 4.3).
// Windows are kept in bytes as float64; W_cubic is evaluated in segments of
// max_datagram_size as in the RFC and converted.
type cubic struct {
	windowHooks
	p         *ccParams
	cwnd      float64
	ssth      int
	wMax      float64   // W_max in bytes; 0 before the first congestion event
	cwndPrior float64   // cwnd when ssthresh was last set
	k         float64   // K in seconds
	epoch     mono.Time // start of the current congestion-avoidance stage; 0 = not started
	wEst      float64   // W_est in bytes
	frozen    mono.Time // app-limited since (epoch is shifted by the pause)
	hs        hystart
}

func (c *cubic) init(p *ccParams) {
	*c = cubic{p: p}
	c.reset()
}

func (c *cubic) reset() {
	p := c.p
	*c = cubic{p: p, cwnd: float64(p.initialWindow()), ssth: noSSThresh}
}

func (c *cubic) window() int       { return int(c.cwnd) }
func (c *cubic) ssthresh() int     { return c.ssth }
func (c *cubic) inSlowStart() bool { return int(c.cwnd) < c.ssth }
func (c *cubic) stateName() string { return windowStateName(c.inSlowStart()) }

// wCubic is W_cubic(t) in bytes (RFC 9438 Section 4.2, Figure 1).
func (c *cubic) wCubic(t float64) float64 {
	d := t - c.k
	return cubicC*d*d*d*float64(c.p.mds) + c.wMax
}

// startEpoch begins a congestion-avoidance stage at now.
func (c *cubic) startEpoch(now mono.Time) {
	c.epoch = now
	c.frozen = 0
	if c.wMax < c.cwnd {
		// No congestion event yet (HyStart++ exit) or after persistent
		// congestion: W_max is the window at the start of congestion
		// avoidance and K = 0 (RFC 9438 Sections 4.8 and 4.10).
		c.wMax = c.cwnd
	}
	if c.cwndPrior == 0 {
		c.cwndPrior = c.cwnd
	}
	// K = cbrt((W_max - cwnd_epoch)/C), in segments (Section 4.2).
	c.k = math.Cbrt((c.wMax - c.cwnd) / float64(c.p.mds) / cubicC)
	c.wEst = c.cwnd
}

func (c *cubic) onAck(a *ackEvent) {
	if a.appLimited {
		// t must not include application-limited periods
		// (RFC 9438 Section 5.8).
		if c.epoch != 0 && c.frozen == 0 {
			c.frozen = a.now
		}
	} else if c.frozen != 0 {
		c.epoch += a.now - c.frozen
		c.frozen = 0
	}
	if c.inSlowStart() {
		g, exit := slowStartGrowth(c.p, &c.hs, c.ssth, a)
		if exit {
			// RFC 9406 Section 4.3: ssthresh = cwnd; CUBIC then sets
			// cwnd_prior = cwnd, W_max = cwnd, K = 0 (RFC 9438 4.10).
			c.ssth = int(c.cwnd)
			c.cwndPrior = c.cwnd
			c.wMax = c.cwnd
			c.startEpoch(a.now)
			return
		}
		c.cwnd += float64(g)
		return
	}
	if a.bytes == 0 {
		return
	}
	if c.epoch == 0 {
		c.startEpoch(a.now)
	}
	mds := float64(c.p.mds)
	acked := float64(a.bytes)
	t := a.now.Sub(c.epoch).Seconds()
	rtt := a.rtt.Smoothed.Seconds()

	// Reno-friendly estimate (Section 4.3): α_cubic until W_est reaches
	// cwnd_prior, then 1.
	alpha := cubicAlpha
	if c.wEst >= c.cwndPrior {
		alpha = 1
	}
	c.wEst += alpha * mds * acked / c.cwnd

	if c.wCubic(t) < c.wEst {
		// Reno-friendly region (Section 4.3).
		c.cwnd = c.wEst
		return
	}
	// Concave (cwnd < W_max, Section 4.4) and convex (Section 4.5) regions:
	// move toward W_cubic(t + RTT), bounded to [cwnd, 1.5 cwnd].
	target := min(max(c.wCubic(t+rtt), c.cwnd), 1.5*c.cwnd)
	c.cwnd += (target - c.cwnd) * acked / c.cwnd
}

func (c *cubic) onCongestionEvent(mono.Time) {
	// Fast convergence (Section 4.7).
	if c.cwnd < c.wMax {
		c.wMax = c.cwnd * (1 + cubicBeta) / 2
	} else {
		c.wMax = c.cwnd
	}
	c.cwndPrior = c.cwnd
	// Multiplicative decrease (Section 4.6), never below kMinimumWindow.
	c.ssth = max(int(c.cwnd*cubicBeta), c.p.minWindow())
	c.cwnd = float64(c.ssth)
	c.epoch = 0
	c.frozen = 0
	c.hs.done = true
}

func (c *cubic) onPersistentCongestion() {
	// Like a TCP timeout (Section 4.8): the next congestion-avoidance stage
	// starts with W_max = cwnd and K = 0.
	c.cwnd = float64(c.p.minWindow())
	c.wMax = 0
	c.cwndPrior = 0
	c.epoch = 0
	c.frozen = 0
	c.hs.done = true
}

func (c *cubic) restart() bool {
	c.cwnd = min(c.cwnd, float64(c.p.initialWindow()))
	c.epoch = 0
	c.frozen = 0
	return true
}

func (c *cubic) onMaxDatagramSizeChanged(resetWindow bool) {
	if resetWindow {
		c.cwnd = float64(c.p.initialWindow())
	}
	c.cwnd = max(c.cwnd, float64(c.p.minWindow()))
	if c.ssth != noSSThresh {
		c.ssth = max(c.ssth, c.p.minWindow())
	}
	c.epoch = 0
}
