package conn

import (
	"strings"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// A CONNECTION_CLOSE frame keeps within the room it is given: its reason
// is cut to 256 bytes, and to less when the packet has less room.
func TestAppendCloseFitsRoom(t *testing.T) {
	c := &Conn{}
	c.life.reason = CloseReason{Code: uint64(wire.ProtocolViolation), FrameType: 0x08, Reason: strings.Repeat("r", 1000)}
	for _, tc := range []struct{ room, reason int }{
		{1200, maxCloseReason},
		{100, 100 - maxCloseHeader},
		{maxCloseHeader, 0},
		{5, 0},
	} {
		b := c.appendClose(nil, wire.Packet1RTT, tc.room)
		app, code, _, reason, n := wire.ConsumeConnectionClose(b)
		if n != len(b) || app || code != uint64(wire.ProtocolViolation) || len(reason) != tc.reason {
			t.Errorf("room %d: frame of %d bytes (parsed %d), code %d, reason of %d bytes; want reason of %d", tc.room, len(b), n, code, len(reason), tc.reason)
		}
		if tc.room >= maxCloseHeader && len(b) > tc.room {
			t.Errorf("room %d: frame of %d bytes", tc.room, len(b))
		}
	}
}
