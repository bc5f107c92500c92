package recovery

import (
	"math"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// ccParams are the path parameters shared by State and its controller.
type ccParams struct {
	mds       int  // max datagram size
	iwPackets int  // initial window in datagrams
	hystart   bool // HyStart++ enabled
	paced     bool // pacing enabled (HyStart++ L = infinity)
}

// initialWindow is InitialWindowPackets datagrams (MsQuic semantics; RFC
// 9002 Section 7.2 recommends 10).
func (c *ccParams) initialWindow() int { return c.iwPackets * c.mds }

// minWindow is kMinimumWindow = 2 * max_datagram_size (RFC 9002 Section 7.2).
func (c *ccParams) minWindow() int { return 2 * c.mds }

// noSSThresh is the slow-start threshold before the first congestion event
// ("infinite", RFC 9002 Section 7.3.1).
const noSSThresh = math.MaxInt

// ackEvent describes the growth-relevant part of one ACK frame.
type ackEvent struct {
	now mono.Time
	// bytes is the number of newly acknowledged in-flight bytes that may grow
	// the window: zero for packets sent before the current recovery period
	// began (RFC 9002 Section 7.3.2) and while the sender is
	// application-limited (Section 7.8).
	bytes int
	// largestSeq is the send sequence of the highest newly acknowledged
	// packet; nextSeq the sequence the next sent packet will get. HyStart++
	// uses them to delimit rounds.
	largestSeq, nextSeq int64
	// rttSample reports whether the frame produced an RTT sample.
	rttSample bool
	// appLimited reports whether the sender is application-limited.
	appLimited bool
	rtt        *rttEstimator
	// inflight is the bytes in flight once the frame was processed.
	inflight int
}

// controller is a congestion controller. State owns the recovery period,
// bytes in flight and the under-utilisation rule; a controller only moves its
// window.
type controller interface {
	// onAck grows the window for one ACK frame.
	onAck(a *ackEvent)
	// onCongestionEvent reduces the window once (the caller enforces one
	// reduction per recovery period).
	onCongestionEvent(now mono.Time)
	// onPersistentCongestion collapses the window to the minimum
	// (RFC 9002 Section 7.6.2).
	onPersistentCongestion()
	// restart lowers the window to at most the initial window after an idle
	// period, keeping ssthresh, and reports whether the algorithm restarts
	// at all (BBR does not).
	restart() bool
	// reset returns to the initial state (new path).
	reset()
	// onMaxDatagramSizeChanged adapts to a new datagram size; resetWindow
	// sets the window to the new initial window.
	onMaxDatagramSizeChanged(resetWindow bool)
	// window is the congestion window in bytes.
	window() int
	// ssthresh is the slow-start threshold in bytes (noSSThresh if unset).
	ssthresh() int
	// inSlowStart reports whether the window is below ssthresh.
	inSlowStart() bool
	// onSend is called before in-flight packet p is counted; inflight is
	// the bytes in flight without it.
	onSend(now mono.Time, p *Sent, inflight int)
	// onLost is called for each lost in-flight packet that is a
	// congestion signal, once it left bytes in flight.
	onLost(now mono.Time, p *Sent)
	// pacingRate is the rate the controller paces at, in bytes per
	// second; zero leaves it to the window (pacingGain).
	pacingRate() float64
	// stateName names the controller's state (qlog's
	// congestion_state_updated).
	stateName() string
}

// windowHooks are the controller methods a window-based controller (CUBIC,
// NewReno) does not need.
type windowHooks struct{}

func (windowHooks) onSend(mono.Time, *Sent, int) {}
func (windowHooks) onLost(mono.Time, *Sent)      {}
func (windowHooks) pacingRate() float64          { return 0 }

// windowStateName names a window-based controller's state.
func windowStateName(slowStart bool) string {
	if slowStart {
		return "slow_start"
	}
	return "congestion_avoidance"
}

// HyStart++ constants, RFC 9406 Section 4.3.
const (
	hsMinRTTThresh     = 4 * time.Millisecond
	hsMaxRTTThresh     = 16 * time.Millisecond
	hsMinRTTDivisor    = 8
	hsNRTTSample       = 8
	hsCSSGrowthDiv     = 4
	hsCSSRounds        = 5
	hsNonPacedL        = 8
	hsInfiniteRTT      = time.Duration(math.MaxInt64)
	hsSlowStartDivisor = 1
)

// hystart is the HyStart++ state of RFC 9406. It is used only during the
// initial slow start (ssthresh still infinite, Section 4.3); afterwards the
// controller uses standard slow start.
type hystart struct {
	done         bool // initial slow start is over
	inCSS        bool // Conservative Slow Start
	roundStarted bool
	windowEnd    int64 // a round ends with the ACK of a packet sent at or after this sequence
	lastRoundMin time.Duration
	curRoundMin  time.Duration
	samples      int
	cssBaseline  time.Duration
	cssRounds    int
}

func (h *hystart) reset() { *h = hystart{} }

// onAck runs the per-ACK steps of RFC 9406 Section 4.3. It returns the
// divisor to apply to slow-start growth (1, or CSS_GROWTH_DIVISOR in CSS) and
// whether slow start must end now (CSS lasted CSS_ROUNDS rounds).
func (h *hystart) onAck(a *ackEvent) (divisor int, exit bool) {
	if !h.roundStarted || a.largestSeq >= h.windowEnd {
		// A round ends; the next one runs until everything sent so far is
		// acknowledged.
		if h.roundStarted && h.inCSS {
			h.cssRounds++
			if h.cssRounds >= hsCSSRounds {
				h.done = true
				return hsSlowStartDivisor, true
			}
		}
		if h.roundStarted {
			h.lastRoundMin = h.curRoundMin
		} else {
			h.lastRoundMin = hsInfiniteRTT
		}
		h.roundStarted = true
		h.curRoundMin = hsInfiniteRTT
		h.samples = 0
		h.windowEnd = a.nextSeq
	}
	if a.rttSample {
		h.curRoundMin = min(h.curRoundMin, a.rtt.Latest)
		h.samples++
	}
	enough := h.samples >= hsNRTTSample && h.curRoundMin != hsInfiniteRTT
	switch {
	case !h.inCSS && enough && h.lastRoundMin != hsInfiniteRTT:
		thresh := min(max(h.lastRoundMin/hsMinRTTDivisor, hsMinRTTThresh), hsMaxRTTThresh)
		if h.curRoundMin >= h.lastRoundMin+thresh {
			h.inCSS = true
			h.cssBaseline = h.curRoundMin
			h.cssRounds = 0
		}
	case h.inCSS && enough && h.curRoundMin < h.cssBaseline:
		// The RTT increase was spurious: resume slow start.
		h.inCSS = false
		h.cssBaseline = hsInfiniteRTT
	}
	if h.inCSS {
		return hsCSSGrowthDiv, false
	}
	return hsSlowStartDivisor, false
}

// slowStartGrowth returns the slow-start increase for one ACK frame of
// bytes acknowledged bytes, running HyStart++ when it applies. exit reports
// that HyStart++ ended slow start: the caller sets ssthresh to cwnd.
func slowStartGrowth(p *ccParams, h *hystart, ssthresh int, a *ackEvent) (growth int, exit bool) {
	if !p.hystart || h.done || ssthresh != noSSThresh {
		return a.bytes, false
	}
	div, exit := h.onAck(a)
	if exit {
		return 0, true
	}
	n := a.bytes
	if !p.paced {
		// cwnd += min(N, L*SMSS) (RFC 9406 Section 4.3); a paced sender
		// uses L = infinity.
		n = min(n, hsNonPacedL*p.mds)
	}
	return n / div, false
}
