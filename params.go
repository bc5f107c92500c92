package quic

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/hquic/quic/internal/conn"
)

// Statistics are a connection's counters (QUIC_STATISTICS_V2, the fields
// hquic maintains, with its definitions). Times are durations; byte and
// packet counts are totals since the connection started.
type Statistics struct {
	// RTT is the smoothed round-trip time; MinRTT, MaxRTT and RTTVariance
	// are the smallest and largest samples and the variation.
	RTT, MinRTT, MaxRTT, RTTVariance time.Duration

	VersionNegotiation bool // a Version Negotiation round happened
	StatelessRetry     bool // a Retry was used
	// ResumptionAttempted reports that a client started with a resumption
	// ticket (SetResumptionTicket), or that a server was offered a
	// session it could resume (ResumedEvent; crypto/tls does not show a
	// server the tickets it cannot use). ResumptionSucceeded reports that
	// the session was resumed (ConnectedEvent.SessionResumed).
	ResumptionAttempted, ResumptionSucceeded bool
	// GreaseBitNegotiated reports that both sides sent the
	// grease_quic_bit transport parameter (RFC 9287;
	// Settings.GreaseQUICBitEnabled), so that the fixed bit varies.
	GreaseBitNegotiated bool
	// EncryptionOffloaded is always false: hquic encrypts every packet
	// itself (Settings.EncryptionOffloadAllowed is refused).
	EncryptionOffloaded bool
	// ECNCapable reports that the path was validated as ECN capable
	// (RFC 9000 §13.4.2), not merely that packets are being marked.
	ECNCapable bool

	// TimingStart is when the connection started (Start, or the first
	// Initial packet of a server connection). TimingInitialFlightEnd and
	// TimingHandshakeFlightEnd are how long after it the peer's Initial
	// flight and its Handshake flight were processed (the read keys of
	// the next level installed); 0 until then.
	TimingStart                                      time.Time
	TimingInitialFlightEnd, TimingHandshakeFlightEnd time.Duration
	// The TLS bytes of each handshake flight (CRYPTO data): the client's
	// first (Initial), the server's (Initial and Handshake), the client's
	// second (Handshake); 0 until known.
	HandshakeClientFlight1Bytes, HandshakeServerFlight1Bytes, HandshakeClientFlight2Bytes uint32

	// SendPathMTU is the path's IP MTU: the largest UDP payload plus 48
	// bytes of IPv6 and UDP headers, as MsQuic counts for both families.
	SendPathMTU                   uint16
	SendTotalPackets              uint64 // QUIC packets sent, coalesced ones counted each
	SendRetransmittablePackets    uint64 // ack-eliciting packets sent
	SendSuspectedLostPackets      uint64 // packets declared lost
	SendSpuriousLostPackets       uint64 // packets declared lost, then acknowledged
	SendTotalBytes                uint64 // UDP payload bytes sent
	SendTotalStreamBytes          uint64 // stream data bytes sent, retransmissions included
	SendCongestionCount           uint64 // congestion events
	SendPersistentCongestionCount uint64 // persistent congestion events
	SendECNCongestionCount        uint64 // congestion events caused by ECN-CE marks
	SendCongestionWindow          uint64 // the congestion window now, bytes
	SendBytesInFlight             uint64 // bytes in flight now (hquic extension)

	RecvTotalPackets       uint64 // QUIC packets received
	RecvReorderedPackets   uint64 // received below the largest packet number seen
	RecvDroppedPackets     uint64 // dropped for any reason, duplicates included
	RecvDuplicatePackets   uint64 // duplicates
	RecvTotalBytes         uint64 // UDP payload bytes received
	RecvTotalStreamBytes   uint64 // stream data bytes received
	RecvDecryptionFailures uint64 // packets that failed to decrypt
	RecvValidAckFrames     uint64 // ACK frames processed

	KeyUpdateCount     uint32 // 1-RTT key updates
	DestCIDUpdateCount uint32 // switches to another of the peer's connection IDs

	// hquic extensions.
	PathChanges            uint32 // moves to a new validated path (migration)
	PathValidationFailures uint32 // paths that failed validation
	// ECNValidationFailures counts the paths on which ECN validation
	// failed (RFC 9000 §13.4.2.2): the path or the peer cleared or
	// miscounted the marks, and packets on it went unmarked from then on.
	// The connection's trace shows each as quic:ecn_state_updated to
	// "failed".
	ECNValidationFailures uint32
	// TraceEventsDropped counts trace events (qlog, Tracer) that were
	// not recorded: the trace's buffer was full or its file could not be
	// written.
	TraceEventsDropped uint64
}

// snapshot returns the engine's published values, or false before a client
// starts.
func (c *Connection) snapshot() (conn.Snapshot, bool) {
	c.mu.Lock()
	live := c.state.has(connLive)
	c.mu.Unlock()
	if !live {
		return conn.Snapshot{}, false
	}
	return c.eng.Snapshot(), true
}

// Statistics returns the connection's counters as of the end of its last
// processing pass (QUIC_PARAM_CONN_STATISTICS_V2). It fails with
// ErrInvalidState before a client connection is started.
func (c *Connection) Statistics() (Statistics, error) {
	snap, ok := c.snapshot()
	if !ok {
		return Statistics{}, opError("Connection.Statistics", StatusInvalidState, "connection not started")
	}
	s := snap.Stats
	c.mu.Lock()
	start, attempted, resumed := c.startTime, c.resumeAttempted, c.resumeSucceeded
	c.mu.Unlock()
	return Statistics{
		RTT: s.RTT, MinRTT: s.MinRTT, MaxRTT: s.MaxRTT, RTTVariance: s.RTTVariance,
		VersionNegotiation: s.VersionNegotiation, StatelessRetry: s.StatelessRetry, ECNCapable: s.ECNCapable,
		ResumptionAttempted: attempted, ResumptionSucceeded: resumed, GreaseBitNegotiated: s.GreaseBitNegotiated,
		TimingStart: start, TimingInitialFlightEnd: s.TimingInitialFlightEnd, TimingHandshakeFlightEnd: s.TimingHandshakeFlightEnd,
		HandshakeClientFlight1Bytes: s.HandshakeClientFlight1Bytes, HandshakeServerFlight1Bytes: s.HandshakeServerFlight1Bytes,
		HandshakeClientFlight2Bytes: s.HandshakeClientFlight2Bytes, DestCIDUpdateCount: s.DestCIDUpdateCount,
		SendPathMTU:                   uint16(min(s.SendPathMTU, 65535)),
		SendTotalPackets:              s.SendTotalPackets,
		SendRetransmittablePackets:    s.SendRetransmittablePackets,
		SendSuspectedLostPackets:      s.SendSuspectedLostPackets,
		SendSpuriousLostPackets:       s.SendSpuriousLostPackets,
		SendTotalBytes:                s.SendTotalBytes,
		SendTotalStreamBytes:          s.SendTotalStreamBytes,
		SendCongestionCount:           s.SendCongestionCount,
		SendPersistentCongestionCount: s.SendPersistentCongestionCount,
		SendECNCongestionCount:        s.SendECNCongestionCount,
		SendCongestionWindow:          s.SendCongestionWindow,
		SendBytesInFlight:             s.SendBytesInFlight,
		RecvTotalPackets:              s.RecvTotalPackets,
		RecvReorderedPackets:          s.RecvReorderedPackets,
		RecvDroppedPackets:            s.RecvDroppedPackets,
		RecvDuplicatePackets:          s.RecvDuplicatePackets,
		RecvTotalBytes:                s.RecvTotalBytes,
		RecvTotalStreamBytes:          s.RecvTotalStreamBytes,
		RecvDecryptionFailures:        s.RecvDecryptionFailures,
		RecvValidAckFrames:            s.RecvValidAckFrames,
		KeyUpdateCount:                s.KeyUpdateCount,
		PathChanges:                   s.PathChanges,
		PathValidationFailures:        s.PathValidationFailures,
		ECNValidationFailures:         s.ECNFailures,
		TraceEventsDropped:            c.traceDropped(),
	}, nil
}

// RemoteAddr returns the peer's address (QUIC_PARAM_CONN_REMOTE_ADDRESS).
// Before a client starts it returns the address set with SetRemoteAddr, or
// fails with ErrInvalidState if none was.
func (c *Connection) RemoteAddr() (netip.AddrPort, error) {
	if snap, ok := c.snapshot(); ok {
		return snap.PeerAddr, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote.IsValid() {
		return c.remote, nil
	}
	return netip.AddrPort{}, opError("Connection.RemoteAddr", StatusInvalidState, "remote address not known yet")
}

// SetRemoteAddr sets the server address of a client connection before
// Start (QUIC_PARAM_CONN_REMOTE_ADDRESS); Start's server name is then used
// only for TLS. Errors: ErrInvalidParameter for an unspecified address,
// ErrInvalidState on a server connection or after Start.
func (c *Connection) SetRemoteAddr(a netip.AddrPort) error {
	const op = "Connection.SetRemoteAddr"
	if !a.IsValid() || a.Addr().IsUnspecified() || a.Port() == 0 {
		return opError(op, StatusInvalidParameter, "unspecified address %v", a)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server || c.state.has(connStarted) {
		return opError(op, StatusInvalidState, "only a client connection before Start")
	}
	c.remote = unmapAddrPort(a)
	return nil
}

// LocalAddr returns our address on the connection's path
// (QUIC_PARAM_CONN_LOCAL_ADDRESS); it fails with ErrInvalidState until it
// is known.
func (c *Connection) LocalAddr() (netip.AddrPort, error) {
	if snap, ok := c.snapshot(); ok {
		return snap.LocalAddr, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.local.IsValid() {
		return c.local, nil
	}
	return netip.AddrPort{}, opError("Connection.LocalAddr", StatusInvalidState, "local address not known yet")
}

// SetLocalAddr sets a client connection's local address
// (QUIC_PARAM_CONN_LOCAL_ADDRESS). Before Start it binds the connection's
// socket to a. After the handshake is confirmed it migrates the connection
// (RFC 9000 §9.2): a new socket is bound to a (port 0 picks one), the new
// path is validated with a fresh connection ID, and the connection moves to
// it, reported by LocalAddressChanged; if validation fails the connection
// stays where it was. Errors: ErrInvalidState on a server connection, while
// the handshake is in progress, when the server disabled active migration
// or has given no spare connection ID; socket errors such as
// ErrAddressInUse.
func (c *Connection) SetLocalAddr(a netip.AddrPort) error {
	const op = "Connection.SetLocalAddr"
	a = unmapAddrPort(a)
	c.mu.Lock()
	if c.server {
		c.mu.Unlock()
		return opError(op, StatusInvalidState, "only a client connection")
	}
	if !c.state.has(connStarted) {
		c.local = a
		c.mu.Unlock()
		return nil
	}
	eng, ch := c.eng, c.client
	c.mu.Unlock()
	if ch == nil || !eng.Snapshot().CanMigrate {
		return opError(op, StatusInvalidState, "migration needs a confirmed handshake, the peer's consent and a spare connection ID")
	}
	netw := "udp4"
	if a.Addr().Is6() {
		netw = "udp6"
	}
	b, err := c.lib.listen(netw, a, c.lib.endpointConfig(nil, c.reg))
	if err != nil {
		return opErrorWrap(op, statusFromSocketError(err), err)
	}
	ch.Add(b)
	eng.MigrateTo(b.LocalAddr())
	return nil
}

// SetSettings sets connection-level settings (QUIC_PARAM_CONN_SETTINGS):
// fields set here win over the configuration's. Before Start (or
// SetConfiguration on a server) every field may be set; they take effect
// then. On a started connection the change applies at once, for the
// fields that can change live:
//
//   - PeerBidiStreamCount, PeerUnidiStreamCount: a higher count is
//     advertised at once (MAX_STREAMS), a lower one takes effect as the
//     peer's streams close;
//   - IdleTimeout, HandshakeIdleTimeout (the timer restarts),
//     KeepAliveInterval (0 stops it), DisconnectTimeout;
//   - ConnFlowControlWindow, which may only grow (up to 64 MiB or the
//     starting window, the auto-tuning ceiling), announced as data is
//     consumed;
//   - the stream receive windows and StreamRecvBufferDefault, for streams
//     opened afterwards; SendBufferingEnabled, likewise;
//   - MaxOperationsPerDrain, MaxBytesPerKey, the MTUDiscovery timings and
//     DestCIDUpdateIdleTimeout, read each time they are used.
//
// MinimumMTU, MaximumMTU and ECNEnabled fail with ErrInvalidParameter
// (MsQuic's rule); the other fields, which MsQuic stores without effect
// once started (transport parameters already sent, congestion control
// set up at start, library-wide settings), fail with ErrInvalidState and
// a message naming the field and the reason. Invalid values fail with
// ErrInvalidParameter. A failed call changes nothing.
func (c *Connection) SetSettings(s *Settings) error {
	const op = "Connection.SetSettings"
	if s == nil {
		return nil
	}
	if err := s.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.has(connStarted | connConfigured) {
		return c.setLiveSettings(op, s)
	}
	return c.settings.update(op, s, true)
}

// NegotiatedALPN returns the ALPN the handshake chose
// (QUIC_PARAM_TLS_NEGOTIATED_ALPN), or "" before the handshake completes.
func (c *Connection) NegotiatedALPN() string {
	snap, _ := c.snapshot()
	return snap.NegotiatedALPN
}

// QUICVersion returns the connection's QUIC version in host byte order, e.g.
// Version1 or Version2 (QUIC_PARAM_CONN_QUIC_VERSION): the version a client
// started with until Version Negotiation or compatible version negotiation
// changes it, then the negotiated one. It fails with ErrInvalidState before
// a client starts.
func (c *Connection) QUICVersion() (uint32, error) {
	snap, ok := c.snapshot()
	if !ok || snap.Version == 0 {
		return 0, opError("Connection.QUICVersion", StatusInvalidState, "connection not started")
	}
	return snap.Version, nil
}

// IdealProcessor returns the index of the worker that runs the connection
// (QUIC_PARAM_CONN_IDEAL_PROCESSOR): in hquic, a worker goroutine of the
// registration rather than a CPU. It fails with ErrInvalidState before a
// client starts.
func (c *Connection) IdealProcessor() (uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.task == nil {
		return 0, opError("Connection.IdealProcessor", StatusInvalidState, "connection not running")
	}
	return uint16(c.task.WorkerIndex()), nil
}

// unmapAddrPort turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d) into
// the IPv4 address it maps, so that it binds and compares as IPv4.
func unmapAddrPort(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// LocalStreamCounts returns how many more bidirectional and unidirectional
// streams the peer lets this side open now
// (QUIC_PARAM_CONN_LOCAL_BIDI_STREAM_COUNT and
// QUIC_PARAM_CONN_LOCAL_UNIDI_STREAM_COUNT, at most 65535 each), as of the
// connection's last processing pass; StreamsAvailableEvent reports each
// change. Both are 0 until the peer's transport parameters arrive. It
// fails with ErrInvalidState before a client starts.
func (c *Connection) LocalStreamCounts() (bidi, unidi uint16, err error) {
	snap, ok := c.snapshot()
	if !ok {
		return 0, 0, opError("Connection.LocalStreamCounts", StatusInvalidState, "connection not started")
	}
	return uint16(min(snap.AvailableBidi, 65535)), uint16(min(snap.AvailableUni, 65535)), nil
}

// DatagramSendEnabled reports whether the peer accepts datagrams
// (QUIC_PARAM_CONN_DATAGRAM_SEND_ENABLED): false until its transport
// parameters arrive, and when it advertised no max_datagram_frame_size
// (RFC 9221 §3). DatagramStateChangedEvent reports the same, with the
// largest datagram.
func (c *Connection) DatagramSendEnabled() bool {
	snap, _ := c.snapshot()
	return snap.DatagramPeerKnown && snap.DatagramSendEnabled
}

// SetStreamSchedulingScheme selects how streams of equal priority share
// the connection's sending (QUIC_PARAM_CONN_STREAM_SCHEDULING_SCHEME):
// SchedulingRoundRobin moves a stream behind the others of its priority
// after each packet it fills; SchedulingFIFO serves each stream until it
// has nothing left to send, in the order they became ready. Streams of
// higher priority (Stream.SetPriority) always go first. hquic starts with
// SchedulingRoundRobin (MsQuic with SchedulingFIFO). The scheme may change
// at any time, also before Start; it applies from the next packet. Errors:
// ErrInvalidParameter for an unknown scheme, ErrInvalidState once the
// connection is closed.
func (c *Connection) SetStreamSchedulingScheme(s StreamSchedulingScheme) error {
	const op = "Connection.SetStreamSchedulingScheme"
	if s != SchedulingFIFO && s != SchedulingRoundRobin {
		return opError(op, StatusInvalidParameter, "unknown scheme %v", s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.has(connClosed) || c.eng == nil {
		return opError(op, StatusInvalidState, "connection closed")
	}
	c.fifo = s == SchedulingFIFO
	c.eng.SetStreamScheduling(!c.fifo)
	return nil
}

// StreamSchedulingScheme returns the scheme SetStreamSchedulingScheme
// chose, SchedulingRoundRobin by default.
func (c *Connection) StreamSchedulingScheme() StreamSchedulingScheme {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fifo {
		return SchedulingFIFO
	}
	return SchedulingRoundRobin
}

// OriginalDestCID returns the Destination Connection ID of the client's
// first Initial packet, before any Retry (QUIC_PARAM_CONN_ORIG_DEST_CID),
// on both sides: the ID the Initial keys derive from (RFC 9001 §5.2) and
// qlog files are named after. It fails with ErrInvalidState until the
// handshake completed.
func (c *Connection) OriginalDestCID() ([]byte, error) {
	snap, _ := c.snapshot()
	if snap.TLS == nil {
		return nil, opError("Connection.OriginalDestCID", StatusInvalidState, "handshake not complete")
	}
	return bytes.Clone(snap.TLS.OrigDestCID), nil
}
