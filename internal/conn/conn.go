// Package conn is the per-connection QUIC state machine (RFC 9000, 9001,
// 9002): it processes received datagrams, runs the TLS handshake, manages
// packet number spaces, keys, connection IDs, streams, flow control, loss
// recovery and timers, builds outgoing packets, and reports what happens to
// the application layer through the Events interface.
//
// A Conn is owned by one goroutine at a time. Other goroutines reach it only
// through its operation queue, its receive queue and its published snapshot
// (ops.go); everything else is touched only inside Run. Run never reads the
// clock: the executor passes the current time. The package never touches
// sockets, workers or bindings; it talks to them through Host.
package conn

import (
	"crypto/tls"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Side says which end of the connection this is.
type Side uint8

// The two sides.
const (
	Client Side = iota
	Server
)

// Scheduler wakes the goroutine that runs a connection. Wake must not block.
type Scheduler interface{ Wake() }

// A WakeClearer is a Scheduler whose wake-ups during a run can be
// answered by the run itself (exec.Handle.ClearWake): the connection
// clears them right before it takes the operations its callbacks queued.
type WakeClearer interface {
	Scheduler
	ClearWake()
}

// An InlineScheduler can also run the connection on the calling goroutine
// (exec.Handle). TryRun runs it there if no other goroutine runs it or has
// it queued, and reports whether it did; it must not block.
type InlineScheduler interface {
	Scheduler
	TryRun() bool
}

// OutBatch is one socket write: a datagram, or with SegSize > 0 a batch of
// equal-size datagrams (the last may be shorter) for segmentation offload.
type OutBatch struct {
	Buf     []byte
	SegSize int
	Addr    netip.AddrPort
	Local   netip.AddrPort // the local socket (and source address) to send from
	ECN     uint8
}

// Host is the connection's view of its binding: routing of connection IDs,
// stateless-reset tokens, socket writes and termination.
type Host interface {
	// Send writes datagrams synchronously; b.Buf may be reused when Send
	// returns.
	Send(b *OutBatch)
	// AddCID routes packets addressed to cid to this connection.
	AddCID(cid []byte)
	// RemoveCID stops routing cid to this connection.
	RemoveCID(cid []byte)
	// AddResetToken lets the binding recognise a stateless reset the peer
	// sends with token (RFC 9000 §10.3.1).
	AddResetToken(token [16]byte)
	// RemoveResetToken forgets a token added with AddResetToken.
	RemoveResetToken(token [16]byte)
	// Closed reports that the connection has terminated: its IDs and tokens
	// can be dropped. It is called once, from Run.
	Closed()
}

// Config is what a connection is created with. Settings are resolved by
// the public package.
type Config struct {
	Side    Side
	Version uint32
	// TLS is the client's TLS configuration. A server gets its own later,
	// from SetConfiguration.
	TLS *tls.Config
	// Versions are the QUIC versions we support, in preference order; when
	// set, version_information is exchanged (RFC 9368), a client offers
	// them and follows a Version Negotiation packet to one of them, and a
	// server switches a client to a version it prefers. Empty: Version
	// only.
	Versions []uint32
	// Settings are the transport settings. A server's may be replaced by
	// SetConfiguration before the handshake proceeds.
	Settings Settings
	// ResetKey derives the stateless reset tokens of the connection IDs we
	// issue.
	ResetKey ResetTokenFunc
	// CIDLen is the length of the connection IDs we issue (4..20).
	CIDLen int
	// CIDPrefix, if set, starts every connection ID we issue (for load
	// balancers); it must be shorter than CIDLen.
	CIDPrefix []byte
	// OnNewToken, if set, receives NEW_TOKEN tokens on a client; it runs on
	// the connection goroutine.
	OnNewToken func(token []byte)
	// InitialToken is a client's token for its first Initial packets (a
	// NEW_TOKEN token from an earlier connection, RFC 9000 §8.1.3).
	InitialToken []byte
	// ResumptionTicket is a client's ticket from an earlier connection's
	// ResumptionTicketReceived: the session is resumed and 0-RTT used if
	// the ticket allows (resume.go). A ticket that does not decode is
	// ignored.
	ResumptionTicket []byte
	// IssueToken, if set, makes a server send a NEW_TOKEN frame once the
	// handshake is confirmed; it returns the token for the connection's
	// peer address (RFC 9000 §8.1.3).
	IssueToken func(peer netip.AddrPort) []byte
	// RetryODCID is set on a server connection that follows a Retry: the
	// Destination Connection ID of the client's very first Initial, from
	// the Retry token (RFC 9000 §7.3).
	RetryODCID []byte
	// PreferredAddress, if set on a server, is offered to the client
	// (RFC 9000 §9.6); the host must deliver packets arriving there.
	PreferredAddress PreferredAddress
	// DecideCertificate, if set, is asked about the peer's certificate
	// before the peer's Finished message is processed (cert.go). A
	// server's comes with its ServerConfig.
	DecideCertificate CertificateDecision
	// AddressValidated is set on a server connection whose client
	// presented a valid token: no anti-amplification limit applies
	// (RFC 9000 §8.1).
	AddressValidated bool
	// OpenTrace, if set, is called once as the connection is created,
	// with its original Destination Connection ID; a non-nil trace
	// records the connection's events and is closed when it terminates.
	OpenTrace func(odcid []byte, server bool) *qlog.Trace
	// Peer and Local are the path's addresses; Local may be unspecified.
	Peer  netip.AddrPort
	Local netip.AddrPort
}

// PreferredAddress is a server's preferred address per family; an invalid
// value means none for that family.
type PreferredAddress struct {
	IPv4, IPv6 netip.AddrPort
}

// ResetTokenFunc returns the stateless reset token for a connection ID we
// issued (RFC 9000 §10.3.2).
type ResetTokenFunc func(cid []byte) [16]byte

// Settings are the transport knobs a connection consumes, already resolved
// from MsQuic-style settings into plain values.
type Settings struct {
	IdleTimeout          time.Duration // 0 disables
	HandshakeIdleTimeout time.Duration // 0 disables
	DisconnectTimeout    time.Duration
	KeepAliveInterval    time.Duration // 0 disables
	MaxAckDelay          time.Duration
	InitialRTT           time.Duration

	ConnFlowControlWindow      uint64
	StreamRecvWindowBidiLocal  uint64
	StreamRecvWindowBidiRemote uint64
	StreamRecvWindowUni        uint64
	StreamRecvBuffer           uint64
	PeerBidiStreamCount        uint64
	PeerUniStreamCount         uint64

	MinimumMTU int // IP MTU; the UDP payload is 48 bytes less
	MaximumMTU int
	// MTUDiscoveryMissingProbeCount is how many lost probes of one size
	// make DPLPMTUD give up on it (0: 3).
	MTUDiscoveryMissingProbeCount int
	// MTUDiscoverySearchCompleteTimeout is how long after a search that
	// ended below MaximumMTU it starts again (0: 600 s).
	MTUDiscoverySearchCompleteTimeout time.Duration

	Congestion           recovery.Algorithm
	InitialWindowPackets int
	HyStart              bool
	Pacing               bool
	SendIdleTimeout      time.Duration
	ECN                  bool

	DatagramReceive  bool
	MaxBytesPerKey   uint64
	SendBuffering    bool
	MigrationEnabled bool
	GreaseQUICBit    bool

	// DestCIDUpdateIdleTimeout switches to a fresh destination connection
	// ID after sending nothing this long (0: never).
	DestCIDUpdateIdleTimeout time.Duration

	MaxOperationsPerDrain int
	MaxPTOCount           int
	HandshakePTOFloor     time.Duration

	// ServerResumption says whether a server issues and accepts session
	// tickets, and 0-RTT.
	ServerResumption ResumptionLevel
}

// udpOverhead is subtracted from an IP MTU to get the UDP payload size:
// an IPv6 header and a UDP header (MsQuic's convention for both families).
const udpOverhead = 48

// minInitialDatagram is the minimum size of a datagram carrying an
// ack-eliciting Initial packet (RFC 9000 §14.1).
const minInitialDatagram = 1200

// maxDatagramsPerFlush bounds one send pass so receive processing is not
// starved (MsQuic QUIC_MAX_DATAGRAMS_PER_SEND).
const maxDatagramsPerFlush = 40

// space is one packet number space (RFC 9000 §12.3).
type space struct {
	read, write  *protect.Keys
	acks         recovery.AckTracker
	nextPN       int64
	largestAcked int64 // largest of our packets the peer acknowledged, -1 if none
	discarded    bool
}

// Conn is one QUIC connection.
type Conn struct {
	// Cross-goroutine entry points (ops.go).
	ops   opQueue
	rx    recvQueue
	snap  snapshot
	sched Scheduler
	// schedSet is set once sched is: until then (a client handle not yet
	// started) queued operations wait without a wake-up.
	schedSet atomic.Bool
	// inlineOK is set once the handshake is complete: from then on a
	// socket reader may run the connection (Kick), when sched is an
	// InlineScheduler.
	inlineOK atomic.Bool

	side    Side
	version uint32
	set     Settings
	host    Host
	events  Events
	hooks   RunHooks // events' RunHooks, if they have them (events.go)
	hooked  bool     // hooks were told a run started
	running bool     // inside Run

	// What the connection keeps of its Config.
	cfgVersion uint32         // Config.Version
	cidLen     int            // Config.CIDLen
	cidPrefix  []byte         // Config.CIDPrefix
	versionSet []uint32       // Config.Versions
	resetKey   ResetTokenFunc // Config.ResetKey
	onNewTok   func([]byte)   // Config.OnNewToken

	// setup is what only the handshake needs; it is dropped once the
	// handshake is confirmed (memory.go).
	setup *setupState

	hs        *handshake.TLS
	tlsConfig *tls.Config
	tlsInfo   *TLSInfo // set when the handshake completes (connected.go)
	alpn      string
	// spaces are the packet number spaces: the Initial and Handshake
	// spaces live in setup and, once it is dropped, are spaceGone
	// (memory.go); the Application Data space is appSpace.
	spaces    [recovery.NumSpaces]*space
	appSpace  space
	app       appKeys // 1-RTT key phases (keyupdate.go)
	zeroRTT   zeroRTTKeys
	resume    resumeState
	loss      recovery.State
	peerTP    peerLimits // the peer's transport parameters consulted later
	hasPeerTP bool
	// peerParams are all the peer's transport parameters, which a client
	// keeps for session tickets and the preferred address; nil on a
	// server.
	peerParams *wire.TransportParameters

	vers      versionState
	cids      cidState
	path      path
	mtu       pmtud
	life      lifetime
	flags     sendFlags
	streams   streamState
	datagrams datagramState
	timers    [numTimers]mono.Time
	stats     counters
	qlog      *tracing // nil unless traced (qlog.go)

	newToken         []byte // server: NEW_TOKEN to send
	sentHandshake    bool   // a Handshake packet was sent
	tlsCompact       bool   // a server dropped TLS and its CRYPTO streams (memory.go)
	sentSinceReceive bool   // an ack-eliciting packet was sent since the last receipt
	sendLimited      bool   // the last flush stopped at its datagram limit

	// elicitedSinceSent counts (up to 2) the peer's ack-eliciting 1-RTT
	// packets since our last ack-eliciting one (frames_send.go).
	elicitedSinceSent uint8

	lastFlush        mono.Time // when a datagram was last sent (cidupdate.go)
	onlyDelayedSends bool      // this run has no reason to send but delayed sends (senddelay.go)
	rxd              *Datagram // the datagram being processed

	// Scratch reused on hot paths.
	now mono.Time
	// opScratch and rxScratch hold what one run took from the queues;
	// Run borrows their storage from the pools.
	opScratch []op
	opNext    int // next operation of opScratch to run (run.go)
	rxScratch []Datagram
	ackRanges []recovery.AckRange
	ecnRecv   recovery.ECNCounts
	lastSent  *recovery.Sent
	tx        *sendScratch // lent for the duration of a flush (send.go)
}
