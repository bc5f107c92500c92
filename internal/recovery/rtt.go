package recovery

import (
	"time"

	"github.com/hquic/quic/internal/mono"
)

// RTTStats is a snapshot of the round-trip time estimator.
type RTTStats struct {
	// Latest is the most recent RTT sample (latest_rtt).
	Latest time.Duration
	// Smoothed is smoothed_rtt; before the first sample, the initial RTT.
	Smoothed time.Duration
	// Var is rttvar; before the first sample, half the initial RTT.
	Var time.Duration
	// Min is min_rtt (zero before the first sample).
	Min time.Duration
	// Max is the largest sample seen.
	Max time.Duration
	// HasSample reports whether at least one sample was taken.
	HasSample bool
}

// rttEstimator implements RFC 9002 Section 5.
type rttEstimator struct {
	RTTStats
	initial     time.Duration
	firstSample mono.Time // when the first sample was taken (Section 7.6.2)
	resetMin    bool      // take min_rtt from the next sample (Section 5.2)
}

func (r *rttEstimator) init(initial time.Duration) {
	*r = rttEstimator{initial: initial}
	// RFC 9002 Section 5.3: before any sample, smoothed_rtt = kInitialRtt
	// and rttvar = kInitialRtt / 2.
	r.Smoothed = initial
	r.Var = initial / 2
}

// update folds one RTT sample into the estimate (RFC 9002 Section 5.3).
// ackDelay has already been zeroed or capped by the caller's rules.
func (r *rttEstimator) update(now mono.Time, latest, ackDelay time.Duration) {
	if latest < 0 {
		latest = 0
	}
	r.Latest = latest
	r.Max = max(r.Max, latest)
	if !r.HasSample {
		r.HasSample = true
		r.firstSample = now
		r.Min = latest
		r.Smoothed = latest
		r.Var = latest / 2
		return
	}
	// min_rtt ignores ack delay (Section 5.2).
	if r.resetMin {
		r.Min = latest
		r.resetMin = false
	} else {
		r.Min = min(r.Min, latest)
	}
	adjusted := latest
	// MUST NOT subtract the ack delay if the result is below min_rtt
	// (Section 5.3).
	if latest >= r.Min+ackDelay {
		adjusted = latest - ackDelay
	}
	diff := r.Smoothed - adjusted
	if diff < 0 {
		diff = -diff
	}
	r.Var = (3*r.Var + diff) / 4
	r.Smoothed = (7*r.Smoothed + adjusted) / 8
}

// ptoBase is smoothed_rtt + max(4*rttvar, kGranularity) (Section 6.2.1).
func (r *rttEstimator) ptoBase() time.Duration {
	return r.Smoothed + max(4*r.Var, granularity)
}

// lossDelay is max(kTimeThreshold * max(smoothed_rtt, latest_rtt),
// kGranularity) (Section 6.1.2).
func (r *rttEstimator) lossDelay() time.Duration {
	return max(timeThreshold(max(r.Smoothed, r.Latest)), granularity)
}
