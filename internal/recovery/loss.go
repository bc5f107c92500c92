package recovery

import (
	"time"

	"github.com/hquic/quic/internal/mono"
)

// maxPTOPeriod bounds the backed-off PTO period so that the exponential
// backoff cannot overflow.
const maxPTOPeriod = time.Hour

// detectLost declares lost the unacknowledged packets of space sent before
// its largest acknowledged packet that pass the packet or time threshold
// (RFC 9002 Section 6.1, Appendix B.10), and re-arms loss_time for the
// others. It returns the newly lost packets in packet-number order.
func (l *State) detectLost(now mono.Time, space Space) []*Sent {
	sp := &l.spaces[space]
	lost := l.lost[:0]
	sp.lossTime = 0
	if sp.largestAcked < 0 {
		return lost
	}
	lossDelay := l.rtt.lossDelay()
	lostSendTime := now.Add(-lossDelay)
	for _, e := range sp.sent.live() {
		if e.pn > sp.largestAcked {
			break
		}
		p := e.p
		if p == nil || p.lost {
			continue
		}
		if p.Time <= lostSendTime || sp.largestAcked >= e.pn+packetThreshold {
			p.lost = true
			p.lostAt = now
			lost = append(lost, p)
			continue
		}
		sp.lossTime = mono.Min(sp.lossTime, p.Time.Add(lossDelay))
	}
	return lost
}

// onPacketsLost removes lost packets from bytes in flight and reacts to the
// loss (RFC 9002 Appendix B.8, OnPacketsLost).
func (l *State) onPacketsLost(now mono.Time, space Space, lost []*Sent) {
	if len(lost) == 0 {
		return
	}
	sp := &l.spaces[space]
	var lastLoss mono.Time
	persistent := false
	for _, p := range lost {
		l.stats.PacketsLost++
		if p.InFlight {
			l.bytesInFlight -= p.Size
			sp.inFlight--
			if p.AckEliciting {
				sp.ackElicitingInFlight--
			}
			// The loss of a PMTU probe is not a congestion signal
			// (RFC 8899 Section 3, item 7).
			if !p.PMTUProbe {
				lastLoss = max(lastLoss, p.Time)
				l.cc.onLost(now, p)
			}
		}
		l.ecn.onLost(p)
		if l.extendLossRun(sp, p) {
			persistent = true
		}
	}
	if lastLoss != 0 {
		l.congestionEvent(now, lastLoss, false)
	}
	if persistent {
		// RFC 9002 Section 7.6.2: the window MUST be reduced to the
		// minimum; Section 5.2: min_rtt SHOULD be re-established.
		// Appendix B.8 clears the recovery period here; we start a new one
		// instead, so that packets sent before the collapse (including
		// those acknowledged by the same ACK frame) neither grow the
		// minimum window nor reduce it again.
		l.stats.PersistentCongestionEvents++
		l.cc.onPersistentCongestion()
		l.recoveryStart = now
		l.rtt.resetMin = true
	}
}

// congestionEvent reduces the window unless sentTime falls in the current
// recovery period (RFC 9002 Appendix B.7, OnCongestionEvent).
func (l *State) congestionEvent(now, sentTime mono.Time, ecn bool) {
	if sentTime <= l.recoveryStart {
		return
	}
	l.recoveryStart = now
	l.cc.onCongestionEvent(now)
	l.stats.CongestionEvents++
	if ecn {
		l.stats.ECNCongestionEvents++
	}
}

// persistentDuration is the persistent congestion duration of RFC 9002
// Section 7.6.1.
func (l *State) persistentDuration() time.Duration {
	return (l.rtt.ptoBase() + l.peerMaxAckDelay) * persistentCongestionThreshold
}

// extendLossRun adds a newly lost packet to the space's run of lost
// ack-eliciting packets and reports whether the run now establishes
// persistent congestion (RFC 9002 Section 7.6.2): two ack-eliciting packets
// sent after the first RTT sample, more than the persistent congestion
// duration apart, with no packet of any space sent between them
// acknowledged. Both ends of a run come from the same space; the "nothing
// acknowledged in between" condition spans all spaces.
func (l *State) extendLossRun(sp *spaceState, p *Sent) bool {
	if !p.AckEliciting || p.PMTUProbe || !l.rtt.HasSample || p.Time < l.rtt.firstSample {
		return false
	}
	if sp.runActive && !l.ackedBetween(sp.runStartSeq, p.seq) {
		if p.Time.Sub(sp.runStartTime) > l.persistentDuration() {
			sp.runActive = false
			return true
		}
		return false
	}
	sp.runActive = true
	sp.runStartTime = p.Time
	sp.runStartSeq = p.seq
	return false
}

// ackedBetween reports whether a packet with a send sequence strictly
// between a and b was acknowledged.
func (l *State) ackedBetween(a, b int64) bool {
	s := &l.ackedSeqs
	lo, hi := 0, s.Len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.At(m).End <= a+1 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < s.Len() && max(s.At(lo).Start, a+1) < b
}

// prune drops empty slots and expired lost records from the front of each
// space, and acknowledged sequences no run can reach any more. A lost record
// is kept for one PTO period (without backoff) after it was declared lost,
// so that a late acknowledgment reveals a spurious loss.
func (l *State) prune(now mono.Time) {
	keep := l.rtt.ptoBase() + l.peerMaxAckDelay
	minSeq := l.nextSeq
	for i := range l.spaces {
		sp := &l.spaces[i]
		for {
			p, ok := sp.sent.front()
			if !ok {
				break
			}
			if p != nil {
				if !p.lost || now.Sub(p.lostAt) < keep {
					minSeq = min(minSeq, p.seq)
					break
				}
				l.pool.put(p)
			}
			sp.sent.popFront()
		}
		if sp.runActive {
			minSeq = min(minSeq, sp.runStartSeq)
		}
	}
	l.ackedSeqs.RemoveBelow(minSeq)
}

// peerCompletedAddressValidation is PeerCompletedAddressValidation of RFC
// 9002 Appendix B.8: a server assumes the client validated its address.
func (l *State) peerCompletedAddressValidation() bool {
	return l.isServer || l.peerAddressValidated || l.handshakeConfirmed
}

// ptoArmingInFlight reports ack-eliciting packets in flight in a space
// whose PTO may be armed: Application Data counts only once the handshake
// is confirmed (Section 6.2.1). Appendix A.8's pseudocode checks every
// space, so a client's 0-RTT packets in flight would stop its
// anti-deadlock timer: with its first Initial lost and 0-RTT packets
// filling the congestion window, no probe would ever fire and the lost
// CRYPTO data could never be sent again.
func (l *State) ptoArmingInFlight() bool {
	for i := range l.spaces {
		if Space(i) == SpaceApp && !l.handshakeConfirmed {
			continue
		}
		if l.spaces[i].ackElicitingInFlight > 0 {
			return true
		}
	}
	return false
}

// earliestLossTime is GetLossTimeAndSpace of RFC 9002 Appendix B.8.
func (l *State) earliestLossTime() (mono.Time, Space) {
	var t mono.Time
	s := SpaceInitial
	for i := range l.spaces {
		if lt := l.spaces[i].lossTime; lt != 0 && (t == 0 || lt < t) {
			t, s = lt, Space(i)
		}
	}
	return t, s
}

// ptoBase is smoothed_rtt + max(4*rttvar, kGranularity), raised to the
// HandshakePTOFloor while the handshake is not confirmed.
func (l *State) ptoBase() time.Duration {
	d := l.rtt.ptoBase()
	if !l.handshakeConfirmed {
		d = max(d, l.cfg.HandshakePTOFloor)
	}
	return d
}

// backoff returns d * 2^n, bounded by maxPTOPeriod.
func backoff(d time.Duration, n int) time.Duration {
	for ; n > 0; n-- {
		if d >= maxPTOPeriod/2 {
			return maxPTOPeriod
		}
		d *= 2
	}
	return min(d, maxPTOPeriod)
}

// ptoTimeAndSpace is GetPtoTimeAndSpace of RFC 9002 Appendix B.8. ok is
// false when no PTO applies.
func (l *State) ptoTimeAndSpace(now mono.Time) (t mono.Time, space Space, ok bool) {
	base := l.ptoBase()
	if !l.ptoArmingInFlight() {
		// Client anti-deadlock (Section 6.2.2.1): arm from now.
		space = SpaceInitial
		if l.handshakeKeys || l.spaces[SpaceInitial].discarded {
			space = SpaceHandshake
		}
		return now.Add(backoff(base, l.ptoCount)), space, true
	}
	for i := range l.spaces {
		sp := &l.spaces[i]
		if sp.ackElicitingInFlight == 0 {
			continue
		}
		d := base
		if Space(i) == SpaceApp {
			// No PTO for Application Data before the handshake is
			// confirmed (Section 6.2.1); max_ack_delay counts only here.
			if !l.handshakeConfirmed {
				break
			}
			d += l.peerMaxAckDelay
		}
		pt := sp.lastAckEliciting.Add(backoff(d, l.ptoCount))
		if !ok || pt < t {
			t, space, ok = pt, Space(i), true
		}
	}
	return t, space, ok
}

// setTimer is SetLossDetectionTimer of RFC 9002 Appendix B.8.
func (l *State) setTimer(now mono.Time) {
	if t, _ := l.earliestLossTime(); t != 0 {
		l.timer = t
		return
	}
	if l.isServer && l.amplificationLimited {
		// The server cannot send anything: no PTO (Section 6.2.2.1).
		l.timer = 0
		return
	}
	if !l.ptoArmingInFlight() && l.peerCompletedAddressValidation() {
		l.timer = 0
		return
	}
	t, _, ok := l.ptoTimeAndSpace(now)
	if !ok {
		t = 0
	}
	l.timer = t
}

// LossDetectionDeadline returns when OnLossDetectionTimeout must be called,
// or zero if no timer is armed.
func (l *State) LossDetectionDeadline() mono.Time { return l.timer }

// OnLossDetectionTimeout handles the expiry of the loss detection timer (RFC
// 9002 Appendix B.9). A call before LossDetectionDeadline does nothing. On a
// time-threshold expiry, h receives the lost packets. On a PTO, probes are
// requested (see ProbesNeeded): two in the space whose PTO fired and one in
// every other space with ack-eliciting packets in flight (Section 6.2.4), or
// one anti-deadlock probe for a client with nothing in flight.
func (l *State) OnLossDetectionTimeout(now mono.Time, h Handler) {
	l.now = now
	if l.timer == 0 || now < l.timer {
		return
	}
	if t, space := l.earliestLossTime(); t != 0 {
		lost := l.detectLost(now, space)
		l.onPacketsLost(now, space, lost)
		for _, p := range lost {
			h.OnPacketLost(p)
		}
		clear(lost)
		l.lost = lost[:0]
		l.prune(now)
		l.setTimer(now)
		return
	}
	_, space, ok := l.ptoTimeAndSpace(now)
	if !ok {
		l.setTimer(now)
		return
	}
	if !l.ptoArmingInFlight() {
		l.spaces[space].probes = max(l.spaces[space].probes, 1)
	} else {
		l.spaces[space].probes = 2
		for i := range l.spaces {
			sp := &l.spaces[i]
			if Space(i) != space && sp.ackElicitingInFlight > 0 {
				sp.probes = max(sp.probes, 1)
			}
		}
	}
	l.ptoCount++
	l.stats.PTOCount++
	l.setTimer(now)
}

// PTOCountExceeded reports whether the handshake should give up: MaxPTOCount
// is set, the handshake is not confirmed and the PTO has fired more than
// MaxPTOCount consecutive times (that many probe rounds went unanswered).
func (l *State) PTOCountExceeded() bool {
	return l.cfg.MaxPTOCount > 0 && !l.handshakeConfirmed && l.ptoCount > l.cfg.MaxPTOCount
}

// PTO returns the current probe timeout period of the Application Data
// space without backoff: smoothed_rtt + max(4*rttvar, kGranularity) +
// max_ack_delay (RFC 9002 Section 6.2.1). Use it for the idle timeout's
// 3×PTO floor (RFC 9000 Section 10.1) and for closing periods.
func (l *State) PTO() time.Duration { return l.ptoBase() + l.peerMaxAckDelay }

// DiscardSpace drops the state of a space whose keys were discarded (RFC
// 9002 Section 6.4): its records leave bytes in flight without being
// declared lost, its timers and probes are cleared and the PTO backoff is
// reset. Packets sent later in that space are ignored.
func (l *State) DiscardSpace(space Space) {
	sp := &l.spaces[space]
	for _, e := range sp.sent.live() {
		p := e.p
		if p == nil {
			continue
		}
		if p.InFlight && !p.lost {
			l.bytesInFlight -= p.Size
		}
		l.pool.put(p)
	}
	sp.init()
	sp.discarded = true
	l.ecn.discard(space)
	l.ptoCount = 0
	l.setTimer(l.now)
}
