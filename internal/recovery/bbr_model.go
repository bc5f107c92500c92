package recovery

import (
	"math"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// updateLatestDeliverySignals is BBRUpdateLatestDeliverySignals (Section
// 5.5.10.3): one-round maxima of rate and volume delivered, and the end
// of a loss round.
func (b *bbr) updateLatestDeliverySignals(rs *rateSample) {
	b.lossRoundStart = false
	b.bwLatest = max(b.bwLatest, rs.deliveryRate)
	b.inflightLatest = max(b.inflightLatest, int(rs.delivered))
	if rs.priorDelivered >= b.lossRoundDelivered {
		b.lossRoundDelivered = b.rate.delivered
		b.lossRoundStart = true
	}
}

// advanceLatestDeliverySignals is BBRAdvanceLatestDeliverySignals.
func (b *bbr) advanceLatestDeliverySignals(rs *rateSample) {
	if b.lossRoundStart {
		b.bwLatest = rs.deliveryRate
		b.inflightLatest = int(rs.delivered)
	}
}

// resetCongestionSignals is BBRResetCongestionSignals.
func (b *bbr) resetCongestionSignals() {
	b.lossInRound = false
	b.bwLatest = 0
	b.inflightLatest = 0
}

// updateCongestionSignals is BBRUpdateCongestionSignals: the max_bw
// filter on every ACK, the loss response once per loss round.
func (b *bbr) updateCongestionSignals(rs *rateSample) {
	b.updateMaxBw(rs)
	if !b.lossRoundStart {
		return
	}
	lost := b.rate.lost - b.roundLost0
	total := lost + b.rate.delivered - b.roundDelivered0
	inStartup := b.mode == bbrStartup && !b.fullBwReached
	b.checkStartupHighLoss(lost, total)
	if (inStartup && !b.fullBwReached || b.mode == bbrProbeBWDown || b.mode == bbrProbeBWCruise) && total >= int64(bbrMinPipePackets*b.mds()) {
		b.learnLossBase(lost, total)
	}
	if b.lossAboveBase(lost, total) {
		b.adaptLowerBoundsFromCongestion()
	}
	b.lossInRound = false
	b.lossEvents = 0
	b.roundLost0 = b.rate.lost
	b.roundDelivered0 = b.rate.delivered
}

// learnLossBase folds the losses of a round the flow did not push past the
// path's capacity into lossBase: the rounds of Startup before it ends,
// and of ProbeBW's DOWN and CRUISE. lost and total are the round's lost
// and sent bytes.
//
// This is hquic's one departure from the draft's loss response. The draft
// treats any loss rate above LossThresh (2%) as too much inflight, and
// any loss outside probing as a reason to slow down; on a path that drops
// packets at random (radio links), that caps inflight far below the BDP
// as soon as the random loss rate passes 2%. lossBase is the loss the
// flow sees without having caused it: the loss tests measure the excess
// over it (isInflightTooHigh, lossAboveBase). Where losses come only from
// queue overflow, lossBase stays near zero and the draft's behaviour is
// unchanged.
//
// lossBase is the ratio of the bytes lost to the bytes sent over the
// last bbrLossBaseWindow datagrams or so of those rounds (the counts halve
// past it), so that it converges with the amount of data measured, not the
// number of rounds: a per-round average took ten rounds, six seconds on a
// 600 ms path, to learn a 5% loss rate, and until then random loss ended
// Startup and every bandwidth probe early.
func (b *bbr) learnLossBase(lost, total int64) {
	b.lossBaseLost += lost
	b.lossBaseTotal += total
	if b.lossBaseTotal > int64(bbrLossBaseWindow*b.mds()) {
		b.lossBaseLost /= 2
		b.lossBaseTotal /= 2
	}
	b.lossBase = float64(b.lossBaseLost) / float64(b.lossBaseTotal)
}

// lossAboveBase reports whether a round that lost lost of total bytes lost
// more than the baseline allows: more than lossBase plus two standard
// deviations of its binomial noise over the round's datagrams. Rounds
// within the noise say nothing of congestion; on a lossless path any loss
// is above the base, as in the draft.
func (b *bbr) lossAboveBase(lost, total int64) bool {
	if lost == 0 {
		return false
	}
	n := float64(total) / float64(b.mds())
	allowed := n*b.lossBase + 2*math.Sqrt(n*b.lossBase*(1-b.lossBase))
	return float64(lost)/float64(b.mds()) > allowed
}

// updateMaxBw is BBRUpdateMaxBw (Section 5.5.5): application-limited
// samples count only when they exceed the estimate.
func (b *bbr) updateMaxBw(rs *rateSample) {
	b.updateRound(rs)
	if rs.deliveryRate > 0 && (rs.deliveryRate >= b.maxBw || !rs.isAppLimited) {
		s := &b.maxBwSlot[b.cycleCount&1]
		*s = max(*s, rs.deliveryRate)
		b.maxBw = max(b.maxBwSlot[0], b.maxBwSlot[1])
	}
}

// advanceMaxBwFilter is BBRAdvanceMaxBwFilter: the filter covers the
// current and the previous ProbeBW cycle (MaxBwFilterLen = 2).
func (b *bbr) advanceMaxBwFilter() {
	b.cycleCount++
	b.maxBwSlot[b.cycleCount&1] = 0
	b.maxBw = max(b.maxBwSlot[0], b.maxBwSlot[1])
}

// adaptLowerBoundsFromCongestion is BBRAdaptLowerBoundsFromCongestion:
// outside bandwidth probing, each round with loss lowers the short-term
// model toward the latest delivery (multiplicative decrease by Beta at
// most).
func (b *bbr) adaptLowerBoundsFromCongestion() {
	if b.isProbingBW() || !b.lossInRound {
		return
	}
	if math.IsInf(b.bwShort, 1) {
		b.bwShort = b.maxBw
	}
	if b.inflightShort == bbrInfBytes {
		b.inflightShort = b.cwnd
	}
	b.bwShort = max(b.bwLatest, bbrBeta*b.bwShort)
	b.inflightShort = max(b.inflightLatest, int(bbrBeta*float64(b.inflightShort)))
}

// resetShortTermModel is BBRResetShortTermModel.
func (b *bbr) resetShortTermModel() {
	b.bwShort = math.Inf(1)
	b.inflightShort = bbrInfBytes
}

// boundBWForModel is BBRBoundBWForModel.
func (b *bbr) boundBWForModel() { b.bw = min(b.maxBw, b.bwShort) }

// updateACKAggregation is BBRUpdateACKAggregation (Section 5.5.9): the
// data acknowledged beyond what bw explains, as a max over ten rounds
// (one in Startup).
func (b *bbr) updateACKAggregation(now mono.Time, rs *rateSample) {
	interval := now.Sub(b.extraAckedStart)
	expected := int64(b.bw * interval.Seconds())
	if b.extraAckedBytes <= expected {
		// The ACK rate fell below bw: a new aggregation episode.
		b.extraAckedBytes = 0
		b.extraAckedStart = now
		expected = 0
	}
	b.extraAckedBytes += int64(rs.newlyAcked)
	extra := int(min(b.extraAckedBytes-expected, int64(b.cwnd)))
	window := 1
	if b.fullBwReached {
		window = bbrExtraAckedRounds
	}
	b.extraAcked = b.extraAckedFilter.update(extra, b.roundCount, window)
}

// roundMax is a windowed maximum over the last rounds: one slot per
// round, the window at most bbrExtraAckedRounds long.
type roundMax struct {
	v     [bbrExtraAckedRounds]int
	round int64 // the round of the newest slot
}

// update adds a sample taken in round and returns the maximum over the
// last window rounds (this one included).
func (f *roundMax) update(x int, round int64, window int) int {
	const n = int64(len(f.v))
	for r := f.round + 1; r <= round && r <= f.round+n; r++ {
		f.v[r%n] = 0
	}
	f.round = max(f.round, round)
	i := round % n
	f.v[i] = max(f.v[i], x)
	m := 0
	for k := range min(int64(window), n, round+1) {
		m = max(m, f.v[(round-k)%n])
	}
	return m
}

// updateMinRTT is BBRUpdateMinRTT (Section 5.3.4.3): min_rtt over 10 s,
// probe_rtt_min_delay over ProbeRTTInterval.
func (b *bbr) updateMinRTT(now mono.Time, rs *rateSample) {
	b.probeRTTExpired = now > b.probeRTTMinStamp.Add(bbrProbeRTTInterval)
	if rs.rtt >= 0 && (rs.rtt < b.probeRTTMinDelay || b.probeRTTExpired) {
		b.probeRTTMinDelay = rs.rtt
		b.probeRTTMinStamp = now
	}
	minRTTExpired := now > b.minRTTStamp.Add(bbrMinRTTFilterLen)
	if b.probeRTTMinDelay < b.minRTT || minRTTExpired {
		b.minRTT = b.probeRTTMinDelay
		b.minRTTStamp = b.probeRTTMinStamp
	}
}

// bdp is BBR.bdp = bw * min_rtt (the initial window before an RTT
// sample).
func (b *bbr) bdp() int { return b.bdpMultiple(b.bw, 1) }

// bdpMultiple is BBRBDPMultiple for a given bandwidth.
func (b *bbr) bdpMultiple(bw, gain float64) int {
	if b.minRTT == bbrInfRTT {
		return b.p.initialWindow()
	}
	return int(gain * bw * b.minRTT.Seconds())
}

// sendQuantum is C.send_quantum (Section 5.6.3): a millisecond at the
// pacing rate, between two datagrams and 64 KB.
func (b *bbr) sendQuantum() int {
	q := int(b.pacing * float64(time.Millisecond) / float64(time.Second))
	return max(min(q, bbrMaxSendQuantum), 2*b.mds())
}

// quantizationBudget is BBRQuantizationBudget: room for three send quanta
// (offload_budget) and the pipelining minimum.
func (b *bbr) quantizationBudget(inflightCap int) int {
	inflightCap = max(inflightCap, 3*b.sendQuantum(), b.minPipe())
	if b.mode == bbrProbeBWUp {
		inflightCap += 2 * b.mds()
	}
	return inflightCap
}

// inflight is BBRInflight for a given bandwidth.
func (b *bbr) inflight(bw, gain float64) int {
	return b.quantizationBudget(b.bdpMultiple(bw, gain))
}

// maxInflight is BBRUpdateMaxInflight's BBR.max_inflight.
func (b *bbr) maxInflight() int {
	return b.quantizationBudget(b.bdpMultiple(b.bw, b.cwndGain) + b.extraAcked)
}

// initPacingRate is BBRInitPacingRate, applied at the first RTT sample:
// the initial window per smoothed RTT, times the Startup gain.
func (b *bbr) initPacingRate(srtt time.Duration) {
	srtt = max(srtt, time.Millisecond)
	b.pacing = bbrStartupPacingGain * float64(b.p.initialWindow()) / srtt.Seconds()
}

// setPacingRate is BBRSetPacingRate.
func (b *bbr) setPacingRate() { b.setPacingRateWithGain(b.pacingGain) }

// setPacingRateWithGain is BBRSetPacingRateWithGain: until the pipe is
// full the rate only grows.
func (b *bbr) setPacingRateWithGain(gain float64) {
	rate := gain * b.bw * (1 - bbrPacingMargin)
	if b.fullBwReached || rate > b.pacing {
		b.pacing = rate
	}
}

// setCwnd is BBRSetCwnd (Section 5.6.4.6): the window follows
// max_inflight, growing by no more than the bytes acknowledged, bounded by
// ProbeRTT and the model's volume caps.
func (b *bbr) setCwnd(rs *rateSample) {
	mi := b.maxInflight()
	switch {
	case b.fullBwReached:
		b.cwnd = min(b.cwnd+rs.newlyAcked, mi)
	case b.cwnd < mi || b.rate.delivered < int64(b.p.initialWindow()):
		b.cwnd += rs.newlyAcked
	}
	b.cwnd = max(b.cwnd, b.minPipe())
	if b.mode == bbrProbeRTT {
		b.cwnd = min(b.cwnd, b.probeRTTCwnd())
	}
	b.boundCwndForModel()
}

// boundCwndForModel is BBRBoundCwndForModel (Section 5.6.4.7), the volume
// caps of the table in Section 5.6.1.
func (b *bbr) boundCwndForModel() {
	capped := bbrInfBytes
	switch {
	case b.inProbeBW() && b.mode != bbrProbeBWCruise:
		capped = b.inflightLong
	case b.mode == bbrProbeRTT || b.mode == bbrProbeBWCruise:
		capped = b.inflightWithHeadroom()
	}
	capped = max(min(capped, b.inflightShort), b.minPipe())
	b.cwnd = min(b.cwnd, capped)
}
