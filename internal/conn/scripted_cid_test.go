package conn

import (
	"bytes"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of connection ID management (RFC 9000 §5.1,
// §19.15, §19.16).

// peerCID is a connection ID the scripted peer issues: its bytes and
// token derive from seq.
func peerCID(seq uint64) wire.DebugNewConnectionID {
	cid := []byte{0xc1, 0xd0, byte(seq >> 8), byte(seq), 5, 6, 7, 8}
	var tok [16]byte
	copy(tok[:], "reset token ")
	tok[15] = byte(seq)
	return wire.DebugNewConnectionID{Seq: seq, CID: cid, Token: tok}
}

// remoteSeqs returns the sequence numbers of the peer's connection IDs the
// connection holds, the one in use first.
func (tc *testConn) remoteSeqs() []uint64 {
	var s []uint64
	for _, r := range tc.c.cids.remote {
		s = append(s, r.seq)
	}
	return s
}

// nextPeerSeq is the sequence number of the peer's next connection ID.
func (tc *testConn) nextPeerSeq() uint64 { return tc.peer.c.cids.nextLocalSeq }

// localCIDBySeq returns the connection's own connection ID seq.
func (tc *testConn) localCIDBySeq(seq uint64) []byte {
	for i := range tc.c.cids.local {
		if l := &tc.c.cids.local[i]; l.seq == seq {
			return bytes.Clone(l.id())
		}
	}
	tc.t.Fatalf("no local connection ID %d", seq)
	return nil
}

// RFC 9000 §5.1.1 and §19.16: when the peer retires one of the
// connection's IDs, the connection issues a new one, keeping the peer at
// its active_connection_id_limit; the retired ID no longer reaches the
// connection (§5.1.2).
func TestScriptedRetiredConnectionIDIsReplaced(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	if n := len(tc.c.cids.local); n != maxRemoteCIDs {
		t.Fatalf("the connection issued %d IDs, want the peer's limit %d", n, maxRemoteCIDs)
	}
	next := tc.c.cids.nextLocalSeq
	retired := tc.localCIDBySeq(1)
	tc.writeFrames(wire.DebugRetireConnectionID{Seq: 1})
	got := tc.wantFrameType("a replacement", wire.Packet1RTT, wire.DebugNewConnectionID{})
	f := got.f.(wire.DebugNewConnectionID)
	if f.Seq != next || f.RetirePriorTo != 0 || len(f.CID) != 8 || !tc.side.cids[string(f.CID)] {
		t.Fatalf("got %v, want sequence number %d, Retire Prior To 0, a routed 8-byte ID", f, next)
	}
	tc.wantIdle("one replacement for one retired ID")
	if tc.side.cids[string(retired)] {
		t.Errorf("the retired ID is still routed to the connection")
	}
	tc.writeFramesTo(retired, wire.DebugStream{ID: 0, Data: []byte("x")})
	if _, ok := tc.side.received[0]; ok {
		t.Errorf("a packet to the retired ID was processed")
	}
	tc.writeFramesTo(f.CID, wire.DebugStream{ID: 0, Data: []byte("y")})
	if got := string(tc.side.received[0]); got != "y" {
		t.Errorf("the new ID delivered %q, want %q", got, "y")
	}
}

// RFC 9000 §19.16: retiring a sequence number never issued is a
// PROTOCOL_VIOLATION.
func TestScriptedRetireConnectionIDNeverIssued(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugRetireConnectionID{Seq: tc.c.cids.nextLocalSeq})
	tc.wantClose("RETIRE_CONNECTION_ID for the next, unissued, sequence number", wire.ProtocolViolation, 0x19)
}

// RFC 9000 §19.16: the ID a RETIRE_CONNECTION_ID names MUST NOT be the
// one its packet was sent to; that is a PROTOCOL_VIOLATION.
func TestScriptedRetireConnectionIDOfItsOwnPacket(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFramesTo(tc.localCIDBySeq(2), wire.DebugRetireConnectionID{Seq: 2})
	tc.wantClose("retiring the ID the packet was sent to", wire.ProtocolViolation, 0x19)
}

// RFC 9000 §5.1.1: more active IDs than active_connection_id_limit is a
// CONNECTION_ID_LIMIT_ERROR; an ID that Retire Prior To retires in the
// same frame does not count.
func TestScriptedNewConnectionIDBeyondLimit(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	held := len(tc.c.cids.remote)
	if held != maxRemoteCIDs {
		t.Fatalf("the peer gave %d IDs, want %d", held, maxRemoteCIDs)
	}
	seq := tc.nextPeerSeq()
	tc.writeFrames(wire.DebugNewConnectionID{Seq: seq, CID: peerCID(seq).CID, Token: peerCID(seq).Token})
	tc.wantClose("a fifth ID with a limit of four", wire.ConnectionIDLimitError, 0x18)
}

// RFC 9000 §5.1.2: Retire Prior To makes the receiver retire the IDs
// below it with RETIRE_CONNECTION_ID and stop using them; the connection
// moves to an ID that remains.
func TestScriptedRetirePriorToRetiresAndSwitches(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	seqs := tc.remoteSeqs()
	if len(seqs) != 4 || seqs[0] != 0 {
		t.Fatalf("the connection holds the peer's IDs %v, want 0 in use and three more", seqs)
	}
	seq := tc.nextPeerSeq()
	f := peerCID(seq)
	f.RetirePriorTo = seq
	tc.writeFrames(f)
	for _, s := range seqs {
		tc.wantFrame("every ID below Retire Prior To is retired", wire.Packet1RTT, wire.DebugRetireConnectionID{Seq: s})
	}
	tc.wantIdle("nothing else")
	tc.openStream(false, []byte("x"), false)
	got := tc.wantFrame("data", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("x")})
	if !bytes.Equal(got.dcid, f.CID) {
		t.Errorf("data went to % x, want the only ID left, % x", got.dcid, f.CID)
	}
}

// RFC 9000 §5.1.2 and §19.15: a NEW_CONNECTION_ID whose sequence number is
// below an earlier Retire Prior To is answered with RETIRE_CONNECTION_ID,
// unless that sequence number was retired already.
func TestScriptedNewConnectionIDBelowRetirePriorTo(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	seq := tc.nextPeerSeq()
	// Raise Retire Prior To to seq+1 with the ID seq+1, leaving seq
	// unannounced.
	f := peerCID(seq + 1)
	f.RetirePriorTo = seq + 1
	tc.writeFrames(f)
	for _, s := range []uint64{0, 1, 2, 3} {
		tc.wantFrame("the old IDs are retired", wire.Packet1RTT, wire.DebugRetireConnectionID{Seq: s})
	}
	late := peerCID(seq)
	tc.writeFrames(late)
	tc.wantFrame("an ID announced below Retire Prior To is retired", wire.Packet1RTT, wire.DebugRetireConnectionID{Seq: seq})
	tc.writeFrames(late)
	tc.writeFrames(late, late, late)
	tc.wantIdle("its repetitions are not retired again while the first retirement is outstanding")
	if got := tc.remoteSeqs(); len(got) != 1 || got[0] != seq+1 {
		t.Errorf("the connection holds %v, want only %d", got, seq+1)
	}
}

// RFC 9000 §5.1.2: an endpoint SHOULD limit the connection IDs it has
// retired without acknowledgment of the RETIRE_CONNECTION_ID frames and
// MUST NOT forget one without retiring it; it MAY close with
// CONNECTION_ID_LIMIT_ERROR. A peer that makes it retire ID after ID
// without acknowledging anything meets that error, with at least twice
// active_connection_id_limit retirements allowed.
func TestScriptedUnacknowledgedRetirementsAreBounded(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	seq := tc.nextPeerSeq()
	retired := 0
	for i := range 2 * maxRemoteCIDs {
		f := peerCID(seq + uint64(i))
		f.RetirePriorTo = f.Seq - 3 // keep four active, retire one
		tc.writeFrames(f)
		for {
			got, ok := tc.readFrame()
			if !ok {
				break
			}
			if _, ok := got.f.(wire.DebugRetireConnectionID); !ok {
				t.Fatalf("after NEW_CONNECTION_ID %d: %v", f.Seq, got)
			}
			retired++
		}
		if retired > 2*maxRemoteCIDs {
			break
		}
	}
	if retired != 2*maxRemoteCIDs {
		t.Fatalf("%d retirements, want %d before the limit", retired, 2*maxRemoteCIDs)
	}
	f := peerCID(seq + 2*maxRemoteCIDs)
	f.RetirePriorTo = f.Seq - 3
	tc.writeFrames(f)
	tc.wantClose("one retirement more, none acknowledged", wire.ConnectionIDLimitError, 0x18)
}

// RFC 9000 §13.3: RETIRE_CONNECTION_ID is sent again when the packet that
// held it is lost, and not after it is acknowledged.
func TestScriptedRetireConnectionIDIsRetransmitted(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	seq := tc.nextPeerSeq()
	f := peerCID(seq)
	f.RetirePriorTo = 1
	tc.writeFrames(f)
	first := tc.wantFrame("seq 0 retired", wire.Packet1RTT, wire.DebugRetireConnectionID{Seq: 0})
	tc.ignoreFrame(wire.DebugPing{})
	tc.advanceToTimer()
	tc.wantFrame("the probe carries it again", wire.Packet1RTT, wire.DebugRetireConnectionID{Seq: 0})
	for {
		f, ok := tc.readFrame()
		if !ok {
			break
		}
		if f.f != (wire.DebugRetireConnectionID{Seq: 0}) {
			t.Fatalf("probe: %v", f)
		}
	}
	tc.writeFrames(ackOf(0, pns(first.pn, tc.largestReceived())))
	tc.advance(10 * tc.c.loss.PTO())
	tc.wantIdle("acknowledged: never again")
}

// RFC 9000 §19.15: Retire Prior To greater than the Sequence Number is a
// FRAME_ENCODING_ERROR.
func TestScriptedRetirePriorToAboveSequenceNumber(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	f := peerCID(tc.nextPeerSeq())
	f.RetirePriorTo = f.Seq + 1
	tc.writeFrames(f)
	tc.wantClose("Retire Prior To above the sequence number", wire.FrameEncodingError, 0x18)
}

// RFC 9000 §19.15: a connection ID of length 0 is a FRAME_ENCODING_ERROR.
func TestScriptedNewConnectionIDOfLengthZero(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	raw := append([]byte{0x18, byte(tc.nextPeerSeq()), 0, 0}, make([]byte, 16)...)
	tc.writeFrames(rawFrame(raw))
	tc.wantClose("a zero-length connection ID", wire.FrameEncodingError, 0x18)
}

// RFC 9000 §19.15: a sequence number used for a different connection ID
// MAY be treated as a PROTOCOL_VIOLATION; hquic does.
func TestScriptedNewConnectionIDReusesSequenceNumber(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	f := peerCID(1) // the peer's ID 1 is held, with other bytes
	tc.writeFrames(f)
	tc.wantClose("sequence number 1 for another ID", wire.ProtocolViolation, 0x18)
}

// RFC 9000 §5.1.2, §9.5: when the server moves to a newer one of a
// client's connection IDs (as it does when it follows the client's NAT
// rebinding with a fresh ID), the client asks it to retire the older ones
// with Retire Prior To and replaces them, so that the server keeps spare
// IDs for the next rebinding however few it retires on its own.
func TestScriptedServerMovingToANewerIDIsAskedToRetireTheOlder(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	if n := len(tc.c.cids.local); n != maxRemoteCIDs {
		t.Fatalf("the client issued %d IDs, want the server's limit %d", n, maxRemoteCIDs)
	}
	next := tc.c.cids.nextLocalSeq
	tc.writeFramesTo(tc.localCIDBySeq(2), wire.DebugPing{})
	for i := range uint64(2) {
		got := tc.wantFrameType("a replacement", wire.Packet1RTT, wire.DebugNewConnectionID{})
		f := got.f.(wire.DebugNewConnectionID)
		if f.Seq != next+i || f.RetirePriorTo != 2 {
			t.Fatalf("got %v, want sequence number %d with Retire Prior To 2", f, next+i)
		}
	}
	tc.wantIdle("IDs 2 and 3 and two new ones active")
	// The server retires 0 and 1: they stop routing, and nothing more is
	// issued.
	old := tc.localCIDBySeq(0)
	tc.writeFramesTo(tc.localCIDBySeq(2), wire.DebugRetireConnectionID{Seq: 0}, wire.DebugRetireConnectionID{Seq: 1})
	tc.wantIdle("the server holds its limit of IDs")
	if tc.side.cids[string(old)] {
		t.Error("a retired ID still routes to the client")
	}
	// Moving on to ID 3 asks for 2 to be retired too.
	tc.writeFramesTo(tc.localCIDBySeq(3), wire.DebugPing{})
	got := tc.wantFrameType("a replacement", wire.Packet1RTT, wire.DebugNewConnectionID{})
	if f := got.f.(wire.DebugNewConnectionID); f.RetirePriorTo != 3 {
		t.Fatalf("got %v, want Retire Prior To 3", f)
	}
}

// With a server's active_connection_id_limit of 2 the client asks for no
// retirement: the one spare it would leave can go to the abandoned path.
func TestScriptedServerWithLimitTwoIsNotAskedToRetire(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.c.peerTP.activeCIDLimit = 2
	tc.writeFramesTo(tc.localCIDBySeq(1), wire.DebugPing{})
	tc.wantIdle("no Retire Prior To for a limit of 2")
}
