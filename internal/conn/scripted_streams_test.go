package conn

import (
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of streams and stream limits (RFC 9000 §2-§4.6,
// §19.4-§19.14).

// RFC 9000 §4.6: a stream beyond the advertised MAX_STREAMS limit is a
// STREAM_LIMIT_ERROR.
func TestScriptedPeerStreamBeyondLimit(t *testing.T) {
	tc := newTestConn(t, Server, withSettings(Server, func(s *Settings) { s.PeerBidiStreamCount = 3 }))
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: streamID(Client, false, 2), Data: []byte("third")})
	tc.wantIdle("the third of three streams is allowed")
	tc.writeFrames(wire.DebugStream{ID: streamID(Client, false, 3), Data: []byte("fourth")})
	tc.wantClose("the fourth of three streams", wire.StreamLimitError, 0x0a)
}

// RFC 9000 §4.6 and §19.14: an endpoint that cannot open a stream for the
// peer's limit SHOULD send STREAMS_BLOCKED; it opens the stream once
// MAX_STREAMS allows.
func TestScriptedStreamsBlockedAtPeerLimit(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Server, func(s *Settings) { s.PeerBidiStreamCount = 1 }))
	tc.ignoreFrame(wire.DebugAck{})
	tc.openStream(false, []byte("first"), false)
	tc.wantFrame("the first stream", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("first")})
	tc.openStream(false, []byte("second"), false)
	tc.wantFrame("the second stream is blocked", wire.Packet1RTT, wire.DebugStreamsBlocked{Bidi: true, Limit: 1})
	tc.wantIdle("no frame on a stream beyond the limit")
	tc.writeFrames(wire.DebugMaxStreams{Bidi: true, Max: 2})
	tc.wantFrame("the second stream opens", wire.Packet1RTT, wire.DebugStream{ID: 4, Data: []byte("second")})
}

// RFC 9000 §19.11: a MAX_STREAMS above 2^60 MUST be treated as a
// FRAME_ENCODING_ERROR.
func TestScriptedMaxStreamsAbove2To60(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugMaxStreams{Bidi: true, Max: 1<<60 + 1})
	tc.wantClose("MAX_STREAMS 2^60+1", wire.FrameEncodingError, 0x12)
}

// RFC 9000 §19.14: so must a STREAMS_BLOCKED above 2^60.
func TestScriptedStreamsBlockedAbove2To60(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStreamsBlocked{Bidi: false, Limit: 1<<60 + 1})
	tc.wantClose("STREAMS_BLOCKED 2^60+1", wire.FrameEncodingError, 0x17)
}

// RFC 9000 §4.6: as the peer's streams close, the endpoint raises the
// limit with MAX_STREAMS.
func TestScriptedClosedStreamsAreReplaced(t *testing.T) {
	tc := newTestConn(t, Server, withSettings(Server, func(s *Settings) { s.PeerUniStreamCount = 2 }))
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: streamID(Client, true, 0), Data: []byte("one"), Fin: true})
	tc.wantFrame("a finished unidirectional stream is replaced", wire.Packet1RTT, wire.DebugMaxStreams{Bidi: false, Max: 3})
	tc.writeFrames(wire.DebugStream{ID: streamID(Client, true, 2), Data: []byte("three"), Fin: true})
	tc.wantFrame("and so is the next", wire.Packet1RTT, wire.DebugMaxStreams{Bidi: false, Max: 4})
}

// RFC 9000 §19.8: a STREAM frame for a locally initiated stream that has
// not been created is a STREAM_STATE_ERROR.
func TestScriptedStreamFrameForUnopenedLocalStream(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: streamID(Server, false, 0), Data: []byte("x")})
	tc.wantClose("the server's first stream, never opened", wire.StreamStateError, 0x0a)
}

// RFC 9000 §19.8: a STREAM frame for a send-only stream is a
// STREAM_STATE_ERROR.
func TestScriptedStreamFrameOnSendOnlyStream(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.openStream(true, []byte("out"), false)
	id := streamID(Server, true, 0)
	tc.wantFrame("the server's unidirectional stream", wire.Packet1RTT, wire.DebugStream{ID: id, Data: []byte("out")})
	tc.writeFrames(wire.DebugStream{ID: id, Data: []byte("in")})
	tc.wantClose("data on the server's send-only stream", wire.StreamStateError, 0x0a)
}

// RFC 9000 §19.5: STOP_SENDING for a receive-only stream is a
// STREAM_STATE_ERROR.
func TestScriptedStopSendingOnReceiveOnlyStream(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	id := streamID(Client, true, 0)
	tc.writeFrames(wire.DebugStream{ID: id, Data: []byte("uni")})
	tc.writeFrames(wire.DebugStopSending{ID: id, Code: 5})
	tc.wantClose("STOP_SENDING for the peer's own send-only stream", wire.StreamStateError, 0x05)
}

// RFC 9000 §3.5: an endpoint that receives STOP_SENDING MUST send
// RESET_STREAM; it SHOULD copy the error code.
func TestScriptedStopSendingIsAnsweredWithReset(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.openStream(false, []byte("hello"), false)
	tc.wantFrame("stream data", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("hello")})
	tc.skipEvents()
	tc.writeFrames(wire.DebugStopSending{ID: 0, Code: 7})
	tc.wantFrame("reset with the peer's code and the final size", wire.Packet1RTT, wire.DebugResetStream{ID: 0, Code: 7, FinalSize: 5})
	tc.wantEvent("the application hears of it", "PeerReceiveAborted")
	tc.wantIdle("nothing more on the stream")
}

// RFC 9000 §3.2: a RESET_STREAM ends the receiving part; the application
// learns the code.
func TestScriptedResetStreamAbortsReceive(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugPing{})
	tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("abc")})
	tc.skipEvents()
	tc.writeFrames(wire.DebugResetStream{ID: 0, Code: 9, FinalSize: 10})
	if ev := tc.wantEvent("reset", "PeerSendAborted"); ev.a != 9 {
		t.Errorf("PeerSendAborted code %d, want 9", ev.a)
	}
	tc.writeFrames(wire.DebugStream{ID: 0, Off: 3, Data: []byte("defg")})
	tc.wantIdle("data after the reset, within the final size, is dropped")
}

// RFC 9000 §19.8: an offset and length above 2^62-1 MUST be a
// FRAME_ENCODING_ERROR or a FLOW_CONTROL_ERROR.
func TestScriptedStreamOffsetBeyond2To62(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 0, Off: 1<<62 - 1, Data: []byte("ab")})
	got := tc.wantFrameType("data ending past 2^62-1", wire.Packet1RTT, wire.DebugConnectionClose{})
	if cc := got.f.(wire.DebugConnectionClose); cc.App || cc.Code != uint64(wire.FrameEncodingError) && cc.Code != uint64(wire.FlowControlError) || cc.FrameType != 0x0e {
		t.Errorf("got %v, want FRAME_ENCODING_ERROR or FLOW_CONTROL_ERROR for frame type 0x0e", cc)
	}
}

// RFC 9000 §19.4: RESET_STREAM for a send-only stream is a
// STREAM_STATE_ERROR.
func TestScriptedResetStreamOnSendOnlyStream(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	id := streamID(Server, true, 0)
	tc.openStream(true, []byte("out"), false)
	tc.wantFrame("the server's unidirectional stream", wire.Packet1RTT, wire.DebugStream{ID: id, Data: []byte("out")})
	tc.writeFrames(wire.DebugResetStream{ID: id, Code: 1, FinalSize: 0})
	tc.wantClose("RESET_STREAM for the server's send-only stream", wire.StreamStateError, 0x04)
}

// RFC 9000 §19.13: STREAM_DATA_BLOCKED for a send-only stream is a
// STREAM_STATE_ERROR.
func TestScriptedStreamDataBlockedOnSendOnlyStream(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	id := streamID(Server, true, 0)
	tc.openStream(true, []byte("out"), false)
	tc.wantFrame("the server's unidirectional stream", wire.Packet1RTT, wire.DebugStream{ID: id, Data: []byte("out")})
	tc.writeFrames(wire.DebugStreamDataBlocked{ID: id, Limit: 0})
	tc.wantClose("STREAM_DATA_BLOCKED for the server's send-only stream", wire.StreamStateError, 0x15)
}

// RFC 9000 §19.10: MAX_STREAM_DATA for a locally initiated stream not yet
// created is a STREAM_STATE_ERROR.
func TestScriptedMaxStreamDataForUnopenedLocalStream(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugMaxStreamData{ID: streamID(Client, false, 0), Max: 1 << 20})
	tc.wantClose("MAX_STREAM_DATA for the client's first stream, never opened", wire.StreamStateError, 0x11)
}

// RFC 9000 §19.5: STOP_SENDING for a locally initiated stream not yet
// created is a STREAM_STATE_ERROR.
func TestScriptedStopSendingForUnopenedLocalStream(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStopSending{ID: streamID(Client, true, 0), Code: 1})
	tc.wantClose("STOP_SENDING for the client's first unidirectional stream, never opened", wire.StreamStateError, 0x05)
}

// RFC 9000 §3.2: a stream opened by the peer opens every stream of its
// type with a lower number first.
func TestScriptedPeerStreamOpensLowerStreams(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.skipEvents()
	tc.writeFrames(wire.DebugStream{ID: streamID(Client, false, 2), Data: []byte("third")})
	for n := range uint64(3) {
		if ev := tc.wantEvent("the streams open in order", "PeerStreamStarted"); ev.a != streamID(Client, false, n) {
			t.Fatalf("stream %d started, want %d", ev.a, streamID(Client, false, n))
		}
	}
	tc.wantIdle("nothing to send for them")
}

// RFC 9000 §19.11: a MAX_STREAMS that does not raise the limit MUST be
// ignored.
func TestScriptedLowerMaxStreamsIsIgnored(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Server, func(s *Settings) { s.PeerBidiStreamCount = 2 }))
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugMaxStreams{Bidi: true, Max: 1})
	tc.openStream(false, []byte("a"), false)
	tc.openStream(false, []byte("b"), false)
	tc.wantFrame("the first stream", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("a")})
	tc.wantFrame("the second stream: the limit is still 2", wire.Packet1RTT, wire.DebugStream{ID: 4, Data: []byte("b")})
	tc.wantIdle("nothing else")
}
