package recovery

import (
	"errors"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// Space is a packet-number space (RFC 9000 Section 12.3).
type Space uint8

// The three packet-number spaces.
const (
	SpaceInitial Space = iota
	SpaceHandshake
	SpaceApp
	// NumSpaces is the number of packet-number spaces.
	NumSpaces
)

// String returns the RFC name of the space.
func (s Space) String() string {
	switch s {
	case SpaceInitial:
		return "Initial"
	case SpaceHandshake:
		return "Handshake"
	case SpaceApp:
		return "ApplicationData"
	}
	return "invalid"
}

// Algorithm selects the congestion controller. The values match MsQuic's
// QUIC_CONGESTION_CONTROL_ALGORITHM where one exists (Cubic is 0).
type Algorithm uint8

// Congestion control algorithms.
const (
	// Cubic is RFC 9438 CUBIC, the default.
	Cubic Algorithm = iota
	// NewReno is the controller of RFC 9002 Section 7.
	NewReno
	// BBR is BBRv3 as draft-ietf-ccwg-bbr specifies it.
	BBR
)

// ECN is the two-bit ECN field of an IP header (RFC 3168 codepoints).
type ECN uint8

// ECN codepoints.
const (
	ECNNotECT ECN = 0
	ECNECT1   ECN = 1
	ECNECT0   ECN = 2
	ECNCE     ECN = 3
)

// ErrAckOfUnsentPacket reports an ACK frame that acknowledges a packet number
// that was never sent in that space. The connection closes with
// PROTOCOL_VIOLATION (RFC 9000 Section 13.1).
var ErrAckOfUnsentPacket = errors.New("quic: ACK of a packet that was not sent")

// Sent is the record of one sent packet. The connection obtains it from
// State.NewSent, fills the exported fields and the frame log, and hands it to
// State.OnPacketSent, which takes ownership. A Sent passed to a Handler is
// valid only during the call: it is recycled afterwards.
type Sent struct {
	// PN is the packet number; it must increase within a space.
	PN int64
	// Time is the send time, set by OnPacketSent.
	Time mono.Time
	// Size is the number of bytes on the wire; it counts toward bytes in
	// flight when InFlight is set.
	Size int
	// Space is the packet-number space of the packet.
	Space Space
	// AckEliciting is set when the packet carries a frame other than ACK,
	// PADDING or CONNECTION_CLOSE (RFC 9002 Section 2).
	AckEliciting bool
	// InFlight is set when the packet counts toward bytes in flight: it is
	// ack-eliciting or carries PADDING (RFC 9002 Section 2).
	InFlight bool
	// PMTUProbe marks a path MTU probe: its loss is not a congestion
	// signal (RFC 8899 Section 3).
	PMTUProbe bool
	// ECT is set when the packet was sent with an ECT(0) mark.
	ECT bool
	// Frames is a compact log of the frames in the packet. The connection
	// writes and reads it; recovery never interprets it.
	Frames []byte

	seq    int64     // send order across all spaces
	lost   bool      // declared lost and retained to detect spurious loss
	lostAt mono.Time // when it was declared lost
	probed bool      // a PTO probe carried its data again (NextProbeData)
	// abandoned: declared lost because the connection left the path it
	// went on (AbandonInFlight).
	abandoned bool

	// Delivery rate snapshot taken when an in-flight packet is sent
	// (rateSampler.onSent): P.delivered, P.delivered_time,
	// P.first_send_time, P.is_app_limited, P.tx_in_flight and the
	// connection's lost bytes (draft-ietf-ccwg-bbr Section 4.1.2.1.2).
	delivered     int64
	deliveredTime mono.Time
	firstSendTime mono.Time
	appLimited    bool
	txInFlight    int
	lostBefore    int64
}

// WasLost reports whether the packet had been declared lost before it was
// acknowledged. OnPacketAcked receives such packets when a late ACK arrives
// (the loss was spurious); their frames were already handed to OnPacketLost.
func (p *Sent) WasLost() bool { return p.lost }

// Handler receives acknowledged and lost packets. The *Sent is valid only
// during the call.
type Handler interface {
	// OnPacketAcked is called once for each newly acknowledged packet, in
	// ascending packet-number order, including packets previously declared
	// lost (see Sent.WasLost).
	OnPacketAcked(p *Sent)
	// OnPacketLost is called once for each packet declared lost.
	OnPacketLost(p *Sent)
}

// AckRange is one range of an ACK frame, both ends inclusive.
type AckRange struct{ Smallest, Largest int64 }

// ECNCounts are the cumulative counters of an ACK frame of type 0x03
// (RFC 9000 Section 19.3.2).
type ECNCounts struct{ ECT0, ECT1, CE uint64 }

// Config holds the recovery settings of a connection. The zero value of a
// field selects its default.
type Config struct {
	// InitialRTT seeds smoothed_rtt before the first sample (rttvar is half
	// of it). MsQuic InitialRttMs; default 333 ms (RFC 9002 Section 6.2.2).
	InitialRTT time.Duration
	// MaxDatagramSize is the maximum UDP payload size on the path; default
	// 1200 bytes.
	MaxDatagramSize int
	// InitialWindowPackets is the initial congestion window in datagrams.
	// MsQuic InitialWindowPackets; default 10.
	InitialWindowPackets int
	// Algorithm selects the congestion controller (MsQuic
	// CongestionControlAlgorithm).
	Algorithm Algorithm
	// HyStart enables HyStart++ (RFC 9406) during the initial slow start
	// (MsQuic HyStartEnabled).
	HyStart bool
	// Pacing enables the pacer (MsQuic PacingEnabled).
	Pacing bool
	// SendIdleTimeout is MsQuic's SendIdleTimeoutMs. The exact rule: when
	// an in-flight packet is sent while no bytes are in flight and the
	// previous in-flight packet was sent at least SendIdleTimeout earlier,
	// the congestion window becomes min(cwnd, initial window) before the
	// packet is counted. ssthresh is kept (so slow start resumes up to it,
	// as in RFC 5681 Section 4.1), CUBIC's epoch restarts and the pacer's
	// bucket refills. MsQuic additionally forgets ssthresh. Zero disables
	// the restart. BBR does not take it (as MsQuic's BBR): its own restart
	// from idle keeps the window and paces at the model's bandwidth.
	SendIdleTimeout time.Duration
	// ECN enables sending ECT(0) marks and their validation (MsQuic
	// EcnEnabled).
	ECN bool
	// MaxPTOCount is the hquic MaxPacketRetryCount: the number of
	// consecutive probe timeouts tolerated before the handshake is
	// confirmed. When the PTO fires once more, PTOCountExceeded reports
	// true. Zero means no limit.
	MaxPTOCount int
	// HandshakePTOFloor is the hquic LossDetectionGracePeriod: a lower
	// bound on the PTO period (before exponential backoff) while the
	// handshake is not confirmed. Zero means RFC 9002 only.
	HandshakePTOFloor time.Duration
	// Seed seeds the controller's random choices (BBR's randomized
	// bandwidth-probing schedule). Connections should get different
	// seeds so that flows sharing a bottleneck do not probe in lockstep.
	Seed uint64
}

// Defaults used when a Config field is zero.
const (
	DefaultInitialRTT           = 333 * time.Millisecond
	DefaultMaxDatagramSize      = 1200
	DefaultInitialWindowPackets = 10
	// DefaultMaxAckDelay is the peer's max_ack_delay when it did not send
	// the transport parameter (RFC 9000 Section 18.2).
	DefaultMaxAckDelay = 25 * time.Millisecond
)

// RFC 9002 constants.
const (
	// kPacketThreshold, RFC 9002 Section 6.1.1.
	packetThreshold = 3
	// kGranularity, RFC 9002 Section 6.1.2.
	granularity = time.Millisecond
	// kPersistentCongestionThreshold, RFC 9002 Section 7.6.1.
	persistentCongestionThreshold = 3
)

// timeThreshold applies kTimeThreshold = 9/8 (RFC 9002 Section 6.1.2).
func timeThreshold(d time.Duration) time.Duration { return d + d/8 }
