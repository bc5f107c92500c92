package recovery

import "time"

// Stats are the sender-side counters the statistics API exposes (MsQuic
// QUIC_STATISTICS_V2 names in parentheses).
type Stats struct {
	// PacketsSent counts every packet passed to OnPacketSent
	// (SendTotalPackets).
	PacketsSent uint64
	// RetransmittablePacketsSent counts ack-eliciting packets
	// (SendRetransmittablePackets).
	RetransmittablePacketsSent uint64
	// BytesSent sums Sent.Size (SendTotalBytes).
	BytesSent uint64
	// PacketsLost counts packets declared lost (SendSuspectedLostPackets).
	PacketsLost uint64
	// PacketsSpuriouslyLost counts lost packets acknowledged later
	// (SendSpuriousLostPackets).
	PacketsSpuriouslyLost uint64
	// BytesInFlight is the current bytes in flight.
	BytesInFlight int
	// CongestionWindow is the current window in bytes
	// (SendCongestionWindow).
	CongestionWindow int
	// SlowStartThreshold is ssthresh in bytes; math.MaxInt before the
	// first congestion event.
	SlowStartThreshold int
	// SmoothedRTT, MinRTT, MaxRTT, RTTVariance and LatestRTT mirror the
	// RTT estimator (Rtt, MinRtt, MaxRtt, RttVariance).
	SmoothedRTT, MinRTT, MaxRTT, RTTVariance, LatestRTT time.Duration
	// CongestionEvents counts window reductions (SendCongestionCount).
	CongestionEvents uint64
	// PersistentCongestionEvents counts persistent congestion
	// (SendPersistentCongestionCount).
	PersistentCongestionEvents uint64
	// ECNCongestionEvents counts reductions caused by ECN-CE
	// (SendEcnCongestionCount).
	ECNCongestionEvents uint64
	// PTOCount counts probe timeouts over the connection's lifetime.
	PTOCount uint64
	// IdleRestarts counts window restarts after SendIdleTimeout (never
	// with BBR, which keeps its window).
	IdleRestarts uint64
	// ECNCapable reports that ECN validation succeeded on the path
	// (EcnCapable).
	ECNCapable bool
	// ECNFailures counts the paths on which ECN validation failed (RFC
	// 9000 §13.4.2.2): marks were cleared or miscounted, and the path's
	// packets went unmarked from then on.
	ECNFailures uint32
}

// Stats returns a snapshot of the counters.
func (l *State) Stats() Stats {
	s := l.stats
	s.BytesInFlight = l.bytesInFlight
	s.CongestionWindow = l.cc.window()
	s.SlowStartThreshold = l.cc.ssthresh()
	s.SmoothedRTT = l.rtt.Smoothed
	s.MinRTT = l.rtt.Min
	s.MaxRTT = l.rtt.Max
	s.RTTVariance = l.rtt.Var
	s.LatestRTT = l.rtt.Latest
	s.ECNCapable = l.ecn.state == ecnCapable
	s.ECNFailures = l.ecn.failures
	return s
}

// CongestionState names the congestion controller's state: slow_start or
// congestion_avoidance for CUBIC and NewReno; Startup, Drain, ProbeBW_DOWN,
// ProbeBW_CRUISE, ProbeBW_REFILL, ProbeBW_UP or ProbeRTT for BBR
// (draft-ietf-ccwg-bbr Section 5.1). The strings are constants, for logs
// such as qlog's congestion_state_updated.
func (l *State) CongestionState() string { return l.cc.stateName() }

// PacingRate returns the rate the pacer applies now in bytes per second,
// or zero when it is off (disabled, or no RTT sample of at least 1 ms).
func (l *State) PacingRate() float64 {
	if !l.pacing() {
		return 0
	}
	in := l.pacerInput()
	return in.rate()
}
