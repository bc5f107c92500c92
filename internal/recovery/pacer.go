package recovery

import (
	"math"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// Pacing parameters (RFC 9002 Section 7.7).
const (
	// minPacingRTT: below this smoothed RTT the pacer stays off, as in
	// MsQuic (timers cannot usefully resolve shorter intervals).
	minPacingRTT = time.Millisecond
	// pacingInterval is the span of sending the bucket must be able to hold
	// so that a sender woken once per interval still reaches the rate.
	pacingInterval = time.Millisecond
)

// pacingGain returns N of rate = N * cwnd / smoothed_rtt as a fraction:
// 2 in slow start (so pacing does not slow the window's doubling) and 1.25
// in congestion avoidance, the value RFC 9002 Section 7.7 suggests.
func pacingGain(slowStart bool) (num, den int64) {
	if slowStart {
		return 2, 1
	}
	return 5, 4
}

// pacer is a token bucket refilled at the pacing rate. Its capacity is the
// larger of the initial window (RFC 9002 Section 7.7: bursts SHOULD be
// limited to the initial congestion window) and one pacingInterval at the
// current rate, so that batched (GSO) sends can keep up at high rates.
type pacer struct {
	tokens int       // bytes that may be sent back to back now; may go negative
	last   mono.Time // last refill; zero = bucket full
}

// pacerInput is what the pacer needs to know about the path.
type pacerInput struct {
	cwnd, mds, iw int
	srtt          time.Duration
	slowStart     bool
	// fixed is a rate the controller chose (BBR), in bytes per second;
	// zero derives the rate from the window.
	fixed float64
}

// rate returns the pacing rate in bytes per second.
func (in *pacerInput) rate() float64 {
	if in.fixed > 0 {
		return in.fixed
	}
	num, den := pacingGain(in.slowStart)
	return float64(in.cwnd) * float64(num) / float64(den) / in.srtt.Seconds()
}

func (in *pacerInput) capacity() int {
	return max(in.iw, int(in.rate()*pacingInterval.Seconds()), in.mds)
}

func (pc *pacer) reset() { *pc = pacer{} }

// refill adds the tokens earned since the last refill.
func (pc *pacer) refill(now mono.Time, in *pacerInput) {
	c := in.capacity()
	if pc.last == 0 {
		pc.tokens = c
		pc.last = now
		return
	}
	if now <= pc.last {
		return
	}
	elapsed := now.Sub(pc.last)
	pc.last = now
	if elapsed >= in.srtt {
		// A full RTT refills any bucket (capacity ≤ rate * RTT).
		pc.tokens = c
		return
	}
	pc.tokens = min(pc.tokens+int(math.Round(in.rate()*elapsed.Seconds())), c)
}

// onSent spends tokens for a sent packet.
func (pc *pacer) onSent(now mono.Time, size int, in *pacerInput) {
	pc.refill(now, in)
	pc.tokens = max(pc.tokens-size, -in.capacity())
}

// nextSendTime returns when a full-size packet may be sent, or zero if now.
func (pc *pacer) nextSendTime(now mono.Time, in *pacerInput) mono.Time {
	pc.refill(now, in)
	if pc.tokens >= in.mds {
		return 0
	}
	need := float64(in.mds - pc.tokens)
	wait := time.Duration(math.Ceil(need / in.rate() * float64(time.Second)))
	return now.Add(max(wait, 1))
}

// burst returns how many full-size packets the bucket allows now.
func (pc *pacer) burst(now mono.Time, in *pacerInput) int {
	pc.refill(now, in)
	if pc.tokens < in.mds {
		return 0
	}
	return pc.tokens / in.mds
}
