package conn

import (
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
