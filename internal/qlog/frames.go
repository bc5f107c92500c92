package qlog

import (
	"github.com/hquic/quic/internal/wire"
)

// Frames writes the member "frames": the frames of a plaintext packet
// payload as QuicFrame objects (quic-events §8.12). ackDelayExponent
// scales the ACK frames' delays (the sender's exponent). Parsing stops at
// the first malformed frame; an unknown type is logged as such. The payload
// may be hostile: the work is bounded by its length.
func (e *Encoder) Frames(payload []byte, ackDelayExponent uint8) {
	e.Arr("frames")
	for len(payload) > 0 {
		n := e.frame(payload, ackDelayExponent)
		if n <= 0 {
			break
		}
		payload = payload[n:]
	}
	e.EndArray()
}

// frame writes the frame at the start of b and returns its length, ≤ 0 if
// it cannot be parsed.
func (e *Encoder) frame(b []byte, ackExp uint8) int {
	typ, n := wire.ConsumeFrameType(b)
	if n < 0 {
		return -1
	}
	switch {
	case typ == wire.FramePadding:
		n = 1
		for n < len(b) && b[n] == 0 {
			n++
		}
		e.beginFrame("padding")
		e.Obj("raw")
		e.U64("length", uint64(n))
		e.U64("payload_length", uint64(n))
		e.EndObject()
		e.EndObject()
		return n
	case typ == wire.FramePing:
		e.simpleFrame("ping")
		return 1
	case typ == wire.FrameAck || typ == wire.FrameAckECN:
		return e.ackFrame(b, ackExp)
	case typ == wire.FrameResetStream:
		id, code, final, n := wire.ConsumeResetStream(b)
		if n > 0 {
			e.beginFrame("reset_stream")
			e.U64("stream_id", id)
			e.appError(code)
			e.U64("final_size", final)
			e.EndObject()
		}
		return n
	case typ == wire.FrameStopSending:
		id, code, n := wire.ConsumeStopSending(b)
		if n > 0 {
			e.beginFrame("stop_sending")
			e.U64("stream_id", id)
			e.appError(code)
			e.EndObject()
		}
		return n
	case typ == wire.FrameCrypto:
		off, data, n := wire.ConsumeCrypto(b)
		if n > 0 {
			e.CryptoFrame(off, len(data))
		}
		return n
	case typ == wire.FrameNewToken:
		tok, n := wire.ConsumeNewToken(b)
		if n > 0 {
			e.NewTokenFrame(len(tok))
		}
		return n
	case typ >= wire.FrameStream && typ <= wire.FrameStream|7:
		id, off, fin, data, n := wire.ConsumeStream(b)
		if n > 0 {
			e.StreamFrame(id, off, len(data), fin)
		}
		return n
	case typ == wire.FrameMaxData:
		v, n := wire.ConsumeMaxData(b)
		if n > 0 {
			e.LimitFrame("max_data", "maximum", v)
		}
		return n
	case typ == wire.FrameMaxStreamData:
		id, v, n := wire.ConsumeMaxStreamData(b)
		if n > 0 {
			e.StreamLimitFrame("max_stream_data", "maximum", id, v)
		}
		return n
	case typ == wire.FrameMaxStreamsBidi || typ == wire.FrameMaxStreamsUni:
		bidi, v, n := wire.ConsumeMaxStreams(b)
		if n > 0 {
			e.StreamsFrame("max_streams", "maximum", bidi, v)
		}
		return n
	case typ == wire.FrameDataBlocked:
		v, n := wire.ConsumeDataBlocked(b)
		if n > 0 {
			e.LimitFrame("data_blocked", "limit", v)
		}
		return n
	case typ == wire.FrameStreamDataBlocked:
		id, v, n := wire.ConsumeStreamDataBlocked(b)
		if n > 0 {
			e.StreamLimitFrame("stream_data_blocked", "limit", id, v)
		}
		return n
	case typ == wire.FrameStreamsBlockedBidi || typ == wire.FrameStreamsBlockedUni:
		bidi, v, n := wire.ConsumeStreamsBlocked(b)
		if n > 0 {
			e.StreamsFrame("streams_blocked", "limit", bidi, v)
		}
		return n
	case typ == wire.FrameNewConnectionID:
		seq, rpt, cid, tok, n := wire.ConsumeNewConnectionID(b)
		if n > 0 {
			e.beginFrame("new_connection_id")
			e.U64("sequence_number", seq)
			e.U64("retire_prior_to", rpt)
			e.U64("connection_id_length", uint64(len(cid)))
			e.HexField("connection_id", cid)
			e.HexField("stateless_reset_token", tok[:])
			e.EndObject()
		}
		return n
	case typ == wire.FrameRetireConnectionID:
		seq, n := wire.ConsumeRetireConnectionID(b)
		if n > 0 {
			e.LimitFrame("retire_connection_id", "sequence_number", seq)
		}
		return n
	case typ == wire.FramePathChallenge || typ == wire.FramePathResponse:
		var data [8]byte
		name := "path_challenge"
		if typ == wire.FramePathChallenge {
			data, n = wire.ConsumePathChallenge(b)
		} else {
			data, n = wire.ConsumePathResponse(b)
			name = "path_response"
		}
		if n > 0 {
			e.beginFrame(name)
			e.HexField("data", data[:])
			e.EndObject()
		}
		return n
	case typ == wire.FrameConnectionCloseTransport || typ == wire.FrameConnectionCloseApp:
		app, code, ft, reason, n := wire.ConsumeConnectionClose(b)
		if n > 0 {
			e.beginFrame("connection_close")
			if app {
				e.Str("error_space", "application")
				e.appError(code)
			} else {
				e.Str("error_space", "transport")
				e.TransportError("error", code)
				e.U64("trigger_frame_type", ft)
			}
			e.Key("reason")
			e.StringBytes(reason)
			e.EndObject()
		}
		return n
	case typ == wire.FrameHandshakeDone:
		e.simpleFrame("handshake_done")
		return 1
	case typ == wire.FrameDatagram || typ == wire.FrameDatagramLen:
		data, n := wire.ConsumeDatagram(b)
		if n > 0 {
			e.DatagramFrame(len(data))
		}
		return n
	}
	e.beginFrame("unknown")
	e.U64("frame_type_bytes", typ)
	e.EndObject()
	return -1
}

// ackFrame writes an ACK frame with its ranges, lowest first.
func (e *Encoder) ackFrame(b []byte, ackExp uint8) int {
	f, n := wire.ConsumeAck(b)
	if n <= 0 {
		return n
	}
	e.beginFrame("ack")
	delay := f.Delay
	if ackExp < 64 && delay < 1<<(62-min(ackExp, 62)) {
		delay <<= ackExp
	}
	e.Key("ack_delay")
	e.Millis(usDuration(delay))
	// The iterator yields ranges highest first; qlog accepts any order.
	e.Arr("acked_ranges")
	it := f.Iter()
	for {
		lo, hi, ok := it.Next()
		if !ok {
			break
		}
		e.BeginArray()
		e.Int(lo)
		if hi != lo {
			e.Int(hi)
		}
		e.EndArray()
	}
	e.EndArray()
	if f.ECN {
		e.U64("ect1", f.ECT1)
		e.U64("ect0", f.ECT0)
		e.U64("ce", f.CE)
	}
	e.EndObject()
	return n
}

// The frame writers below are also what a connection uses to describe the
// frames of a sent packet from its compact record of them.

// beginFrame starts a frame object of the given frame_type.
func (e *Encoder) beginFrame(name string) {
	e.BeginObject()
	e.Str("frame_type", name)
}

func (e *Encoder) simpleFrame(name string) {
	e.beginFrame(name)
	e.EndObject()
}

// SimpleFrame writes a frame without fields (ping, handshake_done, ...).
func (e *Encoder) SimpleFrame(name string) { e.simpleFrame(name) }

// StreamFrame writes a STREAM frame carrying n bytes at off.
func (e *Encoder) StreamFrame(id, off uint64, n int, fin bool) {
	e.beginFrame("stream")
	e.U64("stream_id", id)
	e.U64("offset", off)
	if fin {
		e.Flag("fin", true)
	}
	e.Raw(n)
	e.EndObject()
}

// CryptoFrame writes a CRYPTO frame carrying n bytes at off.
func (e *Encoder) CryptoFrame(off uint64, n int) {
	e.beginFrame("crypto")
	e.U64("offset", off)
	e.Raw(n)
	e.EndObject()
}

// NewTokenFrame writes a NEW_TOKEN frame with a token of n bytes.
func (e *Encoder) NewTokenFrame(n int) {
	e.beginFrame("new_token")
	e.Obj("token")
	e.Raw(n)
	e.EndObject()
	e.EndObject()
}

// DatagramFrame writes a DATAGRAM frame of n bytes.
func (e *Encoder) DatagramFrame(n int) {
	e.beginFrame("datagram")
	e.Raw(n)
	e.EndObject()
}

// LimitFrame writes a frame with one numeric field (max_data,
// data_blocked, retire_connection_id, ...).
func (e *Encoder) LimitFrame(name, field string, v uint64) {
	e.beginFrame(name)
	e.U64(field, v)
	e.EndObject()
}

// StreamLimitFrame writes a frame with a stream ID and one numeric field.
func (e *Encoder) StreamLimitFrame(name, field string, id, v uint64) {
	e.beginFrame(name)
	e.U64("stream_id", id)
	e.U64(field, v)
	e.EndObject()
}

// StreamsFrame writes MAX_STREAMS or STREAMS_BLOCKED.
func (e *Encoder) StreamsFrame(name, field string, bidi bool, v uint64) {
	e.beginFrame(name)
	e.Str("stream_type", streamType(bidi))
	e.U64(field, v)
	e.EndObject()
}

func streamType(bidi bool) string {
	if bidi {
		return "bidirectional"
	}
	return "unidirectional"
}

// appError writes an application error code: qlog knows no application's
// names, so "unknown" and the code.
func (e *Encoder) appError(code uint64) {
	e.Str("error", "unknown")
	e.U64("error_code", code)
}

// transportErrors are the qlog names of the transport error codes
// (quic-events §8.13.23).
var transportErrors = [...]string{
	"no_error", "internal_error", "connection_refused", "flow_control_error",
	"stream_limit_error", "stream_state_error", "final_size_error",
	"frame_encoding_error", "transport_parameter_error",
	"connection_id_limit_error", "protocol_violation", "invalid_token",
	"application_error", "crypto_buffer_exceeded", "key_update_error",
	"aead_limit_reached", "no_viable_path",
}

// TransportError writes the member key: the qlog name of a transport error
// code, a crypto_error_0x1XX string, or "unknown" with error_code.
func (e *Encoder) TransportError(key string, code uint64) {
	switch {
	case code < uint64(len(transportErrors)):
		e.Str(key, transportErrors[code])
	case wire.ErrorCode(code).IsCrypto():
		var s [19]byte
		b := append(s[:0], "crypto_error_0x1"...)
		b = append(b, hexDigits[code>>4&15], hexDigits[code&15])
		e.Key(key)
		e.StringBytes(b)
	default:
		e.Str(key, "unknown")
		e.U64("error_code", code)
	}
}
