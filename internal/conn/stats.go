package conn

import (
	"time"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/mono"
)

// Stats are a connection's counters (the fields of MsQuic's
// QUIC_STATISTICS_V2 that hquic maintains).
type Stats struct {
	RTT, MinRTT, MaxRTT, RTTVariance time.Duration

	// SendPathMTU is the path's IP MTU: the UDP payload size plus the
	// 48 bytes of an IPv6 and a UDP header (MsQuic's Path->Mtu).
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

	// TimingInitialFlightEnd and TimingHandshakeFlightEnd are how long
	// after the connection started the first read keys after Initial were
	// installed, and the 1-RTT read keys (0 until then).
	TimingInitialFlightEnd, TimingHandshakeFlightEnd time.Duration
	// Handshake flight sizes in CRYPTO bytes: the client's Initial
	// flight, the server's flight, the client's second (Handshake) flight.
	HandshakeClientFlight1Bytes, HandshakeServerFlight1Bytes, HandshakeClientFlight2Bytes uint32

	KeyUpdateCount         uint32
	DestCIDUpdateCount     uint32 // switches to another destination connection ID
	PathChanges            uint32 // migrations to a new validated path
	PathValidationFailures uint32 // paths that failed validation
	ECNFailures            uint32 // paths on which ECN validation failed
	ECNCapable             bool   // ECN validated on the path (RFC 9000 §13.4.2)
	StatelessRetry         bool
	VersionNegotiation     bool
	// GreaseBitNegotiated: both sides sent grease_quic_bit (RFC 9287).
	GreaseBitNegotiated bool
}

// counters are what the connection counts itself; statistics adds what
// loss recovery, the path and the keys know.
type counters struct {
	SendTotalPackets           uint64
	SendRetransmittablePackets uint64
	SendSuspectedLostPackets   uint64
	SendTotalBytes             uint64
	SendTotalStreamBytes       uint64

	RecvTotalPackets       uint64
	RecvReorderedPackets   uint64
	RecvDroppedPackets     uint64
	RecvDuplicatePackets   uint64
	RecvTotalBytes         uint64
	RecvTotalStreamBytes   uint64
	RecvDecryptionFailures uint64
	RecvValidAckFrames     uint64
	RecvDatagrams          uint64

	start, initialFlightEnd, handshakeFlightEnd mono.Time
	clientFlight1, serverFlight1, clientFlight2 uint32

	DestCIDUpdates         uint32
	PathChanges            uint32
	PathValidationFailures uint32
	StatelessRetry         bool
	VersionNegotiation     bool
}

// statistics merges the connection's counters with loss recovery's.
func (c *Conn) statistics() Stats {
	k := &c.stats
	s := Stats{
		SendTotalPackets: k.SendTotalPackets, SendRetransmittablePackets: k.SendRetransmittablePackets,
		SendSuspectedLostPackets: k.SendSuspectedLostPackets, SendTotalBytes: k.SendTotalBytes,
		SendTotalStreamBytes: k.SendTotalStreamBytes,
		RecvTotalPackets:     k.RecvTotalPackets, RecvReorderedPackets: k.RecvReorderedPackets,
		RecvDroppedPackets: k.RecvDroppedPackets + c.rx.droppedCount(), RecvDuplicatePackets: k.RecvDuplicatePackets,
		RecvTotalBytes: k.RecvTotalBytes, RecvTotalStreamBytes: k.RecvTotalStreamBytes,
		RecvDecryptionFailures: k.RecvDecryptionFailures, RecvValidAckFrames: k.RecvValidAckFrames,
		RecvDatagrams:               k.RecvDatagrams,
		HandshakeClientFlight1Bytes: k.clientFlight1, HandshakeServerFlight1Bytes: k.serverFlight1,
		HandshakeClientFlight2Bytes: k.clientFlight2,
		DestCIDUpdateCount:          k.DestCIDUpdates, PathChanges: k.PathChanges,
		PathValidationFailures: k.PathValidationFailures, StatelessRetry: k.StatelessRetry,
		VersionNegotiation: k.VersionNegotiation,
	}
	if !k.initialFlightEnd.IsZero() {
		s.TimingInitialFlightEnd = k.initialFlightEnd.Sub(k.start)
	}
	if !k.handshakeFlightEnd.IsZero() {
		s.TimingHandshakeFlightEnd = k.handshakeFlightEnd.Sub(k.start)
	}
	ls := c.loss.Stats()
	rtt := c.loss.RTT()
	s.RTT, s.MinRTT, s.MaxRTT, s.RTTVariance = rtt.Smoothed, rtt.Min, rtt.Max, rtt.Var
	s.SendPathMTU = c.path.maxDatagramSize() + udpOverhead
	s.SendSpuriousLostPackets = ls.PacketsSpuriouslyLost
	s.SendCongestionCount = ls.CongestionEvents
	s.SendPersistentCongestionCount = ls.PersistentCongestionEvents
	s.SendECNCongestionCount = ls.ECNCongestionEvents
	s.SendCongestionWindow = uint64(ls.CongestionWindow)
	s.SendBytesInFlight = uint64(ls.BytesInFlight)
	s.KeyUpdateCount = c.app.updates
	s.ECNCapable = c.loss.ECNValidated()
	s.GreaseBitNegotiated = c.set.GreaseQUICBit && c.peerTP.greaseQUICBit
	s.ECNFailures = ls.ECNFailures
	return s
}

// onHandshakeKeys records the end of the Initial flight and, on a server,
// the size of the client's first flight when TLS installs Handshake read
// keys (MsQuic's Timing and Handshake statistics).
func (c *Conn) onHandshakeKeys() {
	k := &c.stats
	if k.initialFlightEnd.IsZero() {
		k.initialFlightEnd = c.now
	}
	if c.side == Server {
		k.clientFlight1 = uint32(c.hs.Received(handshake.StreamInitial))
	}
}

// onHandshakeFlightsRead records the end of the handshake flight and the
// size of the peer's last flight when the handshake completes, before
// CONNECTED is reported. crypto/tls installs the 1-RTT read keys only
// after it reports completion (RFC 9001 §5.7), so they come too late for
// a getter called from the CONNECTED handler.
func (c *Conn) onHandshakeFlightsRead() {
	k := &c.stats
	init, hs := uint32(c.hs.Received(handshake.StreamInitial)), uint32(c.hs.Received(handshake.StreamHandshake))
	if c.side == Server {
		k.clientFlight2 = hs
	} else {
		k.serverFlight1 = init + hs
	}
	k.handshakeFlightEnd = c.now
}

// onWriteKeys records the sizes of the flights TLS wrote when it installs
// write keys for level.
func (c *Conn) onWriteKeys(level handshake.Level) {
	k := &c.stats
	init, hs := c.hs.Send(handshake.StreamInitial), c.hs.Send(handshake.StreamHandshake)
	if init == nil || hs == nil {
		return
	}
	switch {
	case level == handshake.LevelHandshake && c.side == Client:
		k.clientFlight1 = uint32(init.Written())
	case level == handshake.LevelApp && c.side == Client:
		k.clientFlight2 = uint32(hs.Written())
	case level == handshake.LevelApp:
		k.serverFlight1 = uint32(init.Written() + hs.Written())
	}
}
