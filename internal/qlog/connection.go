package qlog

import (
	"net/netip"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// Started logs connection_started: the local and remote addresses and the
// connection IDs each side is addressed with.
func (t *Trace) Started(now mono.Time, local, remote netip.AddrPort, localCID, remoteCID []byte) {
	e := t.Begin(now, ConnectionStarted)
	e.Endpoint("local", local, localCID)
	e.Endpoint("remote", remote, remoteCID)
	t.End()
}

// Close describes why a connection closed, for connection_closed.
type Close struct {
	// Remote is set when the peer closed.
	Remote bool
	// App is set for an application close, with Code its error code;
	// otherwise Code is a transport error code.
	App  bool
	Code uint64
	// Reason is the reason phrase.
	Reason string
	// Trigger is one of the qlog triggers: "idle_timeout", "application",
	// "error", "version_mismatch", "stateless_reset", "aborted",
	// "unspecified".
	Trigger string
}

// Closed logs connection_closed.
func (t *Trace) Closed(now mono.Time, c *Close) {
	e := t.Begin(now, ConnectionClosed)
	if c.Remote {
		e.Str("initiator", "remote")
	} else {
		e.Str("initiator", "local")
	}
	if c.App {
		e.appErrorAs("application_error", c.Code)
	} else {
		e.TransportError("connection_error", c.Code)
	}
	if c.Reason != "" {
		e.Str("reason", c.Reason)
	}
	e.Str("trigger", c.Trigger)
	t.End()
}

// appErrorAs writes an application error code under key.
func (e *Encoder) appErrorAs(key string, code uint64) {
	e.Str(key, "unknown")
	e.U64("error_code", code)
}

// State logs connection_state_updated.
func (t *Trace) State(now mono.Time, old, state string) {
	e := t.Begin(now, ConnectionStateUpdated)
	if old != "" {
		e.Str("old", old)
	}
	e.Str("new", state)
	t.End()
}

// Versions logs version_information; chosen 0 means none.
func (t *Trace) Versions(now mono.Time, server, client []uint32, chosen uint32) {
	e := t.Begin(now, VersionInformation)
	if len(server) > 0 {
		e.Versions("server_versions", server)
	}
	if len(client) > 0 {
		e.Versions("client_versions", client)
	}
	if chosen != 0 {
		e.Version("chosen_version", chosen)
	}
	t.End()
}

// ALPN logs alpn_information; empty lists and an empty chosen ALPN are
// left out.
func (t *Trace) ALPN(now mono.Time, server, client []string, chosen string) {
	e := t.Begin(now, ALPNInformation)
	list := func(k string, l []string) {
		if len(l) == 0 {
			return
		}
		e.Arr(k)
		for _, s := range l {
			e.alpn(s)
		}
		e.EndArray()
	}
	list("server_alpns", server)
	list("client_alpns", client)
	if chosen != "" {
		e.Key("chosen_alpn")
		e.alpn(chosen)
	}
	t.End()
}

func (e *Encoder) alpn(s string) {
	e.BeginObject()
	e.Key("byte_value")
	e.Hex([]byte(s))
	e.Str("string_value", s)
	e.EndObject()
}

// Parameters logs parameters_set for transport parameters; local says
// whose they are.
func (t *Trace) Parameters(now mono.Time, p *wire.TransportParameters, local bool) {
	e := t.Begin(now, ParametersSet)
	if local {
		e.Str("initiator", "local")
	} else {
		e.Str("initiator", "remote")
	}
	if p.HasOriginalDestinationCID {
		e.HexField("original_destination_connection_id", p.OriginalDestinationCID)
	}
	if p.HasInitialSourceCID {
		e.HexField("initial_source_connection_id", p.InitialSourceCID)
	}
	if p.HasRetrySourceCID {
		e.HexField("retry_source_connection_id", p.RetrySourceCID)
	}
	if p.HasStatelessResetToken {
		e.HexField("stateless_reset_token", p.StatelessResetToken[:])
	}
	e.Flag("disable_active_migration", p.DisableActiveMigration)
	e.U64("max_idle_timeout", uint64(p.MaxIdleTimeout/time.Millisecond))
	e.U64("max_udp_payload_size", p.MaxUDPPayloadSize)
	e.U64("ack_delay_exponent", uint64(p.AckDelayExponent))
	e.U64("max_ack_delay", uint64(p.MaxAckDelay/time.Millisecond))
	e.U64("active_connection_id_limit", p.ActiveConnectionIDLimit)
	e.U64("initial_max_data", p.InitialMaxData)
	e.U64("initial_max_stream_data_bidi_local", p.InitialMaxStreamDataBidiLocal)
	e.U64("initial_max_stream_data_bidi_remote", p.InitialMaxStreamDataBidiRemote)
	e.U64("initial_max_stream_data_uni", p.InitialMaxStreamDataUni)
	e.U64("initial_max_streams_bidi", p.InitialMaxStreamsBidi)
	e.U64("initial_max_streams_uni", p.InitialMaxStreamsUni)
	if p.HasPreferredAddress {
		pa := &p.PreferredAddress
		e.Obj("preferred_address")
		var s [64]byte
		if pa.IPv4.IsValid() {
			e.Key("ip_v4")
			e.StringBytes(pa.IPv4.Addr().AppendTo(s[:0]))
			e.U64("port_v4", uint64(pa.IPv4.Port()))
		}
		if pa.IPv6.IsValid() {
			e.Key("ip_v6")
			e.StringBytes(pa.IPv6.Addr().AppendTo(s[:0]))
			e.U64("port_v6", uint64(pa.IPv6.Port()))
		}
		e.HexField("connection_id", pa.CID)
		e.HexField("stateless_reset_token", pa.StatelessResetToken[:])
		e.EndObject()
	}
	if p.HasMaxDatagramFrameSize {
		e.U64("max_datagram_frame_size", p.MaxDatagramFrameSize)
	}
	e.Flag("grease_quic_bit", p.GreaseQUICBit)
	t.End()
}

// TLSParameters logs parameters_set with what TLS negotiated.
func (t *Trace) TLSParameters(now mono.Time, cipher string, resumed bool) {
	e := t.Begin(now, ParametersSet)
	e.Str("initiator", "local")
	e.Str("tls_cipher", cipher)
	e.Flag("resumption_allowed", resumed)
	t.End()
}

// Key logs key_updated (discarded false) or key_discarded. keyType is a
// qlog KeyType such as "client_1rtt_secret"; phase is the 1-RTT key phase,
// negative for other keys; trigger is "tls", "remote_update",
// "local_update" or empty.
func (t *Trace) Key(now mono.Time, discarded bool, keyType string, phase int64, trigger string) {
	name := KeyUpdated
	if discarded {
		name = KeyDiscarded
	}
	e := t.Begin(now, name)
	e.Str("key_type", keyType)
	if phase >= 0 {
		e.I64("key_phase", phase)
	}
	if trigger != "" {
		e.Str("trigger", trigger)
	}
	t.End()
}

// Stream logs stream_state_updated for one side ("sending" or
// "receiving") of a stream; old may be empty, trigger is "local",
// "remote" or empty.
func (t *Trace) Stream(now mono.Time, id uint64, side, old, state, trigger string) {
	e := t.Begin(now, StreamStateUpdated)
	e.U64("stream_id", id)
	e.Str("stream_type", streamType(id&2 == 0))
	if old != "" {
		e.Str("old", old)
	}
	e.Str("new", state)
	e.Str("stream_side", side)
	if trigger != "" {
		e.Str("trigger", trigger)
	}
	t.End()
}

// Tuple logs tuple_assigned: tuple id now stands for the given addresses.
func (t *Trace) Tuple(now mono.Time, id string, local, remote netip.AddrPort, remoteCID []byte) {
	e := t.Begin(now, TupleAssigned)
	e.Str("tuple_id", id)
	e.Endpoint("tuple_remote", remote, remoteCID)
	e.Endpoint("tuple_local", local, nil)
	t.End()
}

// Migration logs migration_state_updated for tuple id.
func (t *Trace) Migration(now mono.Time, state, id string, local, remote netip.AddrPort) {
	e := t.Begin(now, MigrationStateUpdated)
	e.Str("new", state)
	e.Str("tuple_id", id)
	e.Endpoint("tuple_remote", remote, nil)
	e.Endpoint("tuple_local", local, nil)
	t.End()
}

// MTU logs mtu_updated: the path's datagram size went from old (0 for
// none logged) to size; done when the search ended.
func (t *Trace) MTU(now mono.Time, old, size int, done bool) {
	e := t.Begin(now, MTUUpdated)
	if old > 0 {
		e.U64("old", uint64(old))
	}
	e.U64("new", uint64(size))
	if done {
		e.Flag("done", true)
	}
	t.End()
}

// StreamIDFrame writes a frame of which only the stream is known (a
// RESET_STREAM or STOP_SENDING remembered by a sent packet's record).
func (e *Encoder) StreamIDFrame(name string, id uint64) {
	e.beginFrame(name)
	e.U64("stream_id", id)
	e.EndObject()
}

// DatagramMoved logs datagram_data_moved for n bytes of DATAGRAM payload
// moving from one layer to another ("application", "transport").
func (t *Trace) DatagramMoved(now mono.Time, from, to string, n int) {
	e := t.Begin(now, DatagramDataMoved)
	e.Str("from", from)
	e.Str("to", to)
	e.Raw(n)
	t.End()
}

// Warn logs a loglevel:warning event: a problem that does not show on the
// wire, with a numeric code meaningful to message.
func (t *Trace) Warn(now mono.Time, code uint64, message string) {
	e := t.Begin(now, Warning)
	e.U64("code", code)
	e.Str("message", message)
	t.End()
}

// Recovery are the constants of loss recovery, for
// recovery_parameters_set.
type Recovery struct {
	InitialRTT      time.Duration
	MaxDatagramSize int
	InitialWindow   int
	MinimumWindow   int
	// LossReduction is the congestion controller's multiplicative
	// decrease: 0.7 for CUBIC, 0.5 for NewReno.
	LossReduction float64
}

// RecoveryParameters logs recovery_parameters_set with RFC 9002's
// constants (packet threshold 3, time threshold 9/8, granularity 1 ms,
// persistent congestion threshold 3) and p.
func (t *Trace) RecoveryParameters(now mono.Time, p *Recovery) {
	e := t.Begin(now, RecoveryParametersSet)
	e.U64("reordering_threshold", 3)
	e.Key("time_threshold")
	e.Float(1.125)
	e.U64("timer_granularity", 1)
	e.Ms("initial_rtt", p.InitialRTT)
	e.U64("max_datagram_size", uint64(p.MaxDatagramSize))
	e.U64("initial_congestion_window", uint64(p.InitialWindow))
	e.U64("minimum_congestion_window", uint64(p.MinimumWindow))
	e.Key("loss_reduction_factor")
	e.Float(p.LossReduction)
	e.U64("persistent_congestion_threshold", 3)
	t.End()
}
