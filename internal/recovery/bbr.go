package recovery

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// BBR constants (draft-ietf-ccwg-bbr Sections 2 and 5).
const (
	bbrStartupPacingGain  = 2.77 // 4 ln 2: doubles the rate each round
	bbrDrainPacingGain    = 0.35
	bbrDefaultCwndGain    = 2.0
	bbrProbeDownGain      = 0.90
	bbrProbeUpPacingGain  = 1.25
	bbrProbeUpCwndGain    = 2.25
	bbrProbeRTTCwndGain   = 0.5
	bbrPacingMargin       = 0.01
	bbrLossThresh         = 0.02
	bbrBeta               = 0.7
	bbrHeadroom           = 0.15
	bbrMinPipePackets     = 4
	bbrFullBwGrowth       = 1.25
	bbrFullBwRounds       = 3
	bbrStartupFullLossCnt = 6
	bbrExtraAckedRounds   = 10
	bbrMaxRenoRounds      = 63
	bbrMaxProbeUpRounds   = 30
	bbrMaxSendQuantum     = 64 << 10
	bbrMinRTTFilterLen    = 10 * time.Second
	bbrProbeRTTInterval   = 5 * time.Second
	bbrProbeRTTDuration   = 200 * time.Millisecond
	bbrProbeWaitBase      = 2 * time.Second
	// bbrLossBaseWindow is how much data, in datagrams, the baseline loss
	// rate is measured over: its counts halve when they pass it.
	bbrLossBaseWindow = 2000
)

// Infinite values of the model (the draft's "Infinity").
const (
	bbrInfBytes = math.MaxInt
	bbrInfRTT   = time.Duration(math.MaxInt64)
)

// bbrMode is BBR.state.
type bbrMode uint8

// The states of Section 5.1.1.
const (
	bbrStartup bbrMode = iota
	bbrDrain
	bbrProbeBWDown
	bbrProbeBWCruise
	bbrProbeBWRefill
	bbrProbeBWUp
	bbrProbeRTT
)

var bbrModeNames = [...]string{"Startup", "Drain", "ProbeBW_DOWN", "ProbeBW_CRUISE", "ProbeBW_REFILL", "ProbeBW_UP", "ProbeRTT"}

// bbrAckPhase is BBR.ack_phase: where the ACKs now arriving stand in the
// bandwidth-probing cycle.
type bbrAckPhase uint8

const (
	acksInit bbrAckPhase = iota
	acksRefilling
	acksProbeStarting
	acksProbeFeedback
	acksProbeStopping
)

// bbr is the BBRv3 congestion controller of draft-ietf-ccwg-bbr. Volumes
// are bytes, rates bytes per second. It keeps the delivery rate sampler
// (rate.go), which State feeds with the acknowledged packets of each ACK
// frame, and sets both the congestion window and the pacing rate.
type bbr struct {
	p    *ccParams
	rate rateSampler
	rs   rateSample // the current ACK frame's sample
	seed uint64
	rng  rand.PCG

	cwnd       int
	pacing     float64 // C.pacing_rate; 0 until the first RTT sample
	mode       bbrMode
	pacingGain float64
	cwndGain   float64

	// Round counting (Section 5.5.1).
	roundCount         int64
	roundStart         bool
	nextRoundDelivered int64
	idleRestart        bool
	// cwnd-limited tracking: C.is_cwnd_limited is "in this round or the
	// last".
	cwndLimited, wasCwndLimited bool
	stamped                     bool // the clock-based state got its first time
	lastSentSeq                 int64

	// Data-rate model (Section 2.8.1).
	maxBwSlot  [2]float64 // max filter over the current and previous ProbeBW cycle
	cycleCount int64
	maxBw      float64
	bwShort    float64 // BBR.bw_shortterm; +Inf when unset
	bw         float64

	// Data-volume model (Section 2.8.2).
	minRTT           time.Duration
	minRTTStamp      mono.Time
	extraAcked       int
	extraAckedStart  mono.Time
	extraAckedBytes  int64
	extraAckedFilter roundMax
	inflightLong     int // BBR.inflight_longterm; bbrInfBytes when unset
	inflightShort    int // BBR.inflight_shortterm; bbrInfBytes when unset

	// Congestion signals (Section 2.9).
	bwLatest           float64
	inflightLatest     int
	lossInRound        bool
	lossRoundStart     bool
	lossRoundDelivered int64
	lossEvents         int     // discontiguous losses this loss round
	lastLostSeq        int64   // to tell contiguous losses apart
	roundLost0         int64   // C.lost at the start of the loss round
	roundDelivered0    int64   // C.delivered at the start of the loss round
	lossBase           float64 // loss rate the flow does not cause (learnLossBase)
	lossBaseLost       int64   // bytes lost in the rounds lossBase measures
	lossBaseTotal      int64   // bytes sent in those rounds

	// Full-pipe estimation (Section 5.3.1.2).
	fullBw        float64
	fullBwCount   int
	fullBwNow     bool
	fullBwReached bool

	// ProbeBW (Section 5.3.3).
	cycleStamp         mono.Time
	bwProbeWait        time.Duration
	roundsSinceBwProbe int64
	ackPhase           bbrAckPhase
	bwProbeUpRounds    int
	bwProbeUpAcks      int
	probeUpCnt         int
	bwProbeSamples     bool

	// ProbeRTT (Section 5.3.4).
	probeRTTMinDelay  time.Duration
	probeRTTMinStamp  mono.Time
	probeRTTExpired   bool
	probeRTTDoneStamp mono.Time
	probeRTTRoundDone bool
	priorCwnd         int

	// Loss recovery (Section 5.6.4.4): the recovery period ends with the
	// acknowledgment of a packet sent after it began.
	inRecovery     bool
	recoveryEndSeq int64
}

func (b *bbr) init(p *ccParams, seed uint64) {
	*b = bbr{p: p, seed: seed}
	b.reset()
}

// reset is BBROnInit (Section 5.2.1). Clock-based stamps are taken at the
// first send (onSend), the first time a controller method sees the clock.
// The sampler's counts go on: packets in flight hold snapshots of them.
func (b *bbr) reset() {
	*b = bbr{p: b.p, rate: b.rate, seed: b.seed}
	b.rng.Seed(b.seed, b.seed^0x5851f42d4c957f2d)
	b.cwnd = b.p.initialWindow()
	b.minRTT = bbrInfRTT
	b.probeRTTMinDelay = bbrInfRTT
	b.inflightLong = bbrInfBytes
	b.lastLostSeq = -2
	b.resetCongestionSignals()
	b.resetShortTermModel()
	b.resetFullBW()
	b.enterStartup()
}

func (b *bbr) window() int       { return b.cwnd }
func (b *bbr) ssthresh() int     { return noSSThresh }
func (b *bbr) inSlowStart() bool { return b.mode == bbrStartup }
func (b *bbr) pacingRate() float64 {
	return b.pacing
}
func (b *bbr) stateName() string { return bbrModeNames[b.mode] }

func (b *bbr) mds() int     { return b.p.mds }
func (b *bbr) minPipe() int { return bbrMinPipePackets * b.p.mds }
func (b *bbr) inProbeBW() bool {
	return b.mode >= bbrProbeBWDown && b.mode <= bbrProbeBWUp
}

// isProbingBW is BBRIsProbingBW: the accelerating states.
func (b *bbr) isProbingBW() bool {
	return b.mode == bbrStartup || b.mode == bbrProbeBWRefill || b.mode == bbrProbeBWUp
}

// isCwndLimited is C.is_cwnd_limited.
func (b *bbr) isCwndLimited() bool { return b.cwndLimited || b.wasCwndLimited }

// onSend runs before an in-flight packet is counted: it snapshots the
// delivery rate sampler into p and runs BBROnTransmit (Section 5.2.2);
// inflight excludes p.
func (b *bbr) onSend(now mono.Time, p *Sent, inflight int) {
	b.rate.onSent(now, p, inflight)
	if !b.stamped {
		b.stamped = true
		b.minRTTStamp = now
		b.probeRTTMinStamp = now
		b.extraAckedStart = now
	}
	if inflight == 0 && b.rate.appLimited != 0 {
		b.handleRestartFromIdle(now)
	}
	b.lastSentSeq = p.seq
	if inflight+p.Size+b.mds() > b.cwnd {
		b.cwndLimited = true
	}
}

// handleRestartFromIdle is BBRHandleRestartFromIdle (Section 5.4.1):
// ProbeBW resumes pacing at exactly bw; a ProbeRTT that idled long
// enough ends.
func (b *bbr) handleRestartFromIdle(now mono.Time) {
	b.idleRestart = true
	b.extraAckedStart = now
	if b.inProbeBW() {
		b.setPacingRateWithGain(1)
	} else if b.mode == bbrProbeRTT {
		b.checkProbeRTTDone(now)
	}
}

// onAck is BBRUpdateOnACK (Section 5.2.3) for one ACK frame.
func (b *bbr) onAck(a *ackEvent) {
	rs := &b.rs
	if !rs.hasData {
		return
	}
	now := a.now
	if b.pacing == 0 && a.rtt.HasSample {
		b.initPacingRate(a.rtt.Smoothed)
	}
	if b.inRecovery && a.largestSeq >= b.recoveryEndSeq {
		b.inRecovery = false
		b.restoreCwnd()
	}
	b.updateLatestDeliverySignals(rs)
	b.updateCongestionSignals(rs)
	b.updateACKAggregation(now, rs)
	b.checkFullBWReached(rs)
	b.checkStartupDone()
	b.checkDrainDone(now, a.inflight)
	b.updateProbeBWCyclePhase(now, rs, a.inflight)
	b.updateMinRTT(now, rs)
	b.checkProbeRTT(now, rs, a.inflight)
	b.advanceLatestDeliverySignals(rs)
	b.boundBWForModel()
	b.setPacingRate()
	b.setCwnd(rs)
}

// onCE takes n bytes newly reported CE-marked. CE marks are congestion
// (Section 3.7): they count as lost bytes in the loss rate and mark the
// round as lossy, without a packet to retransmit.
func (b *bbr) onCE(n int) {
	b.rate.lost += int64(n)
	b.noteLoss()
}

// onCongestionEvent starts a recovery period (BBROnEnterFastRecovery):
// BBR does not cut its window on loss, it remembers it; the loss response
// is the model's (onLost and the per-round lower bounds).
func (b *bbr) onCongestionEvent(mono.Time) {
	b.saveCwnd()
	b.inRecovery = true
	b.recoveryEndSeq = b.lastSentSeq + 1
}

// onPersistentCongestion is BBR's retransmission-timeout response
// (BBROnEnterRTO): the window drops to BBR's minimum, four datagrams
// (RFC 9002 Section 7.6.2 requires the minimum window), and the remembered
// window returns once a packet sent after the collapse is acknowledged
// and the model allows it.
func (b *bbr) onPersistentCongestion() {
	b.saveCwnd()
	b.cwnd = b.minPipe()
	b.inRecovery = true
	b.recoveryEndSeq = b.lastSentSeq + 1
}

// restart is SendIdleTimeout's window restart, which BBR does not take:
// its restart from idle (handleRestartFromIdle, Section 5.4.1) keeps the
// window and paces the first flight at the model's bandwidth, so nothing
// is sent in a burst, and the model ages out by its own filters (max_bw
// over two ProbeBW cycles, min_rtt over ProbeRTTInterval). Collapsing the
// window to the initial one cost a long path several seconds of regrowth
// after every pause of a second, as when the peer's flow control held
// the sender back.
func (b *bbr) restart() bool { return false }

func (b *bbr) onMaxDatagramSizeChanged(resetWindow bool) {
	if resetWindow {
		b.cwnd = b.p.initialWindow()
	}
	b.cwnd = max(b.cwnd, b.minPipe())
}

// saveCwnd is BBRSaveCwnd: the last window not modulated by loss
// recovery or ProbeRTT.
func (b *bbr) saveCwnd() {
	if !b.inRecovery && b.mode != bbrProbeRTT {
		b.priorCwnd = b.cwnd
	} else {
		b.priorCwnd = max(b.priorCwnd, b.cwnd)
	}
}

// restoreCwnd is BBRRestoreCwnd.
func (b *bbr) restoreCwnd() { b.cwnd = max(b.cwnd, b.priorCwnd) }

// enterStartup is BBREnterStartup (Section 5.3.1.1).
func (b *bbr) enterStartup() {
	b.mode = bbrStartup
	b.pacingGain = bbrStartupPacingGain
	b.cwndGain = bbrDefaultCwndGain
}

// checkStartupDone is BBRCheckStartupDone; the high-loss exit is checked
// once per loss round (checkStartupHighLoss).
func (b *bbr) checkStartupDone() {
	if b.mode == bbrStartup && b.fullBwReached {
		b.enterDrain()
	}
}

// checkStartupHighLoss exits Startup when the loss round that just ended
// lost more than LossThresh of its data (beyond the baseline, see
// isInflightTooHigh) in at least StartupFullLossCnt discontiguous losses
// (Section 5.3.1.3); lost and total are the round's lost and sent bytes.
// The safe inflight becomes max(bdp, inflight_latest).
func (b *bbr) checkStartupHighLoss(lost, total int64) {
	if b.mode != bbrStartup || b.fullBwReached || b.lossEvents < bbrStartupFullLossCnt {
		return
	}
	if !b.isInflightTooHigh(&rateSample{lost: lost, txInFlight: int(total)}) {
		return
	}
	b.fullBwReached = true
	b.inflightLong = max(b.bdp(), b.inflightLatest)
}

// enterDrain is BBREnterDrain (Section 5.3.2).
func (b *bbr) enterDrain() {
	b.mode = bbrDrain
	b.pacingGain = bbrDrainPacingGain
	b.cwndGain = bbrDefaultCwndGain
}

// checkDrainDone is BBRCheckDrainDone: the queue Startup built is gone
// once inflight is down to the estimated BDP.
func (b *bbr) checkDrainDone(now mono.Time, inflight int) {
	if b.mode == bbrDrain && inflight <= b.inflight(b.bw, 1) {
		b.enterProbeBW(now)
	}
}

// checkProbeRTT is BBRCheckProbeRTT (Section 5.3.4.3), entered only once
// the pipe has been filled. The draft lets ProbeRTT interrupt Startup,
// whose queue keeps every RTT sample above the first round's: on a path
// of several hundred milliseconds Startup takes more than
// ProbeRTTInterval, and ProbeRTT then halves inflight in the middle of
// the ramp-up (a 600 ms path took a second longer to move 10 MB). Startup
// does not need it: its first round measured min_rtt before any queue
// formed, and the expired interval restarts with a current sample
// (updateMinRTT).
func (b *bbr) checkProbeRTT(now mono.Time, rs *rateSample, inflight int) {
	if b.mode != bbrProbeRTT && b.fullBwReached && b.probeRTTExpired && !b.idleRestart {
		b.enterProbeRTT()
		b.saveCwnd()
		b.probeRTTDoneStamp = 0
		b.ackPhase = acksProbeStopping
		b.startRound()
	}
	if b.mode == bbrProbeRTT {
		b.handleProbeRTT(now, inflight)
	}
	if rs.delivered > 0 {
		b.idleRestart = false
	}
}

// enterProbeRTT is BBREnterProbeRTT.
func (b *bbr) enterProbeRTT() {
	b.mode = bbrProbeRTT
	b.pacingGain = 1
	b.cwndGain = bbrProbeRTTCwndGain
}

// handleProbeRTT is BBRHandleProbeRTT: hold inflight at ProbeRTTCwnd for
// at least ProbeRTTDuration and one round.
func (b *bbr) handleProbeRTT(now mono.Time, inflight int) {
	// Samples taken while inflight is held down say nothing of the
	// path's bandwidth.
	b.rate.markAppLimited(inflight)
	switch {
	case b.probeRTTDoneStamp == 0 && inflight <= b.probeRTTCwnd():
		b.probeRTTDoneStamp = now.Add(bbrProbeRTTDuration)
		b.probeRTTRoundDone = false
		b.startRound()
	case b.probeRTTDoneStamp != 0:
		if b.roundStart {
			b.probeRTTRoundDone = true
		}
		if b.probeRTTRoundDone {
			b.checkProbeRTTDone(now)
		}
	}
}

// checkProbeRTTDone is BBRCheckProbeRTTDone.
func (b *bbr) checkProbeRTTDone(now mono.Time) {
	if b.probeRTTDoneStamp != 0 && now > b.probeRTTDoneStamp {
		// Schedule the next ProbeRTT.
		b.probeRTTMinStamp = now
		b.restoreCwnd()
		b.exitProbeRTT(now)
	}
}

// exitProbeRTT is BBRExitProbeRTT (Section 5.3.4.4): back to ProbeBW,
// straight to CRUISE since inflight is already below the BDP, or to
// Startup if the pipe was never filled.
func (b *bbr) exitProbeRTT(now mono.Time) {
	b.resetShortTermModel()
	if b.fullBwReached {
		b.startProbeBWDown(now)
		b.startProbeBWCruise()
	} else {
		b.enterStartup()
	}
}

// probeRTTCwnd is BBRProbeRTTCwnd.
func (b *bbr) probeRTTCwnd() int {
	return max(b.bdpMultiple(b.bw, bbrProbeRTTCwndGain), b.minPipe())
}

// updateRound is BBRUpdateRound (Section 5.5.1): a round ends when a
// packet sent after the previous round's end is acknowledged.
func (b *bbr) updateRound(rs *rateSample) {
	if rs.priorDelivered < b.nextRoundDelivered {
		b.roundStart = false
		return
	}
	b.startRound()
	b.roundCount++
	b.roundsSinceBwProbe++
	b.roundStart = true
	b.wasCwndLimited = b.cwndLimited
	b.cwndLimited = false
}

// startRound is BBRStartRound.
func (b *bbr) startRound() { b.nextRoundDelivered = b.rate.delivered }

// resetFullBW is BBRResetFullBW.
func (b *bbr) resetFullBW() {
	b.fullBw = 0
	b.fullBwCount = 0
	b.fullBwNow = false
}

// checkFullBWReached is BBRCheckFullBWReached (Section 5.3.1.2): three
// non-application-limited rounds without 25% growth of the delivery rate
// mean the pipe is full.
func (b *bbr) checkFullBWReached(rs *rateSample) {
	if b.fullBwNow || !b.roundStart || rs.isAppLimited {
		return
	}
	if rs.deliveryRate >= b.fullBw*bbrFullBwGrowth {
		b.resetFullBW()
		b.fullBw = rs.deliveryRate
		return
	}
	b.fullBwCount++
	b.fullBwNow = b.fullBwCount >= bbrFullBwRounds
	if b.fullBwNow {
		b.fullBwReached = true
	}
}
