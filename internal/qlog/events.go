package qlog

import (
	"encoding/binary"
	"math"
	"net/netip"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// Event names (quic-events §4-§7).
const (
	ConnectionStarted      = "quic:connection_started"
	ConnectionClosed       = "quic:connection_closed"
	ConnectionStateUpdated = "quic:connection_state_updated"
	TupleAssigned          = "quic:tuple_assigned"
	MTUUpdated             = "quic:mtu_updated"
	VersionInformation     = "quic:version_information"
	ALPNInformation        = "quic:alpn_information"
	ParametersSet          = "quic:parameters_set"
	PacketSent             = "quic:packet_sent"
	PacketReceived         = "quic:packet_received"
	PacketDropped          = "quic:packet_dropped"
	PacketBuffered         = "quic:packet_buffered"
	StreamStateUpdated     = "quic:stream_state_updated"
	DatagramDataMoved      = "quic:datagram_data_moved"
	MigrationStateUpdated  = "quic:migration_state_updated"
	TimerUpdated           = "quic:timer_updated"
	KeyUpdated             = "quic:key_updated"
	KeyDiscarded           = "quic:key_discarded"
	RecoveryParametersSet  = "quic:recovery_parameters_set"
	RecoveryMetricsUpdated = "quic:recovery_metrics_updated"
	CongestionStateUpdated = "quic:congestion_state_updated"
	PacketLost             = "quic:packet_lost"
	ECNStateUpdated        = "quic:ecn_state_updated"
	Warning                = "loglevel:warning"
)

// Packet types that are not wire.PacketType values.
const (
	PacketStatelessReset wire.PacketType = 0x80 + iota
	PacketUnknown
)

// PacketTypeName returns the qlog name of a packet type.
func PacketTypeName(t wire.PacketType) string {
	switch t {
	case wire.PacketInitial:
		return "initial"
	case wire.PacketHandshake:
		return "handshake"
	case wire.Packet0RTT:
		return "0RTT"
	case wire.Packet1RTT:
		return "1RTT"
	case wire.PacketRetry:
		return "retry"
	case wire.PacketVersionNegotiation:
		return "version_negotiation"
	case PacketStatelessReset:
		return "stateless_reset"
	}
	return "unknown"
}

// SpaceName returns the qlog name of packet number space 0, 1 or 2.
func SpaceName(space int) string {
	switch space {
	case 0:
		return "initial"
	case 1:
		return "handshake"
	}
	return "application_data"
}

// Header is what a trace shows of a packet header (quic-events §8.10).
type Header struct {
	Type wire.PacketType
	// PN is the packet number; negative for packets without one.
	PN int64
	// Version, DCID and SCID are logged for long headers; DCID also for
	// 1-RTT packets.
	Version    uint32
	DCID, SCID []byte
	// KeyPhase is the 1-RTT key phase: how many key updates preceded the
	// packet's keys.
	KeyPhase uint64
	// TokenLen is the length of an Initial packet's token.
	TokenLen int
}

// Header writes the member "header".
func (e *Encoder) Header(h *Header) {
	e.Obj("header")
	e.Str("packet_type", PacketTypeName(h.Type))
	if h.PN >= 0 {
		e.I64("packet_number", h.PN)
	}
	switch h.Type {
	case wire.Packet1RTT:
		e.U64("key_phase", h.KeyPhase)
		e.Flag("key_phase_bit", h.KeyPhase&1 == 1)
		e.HexField("dcid", h.DCID)
	case wire.PacketInitial, wire.PacketHandshake, wire.Packet0RTT, wire.PacketRetry, wire.PacketVersionNegotiation:
		if h.Type != wire.PacketVersionNegotiation {
			e.Version("version", h.Version)
		}
		e.U64("scil", uint64(len(h.SCID)))
		e.HexField("scid", h.SCID)
		e.U64("dcil", uint64(len(h.DCID)))
		e.HexField("dcid", h.DCID)
		if (h.Type == wire.PacketInitial || h.Type == wire.PacketRetry) && h.TokenLen > 0 {
			e.Obj("token")
			e.Raw(h.TokenLen)
			e.EndObject()
		}
	}
	e.EndObject()
}

// Version writes the member k: a QUIC version as an 8-digit hexstring.
func (e *Encoder) Version(k string, v uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	e.HexField(k, b[:])
}

// Versions writes the member k: a list of versions.
func (e *Encoder) Versions(k string, vs []uint32) {
	e.Arr(k)
	var b [4]byte
	for _, v := range vs {
		binary.BigEndian.PutUint32(b[:], v)
		e.Hex(b[:])
	}
	e.EndArray()
}

// Endpoint writes the member k: a TupleEndpointInfo with the address and,
// if given, the connection ID used towards it.
func (e *Encoder) Endpoint(k string, a netip.AddrPort, cid []byte) {
	e.Obj(k)
	if a.IsValid() {
		ip := a.Addr().Unmap()
		var s [64]byte
		if ip.Is4() {
			e.Key("ip_v4")
			e.StringBytes(ip.AppendTo(s[:0]))
			e.U64("port_v4", uint64(a.Port()))
		} else {
			e.Key("ip_v6")
			e.StringBytes(ip.AppendTo(s[:0]))
			e.U64("port_v6", uint64(a.Port()))
		}
	}
	if cid != nil {
		e.Arr("connection_ids")
		e.Hex(cid)
		e.EndArray()
	}
	e.EndObject()
}

// Packet writes a packet_sent or packet_received event's members: header,
// frames of the plaintext payload, raw lengths.
func (e *Encoder) Packet(h *Header, size int, payload []byte, ackExp uint8) {
	e.Header(h)
	if payload != nil {
		e.Frames(payload, ackExp)
	}
	e.Obj("raw")
	e.U64("length", uint64(size))
	if payload != nil {
		e.U64("payload_length", uint64(len(payload)))
	}
	e.EndObject()
}

// Metrics are the recovery metrics a connection reports (quic-events
// §7.2); RecoveryMetrics logs those that changed.
type Metrics struct {
	MinRTT, SmoothedRTT, LatestRTT, RTTVariance time.Duration
	PTOCount                                    uint64
	CongestionWindow, BytesInFlight             uint64
	// SSThresh is math.MaxUint64 before the first congestion event and is
	// then not logged.
	SSThresh        uint64
	PacketsInFlight uint64
	// PacingRate is in bits per second; zero is not logged.
	PacingRate uint64
}

// RecoveryMetrics logs recovery_metrics_updated with the fields of m that
// differ from the last logged metrics; nothing if none does.
func (t *Trace) RecoveryMetrics(now mono.Time, m *Metrics) {
	p := &t.metrics
	if t.hasMetrics && *m == *p {
		return
	}
	first := !t.hasMetrics
	e := t.Begin(now, RecoveryMetricsUpdated)
	ms := func(k string, v, old time.Duration) {
		if (first || v != old) && v > 0 {
			e.Ms(k, v)
		}
	}
	u := func(k string, v, old uint64) {
		if first || v != old {
			e.U64(k, v)
		}
	}
	ms("min_rtt", m.MinRTT, p.MinRTT)
	ms("smoothed_rtt", m.SmoothedRTT, p.SmoothedRTT)
	ms("latest_rtt", m.LatestRTT, p.LatestRTT)
	ms("rtt_variance", m.RTTVariance, p.RTTVariance)
	u("pto_count", m.PTOCount, p.PTOCount)
	u("congestion_window", m.CongestionWindow, p.CongestionWindow)
	u("bytes_in_flight", m.BytesInFlight, p.BytesInFlight)
	if m.SSThresh != math.MaxUint64 {
		u("ssthresh", m.SSThresh, p.SSThresh)
	}
	u("packets_in_flight", m.PacketsInFlight, p.PacketsInFlight)
	if m.PacingRate != 0 {
		u("pacing_rate", m.PacingRate, p.PacingRate)
	}
	t.End()
	*p, t.hasMetrics = *m, true
}

// CongestionState logs congestion_state_updated when state differs from
// the last logged one.
func (t *Trace) CongestionState(now mono.Time, state, trigger string) {
	if state == t.ccState {
		return
	}
	e := t.Begin(now, CongestionStateUpdated)
	if t.ccState != "" {
		e.Str("old", t.ccState)
	}
	e.Str("new", state)
	if trigger != "" {
		e.Str("trigger", trigger)
	}
	t.End()
	t.ccState = state
}

// ECNState logs ecn_state_updated when state differs from the last logged
// one.
func (t *Trace) ECNState(now mono.Time, state string) {
	if state == t.ecnState {
		return
	}
	e := t.Begin(now, ECNStateUpdated)
	if t.ecnState != "" {
		e.Str("old", t.ecnState)
	}
	e.Str("new", state)
	t.End()
	t.ecnState = state
}

// LossTimer logs timer_updated for the loss detection timer: set (with the
// delay until it fires) when deadline differs from the last one logged,
// cancelled when it becomes zero. kind is "pto" or "loss_timeout".
func (t *Trace) LossTimer(now, deadline mono.Time, kind string, space int) {
	if deadline == t.lossTimer && kind == t.lossKind {
		return
	}
	old := t.lossTimer
	t.lossTimer, t.lossKind = deadline, kind
	if deadline == 0 && old == 0 {
		return
	}
	e := t.Begin(now, TimerUpdated)
	e.Str("timer_type", kind)
	e.Str("packet_number_space", SpaceName(space))
	if deadline == 0 {
		e.Str("event_type", "cancelled")
	} else {
		e.Str("event_type", "set")
		e.Ms("delta", deadline.Sub(now))
	}
	t.End()
}

// LossTimerExpired logs timer_updated: expired for the loss detection
// timer.
func (t *Trace) LossTimerExpired(now mono.Time, kind string, space int) {
	e := t.Begin(now, TimerUpdated)
	e.Str("timer_type", kind)
	e.Str("packet_number_space", SpaceName(space))
	e.Str("event_type", "expired")
	t.End()
	t.lossTimer = 0
}

// usDuration converts microseconds to a duration, saturating.
func usDuration(us uint64) time.Duration {
	if us > math.MaxInt64/1000 {
		return math.MaxInt64
	}
	return time.Duration(us) * time.Microsecond
}
