package conn

import (
	"net/netip"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of path validation and migration (RFC 9000 §8.2,
// §9).

// newPeerAddr is the address the scripted client moves to.
var newPeerAddr = netip.MustParseAddrPort("10.0.0.1:2000")

// lastSize returns the size of the last datagram sent to addr.
func (tc *testConn) lastSize(addr netip.AddrPort) int {
	s := tc.sizes[addr]
	if len(s) == 0 {
		tc.t.Fatalf("nothing was sent to %v", addr)
	}
	return s[len(s)-1]
}

// challenge is a PATH_CHALLENGE payload.
var challenge = [8]byte{'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g'}

// RFC 9000 §8.2.2: a PATH_CHALLENGE is answered with a PATH_RESPONSE
// echoing its data, on the path it came from, in a datagram expanded to at
// least 1200 bytes.
func TestScriptedPathChallengeIsAnswered(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugPathChallenge{Data: challenge})
	got := tc.wantFrame("the response", wire.Packet1RTT, wire.DebugPathResponse{Data: challenge})
	if got.to != tc.peerAddr {
		t.Errorf("PATH_RESPONSE sent to %v, want %v", got.to, tc.peerAddr)
	}
	if n := tc.lastSize(tc.peerAddr); n < 1200 {
		t.Errorf("PATH_RESPONSE in a %d-byte datagram, want at least 1200", n)
	}
	tc.wantIdle("one response")
}

// RFC 9000 §8.2.2 and §9.1: a probing packet from a new address is
// answered on that path, in a datagram expanded to 1200 bytes when the
// anti-amplification limit allows; it does not move the connection.
func TestScriptedPathChallengeFromNewAddress(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFramesFrom(newPeerAddr, wire.DebugPathChallenge{Data: challenge}, wire.DebugPadding{N: 1200})
	got := tc.wantFrame("the response", wire.Packet1RTT, wire.DebugPathResponse{Data: challenge})
	if got.to != newPeerAddr {
		t.Errorf("PATH_RESPONSE sent to %v, want the path the challenge came on, %v", got.to, newPeerAddr)
	}
	if n := tc.lastSize(newPeerAddr); n < 1200 {
		t.Errorf("PATH_RESPONSE in a %d-byte datagram, want at least 1200", n)
	}
	tc.wantIdle("a probing packet starts no validation")
	tc.openStream(false, []byte("data"), false)
	if got := tc.wantFrameType("data", wire.Packet1RTT, wire.DebugStream{}); got.to != tc.peerAddr {
		t.Errorf("data sent to %v after a probing packet, want the old path %v", got.to, tc.peerAddr)
	}
}

// RFC 9000 §8.2.2 and §9.3: the response to a challenge from an address
// not yet validated is not expanded beyond the anti-amplification limit,
// three times what arrived from there.
func TestScriptedPathResponseRespectsAmplificationLimit(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	d := tc.seal(wire.DebugPathChallenge{Data: challenge})
	tc.writeDatagram(newPeerAddr, d)
	tc.wantFrame("the response", wire.Packet1RTT, wire.DebugPathResponse{Data: challenge})
	if n := tc.lastSize(newPeerAddr); n > 3*len(d) {
		t.Errorf("a %d-byte datagram drew a %d-byte PATH_RESPONSE datagram to an unvalidated address, more than three times as much", len(d), n)
	}
}

// RFC 9000 §9.3 and §8.2.1: a non-probing packet from a new address makes
// the server validate it: a PATH_CHALLENGE goes there, within the
// anti-amplification limit, and data stays on the old path until the
// PATH_RESPONSE arrives; then the connection moves.
func TestScriptedMigrationIsValidated(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	d := tc.seal(wire.DebugStream{ID: 0, Data: []byte("moved")}, wire.DebugPadding{N: 1200})
	tc.writeDatagram(newPeerAddr, d)
	ch := tc.wantFrameType("a challenge to the new address", wire.Packet1RTT, wire.DebugPathChallenge{})
	if ch.to != newPeerAddr {
		t.Fatalf("PATH_CHALLENGE sent to %v, want %v", ch.to, newPeerAddr)
	}
	if n := tc.lastSize(newPeerAddr); n < 1200 || n > 3*len(d) {
		t.Errorf("PATH_CHALLENGE in a %d-byte datagram after %d bytes arrived, want at least 1200 and at most three times that", n, len(d))
	}
	tc.openStream(false, []byte("before"), false)
	if got := tc.wantFrameType("data before validation", wire.Packet1RTT, wire.DebugStream{}); got.to != tc.peerAddr {
		t.Errorf("data sent to %v before validation, want the old path %v", got.to, tc.peerAddr)
	}
	tc.skipEvents()
	tc.writeFramesFrom(newPeerAddr, wire.DebugPathResponse{Data: ch.f.(wire.DebugPathChallenge).Data})
	tc.wantEvent("validated", "PeerAddressChanged")
	tc.peerAddr = newPeerAddr
	s := tc.openStream(false, []byte("after"), false)
	if got := tc.wantFrameType("data after validation", wire.Packet1RTT, wire.DebugStream{}); got.to != newPeerAddr {
		t.Errorf("data sent to %v after validation, want %v (stream %d)", got.to, newPeerAddr, s.ID())
	}
}

// RFC 9000 §8.2.3: a PATH_RESPONSE that matches no challenge sent is
// ignored; the path is not validated.
func TestScriptedWrongPathResponseIsIgnored(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFramesFrom(newPeerAddr, wire.DebugPing{}, wire.DebugPadding{N: 1200})
	tc.wantFrameType("a challenge", wire.Packet1RTT, wire.DebugPathChallenge{})
	tc.writeFramesFrom(newPeerAddr, wire.DebugPathResponse{Data: [8]byte{'w', 'r', 'o', 'n', 'g'}})
	tc.skipEvents()
	tc.openStream(false, []byte("x"), false)
	if got := tc.wantFrameType("data", wire.Packet1RTT, wire.DebugStream{}); got.to != tc.peerAddr {
		t.Errorf("data sent to %v after a wrong PATH_RESPONSE, want the old path %v", got.to, tc.peerAddr)
	}
	if tc.side.has("PeerAddressChanged") {
		t.Errorf("the peer address changed on a wrong PATH_RESPONSE")
	}
}

// RFC 9000 §8.2.1 and §13.3: a PATH_CHALLENGE is sent again until answered,
// with new unpredictable data each time, and a response to any of them
// validates the path.
func TestScriptedPathChallengeIsRepeatedWithNewData(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugPing{})
	tc.writeFramesFrom(newPeerAddr, wire.DebugPing{}, wire.DebugPadding{N: 1200})
	first := tc.wantFrameType("a challenge", wire.Packet1RTT, wire.DebugPathChallenge{}).f.(wire.DebugPathChallenge)
	var second wire.DebugPathChallenge
	for second == (wire.DebugPathChallenge{}) {
		tc.advanceToTimer()
		if f, ok := tc.readFrame(); ok {
			second = f.f.(wire.DebugPathChallenge)
		}
	}
	if first == second {
		t.Errorf("the repeated PATH_CHALLENGE carries the same data %x", first.Data)
	}
	tc.skipEvents()
	tc.writeFramesFrom(newPeerAddr, wire.DebugPathResponse{Data: first.Data})
	tc.wantEvent("the answer to the first challenge validates the path", "PeerAddressChanged")
}

// RFC 9000 §8.2.4: validation is abandoned when no PATH_RESPONSE arrives
// in time (three times the larger of the PTO and a new path's initial
// PTO); no more challenges go out and the connection stays where it was.
func TestScriptedPathValidationGivesUp(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugPing{})
	tc.writeFramesFrom(newPeerAddr, wire.DebugPing{}, wire.DebugPadding{N: 1200})
	start := tc.p.now
	timeout := tc.c.validationTimeout()
	tc.wantFrameType("a challenge", wire.Packet1RTT, wire.DebugPathChallenge{})
	for tc.p.now < start.Add(timeout) {
		tc.advanceToTimer()
		for {
			f, ok := tc.readFrame()
			if !ok {
				break
			}
			if _, ok := f.f.(wire.DebugPathChallenge); !ok || f.to != newPeerAddr {
				t.Fatalf("during validation: %v", f)
			}
		}
	}
	if tc.c.path.probe != nil {
		t.Fatalf("still validating after %v", tc.p.now.Sub(start))
	}
	tc.advance(timeout)
	tc.wantIdle("abandoned: no more challenges")
	if tc.c.stats.PathValidationFailures != 1 {
		t.Errorf("PathValidationFailures = %d, want 1", tc.c.stats.PathValidationFailures)
	}
	tc.openStream(false, []byte("x"), false)
	if got := tc.wantFrameType("data", wire.Packet1RTT, wire.DebugStream{}); got.to != tc.peerAddr {
		t.Errorf("data sent to %v, want the old path %v", got.to, tc.peerAddr)
	}
}
