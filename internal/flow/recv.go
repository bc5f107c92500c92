// Package flow implements QUIC flow-control credit (RFC 9000, Section 4) for
// one scope: a whole connection (MAX_DATA / DATA_BLOCKED) or one stream
// (MAX_STREAM_DATA / STREAM_DATA_BLOCKED).
//
// RecvWindow is the receiver's side: it checks that the peer stays within the
// limit we advertised, and decides when and to what value the limit is raised
// as the application consumes data, auto-tuning the window size from the
// observed consumption rate. SendCredit is the sender's side: the peer's limit,
// how much of it is left, and when to report that we are blocked.
//
// Neither type reads the clock, locks or allocates; both are owned by the
// connection's goroutine.
package flow

import (
	"time"

	"github.com/hquic/quic/internal/mono"
)

// MaxLimit is the largest flow-control limit that can be encoded: a QUIC
// variable-length integer holds at most 2^62-1 (RFC 9000, Section 16).
const MaxLimit = 1<<62 - 1

// RecvWindow tracks the receive credit we give the peer for one scope.
//
// The limit we advertise is always consumed+window at the time of the last
// update, so the peer can never have more than one window of data buffered
// ahead of the application.
//
// Update rule: a new limit is due when the credit still open to the peer,
// Limit()-consumed, has fallen to three quarters of the window or less (a
// quarter window consumed since the last update, MsQuic's drain ratio).
// Updating that early leaves the peer most of a window to send while the
// update travels, so a sender that keeps up with the window never stalls;
// and on a lossy path, where consumption moves in steps as retransmissions
// fill gaps, each step of a quarter window is an auto-tuning epoch of its
// own, so a window that holds the sender back doubles several times per
// round of repairs rather than once.
//
// Auto-tuning rule: when an update is due, the window is doubled (up to the
// maximum window) if the application consumed, since the previous update,
// at least a quarter window per smoothed RTT: a window consumed that fast is
// smaller than roughly four times the bandwidth-delay product, so doubling
// stops once the window covers the BDP with room to spare; a slow reader
// never grows it. The rate is measured over the whole epoch, so that data
// held back behind a lost packet and consumed in one step when the
// retransmission fills the gap counts at its rate: a window too small for a
// lossy path keeps stalling the sender while the gap is repaired, and each
// repair delivers most of a window at once. (Requiring half a window within
// two RTTs, a fixed amount in a fixed time, never grew such a window: every
// epoch lasted a repair longer than two RTTs.) Without an RTT sample the
// window does not grow. The first epoch starts at the first consumption
// that does not by itself make an update due; if there is none (the first
// update is triggered by one large consumption) the first update does not
// grow the window, as nothing was measured.
//
// The zero value advertises nothing; call Init first.
type RecvWindow struct {
	window     uint64
	maxWindow  uint64
	limit      uint64    // limit advertised to the peer
	received   uint64    // highest offset (or connection total) received
	consumed   uint64    // bytes handed back by the application
	lastUpdate mono.Time // start of the auto-tuning epoch
	epochFrom  uint64    // consumed at the start of the epoch
	rtt        time.Duration
	resend     bool // the frame carrying limit was lost
}

// Init sets the initial window, which is also the initial limit (the value of
// the transport parameter), and the largest window auto-tuning may reach. A
// maxWindow below window is raised to window.
func (w *RecvWindow) Init(window, maxWindow uint64) {
	window = min(window, MaxLimit)
	maxWindow = min(max(maxWindow, window), MaxLimit)
	*w = RecvWindow{window: window, maxWindow: maxWindow, limit: window}
}

// OnReceived records that the peer has sent data up to highestOffset (for a
// connection: the sum over streams of the highest offsets received). It
// returns false if that exceeds the advertised limit, which the caller must
// treat as a connection error of type FLOW_CONTROL_ERROR (RFC 9000,
// Section 4.1).
func (w *RecvWindow) OnReceived(highestOffset uint64) bool {
	if highestOffset > w.limit {
		return false
	}
	w.received = max(w.received, highestOffset)
	return true
}

// OnConsumed records that the application consumed n more bytes, returning
// them as credit. rtt is the current smoothed RTT (zero if unknown); it is
// kept for the auto-tuning decision in Update.
func (w *RecvWindow) OnConsumed(now mono.Time, n uint64, rtt time.Duration) {
	w.consumed += n
	if rtt > 0 {
		w.rtt = rtt
	}
	if w.lastUpdate.IsZero() && !w.thresholdReached() {
		// The first auto-tuning epoch starts with the first consumption
		// that does not by itself make an update due.
		w.lastUpdate, w.epochFrom = now, w.consumed
	}
}

// NeedsUpdate reports whether Update would return a limit to send, without
// changing anything.
func (w *RecvWindow) NeedsUpdate() bool {
	return w.resend || w.thresholdReached()
}

func (w *RecvWindow) thresholdReached() bool {
	return w.limit < MaxLimit && w.limit-min(w.consumed, w.limit) <= w.window-w.window/4
}

// Update returns the limit to send in a MAX_DATA or MAX_STREAM_DATA frame, and
// ok=false when no frame is needed. When the update threshold was reached it
// raises the limit to consumed+window, first doubling the window if the
// auto-tuning rule (see RecvWindow) says so. When only a lost frame must be
// repeated (see OnLimitLost) it returns the current limit unchanged. The
// caller should call it when it is about to write the frame.
func (w *RecvWindow) Update(now mono.Time) (newLimit uint64, ok bool) {
	if w.thresholdReached() {
		if w.consumedFast(now) {
			w.window = min(2*w.window, w.maxWindow)
		}
		w.limit = max(w.limit, min(w.consumed+w.window, MaxLimit))
		w.lastUpdate, w.epochFrom = now, w.consumed
		w.resend = false
		return w.limit, true
	}
	if w.resend {
		w.resend = false
		return w.limit, true
	}
	return w.limit, false
}

// consumedFast reports whether the application consumed at least a quarter
// window per RTT since the epoch began (the auto-tuning rule).
func (w *RecvWindow) consumedFast(now mono.Time) bool {
	if w.rtt <= 0 || w.lastUpdate.IsZero() {
		return false
	}
	elapsed := float64(now.Sub(w.lastUpdate))
	return 4*float64(w.consumed-w.epochFrom)*float64(w.rtt) >= float64(w.window)*elapsed
}

// OnLimitLost tells the window that a frame carrying limit v was declared
// lost. If v is still the current limit, the next Update returns it again so
// it is retransmitted; an older value is superseded and ignored (RFC 9000,
// Section 13.3).
func (w *RecvWindow) OnLimitLost(v uint64) {
	if v == w.limit {
		w.resend = true
	}
}

// EnsureWindow raises the window to at least n (bounded by the maximum
// window). A connection uses it to keep its window larger than any
// auto-tuned stream window. It never lowers the window.
func (w *RecvWindow) EnsureWindow(n uint64) {
	w.window = max(w.window, min(n, w.maxWindow))
}

// Limit returns the limit currently advertised to the peer.
func (w *RecvWindow) Limit() uint64 { return w.limit }

// Window returns the current window size.
func (w *RecvWindow) Window() uint64 { return w.window }

// MaxWindow returns the largest window auto-tuning may reach.
func (w *RecvWindow) MaxWindow() uint64 { return w.maxWindow }

// Received returns the highest offset received so far.
func (w *RecvWindow) Received() uint64 { return w.received }

// Consumed returns the number of bytes the application has consumed.
func (w *RecvWindow) Consumed() uint64 { return w.consumed }
