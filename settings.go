package quic

import "time"

// Optional is a value that may be left unset, MsQuic's IsSet bit made
// explicit. An unset field inherits its value from the level below (see
// Settings); a set field with the zero value is different from an unset one:
// Some(time.Duration(0)) for IdleTimeout disables the idle timeout.
type Optional[T any] struct {
	Value T
	Set   bool
}

// Some returns a set Optional holding v.
func Some[T any](v T) Optional[T] { return Optional[T]{Value: v, Set: true} }

// Settings are the transport settings of MsQuic's QUIC_SETTINGS, one field
// per MsQuic field, with MsQuic's defaults, units and ranges. Durations are
// time.Duration values truncated to MsQuic's unit (milliseconds unless a field
// says microseconds); negative durations are invalid.
//
// Only fields whose Set is true are applied ("patch" semantics), so a nil or
// zero Settings changes nothing. Values are resolved along MsQuic's chain:
//
//  1. Library defaults (the MsQuic defaults listed on each field), overwritten
//     by Library.SetSettings.
//  2. A Configuration starts from the library's values; the fields set in
//     NewConfiguration and Configuration.SetSettings overwrite them. Library
//     changes made later still reach every field the configuration did not
//     set itself.
//  3. A Connection starts from a copy of the library's values; fields set on
//     the connection win, and when a configuration is attached (client
//     Start, server SetConfiguration) it fills in only the fields the
//     connection did not set.
//
// Setting StreamRecvWindowDefault also sets the three per-stream-type windows
// at the same level, replacing values set there before, except those set in
// the same patch.
//
// Reading settings back (Library.Settings, Configuration.Settings) returns
// every field's current value, with Set reporting which fields were set
// explicitly at that level.
//
// Field names are MsQuic's with Go initialisms and without unit suffixes
// (IdleTimeoutMs → IdleTimeout, InitialRttMs → InitialRTT, MtuDiscovery* →
// MTUDiscovery*, DestCidUpdateIdleTimeoutMs → DestCIDUpdateIdleTimeout,
// GreaseQuicBitEnabled → GreaseQUICBitEnabled, EcnEnabled → ECNEnabled,
// XdpEnabled → XDPEnabled). Names used by the project specification map as
// follows: DesiredMaxBytesPerKey → MaxBytesPerKey; HandshakeIdleTimeoutMs,
// DisconnectTimeoutMs, InitialRttMs → HandshakeIdleTimeout,
// DisconnectTimeout, InitialRTT; RetryMemory → GlobalSettings.RetryMemoryLimit;
// StatelessRetryEnabled → GlobalSettings.StatelessRetryEnabled (hquic
// extension); MaxPacketRetryCount and LossDetectionGracePeriodMs →
// Extensions.MaxPacketRetryCount and Extensions.LossDetectionGracePeriod
// (hquic extensions).
//
// Extensions holds hquic-specific knobs that have no MsQuic equivalent.
type Settings struct {
	// MaxBytesPerKey is how many bytes are encrypted with one 1-RTT key
	// before a key update; at most the default 274,877,906,944 (2^38).
	// (The project spec's "DesiredMaxBytesPerKey".)
	MaxBytesPerKey Optional[uint64]
	// HandshakeIdleTimeout is the idle timeout before the handshake
	// completes; 0 disables it. Default 10s.
	HandshakeIdleTimeout Optional[time.Duration]
	// IdleTimeout is the advertised max_idle_timeout; 0 disables it. The
	// effective timeout is the smaller non-zero value of both peers, at
	// least three PTOs; expiry closes the connection silently with
	// StatusConnectionIdle. Default 30s.
	IdleTimeout Optional[time.Duration]
	// MTUDiscoverySearchCompleteTimeout (microseconds) is how long DPLPMTUD
	// waits after a search that ended below MaximumMTU before probing
	// again. Default 600s.
	MTUDiscoverySearchCompleteTimeout Optional[time.Duration]
	// TLSClientMaxSendBuffer is MsQuic's client TLS send buffer budget in
	// bytes, which MsQuic's core does not use; setting it fails with
	// ErrNotSupported. Default 4096.
	TLSClientMaxSendBuffer Optional[uint32]
	// TLSServerMaxSendBuffer is MsQuic's server TLS send buffer budget in
	// bytes, likewise unused; setting it fails with ErrNotSupported.
	// Default 8192.
	TLSServerMaxSendBuffer Optional[uint32]
	// StreamRecvWindowDefault is the initial per-stream receive window for
	// all stream types, a non-zero power of two; it also sets the three
	// per-type windows (see Settings). Default 65536.
	StreamRecvWindowDefault Optional[uint32]
	// StreamRecvBufferDefault is the initial receive buffer allocation of a
	// stream, at least 4096 bytes. Default 4096.
	StreamRecvBufferDefault Optional[uint32]
	// ConnFlowControlWindow is the connection receive window
	// (initial_max_data). Default 16,777,216.
	ConnFlowControlWindow Optional[uint32]
	// MaxWorkerQueueDelay (microseconds) is the average worker queue delay
	// above which the worker counts as overloaded: a client's first Initial
	// that would start a server connection on it is dropped before any
	// state is created (counted in ListenerStatistics.Dropped.Overloaded),
	// and the client retransmits it later. The delay is the moving average
	// of how long connections wait on the worker's ready list, zero while
	// the worker is idle (MsQuic's AverageQueueDelay). Only the
	// library-wide value (Library.SetSettings) is used. Default 250ms.
	MaxWorkerQueueDelay Optional[time.Duration]
	// MaxStatelessOperations is the most stateless answers (Version
	// Negotiation, Retry, stateless reset) waiting on one of the library's
	// stateless workers (one per GOMAXPROCS, shared by all sockets); an
	// answer beyond it is dropped (Dropped.StatelessQueueFull). Workers
	// write answers in batches as fast as they are built, so the rate of
	// answers is bounded only by CPU, never by a fixed count per second.
	// Only the library-wide value is used. Default 1024 (MsQuic's is 16):
	// deep enough to absorb a socket read's burst while a worker
	// goroutine waits for a CPU on a busy machine, and drained in about
	// a millisecond; a queued answer takes about 540 bytes.
	MaxStatelessOperations Optional[uint32]
	// InitialWindowPackets is the initial congestion window in packets.
	// Default 10.
	InitialWindowPackets Optional[uint32]
	// SendIdleTimeout resets the congestion window after sending nothing
	// for this long (CUBIC and NewReno; BBR, like MsQuic's, keeps its
	// window and paces its restart at its bandwidth estimate instead).
	// Default 1s.
	SendIdleTimeout Optional[time.Duration]
	// InitialRTT is the RTT estimate before the first sample; at least 1ms.
	// Default 333ms.
	InitialRTT Optional[time.Duration]
	// MaxAckDelay is the advertised max_ack_delay, at most 16383ms (RFC
	// 9000, Section 18.2). Default 25ms.
	MaxAckDelay Optional[time.Duration]
	// DisconnectTimeout is how long sent data may stay unacknowledged before
	// the connection is declared dead (StatusConnectionTimeout); 1ms to
	// 600s. Default 16s.
	DisconnectTimeout Optional[time.Duration]
	// KeepAliveInterval sends a PING this often when otherwise idle; 0 turns
	// keep-alives off. Default 0.
	KeepAliveInterval Optional[time.Duration]
	// CongestionControlAlgorithm selects the congestion controller: CUBIC,
	// BBR or (an hquic extension) NewReno; any other value is refused
	// with ErrInvalidParameter. Default CongestionControlCubic.
	CongestionControlAlgorithm Optional[CongestionControlAlgorithm]
	// PeerBidiStreamCount is how many bidirectional streams the peer may
	// have open at once. Default 0: the peer cannot open any.
	PeerBidiStreamCount Optional[uint16]
	// PeerUnidiStreamCount is how many unidirectional streams the peer may
	// have open at once. Default 0.
	PeerUnidiStreamCount Optional[uint16]
	// MaxBindingStatelessOperations is the most stateless answers of one
	// UDP socket waiting or being written at once; an answer beyond it is
	// dropped (Dropped.StatelessBindingCap). Unlike MsQuic, an answer stops
	// counting once written, not after StatelessOperationExpiration, so the
	// limit bounds memory and work in progress, not the rate. Only the
	// library-wide value is used. Default 2048 (MsQuic's is 100), twice
	// the default queue of one stateless worker.
	MaxBindingStatelessOperations Optional[uint16]
	// StatelessOperationExpiration is the least time between two stateless
	// answers to one remote address and port, at most 65535ms: a peer
	// answered less than this ago is not answered again
	// (Dropped.StatelessSpacing), so spoofed packets cannot make a server
	// reflect more than one small packet per interval at any victim. Every
	// answer is also smaller than the datagram that drew it. The recent
	// peers are kept in a fixed table of 16384 entries. Only the
	// library-wide value is used. Default 100ms.
	StatelessOperationExpiration Optional[time.Duration]
	// MinimumMTU is the IP MTU DPLPMTUD starts from, clamped to
	// [1248, 1500] and not above MaximumMTU. Cannot change after a
	// connection started. Default 1288.
	MinimumMTU Optional[uint16]
	// MaximumMTU is the largest IP MTU DPLPMTUD probes, clamped to
	// [1248, 1500]. Cannot change after a connection started. Default 1500.
	MaximumMTU Optional[uint16]
	// SendBufferingEnabled makes the library copy send data so that
	// SendComplete comes early. Default true.
	SendBufferingEnabled Optional[bool]
	// PacingEnabled paces packets over the RTT. Default true.
	PacingEnabled Optional[bool]
	// MigrationEnabled allows the client to migrate to a new address.
	// Default true.
	MigrationEnabled Optional[bool]
	// DatagramReceiveEnabled advertises max_datagram_frame_size so the peer
	// may send DATAGRAM frames (RFC 9221). Default false.
	DatagramReceiveEnabled Optional[bool]
	// ServerResumptionLevel controls session tickets and 0-RTT on servers,
	// at most ServerResumeAndZeroRTT. Default ServerNoResume.
	ServerResumptionLevel Optional[ServerResumptionLevel]
	// GreaseQUICBitEnabled advertises grease_quic_bit (RFC 9287). Default
	// false.
	GreaseQUICBitEnabled Optional[bool]
	// ECNEnabled turns on ECN marking and validation for sent packets.
	// Cannot change after a connection started. Default false.
	ECNEnabled Optional[bool]
	// MaxOperationsPerDrain is the number of queued operations a connection
	// processes per scheduling turn; non-zero. Default 16.
	MaxOperationsPerDrain Optional[uint8]
	// MTUDiscoveryMissingProbeCount is the number of unacknowledged probes
	// of one size after which DPLPMTUD gives up on it. Default 3.
	MTUDiscoveryMissingProbeCount Optional[uint8]
	// DestCIDUpdateIdleTimeout switches to a fresh destination connection
	// ID (one the peer issued and we have not used, retiring the old one)
	// when sending after nothing was sent this long, once the handshake is
	// confirmed and no path is being validated; 0 disables it. Default
	// 20s.
	DestCIDUpdateIdleTimeout Optional[time.Duration]
	// HyStartEnabled turns on HyStart++ (RFC 9406) for CUBIC. Default
	// false.
	HyStartEnabled Optional[bool]
	// StreamRecvWindowBidiLocalDefault is the initial window of
	// bidirectional streams this endpoint opens
	// (initial_max_stream_data_bidi_local); a non-zero power of two.
	// Default 65536 (follows StreamRecvWindowDefault).
	StreamRecvWindowBidiLocalDefault Optional[uint32]
	// StreamRecvWindowBidiRemoteDefault is the initial window of
	// bidirectional streams the peer opens
	// (initial_max_stream_data_bidi_remote); a non-zero power of two.
	// Default 65536.
	StreamRecvWindowBidiRemoteDefault Optional[uint32]
	// StreamRecvWindowUnidiDefault is the initial window of unidirectional
	// streams the peer opens (initial_max_stream_data_uni); a non-zero
	// power of two. Default 65536.
	StreamRecvWindowUnidiDefault Optional[uint32]

	// EncryptionOffloadAllowed (MsQuic preview) allows NIC crypto offload.
	// Not implemented: true fails with ErrNotSupported. Default false.
	EncryptionOffloadAllowed Optional[bool]
	// ReliableResetEnabled (MsQuic preview) negotiates RESET_STREAM_AT.
	// Not implemented: true fails with ErrNotSupported. Default false.
	ReliableResetEnabled Optional[bool]
	// OneWayDelayEnabled (MsQuic preview) negotiates the timestamp
	// extension. Not implemented: true fails with ErrNotSupported.
	// Default false.
	OneWayDelayEnabled Optional[bool]
	// NetStatsEventEnabled (MsQuic preview) emits network statistics
	// events. Not implemented: true fails with ErrNotSupported. Default
	// false.
	NetStatsEventEnabled Optional[bool]
	// StreamMultiReceiveEnabled (MsQuic preview) allows several outstanding
	// receive indications. Not implemented: true fails with
	// ErrNotSupported. Default false.
	StreamMultiReceiveEnabled Optional[bool]
	// XDPEnabled (MsQuic preview) selects an XDP datapath. Not
	// implemented: true fails with ErrNotSupported. Default false.
	XDPEnabled Optional[bool]
	// QTIPEnabled (MsQuic preview) sends QUIC in TCP-looking packets. Not
	// implemented: true fails with ErrNotSupported. Default false.
	QTIPEnabled Optional[bool]

	// Extensions are hquic-specific settings with no MsQuic equivalent.
	Extensions ExtensionSettings
}

// ExtensionSettings are hquic's own transport knobs, asked for by the
// project specification and absent from MsQuic. They follow the same
// Optional/precedence rules as Settings.
type ExtensionSettings struct {
	// MaxPacketRetryCount limits how many consecutive times the
	// Initial/Handshake flight is retransmitted (handshake probe timeouts)
	// before the handshake gives up; 0 means no count limit, only the time
	// limits (HandshakeIdleTimeout, DisconnectTimeout), which is MsQuic's
	// behaviour. MsQuic has no such setting: its giving up is time-based.
	// Default 0.
	MaxPacketRetryCount Optional[uint32]
	// LossDetectionGracePeriod (milliseconds) is a floor on the probe
	// timeout while the handshake is in progress, i.e. the minimum delay
	// before a handshake flight is declared lost and resent; 0 means the
	// plain RFC 9002 computation. MsQuic has no such setting (its loss
	// thresholds are internal constants; the spec's
	// "LossDetectionGracePeriodMs"). Default 0.
	LossDetectionGracePeriod Optional[time.Duration]
	// QlogDir, if not empty, makes every connection write a qlog file
	// into this directory, created if needed (tracing.go). Default: the
	// QLOGDIR environment variable when the library was opened.
	QlogDir Optional[string]
	// Tracer, if not nil, receives every event of the connection's trace
	// (tracing.go). Default nil.
	Tracer Optional[Tracer]
}

// MsQuic defaults (quicdef.h) and limits (settings.c).
const (
	defaultMaxBytesPerKey     = 274877906944 // 2^38
	defaultStreamRecvWindow   = 65536
	minStreamRecvBuffer       = 4096
	maxAckDelayLimit          = 16383 * time.Millisecond // 2^14-1 (RFC 9000, Section 18.2)
	maxDisconnectTimeout      = 600 * time.Second
	minMTU                    = 1248 // 1200 + IPv6 header + UDP header
	maxMTU                    = 1500
	defaultMinimumMTU         = 1288
	defaultRetryMemoryLimit   = 65 // of 65535, about 0.1% of RAM
	maxUint32Milliseconds     = (1<<32 - 1) * time.Millisecond
	maxUint32Microseconds     = (1<<32 - 1) * time.Microsecond
	maxStatelessOpsExpiration = 65535 * time.Millisecond

	defaultMaxStatelessOperations        = 1024
	defaultMaxBindingStatelessOperations = 2048
)

// defaultSettings returns MsQuic's defaults with every Value filled in and
// no field marked Set; MaxStatelessOperations and
// MaxBindingStatelessOperations are deeper than MsQuic's (see their
// documentation).
func defaultSettings() Settings {
	def := func(v uint32) Optional[uint32] { return Optional[uint32]{Value: v} }
	ms := func(v int64) Optional[time.Duration] {
		return Optional[time.Duration]{Value: time.Duration(v) * time.Millisecond}
	}
	on := Optional[bool]{Value: true}
	return Settings{
		MaxBytesPerKey:                    Optional[uint64]{Value: defaultMaxBytesPerKey},
		HandshakeIdleTimeout:              ms(10000),
		IdleTimeout:                       ms(30000),
		MTUDiscoverySearchCompleteTimeout: ms(600000),
		TLSClientMaxSendBuffer:            def(4096),
		TLSServerMaxSendBuffer:            def(8192),
		StreamRecvWindowDefault:           def(defaultStreamRecvWindow),
		StreamRecvBufferDefault:           def(minStreamRecvBuffer),
		ConnFlowControlWindow:             def(16777216),
		MaxWorkerQueueDelay:               ms(250),
		MaxStatelessOperations:            def(defaultMaxStatelessOperations),
		InitialWindowPackets:              def(10),
		SendIdleTimeout:                   ms(1000),
		InitialRTT:                        ms(333),
		MaxAckDelay:                       ms(25),
		DisconnectTimeout:                 ms(16000),
		MaxBindingStatelessOperations:     Optional[uint16]{Value: defaultMaxBindingStatelessOperations},
		StatelessOperationExpiration:      ms(100),
		MinimumMTU:                        Optional[uint16]{Value: defaultMinimumMTU},
		MaximumMTU:                        Optional[uint16]{Value: maxMTU},
		SendBufferingEnabled:              on,
		PacingEnabled:                     on,
		MigrationEnabled:                  on,
		MaxOperationsPerDrain:             Optional[uint8]{Value: 16},
		MTUDiscoveryMissingProbeCount:     Optional[uint8]{Value: 3},
		DestCIDUpdateIdleTimeout:          ms(20000),
		StreamRecvWindowBidiLocalDefault:  def(defaultStreamRecvWindow),
		StreamRecvWindowBidiRemoteDefault: def(defaultStreamRecvWindow),
		StreamRecvWindowUnidiDefault:      def(defaultStreamRecvWindow),
	}
}

// GlobalSettings are MsQuic's library-wide QUIC_GLOBAL_SETTINGS, set with
// Library.SetGlobalSettings (patch semantics, like Settings).
type GlobalSettings struct {
	// RetryMemoryLimit is the share of system memory, in units of 1/65535,
	// that connections still in their handshake may use before every
	// listener answers new Initial packets without a valid token with a
	// stateless Retry ("DoS mode", Library.DoSMode); each such connection
	// counts as 48 KiB. DoS mode ends, with hysteresis, once that memory
	// plus what the last second's unvalidated Initials would have added is
	// under half the limit. 0 means always Retry, 65535 effectively never.
	// Default 65 (about 0.1%).
	RetryMemoryLimit Optional[uint16]
	// LoadBalancingMode selects how server connection IDs encode routing
	// information: with a mode on, every server connection ID is 9 bytes,
	// QUIC-LB's plaintext layout (draft-ietf-quic-load-balancers) of a
	// first octet (config ID 0, self-encoded length), a 4-byte server ID
	// and 4 random bytes, so a load balancer can route every packet of a
	// connection, across connection ID changes and migration, to its
	// server. Cannot change once a registration has been opened. Default
	// LoadBalancingDisabled (8 random bytes).
	LoadBalancingMode Optional[LoadBalancingMode]
	// FixedServerID is the 4-byte server ID encoded with
	// LoadBalancingServerIDFixed. Cannot change once a registration has
	// been opened. Default 0.
	FixedServerID Optional[uint32]
	// StatelessRetryEnabled (hquic extension, the project spec's knob; not
	// an MsQuic field) makes every listener send a Retry to each new client
	// that has no valid token, the same as RetryMemoryLimit = 0 in MsQuic
	// terms. When false, Retry is automatic, driven by RetryMemoryLimit.
	// Default false.
	StatelessRetryEnabled Optional[bool]
}

// StatelessRetryConfig is the key configuration of Retry tokens
// (QUIC_STATELESS_RETRY_CONFIG). The token key is derived from Secret and
// the current rotation period, so a fleet sharing the configuration accepts
// each other's tokens.
type StatelessRetryConfig struct {
	// Algorithm is the token AEAD; Secret must be as long as its key.
	Algorithm AEADAlgorithm
	// Rotation is the key rotation period, at least 1ms and at most
	// 4294967295ms; a token stays valid for two periods. MsQuic's default
	// is 30s.
	Rotation time.Duration
	// Secret is the random secret the keys derive from: 16 bytes for
	// AEADAES128GCM, 32 for AEADAES256GCM.
	Secret []byte
}

// StreamSchedulingScheme orders sending among streams
// (QUIC_STREAM_SCHEDULING_SCHEME).
type StreamSchedulingScheme uint32

const (
	// SchedulingFIFO serves streams in the order they have data (default).
	SchedulingFIFO StreamSchedulingScheme = 0x0000
	// SchedulingRoundRobin interleaves streams.
	SchedulingRoundRobin StreamSchedulingScheme = 0x0001
)

// String returns the scheme name.
func (s StreamSchedulingScheme) String() string {
	return enumString("StreamSchedulingScheme", uint64(s), map[uint64]string{0: "FIFO", 1: "RoundRobin"})
}

// CongestionControlAlgorithm selects the congestion controller
// (QUIC_CONGESTION_CONTROL_ALGORITHM).
type CongestionControlAlgorithm uint16

const (
	// CongestionControlCubic is CUBIC (RFC 9438), the default.
	CongestionControlCubic CongestionControlAlgorithm = 0
	// CongestionControlBBR is BBRv3 as draft-ietf-ccwg-bbr specifies it
	// (a preview feature in MsQuic, whose BBR is an earlier version). It
	// sets the pacing rate itself; with PacingEnabled false it is not
	// paced and sends its window in bursts, which its model does not
	// expect. HyStartEnabled does not apply to it. A CE mark counts as
	// the loss of a maximum-size datagram in its loss rate. One departure
	// from the draft: loss rates are judged against the baseline loss the
	// flow sees while not probing (random loss on radio links), so that
	// random loss above the draft's 2% does not cap it far below the
	// path's capacity; where losses come only from queue overflow the
	// baseline is zero and the draft's rules apply unchanged.
	CongestionControlBBR CongestionControlAlgorithm = 1
)

// String returns the algorithm name.
func (a CongestionControlAlgorithm) String() string {
	return enumString("CongestionControlAlgorithm", uint64(a), map[uint64]string{0: "Cubic", 1: "BBR", 0x8000: "NewReno"})
}

// AEADAlgorithm selects the AEAD that protects Retry tokens
// (QUIC_AEAD_ALGORITHM_TYPE).
type AEADAlgorithm uint32

const (
	// AEADAES128GCM uses a 16-byte key.
	AEADAES128GCM AEADAlgorithm = 0
	// AEADAES256GCM uses a 32-byte key (MsQuic's default).
	AEADAES256GCM AEADAlgorithm = 1
)

// keyLen returns the key length of a, or 0 if a is unknown.
func (a AEADAlgorithm) keyLen() int {
	switch a {
	case AEADAES128GCM:
		return 16
	case AEADAES256GCM:
		return 32
	}
	return 0
}

// String returns the algorithm name.
func (a AEADAlgorithm) String() string {
	return enumString("AEADAlgorithm", uint64(a), map[uint64]string{0: "AES128GCM", 1: "AES256GCM"})
}
