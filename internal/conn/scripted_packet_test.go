package conn

import (
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of packet-level rules (RFC 9000 §12.4, §17.3.1).

// sealShort protects payload as the peer's next 1-RTT packet with a
// 4-byte packet number and the given reserved bits (0x18 is both),
// written by hand so that the rules the builder keeps can be broken.
func (tc *testConn) sealShort(reserved byte, payload []byte) []byte {
	pn := tc.nextPN
	tc.nextPN++
	b0 := byte(0x40) | reserved&0x18 | 3 // fixed bit, 4-byte packet number
	if tc.writePhase {
		b0 |= 0x04
	}
	pkt := append([]byte{b0}, tc.dcid...)
	pnOff := len(pkt)
	pkt = append(pkt, byte(pn>>24), byte(pn>>16), byte(pn>>8), byte(pn))
	hdrLen := len(pkt)
	pkt = append(pkt, payload...)
	pkt = tc.writeKeys.AEAD.Seal(pkt, hdrLen, pn)
	tc.writeKeys.HP.Apply(pkt, pnOff, 4)
	return pkt
}

// RFC 9000 §17.3.1: reserved bits that are not zero after removing
// header protection are a PROTOCOL_VIOLATION.
func TestScriptedReservedBitsSet(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeDatagram(tc.peerAddr, tc.sealShort(0x10, wire.DebugPing{}.Append(nil)))
	tc.wantClose("a reserved bit set", wire.ProtocolViolation, 0)
}

// RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
func TestScriptedPacketWithoutFrames(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeDatagram(tc.peerAddr, tc.sealShort(0, nil))
	tc.wantClose("an empty payload", wire.ProtocolViolation, 0)
}

// RFC 9000 §12.4 and §19.1: a packet of PADDING alone is not ack-eliciting
// and draws no acknowledgment of its own.
func TestScriptedPaddingOnlyPacketIsNotAckEliciting(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.writeFrames(wire.DebugPadding{N: 100})
	tc.advance(tc.c.loss.PTO())
	tc.wantIdle("PADDING alone: no ACK")
}
