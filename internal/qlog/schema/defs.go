package schema

import (
	"fmt"
	"slices"
	"strings"
)

// The definitions below follow the CDDL of the drafts: main schema §5-§6
// (QlogFileSeq, TraceSeq, VantagePoint, Event, ReferenceTime, RawInfo),
// quic-events-12 §4-§8 (events, PacketHeader, frames, errors).

var header = obj(
	req("file_schema", strT),
	req("serialization_format", strT),
	opt("title", strT),
	opt("description", strT),
	req("trace", obj(
		opt("title", strT),
		opt("description", strT),
		opt("common_fields", openObj(
			opt("tuple", strT),
			opt("time_format", enum("relative_to_epoch", "relative_to_previous_event")),
			opt("reference_time", obj(
				req("clock_type", strT),
				req("epoch", strT),
				opt("wall_clock_time", strT),
			)),
			opt("group_id", strT),
		)),
		opt("vantage_point", obj(
			opt("name", strT),
			req("type", enum("client", "server", "network", "unknown")),
			opt("flow", enum("client", "server", "unknown")),
		)),
		req("event_schemas", arrayOf1(strT)),
	)),
	// Not in the drafts any more, but read by qvis.
	opt("qlog_format", strT),
	opt("qlog_version", strT),
)

// event is the abstract Event class; events may carry custom fields.
var event = openObj(
	req("time", numT),
	req("name", strT),
	req("data", openObj()),
	opt("tuple", strT),
	opt("time_format", enum("relative_to_epoch", "relative_to_previous_event")),
	opt("group_id", strT),
	opt("system_info", obj(opt("processor_id", uintT), opt("process_id", uintT), opt("thread_id", uintT))),
)

var (
	raw      = obj(opt("length", uintT), opt("payload_length", uintT), opt("data", hexT))
	endpoint = obj(
		opt("ip_v4", strT), opt("port_v4", uintT),
		opt("ip_v6", strT), opt("port_v6", uintT),
		opt("connection_ids", arrayOf1(hexT)),
	)
	token = obj(
		opt("type", enum("retry", "resumption")),
		opt("details", openObj()),
		opt("raw", raw),
	)
	packetHeader = obj(
		req("packet_type", enum("initial", "handshake", "0RTT", "1RTT", "retry", "version_negotiation", "stateless_reset", "unknown")),
		opt("packet_type_bytes", uintT),
		opt("spin_bit", boolT),
		opt("key_phase", uintT),
		opt("key_phase_bit", boolT),
		opt("packet_number_length", uintT),
		opt("packet_number", uintT),
		opt("token", token),
		opt("length", uintT),
		opt("version", hexT),
		opt("scil", uintT),
		opt("dcil", uintT),
		opt("scid", hexT),
		opt("dcid", hexT),
	)
	spaceT      = enum("initial", "handshake", "application_data")
	initiator   = enum("local", "remote")
	streamTypeT = enum("unidirectional", "bidirectional")
	alpnID      = obj(opt("byte_value", hexT), opt("string_value", strT))
	keyType     = enum("server_initial_secret", "client_initial_secret", "server_handshake_secret", "client_handshake_secret",
		"server_0rtt_secret", "client_0rtt_secret", "server_1rtt_secret", "client_1rtt_secret")
	keyTrigger   = enum("tls", "remote_update", "local_update")
	streamStates = enum("idle", "open", "closed", "half_closed_local", "half_closed_remote", "ready", "send", "data_sent",
		"reset_sent", "reset_received", "receive", "size_known", "data_read", "reset_read", "data_received", "destroyed")
	migrationStates = enum("probing_started", "probing_abandoned", "probing_successful", "migration_started",
		"migration_abandoned", "migration_complete")
	ecnStates = enum("testing", "unknown", "failed", "capable")
	dataLoc   = enum("application", "transport", "network")
)

// transportErrors are $TransportError's values.
var transportErrors = []string{"no_error", "internal_error", "connection_refused", "flow_control_error",
	"stream_limit_error", "stream_state_error", "final_size_error", "frame_encoding_error",
	"transport_parameter_error", "connection_id_limit_error", "protocol_violation", "invalid_token",
	"application_error", "crypto_buffer_exceeded", "key_update_error", "aead_limit_reached", "no_viable_path", "unknown"}

// errorT is a $TransportError or a CryptoError
// ("crypto_error_0x1[0-9a-f][0-9a-f]"); app also allows "unknown", the
// only $ApplicationError.
type errorT struct{ app bool }

func (t errorT) check(path string, v any) error {
	s, ok := v.(string)
	switch {
	case !ok:
		return fmt.Errorf("%s: %v is not a string", path, v)
	case t.app && s == "unknown":
		return nil
	case !t.app && slices.Contains(transportErrors, s):
		return nil
	case !t.app && len(s) == 18 && strings.HasPrefix(s, "crypto_error_0x1") && isLowerHex(s[16:]):
		return nil
	}
	return fmt.Errorf("%s: %q is not a known error", path, s)
}

func isLowerHex(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}

// ackRange is [from] or [from, to].
type ackRange struct{}

func (ackRange) check(path string, v any) error {
	x, ok := v.([]any)
	if !ok || len(x) < 1 || len(x) > 2 {
		return fmt.Errorf("%s: %v is not an AckRange", path, v)
	}
	for i, e := range x {
		if err := uintT.check(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
			return err
		}
	}
	if len(x) == 2 && x[0].(float64) > x[1].(float64) {
		return fmt.Errorf("%s: range %v runs backwards", path, v)
	}
	return nil
}

var rawOpt = opt("raw", raw)

// frames are the QuicBaseFrames by frame_type.
var frames = map[string]*object{
	"padding": obj(rawOpt),
	"ping":    obj(rawOpt),
	"ack":     obj(opt("ack_delay", numT), opt("acked_ranges", arrayOf1(ackRange{})), opt("ect1", uintT), opt("ect0", uintT), opt("ce", uintT), rawOpt),
	"reset_stream": obj(req("stream_id", uintT), req("error", errorT{app: true}), opt("error_code", uintT),
		req("final_size", uintT), rawOpt),
	"stop_sending":        obj(req("stream_id", uintT), req("error", errorT{app: true}), opt("error_code", uintT), rawOpt),
	"crypto":              obj(req("offset", uintT), req("raw", raw)),
	"new_token":           obj(req("token", token), rawOpt),
	"stream":              obj(req("stream_id", uintT), opt("offset", uintT), opt("fin", boolT), rawOpt),
	"max_data":            obj(req("maximum", uintT), rawOpt),
	"max_stream_data":     obj(req("stream_id", uintT), req("maximum", uintT), rawOpt),
	"max_streams":         obj(req("stream_type", streamTypeT), req("maximum", uintT), rawOpt),
	"data_blocked":        obj(req("limit", uintT), rawOpt),
	"stream_data_blocked": obj(req("stream_id", uintT), req("limit", uintT), rawOpt),
	"streams_blocked":     obj(req("stream_type", streamTypeT), req("limit", uintT), rawOpt),
	"new_connection_id": obj(req("sequence_number", uintT), req("retire_prior_to", uintT), opt("connection_id_length", uintT),
		req("connection_id", hexT), opt("stateless_reset_token", hexT), rawOpt),
	"retire_connection_id": obj(req("sequence_number", uintT), rawOpt),
	"path_challenge":       obj(opt("data", hexT), rawOpt),
	"path_response":        obj(opt("data", hexT), rawOpt),
	"connection_close": obj(opt("error_space", enum("transport", "application")), opt("error", anyT), opt("error_code", uintT),
		opt("reason", strT), opt("reason_bytes", hexT), opt("trigger_frame_type", anyT), rawOpt),
	"handshake_done": obj(rawOpt),
	"unknown":        obj(req("frame_type_bytes", uintT), rawOpt),
	"datagram":       obj(rawOpt),
}

// frameT is a $QuicFrame. A loose frame is one a packet_lost event
// describes from what the sender remembers of it: only frame_type is
// required, the other fields are checked when present.
type frameT struct{ loose bool }

func (t frameT) check(path string, v any) error {
	x, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %v is not a frame", path, v)
	}
	name, _ := x["frame_type"].(string)
	spec, ok := frames[name]
	if !ok {
		return fmt.Errorf("%s: unknown frame_type %v", path, x["frame_type"])
	}
	rest := make(map[string]any, len(x))
	for k, e := range x {
		if k != "frame_type" {
			rest[k] = e
		}
	}
	if name == "connection_close" {
		if err := closeError(path, x); err != nil {
			return err
		}
	}
	if t.loose {
		spec = loosen(spec)
	}
	return spec.check(path+"("+name+")", rest)
}

// closeError checks a CONNECTION_CLOSE frame's error against its space.
func closeError(path string, x map[string]any) error {
	e, ok := x["error"]
	if !ok {
		return nil
	}
	return errorT{app: x["error_space"] == "application"}.check(path+".error", e)
}

func loosen(o *object) *object {
	l := &object{open: o.open}
	for _, f := range o.fields {
		l.fields = append(l.fields, opt(f.name, f.t))
	}
	return l
}

var (
	frameList      = arrayOf(frameT{})
	looseFrameList = arrayOf(frameT{loose: true})
	versions       = arrayOf1(hexT)
)

// atLeastOne is an object that must not be empty.
type atLeastOne struct{ *object }

func (o atLeastOne) check(path string, v any) error {
	if x, ok := v.(map[string]any); ok && len(x) == 0 {
		return fmt.Errorf("%s: no field", path)
	}
	return o.object.check(path, v)
}

// events are the event types by name.
var events = map[string]typ{
	"quic:connection_started": obj(req("local", endpoint), req("remote", endpoint)),
	"quic:connection_closed": obj(
		opt("initiator", initiator),
		opt("connection_error", errorT{}),
		opt("application_error", errorT{app: true}),
		opt("error_code", uintT),
		opt("internal_code", uintT),
		opt("reason", strT),
		opt("trigger", enum("idle_timeout", "application", "error", "version_mismatch", "stateless_reset", "aborted", "unspecified")),
	),
	"quic:connection_id_updated":    obj(req("initiator", initiator), opt("old", hexT), opt("new", hexT)),
	"quic:connection_state_updated": obj(opt("old", strT), req("new", strT)),
	"quic:tuple_assigned":           obj(req("tuple_id", strT), opt("tuple_remote", endpoint), opt("tuple_local", endpoint)),
	"quic:mtu_updated":              obj(opt("old", uintT), req("new", uintT), opt("done", boolT)),
	"quic:version_information":      obj(opt("server_versions", versions), opt("client_versions", versions), opt("chosen_version", hexT)),
	"quic:alpn_information": obj(
		opt("server_alpns", arrayOf(alpnID)), opt("client_alpns", arrayOf(alpnID)), opt("chosen_alpn", alpnID)),
	"quic:parameters_set": parametersSet,
	"quic:packet_sent": obj(
		req("header", packetHeader), opt("frames", frameList),
		opt("stateless_reset_token", hexT), opt("supported_versions", versions),
		rawOpt, opt("datagram_id", uintT), opt("is_mtu_probe_packet", boolT),
		opt("trigger", enum("retransmit_reordered", "retransmit_timeout", "pto_probe", "retransmit_crypto", "cc_bandwidth_probe")),
	),
	"quic:packet_received": obj(
		req("header", packetHeader), opt("frames", frameList),
		opt("stateless_reset_token", hexT), opt("supported_versions", versions),
		rawOpt, opt("datagram_id", uintT), opt("trigger", enum("keys_available")),
	),
	"quic:packet_dropped": obj(
		opt("header", packetHeader), rawOpt, opt("datagram_id", uintT), opt("details", openObj()),
		opt("trigger", enum("internal_error", "rejected", "unsupported", "invalid", "duplicate", "connection_unknown",
			"decryption_failure", "key_unavailable", "general")),
	),
	"quic:packet_buffered": obj(
		opt("header", packetHeader), rawOpt, opt("datagram_id", uintT),
		opt("trigger", enum("backpressure", "keys_unavailable")),
	),
	"quic:stream_state_updated": obj(
		req("stream_id", uintT), opt("stream_type", streamTypeT), opt("old", streamStates), req("new", streamStates),
		req("stream_side", enum("sending", "receiving")), opt("trigger", enum("local", "remote")),
	),
	"quic:datagram_data_moved": obj(opt("from", dataLoc), opt("to", dataLoc), rawOpt),
	"quic:migration_state_updated": obj(
		opt("old", migrationStates), req("new", migrationStates), opt("tuple_id", strT),
		opt("tuple_remote", endpoint), opt("tuple_local", endpoint),
	),
	"quic:timer_updated": obj(
		opt("timer_type", strT), opt("timer_id", uintT), opt("packet_number_space", spaceT),
		req("event_type", enum("set", "expired", "cancelled")), opt("delta", numT),
	),
	"quic:key_updated": obj(req("key_type", keyType), opt("old", hexT), opt("new", hexT), opt("key_phase", uintT),
		opt("trigger", keyTrigger)),
	"quic:key_discarded": obj(req("key_type", keyType), opt("key", hexT), opt("key_phase", uintT), opt("trigger", keyTrigger)),
	"quic:recovery_parameters_set": obj(
		opt("reordering_threshold", uintT), opt("time_threshold", numT), req("timer_granularity", uintT),
		opt("initial_rtt", numT), opt("max_datagram_size", uintT), opt("initial_congestion_window", uintT),
		opt("minimum_congestion_window", uintT), opt("loss_reduction_factor", numT),
		opt("persistent_congestion_threshold", uintT),
	),
	"quic:recovery_metrics_updated": atLeastOne{obj(
		opt("min_rtt", numT), opt("smoothed_rtt", numT), opt("latest_rtt", numT), opt("rtt_variance", numT),
		opt("pto_count", uintT), opt("congestion_window", uintT), opt("bytes_in_flight", uintT),
		opt("ssthresh", uintT), opt("packets_in_flight", uintT), opt("pacing_rate", uintT),
	)},
	"quic:congestion_state_updated": obj(opt("old", strT), req("new", strT), opt("trigger", strT)),
	"quic:packet_lost": obj(
		opt("header", packetHeader), opt("frames", looseFrameList), opt("is_mtu_probe_packet", boolT),
		opt("trigger", enum("reordering_threshold", "time_threshold", "pto_expired")),
	),
	"quic:ecn_state_updated": obj(opt("old", ecnStates), req("new", ecnStates)),
	"loglevel:error":         obj(opt("code", uintT), opt("message", strT)),
	"loglevel:warning":       obj(opt("code", uintT), opt("message", strT)),
	"loglevel:info":          obj(req("message", strT)),
}

var parametersSet = obj(
	opt("initiator", initiator),
	opt("resumption_allowed", boolT),
	opt("early_data_enabled", boolT),
	opt("tls_cipher", strT),
	opt("original_destination_connection_id", hexT),
	opt("initial_source_connection_id", hexT),
	opt("retry_source_connection_id", hexT),
	opt("stateless_reset_token", hexT),
	opt("disable_active_migration", boolT),
	opt("max_idle_timeout", uintT),
	opt("max_udp_payload_size", uintT),
	opt("ack_delay_exponent", uintT),
	opt("max_ack_delay", uintT),
	opt("active_connection_id_limit", uintT),
	opt("initial_max_data", uintT),
	opt("initial_max_stream_data_bidi_local", uintT),
	opt("initial_max_stream_data_bidi_remote", uintT),
	opt("initial_max_stream_data_uni", uintT),
	opt("initial_max_streams_bidi", uintT),
	opt("initial_max_streams_uni", uintT),
	opt("preferred_address", obj(
		opt("ip_v4", strT), opt("port_v4", uintT), opt("ip_v6", strT), opt("port_v6", uintT),
		req("connection_id", hexT), req("stateless_reset_token", hexT),
	)),
	opt("unknown_parameters", arrayOf(obj(req("id", uintT), opt("value", hexT)))),
	opt("max_datagram_frame_size", uintT),
	opt("grease_quic_bit", boolT),
)
