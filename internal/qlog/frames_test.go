package qlog

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hquic/quic/internal/rangeset"
	"github.com/hquic/quic/internal/wire"
)

// everyFrame is a payload holding one frame of every type, in the order
// of framesWant.
func everyFrame() []byte {
	var b []byte
	b = wire.AppendPadding(b, 3)
	b = wire.AppendPing(b)
	var acked rangeset.Set[int64]
	acked.Add(0, 3)
	acked.Add(5, 6)
	b = wire.AppendAck(b, &acked, 100, &wire.ECNCounts{ECT0: 4, ECT1: 5, CE: 6}, 1000)
	b = wire.AppendResetStream(b, 4, 7, 1000)
	b = wire.AppendStopSending(b, 8, 9)
	b = wire.AppendCryptoHeader(b, 10, 2)
	b = append(b, 'h', 'i')
	b = wire.AppendNewToken(b, []byte("token"))
	b = wire.AppendStreamHeader(b, 12, 100, 3, true, true)
	b = append(b, "abc"...)
	b = wire.AppendMaxData(b, 1<<20)
	b = wire.AppendMaxStreamData(b, 12, 1<<16)
	b = wire.AppendMaxStreams(b, true, 100)
	b = wire.AppendDataBlocked(b, 1<<20)
	b = wire.AppendStreamDataBlocked(b, 12, 1<<16)
	b = wire.AppendStreamsBlocked(b, false, 3)
	b = wire.AppendNewConnectionID(b, 2, 1, []byte{1, 2, 3, 4}, [16]byte{15: 1})
	b = wire.AppendRetireConnectionID(b, 1)
	b = wire.AppendPathChallenge(b, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	b = wire.AppendPathResponse(b, [8]byte{8, 7, 6, 5, 4, 3, 2, 1})
	b = wire.AppendConnectionClose(b, false, uint64(wire.CryptoError(0x2a)), 0x06, []byte("bad cert"))
	b = wire.AppendConnectionClose(b, true, 77, 0, []byte("bye"))
	b = wire.AppendHandshakeDone(b)
	b = wire.AppendDatagram(b, []byte("dgram"), true)
	return append(b, 0x21) // an unknown type
}

var framesWant = []map[string]any{
	{"frame_type": "padding", "raw": map[string]any{"length": 3.0, "payload_length": 3.0}},
	{"frame_type": "ping"},
	{"frame_type": "ack", "ack_delay": 0.8, "acked_ranges": []any{[]any{5.0}, []any{0.0, 2.0}}, "ect1": 5.0, "ect0": 4.0, "ce": 6.0},
	{"frame_type": "reset_stream", "stream_id": 4.0, "error": "unknown", "error_code": 7.0, "final_size": 1000.0},
	{"frame_type": "stop_sending", "stream_id": 8.0, "error": "unknown", "error_code": 9.0},
	{"frame_type": "crypto", "offset": 10.0, "raw": map[string]any{"length": 2.0}},
	{"frame_type": "new_token", "token": map[string]any{"raw": map[string]any{"length": 5.0}}},
	{"frame_type": "stream", "stream_id": 12.0, "offset": 100.0, "fin": true, "raw": map[string]any{"length": 3.0}},
	{"frame_type": "max_data", "maximum": 1048576.0},
	{"frame_type": "max_stream_data", "stream_id": 12.0, "maximum": 65536.0},
	{"frame_type": "max_streams", "stream_type": "bidirectional", "maximum": 100.0},
	{"frame_type": "data_blocked", "limit": 1048576.0},
	{"frame_type": "stream_data_blocked", "stream_id": 12.0, "limit": 65536.0},
	{"frame_type": "streams_blocked", "stream_type": "unidirectional", "limit": 3.0},
	{"frame_type": "new_connection_id", "sequence_number": 2.0, "retire_prior_to": 1.0, "connection_id_length": 4.0,
		"connection_id": "01020304", "stateless_reset_token": "00000000000000000000000000000001"},
	{"frame_type": "retire_connection_id", "sequence_number": 1.0},
	{"frame_type": "path_challenge", "data": "0102030405060708"},
	{"frame_type": "path_response", "data": "0807060504030201"},
	{"frame_type": "connection_close", "error_space": "transport", "error": "crypto_error_0x12a", "trigger_frame_type": 6.0, "reason": "bad cert"},
	{"frame_type": "connection_close", "error_space": "application", "error": "unknown", "error_code": 77.0, "reason": "bye"},
	{"frame_type": "handshake_done"},
	{"frame_type": "datagram", "raw": map[string]any{"length": 5.0}},
	{"frame_type": "unknown", "frame_type_bytes": 33.0},
}

func TestFramesDescribeEveryFrameType(t *testing.T) {
	var e Encoder
	e.BeginObject()
	e.Frames(everyFrame(), 3)
	e.EndObject()
	var got struct{ Frames []map[string]any }
	if err := json.Unmarshal(e.b, &got); err != nil {
		t.Fatalf("%v: %s", err, e.b)
	}
	if len(got.Frames) != len(framesWant) {
		t.Fatalf("got %d frames, want %d: %s", len(got.Frames), len(framesWant), e.b)
	}
	for i, want := range framesWant {
		if !reflect.DeepEqual(got.Frames[i], want) {
			t.Errorf("frame %d:\n got %v\nwant %v", i, got.Frames[i], want)
		}
	}
}

func TestTransportErrorNames(t *testing.T) {
	for code, want := range map[uint64]string{
		0x0: `"e":"no_error"`, 0xa: `"e":"protocol_violation"`, 0x10: `"e":"no_viable_path"`,
		0x178: `"e":"crypto_error_0x178"`, 0x11: `"e":"unknown","error_code":17`,
	} {
		var e Encoder
		e.TransportError("e", code)
		if string(e.b) != want {
			t.Errorf("code %#x: %s, want %s", code, e.b, want)
		}
	}
}

func TestEncoderEscapesStrings(t *testing.T) {
	var e Encoder
	e.BeginArray()
	e.String("a\"b\\c\x01\x1e\t\u00e9\u2028")
	e.StringBytes([]byte{'o', 'k', 0xff, 0xfe})
	e.EndArray()
	var got []string
	if err := json.Unmarshal(e.b, &got); err != nil {
		t.Fatalf("%v: %s", err, e.b)
	}
	if got[0] != "a\"b\\c\x01\x1e\t\u00e9\u2028" || got[1] != "ok\ufffd\ufffd" {
		t.Errorf("round trip: %q", got)
	}
	for _, c := range e.b {
		if c < 0x20 {
			t.Fatalf("control byte %#x left unescaped in %q", c, e.b)
		}
	}
}

// FuzzFrameLog feeds arbitrary payloads to the frame describer: it must
// not panic and must always produce valid JSON.
func FuzzFrameLog(f *testing.F) {
	f.Add(everyFrame())
	f.Add([]byte{0x02, 0x80})
	f.Add([]byte{0x1c, 0x01, 0x00, 0x05, 'a'})
	f.Fuzz(func(t *testing.T, payload []byte) {
		var e Encoder
		e.BeginObject()
		e.Frames(payload, 20)
		e.EndObject()
		if !json.Valid(e.b) {
			t.Fatalf("invalid JSON for %x: %s", payload, e.b)
		}
	})
}
