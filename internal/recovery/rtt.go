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
//
// With handshake, a first sample from an Initial or Handshake
// acknowledgment starts smoothed_rtt and rttvar from the sample less the
// ack delay the peer reported; Section 5.3 starts them from latest_rtt
// itself (min_rtt still does, as Section 5.2 requires). During the
// handshake a peer may hold our packets for seconds before it has the
// keys to read them, or repeat an acknowledgment that was lost in a later
// probe, and report that wait as ack delay (RFC 9000 §13.2.5 asks it to,
// "especially useful during the handshake"); a first sample taken whole
// then makes every PTO of the connection seconds long until later
// samples dilute it. Later samples subtract the delay only down to
// min_rtt, as Section 5.3 requires.
func (r *rttEstimator) update(now mono.Time, latest, ackDelay time.Duration, handshake bool) {
	if latest < 0 {
		latest = 0
	}
	r.Latest = latest
	r.Max = max(r.Max, latest)
	if !r.HasSample {
		r.HasSample = true
		r.firstSample = now
		r.Min = latest
		first := latest
		if handshake && ackDelay > 0 {
			first = min(latest, max(latest-ackDelay, granularity))
		}
		r.Smoothed = first
		r.Var = first / 2
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
