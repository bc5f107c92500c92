package recovery

import "github.com/hquic/quic/internal/mono"

// newReno is the congestion controller of RFC 9002 Section 7.
type newReno struct {
	windowHooks
	p       *ccParams
	cwnd    int
	ssth    int
	caAcked int // bytes acknowledged in congestion avoidance since the last increase
	hs      hystart
}

func (r *newReno) init(p *ccParams) {
	*r = newReno{p: p}
	r.reset()
}

func (r *newReno) reset() {
	r.cwnd = r.p.initialWindow()
	r.ssth = noSSThresh
	r.caAcked = 0
	r.hs.reset()
}

func (r *newReno) window() int       { return r.cwnd }
func (r *newReno) ssthresh() int     { return r.ssth }
func (r *newReno) inSlowStart() bool { return r.cwnd < r.ssth }
func (r *newReno) stateName() string { return windowStateName(r.inSlowStart()) }

func (r *newReno) onAck(a *ackEvent) {
	if r.cwnd < r.ssth {
		// Slow start: cwnd grows by the bytes acknowledged
		// (RFC 9002 Section 7.3.1).
		g, exit := slowStartGrowth(r.p, &r.hs, r.ssth, a)
		if exit {
			r.ssth = r.cwnd
			return
		}
		r.cwnd += g
		return
	}
	// Congestion avoidance: one max_datagram_size per congestion window
	// acknowledged (RFC 9002 Section 7.3.3).
	r.caAcked += a.bytes
	if r.caAcked >= r.cwnd {
		r.caAcked -= r.cwnd
		r.cwnd += r.p.mds
	}
}

func (r *newReno) onCongestionEvent(mono.Time) {
	// kLossReductionFactor = 0.5 (RFC 9002 Section 7.3.2).
	r.ssth = max(r.cwnd/2, r.p.minWindow())
	r.cwnd = r.ssth
	r.caAcked = 0
	r.hs.done = true
}

func (r *newReno) onPersistentCongestion() {
	r.cwnd = r.p.minWindow()
	r.caAcked = 0
	r.hs.done = true
}

func (r *newReno) restart() bool {
	r.cwnd = min(r.cwnd, r.p.initialWindow())
	r.caAcked = 0
	return true
}

func (r *newReno) onMaxDatagramSizeChanged(resetWindow bool) {
	if resetWindow {
		r.cwnd = r.p.initialWindow()
	}
	r.cwnd = max(r.cwnd, r.p.minWindow())
	if r.ssth != noSSThresh {
		r.ssth = max(r.ssth, r.p.minWindow())
	}
}
