package recovery

import (
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/rangeset"
)

// DefaultMaxAckRanges is the range bound AckTracker.Init uses when given
// zero or less.
const DefaultMaxAckRanges = 32

// AckTracker is the receive side of one packet-number space: which packet
// numbers arrived, duplicate detection, and when an ACK frame is due (RFC
// 9000 Section 13.2). Its memory is bounded: it keeps at most maxRanges
// ranges, and packet numbers below a floor are treated as duplicates (RFC
// 9000 Section 12.3 allows dropping packets below such a minimum). The zero
// value must be initialised with Init.
type AckTracker struct {
	space       Space
	maxAckDelay time.Duration
	maxRanges   int

	received    rangeset.Set[int64]
	floor       int64 // packet numbers below are duplicates
	largest     int64 // -1 before the first packet
	largestTime mono.Time

	unacked  int       // ack-eliciting packets received since the last ACK sent
	deadline mono.Time // when the pending ACK is due; zero = none

	ecn       ECNCounts
	ecnSeen   bool
	reordered uint64
}

// Init prepares a for space. maxAckDelay is our max_ack_delay (MsQuic
// MaxAckDelayMs); it applies only to the Application Data space since
// Initial and Handshake packets are acknowledged immediately. maxRanges
// bounds the ranges kept (DefaultMaxAckRanges if ≤ 0).
func (a *AckTracker) Init(space Space, maxAckDelay time.Duration, maxRanges int) {
	if maxRanges <= 0 {
		maxRanges = DefaultMaxAckRanges
	}
	a.received.Clear()
	*a = AckTracker{
		space:       space,
		maxAckDelay: max(maxAckDelay, 0),
		maxRanges:   maxRanges,
		received:    a.received,
		largest:     -1,
	}
}

// IsDuplicate reports whether pn was already received, or lies below the
// floor of forgotten packet numbers. A duplicate must be dropped without
// processing (RFC 9000 Section 12.3).
func (a *AckTracker) IsDuplicate(pn int64) bool {
	return pn < a.floor || a.received.Contains(pn)
}

// OnPacketReceived records a successfully decrypted packet with its ECN
// codepoint. Duplicates are ignored.
//
// An ACK becomes due immediately (RFC 9000 Section 13.2.1) for an
// ack-eliciting packet when it is the second ack-eliciting packet not yet
// acknowledged, when it is out of order (below the largest received, or
// leaving a gap above it), when it carries ECN-CE, or in the Initial and
// Handshake spaces; otherwise within max_ack_delay of the first unacknowledged
// ack-eliciting packet. A CE-marked packet that is not ack-eliciting makes an
// already pending ACK immediate but never triggers one by itself.
func (a *AckTracker) OnPacketReceived(now mono.Time, pn int64, ackEliciting bool, ecn ECN) {
	if pn < 0 || a.IsDuplicate(pn) {
		return
	}
	switch ecn {
	case ECNECT0:
		a.ecn.ECT0++
		a.ecnSeen = true
	case ECNECT1:
		a.ecn.ECT1++
		a.ecnSeen = true
	case ECNCE:
		a.ecn.CE++
		a.ecnSeen = true
	}
	outOfOrder := false
	if a.largest >= 0 {
		switch {
		case pn < a.largest:
			outOfOrder = true
			a.reordered++
		case pn > a.largest+1:
			outOfOrder = true
		}
	}
	if pn > a.largest {
		a.largest = pn
		a.largestTime = now
	}
	a.received.Add(pn, pn+1)
	for a.received.Len() > a.maxRanges {
		a.floor = a.received.At(0).End
		a.received.RemoveFirst()
	}
	switch {
	case ackEliciting:
		a.unacked++
		if a.space != SpaceApp || a.unacked >= 2 || outOfOrder || ecn == ECNCE {
			a.deadline = mono.Min(a.deadline, now)
		} else if a.deadline == 0 {
			a.deadline = now.Add(a.maxAckDelay)
		}
	case ecn == ECNCE && a.unacked > 0:
		a.deadline = mono.Min(a.deadline, now)
	}
}

// AckDeadline returns when an ACK frame must be sent: zero if none is
// pending, a time ≤ now if it is due immediately.
func (a *AckTracker) AckDeadline() mono.Time { return a.deadline }

// ShouldSendAck reports whether an ACK frame is due at now.
func (a *AckTracker) ShouldSendAck(now mono.Time) bool {
	return a.deadline != 0 && a.deadline <= now
}

// Ranges returns the received packet numbers an ACK frame would report, as
// half-open ranges in ascending order. The caller must not modify the set.
func (a *AckTracker) Ranges() *rangeset.Set[int64] { return &a.received }

// AckDelay returns the time since the largest packet number was received,
// the ACK frame's ack delay before scaling.
func (a *AckTracker) AckDelay(now mono.Time) time.Duration {
	if a.largest < 0 || now < a.largestTime {
		return 0
	}
	return now.Sub(a.largestTime)
}

// ECNCounts returns the ECN counters to report; ok is false if no packet
// with an ECN codepoint was received (the ACK frame then omits them).
func (a *AckTracker) ECNCounts() (c ECNCounts, ok bool) { return a.ecn, a.ecnSeen }

// OnAckSent records that an ACK frame with the current ranges was sent: the
// pending ACK is cleared.
func (a *AckTracker) OnAckSent(now mono.Time) {
	a.unacked = 0
	a.deadline = 0
}

// OnAckAcked records that a packet carrying an ACK frame whose largest
// acknowledged was largest has been acknowledged: packet numbers up to it no
// longer need acknowledging (RFC 9000 Section 13.2.4) and become the
// duplicate floor.
func (a *AckTracker) OnAckAcked(largest int64) {
	largest = min(largest, a.largest)
	if largest+1 <= a.floor {
		return
	}
	a.floor = largest + 1
	a.received.RemoveBelow(a.floor)
}

// OnAckLost records that a packet carrying an ACK frame whose largest
// acknowledged was largest was declared lost. ACK frames are not
// retransmitted (RFC 9000 Section 13.3); if what it reported is not yet
// known to have reached the peer, a new ACK frame with the current ranges
// is due at now, so that a lost acknowledgment is not left to the peer's
// backed-off probes to recover. It returns whether one became due.
func (a *AckTracker) OnAckLost(now mono.Time, largest int64) bool {
	if largest < a.floor || a.received.IsEmpty() {
		return false
	}
	a.deadline = mono.Min(a.deadline, now)
	return true
}

// LargestReceived returns the largest packet number received, or -1.
func (a *AckTracker) LargestReceived() int64 { return a.largest }

// Reordered returns how many packets arrived below the largest packet
// number received before them.
func (a *AckTracker) Reordered() uint64 { return a.reordered }
