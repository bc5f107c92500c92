package conn

import (
	"bytes"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of flow control (RFC 9000 §4).

// RFC 9000 §4.1: a receiver MUST close the connection with
// FLOW_CONTROL_ERROR when a sender exceeds a stream's advertised limit.
func TestScriptedStreamDataBeyondStreamLimit(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 0, Off: 64 << 10, Data: []byte{1}})
	tc.wantClose("a byte past the 64 KiB stream window", wire.FlowControlError, 0x0e)
	tc.wantIdle("closing: nothing more until the peer sends again")
}

// RFC 9000 §4.1: the same for the connection's limit, across streams.
func TestScriptedStreamDataBeyondConnectionLimit(t *testing.T) {
	tc := newTestConn(t, Server, withSettings(Server, func(s *Settings) { s.ConnFlowControlWindow = 1000 }))
	tc.ignoreFrame(wire.DebugAck{})
	// One packet, so that no window update comes between the frames.
	tc.writeFrames(wire.DebugStream{ID: 0, Data: make([]byte, 600)}, wire.DebugStream{ID: 4, Data: make([]byte, 600)})
	tc.wantClose("1200 bytes against a 1000-byte connection window", wire.FlowControlError, 0x0a)
}

// RFC 9000 §4.1: a sender MUST NOT send data beyond the peer's stream
// limit, and SHOULD send STREAM_DATA_BLOCKED when the limit blocks it;
// MAX_STREAM_DATA lets it go on.
func TestScriptedSenderStopsAtStreamLimit(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Server, func(s *Settings) { s.StreamRecvWindowBidiRemote = 1000 }))
	tc.ignoreFrame(wire.DebugAck{})
	data := bytes.Repeat([]byte("0123456789"), 300)
	tc.openStream(false, data, false)
	tc.wantStreamData("the first 1000 bytes", 0, data, 0, 1000)
	tc.wantFrame("blocked at the stream limit", wire.Packet1RTT, wire.DebugStreamDataBlocked{ID: 0, Limit: 1000})
	tc.wantIdle("nothing beyond the limit")
	tc.writeFrames(wire.DebugMaxStreamData{ID: 0, Max: 2000})
	tc.wantStreamData("the next 1000 bytes", 0, data, 1000, 2000)
	tc.wantFrame("blocked again", wire.Packet1RTT, wire.DebugStreamDataBlocked{ID: 0, Limit: 2000})
	tc.wantIdle("nothing beyond the new limit")
}

// RFC 9000 §4.1: the same for the connection's limit, with DATA_BLOCKED.
func TestScriptedSenderStopsAtConnectionLimit(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Server, func(s *Settings) { s.ConnFlowControlWindow = 1500 }))
	tc.ignoreFrame(wire.DebugAck{})
	data := bytes.Repeat([]byte("abcdefghij"), 300)
	tc.openStream(false, data, false)
	tc.wantStreamData("the first 1500 bytes", 0, data, 0, 1500)
	tc.wantFrame("blocked at the connection limit", wire.Packet1RTT, wire.DebugDataBlocked{Limit: 1500})
	tc.wantIdle("nothing beyond the limit")
	tc.writeFrames(wire.DebugMaxData{Max: 2500})
	tc.wantStreamData("the next 1000 bytes", 0, data, 1500, 2500)
	tc.wantFrame("blocked again", wire.Packet1RTT, wire.DebugDataBlocked{Limit: 2500})
}

// RFC 9000 §19.9 and §19.10: a MAX_DATA or MAX_STREAM_DATA frame that does
// not raise the limit MUST be ignored.
func TestScriptedLowerLimitsAreIgnored(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Server, func(s *Settings) {
		s.ConnFlowControlWindow = 1500
		s.StreamRecvWindowBidiRemote = 1200
	}))
	tc.ignoreFrame(wire.DebugAck{})
	data := bytes.Repeat([]byte("abcdefghij"), 300)
	tc.openStream(false, data, false)
	tc.wantStreamData("up to the stream limit", 0, data, 0, 1200)
	tc.wantFrame("blocked at the stream limit", wire.Packet1RTT, wire.DebugStreamDataBlocked{ID: 0, Limit: 1200})
	tc.writeFrames(wire.DebugMaxData{Max: 100}, wire.DebugMaxStreamData{ID: 0, Max: 100})
	tc.wantIdle("lower limits change nothing")
	tc.writeFrames(wire.DebugMaxStreamData{ID: 0, Max: 1400})
	tc.wantStreamData("the stream limit rose; the connection's 1500 still holds", 0, data, 1200, 1400)
	tc.wantFrame("blocked at the stream limit again", wire.Packet1RTT, wire.DebugStreamDataBlocked{ID: 0, Limit: 1400})
	tc.wantIdle("the connection limit was not lowered")
}

// RFC 9000 §4.5: a RESET_STREAM whose final size is below the data
// already received is a FINAL_SIZE_ERROR.
func TestScriptedResetBelowReceivedData(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 0, Data: make([]byte, 100)})
	tc.writeFrames(wire.DebugResetStream{ID: 0, Code: 1, FinalSize: 50})
	tc.wantClose("final size 50 after 100 bytes", wire.FinalSizeError, 0x04)
}

// RFC 9000 §4.5: data at or beyond the final size is a FINAL_SIZE_ERROR.
func TestScriptedDataPastFin(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("abc"), Fin: true})
	tc.writeFrames(wire.DebugStream{ID: 0, Off: 3, Data: []byte("d")})
	tc.wantClose("a byte after the FIN", wire.FinalSizeError, 0x0e)
}

// RFC 9000 §4.5: once known, the final size cannot change.
func TestScriptedSecondFinMovesFinalSize(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("abc"), Fin: true})
	tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("ab"), Fin: true})
	tc.wantClose("a FIN at 2 after one at 3", wire.FinalSizeError, 0x0b)
}

// RFC 9000 §4.5: a final size beyond the flow-control limit is a
// FLOW_CONTROL_ERROR.
func TestScriptedResetBeyondStreamLimit(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugResetStream{ID: 0, Code: 1, FinalSize: 1 << 20})
	tc.wantClose("final size 1 MiB against a 64 KiB window", wire.FlowControlError, 0x04)
}

// RFC 9000 §19.10: MAX_STREAM_DATA for a receive-only stream is a
// STREAM_STATE_ERROR.
func TestScriptedMaxStreamDataForReceiveOnlyStream(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 2, Data: []byte("uni")})
	tc.writeFrames(wire.DebugMaxStreamData{ID: 2, Max: 1 << 20})
	tc.wantClose("the peer's own unidirectional stream", wire.StreamStateError, 0x11)
}

// RFC 9000 §4.2: as the application consumes data, the receiver raises
// the stream's and the connection's limits with MAX_STREAM_DATA and
// MAX_DATA.
func TestScriptedConsumedDataReturnsCredit(t *testing.T) {
	tc := newTestConn(t, Server, withSettings(Server, func(s *Settings) {
		s.ConnFlowControlWindow = 64 << 10
		s.StreamRecvWindowBidiRemote = 16 << 10
	}))
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugPing{})
	chunk := make([]byte, 1000)
	var got []sentFrame
	for off := 0; off < 12<<10; off += len(chunk) {
		tc.writeFrames(wire.DebugStream{ID: 0, Off: uint64(off), Data: chunk})
		for {
			f, ok := tc.readFrame()
			if !ok {
				break
			}
			got = append(got, f)
		}
	}
	var maxStream, maxData uint64
	for _, f := range got {
		switch f := f.f.(type) {
		case wire.DebugMaxStreamData:
			if f.ID != 0 || f.Max <= maxStream {
				t.Errorf("MAX_STREAM_DATA %v after %d", f, maxStream)
			}
			maxStream = f.Max
		case wire.DebugMaxData:
			if f.Max <= maxData {
				t.Errorf("MAX_DATA %v after %d", f, maxData)
			}
			maxData = f.Max
		default:
			t.Errorf("unexpected %v", f)
		}
	}
	if maxStream <= 16<<10 || maxStream > 12<<10+16<<10*2 {
		t.Errorf("stream limit %d after 12 KiB consumed of a 16 KiB window", maxStream)
	}
	t.Logf("limits: stream %d, connection %d, in %d frames", maxStream, maxData, len(got))
}

// RFC 9000 §4.5: a RESET_STREAM whose final size differs from the FIN's is
// a FINAL_SIZE_ERROR.
func TestScriptedResetChangesFinalSize(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("abc"), Fin: true})
	tc.writeFrames(wire.DebugResetStream{ID: 0, Code: 1, FinalSize: 5})
	tc.wantClose("final size 5 after a FIN at 3", wire.FinalSizeError, 0x04)
}
