package recovery

import (
	"math"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// enterProbeBW is BBREnterProbeBW (Section 5.3.3.6).
func (b *bbr) enterProbeBW(now mono.Time) {
	b.cwndGain = bbrDefaultCwndGain
	b.startProbeBWDown(now)
}

// startProbeBWDown is BBRStartProbeBW_DOWN: decelerate to drain the queue
// the last probe built and leave headroom for other flows.
func (b *bbr) startProbeBWDown(now mono.Time) {
	b.resetCongestionSignals()
	b.probeUpCnt = bbrInfBytes
	b.pickProbeWait()
	b.cycleStamp = now
	b.ackPhase = acksProbeStopping
	b.startRound()
	b.mode = bbrProbeBWDown
	b.pacingGain = bbrProbeDownGain
	b.cwndGain = bbrDefaultCwndGain
}

// startProbeBWCruise is BBRStartProbeBW_CRUISE.
func (b *bbr) startProbeBWCruise() {
	b.mode = bbrProbeBWCruise
	b.pacingGain = 1
	b.cwndGain = bbrDefaultCwndGain
}

// startProbeBWRefill is BBRStartProbeBW_REFILL: forget the short-term
// model and fill the pipe for one round before probing.
func (b *bbr) startProbeBWRefill() {
	b.resetShortTermModel()
	b.bwProbeUpRounds = 0
	b.bwProbeUpAcks = 0
	b.ackPhase = acksRefilling
	b.startRound()
	b.mode = bbrProbeBWRefill
	b.pacingGain = 1
	b.cwndGain = bbrDefaultCwndGain
}

// startProbeBWUp is BBRStartProbeBW_UP: send faster than bw to find out
// whether more is available.
func (b *bbr) startProbeBWUp(rs *rateSample) {
	b.ackPhase = acksProbeStarting
	b.startRound()
	b.resetFullBW()
	b.fullBw = rs.deliveryRate
	b.mode = bbrProbeBWUp
	b.pacingGain = bbrProbeUpPacingGain
	b.cwndGain = bbrProbeUpCwndGain
	b.raiseInflightLongtermSlope()
}

// updateProbeBWCyclePhase is BBRUpdateProbeBWCyclePhase, on every ACK
// frame that acknowledges data.
func (b *bbr) updateProbeBWCyclePhase(now mono.Time, rs *rateSample, inflight int) {
	if !b.fullBwReached {
		return
	}
	b.adaptLongTermModel(now, rs)
	switch b.mode {
	case bbrProbeBWDown:
		if b.isTimeToProbeBW(now) {
			return
		}
		if b.isTimeToCruise(inflight) {
			b.startProbeBWCruise()
		}
	case bbrProbeBWCruise:
		b.isTimeToProbeBW(now)
	case bbrProbeBWRefill:
		// One round of REFILL, then UP.
		if b.roundStart {
			b.bwProbeSamples = true
			b.startProbeBWUp(rs)
		}
	case bbrProbeBWUp:
		if b.isTimeToGoDown(rs) {
			b.startProbeBWDown(now)
		}
	}
}

// pickProbeWait is BBRPickProbeWait: the randomized wait before the next
// probe, in rounds (0 or 1 already elapsed) and in wall-clock time
// (2 to 3 s).
func (b *bbr) pickProbeWait() {
	b.roundsSinceBwProbe = int64(b.rng.Uint64() & 1)
	b.bwProbeWait = bbrProbeWaitBase + time.Duration(b.rng.Uint64()%uint64(time.Second))
}

// isTimeToProbeBW is BBRIsTimeToProbeBW: the BBR-native (wall clock) or
// the Reno-coexistence (rounds) time scale has elapsed (Section 5.3.3.5).
func (b *bbr) isTimeToProbeBW(now mono.Time) bool {
	if now > b.cycleStamp.Add(b.bwProbeWait) || b.isRenoCoexistenceProbeTime() {
		b.startProbeBWRefill()
		return true
	}
	return false
}

// isRenoCoexistenceProbeTime is BBRIsRenoCoexistenceProbeTime: a Reno
// flow would need one round per packet of the target inflight to grow
// back to it, bounded by 63 rounds.
func (b *bbr) isRenoCoexistenceProbeTime() bool {
	rounds := min(int64(b.targetInflight()/b.mds()), bbrMaxRenoRounds)
	return b.roundsSinceBwProbe >= rounds
}

// targetInflight is BBRTargetInflight: the BDP, unless congestion cut
// the window.
func (b *bbr) targetInflight() int { return min(b.bdp(), b.cwnd) }

// isTimeToCruise is BBRIsTimeToCruise: DOWN ends once inflight leaves
// headroom below inflight_longterm and is no more than the BDP.
func (b *bbr) isTimeToCruise(inflight int) bool {
	if inflight > b.inflightWithHeadroom() {
		return false
	}
	return inflight <= b.inflight(b.maxBw, 1)
}

// isTimeToGoDown is BBRIsTimeToGoDown: UP ends when the delivery rate
// stops growing, unless inflight_longterm held the flow back.
func (b *bbr) isTimeToGoDown(rs *rateSample) bool {
	if b.isCwndLimited() && b.cwnd >= b.inflightLong {
		b.resetFullBW()
		b.fullBw = rs.deliveryRate
		return false
	}
	return b.fullBwNow
}

// inflightWithHeadroom is BBRInflightWithHeadroom: inflight_longterm less
// 15% for cross traffic.
func (b *bbr) inflightWithHeadroom() int {
	if b.inflightLong == bbrInfBytes {
		return bbrInfBytes
	}
	headroom := max(b.mds(), int(bbrHeadroom*float64(b.inflightLong)))
	return max(b.inflightLong-headroom, b.minPipe())
}

// raiseInflightLongtermSlope is BBRRaiseInflightLongtermSlope: the
// growth of inflight_longterm doubles every round of UP.
func (b *bbr) raiseInflightLongtermSlope() {
	growth := b.mds() << b.bwProbeUpRounds
	b.bwProbeUpRounds = min(b.bwProbeUpRounds+1, bbrMaxProbeUpRounds)
	b.probeUpCnt = max(b.cwnd/growth, 1)
}

// probeInflightLongtermUpward is BBRProbeInflightLongtermUpward: while UP
// is held back by inflight_longterm, raise it by one byte per probeUpCnt
// bytes acknowledged.
func (b *bbr) probeInflightLongtermUpward(rs *rateSample) {
	if !b.isCwndLimited() || b.cwnd < b.inflightLong {
		return
	}
	b.bwProbeUpAcks += rs.newlyAcked
	if b.bwProbeUpAcks >= b.probeUpCnt {
		delta := b.bwProbeUpAcks / b.probeUpCnt
		b.bwProbeUpAcks -= delta * b.probeUpCnt
		b.inflightLong += delta
	}
	if b.roundStart {
		b.raiseInflightLongtermSlope()
	}
}

// adaptLongTermModel is BBRAdaptLongTermModel: track the ACK phase,
// advance the max_bw filter once per cycle, and move inflight_longterm.
//
// An ACK frame whose sample shows a loss rate above LossThresh while the
// flow probes is answered like a lost packet (Section 5.5.10.2) — the
// loss-driven path (onLost) cannot see CE marks, which count as lost
// bytes here.
func (b *bbr) adaptLongTermModel(now mono.Time, rs *rateSample) {
	if b.ackPhase == acksProbeStarting && b.roundStart {
		// Samples of the probe start arriving.
		b.ackPhase = acksProbeFeedback
	}
	if b.ackPhase == acksProbeStopping && b.roundStart {
		// The samples of the probe have all arrived: the best time to
		// forget the previous cycle's. The draft's pseudocode leaves
		// ack_phase in ACKS_PROBE_STOPPING, which would advance the
		// two-cycle max_bw filter every round of DOWN and CRUISE; like
		// Linux's BBRv3 the phase ends here, once per cycle, and so do
		// the probe's loss samples.
		b.ackPhase = acksInit
		b.bwProbeSamples = false
		if b.inProbeBW() && !rs.isAppLimited {
			b.advanceMaxBwFilter()
		}
	}
	if b.isInflightTooHigh(rs) {
		if b.bwProbeSamples {
			b.handleInflightTooHigh(now, rs)
		}
		return
	}
	// The loss rate is safe: bounds may move up.
	if b.inflightLong == bbrInfBytes {
		return
	}
	if rs.txInFlight > b.inflightLong {
		b.inflightLong = rs.txInFlight
	}
	if b.mode == bbrProbeBWUp {
		b.probeInflightLongtermUpward(rs)
	}
}

// isInflightTooHigh is IsInflightTooHigh: the loss rate since the sample's
// packet was sent exceeds LossThresh. Losses are counted beyond the
// baseline (lossBase, see learnLossBase) and beyond two standard
// deviations of the baseline's binomial noise over the packets in flight;
// with no baseline loss the test is the draft's.
func (b *bbr) isInflightTooHigh(rs *rateSample) bool {
	n := float64(rs.txInFlight) / float64(b.mds())
	allowed := n*(bbrLossThresh+b.lossBase) + 2*math.Sqrt(n*b.lossBase*(1-b.lossBase))
	return float64(rs.lost)/float64(b.mds()) > allowed
}

// handleInflightTooHigh is BBRHandleInflightTooHigh: once per probe, cap
// inflight_longterm at what was in flight (no lower than Beta times the
// target) and stop probing.
func (b *bbr) handleInflightTooHigh(now mono.Time, rs *rateSample) {
	b.bwProbeSamples = false
	if !rs.isAppLimited {
		b.inflightLong = max(rs.txInFlight, int(float64(b.targetInflight())*bbrBeta))
	}
	if b.mode == bbrProbeBWUp {
		b.startProbeBWDown(now)
	}
}

// onLost counts a lost packet in C.lost and runs BBRUpdateOnLoss for it
// (Section 5.5.10.2).
func (b *bbr) onLost(now mono.Time, p *Sent) {
	b.rate.lost += int64(p.Size)
	b.noteLoss()
	if p.seq != b.lastLostSeq+1 {
		b.lossEvents++
	}
	b.lastLostSeq = p.seq
	if !b.bwProbeSamples {
		return
	}
	rs := rateSample{txInFlight: p.txInFlight, lost: b.rate.lost - p.lostBefore, isAppLimited: p.appLimited}
	if b.isInflightTooHigh(&rs) {
		rs.txInFlight = b.inflightAtLoss(&rs, p.Size)
		b.handleInflightTooHigh(now, &rs)
	}
}

// inflightAtLoss is BBRInflightAtLoss: the inflight, within the lost
// packet, at which the loss rate crossed LossThresh (over the baseline).
func (b *bbr) inflightAtLoss(rs *rateSample, size int) int {
	inflightPrev := float64(rs.txInFlight - size)
	lostPrev := float64(rs.lost) - float64(size)
	th := bbrLossThresh + b.lossBase
	lostPrefix := (th*inflightPrev - lostPrev) / (1 - th)
	return max(int(inflightPrev+lostPrefix), 0)
}

// noteLoss is BBRNoteLoss.
func (b *bbr) noteLoss() {
	if !b.lossInRound {
		b.lossRoundDelivered = b.rate.delivered
	}
	b.lossInRound = true
}
