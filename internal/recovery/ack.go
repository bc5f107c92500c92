package recovery

import (
	"time"

	"github.com/hquic/quic/internal/mono"
)

// OnAckReceived processes an ACK frame received in space (RFC 9002 Appendix
// B.6): it updates the RTT estimate, validates ECN counts (nil when the frame
// carried none), detects lost packets and updates the congestion controller.
// ranges lists the acknowledged ranges, highest first. h receives the newly
// acknowledged packets (ascending) and then the newly lost ones; it must not
// call OnAckReceived or OnLossDetectionTimeout.
//
// It returns ErrAckOfUnsentPacket, without changing any state, if a range
// covers a packet number that was never sent in that space.
func (l *State) OnAckReceived(now mono.Time, space Space, ranges []AckRange, ackDelay time.Duration, ecn *ECNCounts, h Handler) error {
	l.now = now
	sp := &l.spaces[space]
	if sp.discarded || len(ranges) == 0 {
		return nil
	}
	largest, err := l.checkRanges(sp, ranges)
	if err != nil {
		return err
	}
	largestIncreased := largest > sp.largestAcked
	if largestIncreased {
		sp.largestAcked = largest
	}
	if space == SpaceHandshake && !l.isServer {
		// A client that gets a Handshake ACK knows the server validated
		// its address (RFC 9002 Section 6.2.2.1).
		l.peerAddressValidated = true
	}

	acked := l.collectAcked(sp, ranges)
	if len(acked) == 0 {
		return nil
	}

	// RTT sample: the largest acknowledged is newly acknowledged and at
	// least one newly acknowledged packet is ack-eliciting (Section 5.1).
	top := acked[len(acked)-1]
	rttSample := false
	if top.PN == largest {
		sp.largestAckedTime = top.Time
		if anyAckEliciting(acked) && !top.abandoned {
			l.rtt.update(now, now.Sub(top.Time), l.effectiveAckDelay(space, ackDelay), space != SpaceApp)
			rttSample = true
		}
	}

	var newlyECT uint64
	b := l.bbr
	if b != nil {
		b.rs.start()
	}
	for _, p := range acked {
		l.ackedSeqs.Add(p.seq, p.seq+1)
		if p.ECT {
			newlyECT++
		}
		if b != nil && p.InFlight && !p.abandoned {
			b.rate.onAcked(now, p, &b.rs)
		}
		if p.lost {
			l.stats.PacketsSpuriouslyLost++
			continue
		}
		if p.InFlight {
			l.bytesInFlight -= p.Size
			sp.inFlight--
			if p.AckEliciting {
				sp.ackElicitingInFlight--
			}
		}
	}

	// ECN-CE is a congestion signal, one response per round trip through
	// the recovery period (RFC 9002 Section 7.1, Appendix B.7).
	if ce := l.ecn.onAck(space, newlyECT, largestIncreased, ecn); ce > 0 {
		if b != nil {
			// One maximum-size datagram per newly counted packet.
			b.onCE(int(min(ce, uint64(len(acked)))) * l.params.mds)
		}
		l.congestionEvent(now, sp.largestAckedTime, true)
	}

	lost := l.detectLost(now, space)
	l.onPacketsLost(now, space, lost)
	if b != nil {
		b.rate.finish(&b.rs, l.rtt.Min)
	}
	l.growWindow(now, acked, rttSample)

	// Reset the PTO backoff unless a client is unsure the server validated
	// its address (Appendix B.6).
	if l.peerCompletedAddressValidation() {
		l.ptoCount = 0
	}

	for _, p := range acked {
		h.OnPacketAcked(p)
	}
	for _, p := range lost {
		h.OnPacketLost(p)
	}
	for i, p := range acked {
		l.pool.put(p)
		acked[i] = nil
	}
	clear(lost)
	l.acked = acked[:0]
	l.lost = lost[:0]
	l.prune(now)
	l.setTimer(now)
	return nil
}

// effectiveAckDelay applies the RFC 9002 Section 5.3 rules to the peer's
// reported ack delay: capped by max_ack_delay once the handshake is
// confirmed. Section 5.3 allows ignoring it for Initial packets, which are
// acknowledged at once; it is used there too, since an acknowledgment
// repeated in a later packet (a client's Initial probe) reports how long
// it was held.
func (l *State) effectiveAckDelay(space Space, d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if l.handshakeConfirmed {
		d = min(d, l.peerMaxAckDelay)
	}
	return d
}

// checkRanges returns the largest acknowledged packet number, or
// ErrAckOfUnsentPacket if a range covers a packet number above the largest
// sent, or one inside the tracked window that was never sent (skipped).
func (l *State) checkRanges(sp *spaceState, ranges []AckRange) (int64, error) {
	largest := int64(-1)
	first, tracked := sp.sent.firstPN()
	for _, r := range ranges {
		if r.Smallest > r.Largest || r.Largest < 0 {
			continue
		}
		largest = max(largest, r.Largest)
		if r.Largest > sp.largestSent {
			return 0, ErrAckOfUnsentPacket
		}
		if !tracked {
			continue
		}
		lo := max(r.Smallest, first)
		if lo > r.Largest {
			continue
		}
		i := sp.sent.search(lo)
		j := sp.sent.search(r.Largest + 1)
		if int64(j-i) != r.Largest-lo+1 {
			return 0, ErrAckOfUnsentPacket
		}
	}
	return largest, nil
}

// collectAcked empties the slots of newly acknowledged packets and returns
// them in ascending packet-number order (ranges come highest first).
func (l *State) collectAcked(sp *spaceState, ranges []AckRange) []*Sent {
	acked := l.acked[:0]
	live := sp.sent.live()
	for k := len(ranges) - 1; k >= 0; k-- {
		r := ranges[k]
		if r.Smallest > r.Largest {
			continue
		}
		for i := sp.sent.search(r.Smallest); i < len(live) && live[i].pn <= r.Largest; i++ {
			if p := live[i].p; p != nil {
				live[i].p = nil
				acked = append(acked, p)
			}
		}
	}
	return acked
}

func anyAckEliciting(ps []*Sent) bool {
	for _, p := range ps {
		if p.AckEliciting {
			return true
		}
	}
	return false
}

// growWindow hands the acknowledged bytes to the controller (RFC 9002
// Appendix B.7, OnPacketsAcked): packets sent before the current recovery
// period began do not grow the window, and neither does anything while the
// sender is application-limited (Section 7.8).
func (l *State) growWindow(now mono.Time, acked []*Sent, rttSample bool) {
	a := &l.ack
	*a = ackEvent{
		now:        now,
		nextSeq:    l.nextSeq,
		rttSample:  rttSample,
		appLimited: l.appLimited,
		rtt:        &l.rtt,
		inflight:   l.bytesInFlight,
	}
	found := false
	for _, p := range acked {
		if !p.InFlight || p.lost {
			continue
		}
		found = true
		a.largestSeq = max(a.largestSeq, p.seq)
		if p.Time > l.recoveryStart && !l.appLimited {
			a.bytes += p.Size
		}
	}
	if found {
		l.cc.onAck(a)
	}
}
