package recovery

import (
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/rangeset"
)

// spaceState is the sender's state for one packet-number space.
type spaceState struct {
	sent         sentList
	largestSent  int64 // -1 before the first packet
	largestAcked int64 // -1 before the first ACK
	// largestAckedTime is the send time of the largest acknowledged packet
	// (for the ECN congestion response, RFC 9002 Appendix B.7).
	largestAckedTime mono.Time
	// lossTime is the time-threshold deadline (loss_time[pn_space]).
	lossTime mono.Time
	// lastAckEliciting is time_of_last_ack_eliciting_packet[pn_space].
	lastAckEliciting mono.Time
	// Counts of packets not yet acknowledged or declared lost.
	ackElicitingInFlight int
	inFlight             int
	probes               int
	discarded            bool
	// A run of lost ack-eliciting packets with nothing acknowledged in
	// between (persistent congestion, RFC 9002 Section 7.6.2).
	runActive    bool
	runStartTime mono.Time
	runStartSeq  int64
}

func (sp *spaceState) init() {
	sp.sent.reset()
	*sp = spaceState{sent: sp.sent, largestSent: -1, largestAcked: -1}
}

// State is the loss-recovery and congestion-control state of one
// connection. The zero value must be initialised with Init before use. A
// State holds pointers into itself: do not copy it after Init.
type State struct {
	cfg      Config
	isServer bool

	params ccParams
	cc     controller
	reno   newReno
	cubic  cubic
	bbr    *bbr // set when selected: most connections never need its state
	rtt    rttEstimator
	pacer  pacer
	ecn    ecnValidator
	pool   pool

	spaces  [NumSpaces]spaceState
	nextSeq int64
	// ackedSeqs holds the send sequences of acknowledged packets that may
	// still matter for persistent congestion.
	ackedSeqs rangeset.Set[int64]

	bytesInFlight   int
	ptoCount        int
	peerMaxAckDelay time.Duration

	handshakeConfirmed   bool
	peerAddressValidated bool
	amplificationLimited bool
	handshakeKeys        bool

	recoveryStart mono.Time // congestion_recovery_start_time
	appLimited    bool
	lastSent      mono.Time // last in-flight packet (SendIdleTimeout)
	timer         mono.Time // loss detection timer; zero = none
	now           mono.Time // latest time passed to any method

	acked []*Sent // scratch: newly acknowledged packets of one ACK frame
	lost  []*Sent // scratch: packets declared lost in one pass
	ack   ackEvent

	stats Stats
}

// Init prepares l for a connection. Zero fields of cfg take their defaults.
func (l *State) Init(cfg Config, isServer bool) {
	if cfg.InitialRTT <= 0 {
		cfg.InitialRTT = DefaultInitialRTT
	}
	if cfg.MaxDatagramSize <= 0 {
		cfg.MaxDatagramSize = DefaultMaxDatagramSize
	}
	if cfg.InitialWindowPackets <= 0 {
		cfg.InitialWindowPackets = DefaultInitialWindowPackets
	}
	for i := range l.spaces {
		l.spaces[i].init()
	}
	l.ackedSeqs.Clear()
	*l = State{
		cfg:             cfg,
		isServer:        isServer,
		spaces:          l.spaces,
		ackedSeqs:       l.ackedSeqs,
		pool:            l.pool,
		acked:           l.acked[:0],
		lost:            l.lost[:0],
		peerMaxAckDelay: DefaultMaxAckDelay,
		params: ccParams{
			mds:       cfg.MaxDatagramSize,
			iwPackets: cfg.InitialWindowPackets,
			hystart:   cfg.HyStart,
			paced:     cfg.Pacing,
		},
	}
	l.rtt.init(cfg.InitialRTT)
	switch cfg.Algorithm {
	case NewReno:
		l.reno.init(&l.params)
		l.cc = &l.reno
	case BBR:
		l.bbr = new(bbr)
		l.bbr.init(&l.params, cfg.Seed)
		l.cc = l.bbr
	default:
		l.cubic.init(&l.params)
		l.cc = &l.cubic
	}
	if !cfg.ECN {
		l.ecn.state = ecnFailed
	}
}

// NewSent returns a pooled packet record with its frame log reset to length
// zero (capacity kept). Pass it to OnPacketSent.
func (l *State) NewSent() *Sent { return l.pool.get() }

// OnPacketSent records a sent packet and takes ownership of p. It sets
// p.Time. Packet numbers must increase within a space (a repeated or lower
// number is a programming error and panics; numbers may be skipped). An
// ack-eliciting packet is always counted in flight (RFC 9002 Section 2). A
// packet for a discarded space is dropped.
func (l *State) OnPacketSent(now mono.Time, p *Sent) {
	l.now = now
	sp := &l.spaces[p.Space]
	if sp.discarded {
		l.pool.put(p)
		return
	}
	if p.PN <= sp.largestSent {
		panic("recovery: packet numbers must increase within a space")
	}
	p.Time = now
	p.seq = l.nextSeq
	p.lost, p.abandoned = false, false
	l.nextSeq++
	sp.largestSent = p.PN
	l.stats.PacketsSent++
	l.stats.BytesSent += uint64(p.Size)
	if p.AckEliciting {
		p.InFlight = true
		l.stats.RetransmittablePacketsSent++
		sp.lastAckEliciting = now
		sp.ackElicitingInFlight++
		if sp.probes > 0 {
			sp.probes--
		}
	}
	if p.InFlight {
		// SendIdleTimeout: nothing in flight and nothing sent for that
		// long → restart from (at most) the initial window.
		if l.cfg.SendIdleTimeout > 0 && l.bytesInFlight == 0 && l.lastSent != 0 &&
			now.Sub(l.lastSent) >= l.cfg.SendIdleTimeout {
			if l.cc.restart() {
				l.stats.IdleRestarts++
			}
			l.pacer.reset()
		}
		l.cc.onSend(now, p, l.bytesInFlight)
		l.lastSent = now
		sp.inFlight++
		l.bytesInFlight += p.Size
		if l.pacing() {
			// An inactive pacer keeps no account: when it turns on,
			// its bucket starts full (the last refill is over an RTT
			// old, or unset).
			in := l.pacerInput()
			l.pacer.onSent(now, p.Size, &in)
		}
		if l.bytesInFlight+l.params.mds > l.cc.window() {
			// The window is full: the sender is no longer
			// application-limited (RFC 9002 Section 7.8).
			l.appLimited = false
		}
	}
	l.ecn.onSent(p)
	sp.sent.push(p)
	if p.InFlight {
		// Only in-flight packets move the timer (RFC 9002 Appendix B.5).
		l.setTimer(now)
	}
}

// OnAppLimited tells the controller that the sender ran out of data while the
// congestion window allowed more: the window will not grow until the sender
// fills it again (RFC 9002 Section 7.8), and delivery rate samples until the
// data now in flight is acknowledged are application-limited
// (draft-ietf-ccwg-bbr Section 4.1.2.4). It is ignored when the window
// cannot hold another full-size packet.
func (l *State) OnAppLimited() {
	if l.bytesInFlight+l.params.mds <= l.cc.window() {
		l.appLimited = true
		if l.bbr != nil {
			l.bbr.rate.markAppLimited(l.bytesInFlight)
		}
	}
}

// CongestionWindowAvailable returns how many bytes the congestion window
// allows to be sent now (cwnd - bytes in flight, at least zero).
func (l *State) CongestionWindowAvailable() int {
	return max(l.cc.window()-l.bytesInFlight, 0)
}

func (l *State) pacerInput() pacerInput {
	return pacerInput{
		cwnd:      l.cc.window(),
		mds:       l.params.mds,
		iw:        l.params.initialWindow(),
		srtt:      l.rtt.Smoothed,
		slowStart: l.cc.inSlowStart(),
		fixed:     l.cc.pacingRate(),
	}
}

// pacing reports whether the pacer is active: enabled, and an RTT sample of
// at least minPacingRTT exists.
func (l *State) pacing() bool {
	return l.cfg.Pacing && l.rtt.HasSample && l.rtt.Smoothed >= minPacingRTT
}

// NextSendTime returns when the pacer allows the next full-size packet: zero
// (or a time ≤ now) means now. It does not consider the congestion window;
// probe packets (ProbesNeeded) may ignore it.
func (l *State) NextSendTime(now mono.Time) mono.Time {
	l.now = now
	if !l.pacing() {
		return 0
	}
	in := l.pacerInput()
	return l.pacer.nextSendTime(now, &in)
}

// BurstPackets returns how many full-size packets may be sent back to back
// now (a GSO batch), limited by the congestion window and the pacer. It is 0
// when neither allows a packet, and at least 1 when some sending is allowed
// (the window may then have room only for a smaller packet; see
// CongestionWindowAvailable).
func (l *State) BurstPackets(now mono.Time) int {
	l.now = now
	avail := l.CongestionWindowAvailable()
	if avail == 0 {
		return 0
	}
	n := max(avail/l.params.mds, 1)
	if l.pacing() {
		in := l.pacerInput()
		n = min(n, l.pacer.burst(now, &in))
	}
	return n
}

// ECNMarking reports whether new packets should carry ECT(0): ECN is enabled
// and validation has not failed; after the first ten marked packets on a
// path, marking pauses until an ACK validates them.
func (l *State) ECNMarking() bool { return l.ecn.marking() }

// ECNValidated reports whether ECN validation succeeded on the path
// (RFC 9000 §13.4.2).
func (l *State) ECNValidated() bool { return l.ecn.state == ecnCapable }

// ProbesNeeded returns how many ack-eliciting probe packets (0, 1 or 2) the
// connection must send now in space, regardless of the congestion window and
// the pacer (RFC 9002 Sections 6.2.4 and 7.5). Each ack-eliciting packet
// sent in that space decrements it.
func (l *State) ProbesNeeded(space Space) int { return l.spaces[space].probes }

// RequestProbes asks for n ack-eliciting probe packets (at most 2) in space
// now, as a PTO would but without counting one (ptoCount and its backoff
// are unchanged): a handshake speed-up sends unacknowledged CRYPTO data
// earlier than the PTO expiry (RFC 9002 Section 6.2.3), and like the PTO
// probes it anticipates, these packets are not blocked by the congestion
// controller (Section 7.5). Each ack-eliciting packet sent in space
// decrements the count (ProbesNeeded). A discarded space is ignored.
func (l *State) RequestProbes(space Space, n int) {
	sp := &l.spaces[space]
	if sp.discarded {
		return
	}
	sp.probes = max(sp.probes, min(n, 2))
}

// ForgetSent makes the packet numbers of space up to largest count as sent
// without being tracked: they went out before Init, none of them
// ack-eliciting (a server's acknowledgments sent before its configuration
// replaced the recovery settings). An acknowledgment of them is accepted
// and ignored instead of failing with ErrAckOfUnsentPacket. Packets sent
// later in space must have higher numbers.
func (l *State) ForgetSent(space Space, largest int64) {
	sp := &l.spaces[space]
	sp.largestSent = max(sp.largestSent, largest)
}

// NextProbeData returns the record of the packet whose data the next PTO
// probe of space carries again (RFC 9002 Section 6.2.4: previously sent
// data MAY be sent): the oldest ack-eliciting packet in flight, neither
// acknowledged nor declared lost, that no probe has carried yet; path MTU
// probes are passed over. Once every such packet has been carried, it
// starts again from the oldest. Probes thus walk through all outstanding
// data instead of repeating the oldest packet's, which the peer may have
// had all along while its acknowledgments were lost. It returns nil when
// nothing is outstanding. The record stays State's: it must be neither
// modified nor kept.
func (l *State) NextProbeData(space Space) *Sent {
	live := l.spaces[space].sent.live()
	var oldest *Sent
	for _, e := range live {
		p := e.p
		if p == nil || p.lost || !p.AckEliciting || p.PMTUProbe {
			continue
		}
		if oldest == nil {
			oldest = p
		}
		if !p.probed {
			p.probed = true
			return p
		}
	}
	if oldest == nil {
		return nil
	}
	for _, e := range live {
		if e.p != nil {
			e.p.probed = false
		}
	}
	oldest.probed = true
	return oldest
}

// HasInFlight reports whether space has packets counted in bytes in flight
// that are neither acknowledged nor declared lost.
func (l *State) HasInFlight(space Space) bool { return l.spaces[space].inFlight > 0 }

// AckElicitingInFlight reports whether space has ack-eliciting packets that
// are neither acknowledged nor declared lost, which keep the PTO armed.
func (l *State) AckElicitingInFlight(space Space) bool {
	return l.spaces[space].ackElicitingInFlight > 0
}

// BytesInFlight returns the bytes of in-flight packets not yet acknowledged
// or declared lost.
func (l *State) BytesInFlight() int { return l.bytesInFlight }

// RTT returns the RTT estimator's current values.
func (l *State) RTT() RTTStats { return l.rtt.RTTStats }

// SetPeerMaxAckDelay records the peer's max_ack_delay transport parameter.
func (l *State) SetPeerMaxAckDelay(d time.Duration) {
	l.peerMaxAckDelay = max(d, 0)
	l.setTimer(l.now)
}

// OnHandshakeConfirmed records that the handshake is confirmed (RFC 9001
// Section 4.1.2): the App space may arm the PTO, ack delays are capped by
// max_ack_delay, and the client knows the server validated its address.
func (l *State) OnHandshakeConfirmed() {
	l.handshakeConfirmed = true
	l.peerAddressValidated = true
	l.setTimer(l.now)
}

// SetPeerAddressValidated records, on a client, that the server has
// validated the client's address (a Handshake packet was acknowledged, RFC
// 9002 Section 6.2.2.1); the anti-deadlock PTO ends. OnAckReceived for the
// Handshake space does this by itself.
func (l *State) SetPeerAddressValidated() {
	l.peerAddressValidated = true
	l.setTimer(l.now)
}

// SetHandshakeKeysAvailable records, on a client, that Handshake keys exist:
// an anti-deadlock probe then goes in a Handshake packet instead of an
// Initial one (RFC 9002 Section 6.2.2.1).
func (l *State) SetHandshakeKeysAvailable() { l.handshakeKeys = true }

// SetAmplificationLimited records whether a server is blocked by the
// anti-amplification limit; while it is, the PTO timer is not armed (RFC
// 9002 Section 6.2.2.1).
func (l *State) SetAmplificationLimited(limited bool) {
	l.amplificationLimited = limited
	l.setTimer(l.now)
}

// SetMaxDatagramSize changes the maximum datagram size (the path MTU
// changed). The minimum and initial windows follow; a decrease before the
// handshake is confirmed resets the window to the new initial window (RFC
// 9002 Section 7.2). Sizes below 1 are ignored.
func (l *State) SetMaxDatagramSize(n int) {
	if n < 1 || n == l.params.mds {
		return
	}
	decreased := n < l.params.mds
	l.params.mds = n
	l.cc.onMaxDatagramSizeChanged(decreased && !l.handshakeConfirmed)
}

// OnPathChanged resets congestion state for a new path: the controller
// returns to its initial window and slow start, the recovery period, pacer
// and ECN validation restart, and the RTT estimator returns to the initial
// RTT when resetRTT is set (RFC 9000 Section 9.4). Packets already in flight
// stay tracked and counted.
func (l *State) OnPathChanged(now mono.Time, resetRTT bool) {
	l.now = now
	l.cc.reset()
	l.recoveryStart = 0
	l.appLimited = false
	l.lastSent = 0
	l.pacer.reset()
	if l.cfg.ECN {
		l.ecn.restart()
	}
	if resetRTT {
		l.rtt.init(l.cfg.InitialRTT)
	}
	for i := range l.spaces {
		l.spaces[i].runActive = false
	}
	l.setTimer(now)
}

// AbandonInFlight declares lost every packet of space that is neither
// acknowledged nor declared lost, without a congestion response, when the
// connection has moved to a new path: those packets went on the old one,
// which the peer may have left for good (a NAT that forgot its mapping),
// and they MUST NOT count for congestion control or RTT estimation on the
// new path (RFC 9000 §9.4). They leave bytes in flight at once, so that
// the new path's window is not taken by packets that will never be
// acknowledged, and lost receives each one so that its frames go again. An
// acknowledgment that still comes for one is a spurious loss (WasLost) and
// gives no RTT sample.
func (l *State) AbandonInFlight(now mono.Time, space Space, lost func(*Sent)) {
	l.now = now
	sp := &l.spaces[space]
	for _, e := range sp.sent.live() {
		p := e.p
		if p == nil || p.lost {
			continue
		}
		p.lost, p.lostAt, p.abandoned = true, now, true
		l.stats.PacketsLost++
		if p.InFlight {
			l.bytesInFlight -= p.Size
			sp.inFlight--
			if p.AckEliciting {
				sp.ackElicitingInFlight--
			}
		}
		lost(p)
	}
	sp.lossTime = 0
	sp.runActive = false
	l.prune(now)
	l.setTimer(now)
}
