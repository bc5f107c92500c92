package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of 1-RTT key updates (RFC 9001 §6).

// RFC 9001 §6.2: an endpoint that receives a packet with the other key
// phase updates its keys; it MUST update its send keys before it
// acknowledges that packet.
func TestScriptedPeerKeyUpdateIsFollowed(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugPing{}) // TestScriptedReceiverKeepsOnePingInFlight
	old := tc.readPhase
	tc.updateWriteKeys()
	pn := tc.nextPN
	tc.writeFrames(wire.DebugPing{})
	tc.writeFrames(wire.DebugPing{})
	ack := tc.wantFrame("both packets in the new phase, acknowledged at once", wire.Packet1RTT, ackOf(0, pns(tc.firstPN, pn+1)))
	if ack.phase == old {
		t.Errorf("the ACK of the updated packets went in the old key phase")
	}
	tc.ignoreFrame(wire.DebugAck{})
	tc.openStream(false, []byte("after"), false)
	got := tc.wantFrame("stream data", wire.Packet1RTT, wire.DebugStream{ID: streamID(Server, false, 0), Data: []byte("after")})
	if got.phase == old {
		t.Errorf("data after the update went in the old key phase")
	}
}

// RFC 9001 §6.1: the initiator of a key update sends with the new keys at
// once, and keeps opening the peer's packets in the old phase until the
// peer answers the update.
func TestScriptedLocalKeyUpdate(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	old := tc.readPhase
	if !tc.c.forceKeyUpdate(tc.p.now) {
		t.Fatal("the first key update was refused")
	}
	tc.openStream(false, []byte("new keys"), false)
	got := tc.wantFrame("data in the new phase", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("new keys")})
	if got.phase == old {
		t.Fatal("data after the update went in the old key phase")
	}
	tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("old keys")})
	if got := string(tc.side.received[0]); got != "old keys" {
		t.Fatalf("received %q from a packet in the old phase, want %q", got, "old keys")
	}
	tc.updateWriteKeys()
	tc.writeFrames(wire.DebugStream{ID: 0, Off: 8, Data: []byte(", new keys")})
	if got := string(tc.side.received[0]); got != "old keys, new keys" {
		t.Fatalf("received %q, want %q", got, "old keys, new keys")
	}
	tc.wantIdle("nothing else")
}

// RFC 9001 §6.1: an endpoint MUST NOT initiate a subsequent key update
// until a packet sent with the current keys is acknowledged.
func TestScriptedNoSecondKeyUpdateBeforeAck(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	old := tc.readPhase
	if !tc.c.forceKeyUpdate(tc.p.now) {
		t.Fatal("the first key update was refused")
	}
	s := tc.openStream(false, []byte("one"), false)
	if f := tc.wantFrame("data in phase 1", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("one")}); f.phase == old {
		t.Fatal("no update")
	}
	if tc.c.forceKeyUpdate(tc.p.now) {
		t.Fatal("a second update started before anything of phase 1 was acknowledged")
	}
	tc.send(s, []byte("two"))
	if f := tc.wantFrame("still phase 1", wire.Packet1RTT, wire.DebugStream{ID: 0, Off: 3, Data: []byte("two")}); f.phase == old {
		t.Fatal("the phase went back")
	}
	// The peer follows the update and acknowledges the phase-1 packets.
	tc.updateWriteKeys()
	tc.writeAckForAll()
	if !tc.c.forceKeyUpdate(tc.p.now) {
		t.Fatal("the update after the acknowledgment was refused")
	}
	tc.send(s, []byte("three"))
	if f := tc.wantFrame("phase 2", wire.Packet1RTT, wire.DebugStream{ID: 0, Off: 6, Data: []byte("three")}); f.phase != old {
		t.Fatal("no second update")
	}
}

// RFC 9001 §6.5: old read keys open packets reordered across the update
// for a while, and are discarded three PTOs after the first packet with
// the new keys arrived; later packets with them are dropped.
func TestScriptedOldKeysDiscardedAfterThreePTO(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugPing{}) // TestScriptedReceiverKeepsOnePingInFlight
	oldKeys, oldPhase := tc.writeKeys, tc.writePhase
	a := tc.nextPN
	tc.nextPN += 3 // a, a+1, a+2 go out late with the old keys
	tc.updateWriteKeys()
	tc.writeFrames(wire.DebugPing{}) // a+3
	threePTO := 3 * tc.c.loss.PTO()
	start := tc.p.now
	tc.wantFrame("a gap before the first new-phase packet: acknowledged at once", wire.Packet1RTT,
		ackOf(0, pns(a+3, a+3), pns(tc.firstPN, a-1)))
	tc.writeDatagram(tc.peerAddr, tc.sealWith(tc.dcid, a, oldPhase, oldKeys, wire.DebugPing{}))
	tc.wantFrame("a reordered old-phase packet is opened (and acknowledged at once)", wire.Packet1RTT,
		ackOf(0, pns(a+3, a+3), pns(tc.firstPN, a)))
	tc.advanceTo(start.Add(threePTO - time.Millisecond))
	tc.writeDatagram(tc.peerAddr, tc.sealWith(tc.dcid, a+1, oldPhase, oldKeys, wire.DebugPing{}))
	// The ACK Delay counts from the arrival of the largest acknowledged
	// packet, a+3 (RFC 9000 §13.2.5).
	delay := uint64((threePTO-time.Millisecond)/time.Microsecond) >> 3
	tc.wantFrame("just before three PTOs: still opened", wire.Packet1RTT,
		ackOf(delay, pns(a+3, a+3), pns(tc.firstPN, a+1)))
	tc.advanceTo(start.Add(threePTO))
	tc.writeDatagram(tc.peerAddr, tc.sealWith(tc.dcid, a+2, oldPhase, oldKeys, wire.DebugPing{}))
	tc.advance(time.Second)
	tc.wantIdle("after three PTOs the old keys are gone: the packet is dropped, nothing to acknowledge")
	tc.writeFrames(wire.DebugPing{}) // a+4
	tc.advanceToTimer()
	tc.wantFrame("a+2 is not among the acknowledged", wire.Packet1RTT, ackOf(25000>>3, pns(a+3, a+4), pns(tc.firstPN, a+1)))
}

// RFC 9001 §6.4: packets with higher packet numbers use the same or newer
// keys than packets with lower ones: a packet in the old phase numbered
// above the first of the new phase does not open and is not acknowledged.
func TestScriptedOldPhaseAboveNewPhaseIsDropped(t *testing.T) {
	tc := newTestConn(t, Server)
	oldKeys, oldPhase := tc.writeKeys, tc.writePhase
	tc.updateWriteKeys()
	pn := tc.nextPN
	tc.writeFrames(wire.DebugPing{}) // pn, new phase
	tc.writeDatagram(tc.peerAddr, tc.sealWith(tc.dcid, pn+1, oldPhase, oldKeys, wire.DebugStream{ID: 0, Data: []byte("x")}))
	if _, ok := tc.side.received[0]; ok {
		t.Fatal("data from an old-phase packet numbered above the new phase was delivered")
	}
	tc.advanceToTimer()
	tc.wantFrame("only the new-phase packet is acknowledged", wire.Packet1RTT, ackOf(25000>>3, pns(tc.firstPN, pn)))
	tc.wantIdle("the connection stays open")
}

// RFC 9001 §6.1 and §6.6: an endpoint updates its keys before it has
// protected too much data with them (MaxBytesPerKey here), once a packet
// of the current phase is acknowledged, and not again until a packet of
// the new phase is.
func TestScriptedKeyUpdateAfterMaxBytesPerKey(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Client, func(s *Settings) { s.MaxBytesPerKey = 3000 }))
	tc.ignoreFrame(wire.DebugAck{})
	old := tc.readPhase
	data := make([]byte, 4000)
	s := tc.openStream(false, data, false)
	for {
		f, ok := tc.readFrame()
		if !ok {
			break
		}
		if f.phase != old {
			t.Fatalf("%v went out in a new phase before anything was acknowledged", f)
		}
	}
	tc.writeAckForAll()
	tc.send(s, []byte("more"))
	if f := tc.wantFrame("the data after the acknowledgment", wire.Packet1RTT, wire.DebugStream{ID: 0, Off: 4000, Data: []byte("more")}); f.phase == old {
		t.Fatal("no key update after 4000 bytes with MaxBytesPerKey 3000")
	}
	tc.send(s, data)
	for {
		f, ok := tc.readFrame()
		if !ok {
			break
		}
		if f.phase == old {
			t.Fatalf("%v: a second update before the new phase was acknowledged", f)
		}
	}
}
