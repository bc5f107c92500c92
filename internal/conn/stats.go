package conn

import (
	"time"
)

// Stats are a connection's counters (the fields of MsQuic's
// QUIC_STATISTICS_V2 that hquic maintains).
type Stats struct {
	RTT, MinRTT, MaxRTT, RTTVariance time.Duration

	SendPathMTU                   int
	SendTotalPackets              uint64
	SendRetransmittablePackets    uint64
	SendSuspectedLostPackets      uint64
	SendSpuriousLostPackets       uint64
	SendTotalBytes                uint64
	SendTotalStreamBytes          uint64
	SendCongestionCount           uint64
	SendPersistentCongestionCount uint64
	SendECNCongestionCount        uint64
	SendCongestionWindow          uint64
	SendBytesInFlight             uint64

	RecvTotalPackets       uint64
	RecvReorderedPackets   uint64
	RecvDroppedPackets     uint64
	RecvDuplicatePackets   uint64
	RecvTotalBytes         uint64
	RecvTotalStreamBytes   uint64
	RecvDecryptionFailures uint64
	RecvValidAckFrames     uint64
	RecvDatagrams          uint64

	KeyUpdateCount         uint32
	PathChanges            uint32 // migrations to a new validated path
	PathValidationFailures uint32 // paths that failed validation
	ECNCapable             bool
	StatelessRetry         bool
	VersionNegotiation     bool
}

// statistics merges the connection's counters with loss recovery's.
func (c *Conn) statistics() Stats {
	s := c.stats
	ls := c.loss.Stats()
	rtt := c.loss.RTT()
	s.RTT, s.MinRTT, s.MaxRTT, s.RTTVariance = rtt.Smoothed, rtt.Min, rtt.Max, rtt.Var
	s.SendPathMTU = c.path.maxDatagramSize()
	s.SendSpuriousLostPackets = ls.PacketsSpuriouslyLost
	s.SendCongestionCount = ls.CongestionEvents
	s.SendPersistentCongestionCount = ls.PersistentCongestionEvents
	s.SendECNCongestionCount = ls.ECNCongestionEvents
	s.SendCongestionWindow = uint64(ls.CongestionWindow)
	s.SendBytesInFlight = uint64(ls.BytesInFlight)
	s.KeyUpdateCount = c.app.updates
	s.ECNCapable = c.loss.ECNMarking()
	return s
}
