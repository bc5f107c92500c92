package conn

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of the handshake's rules (RFC 9000 §7, §12.4, §17.2,
// §19.20; RFC 9001 §4). The connection under test is handed over in the
// middle of the handshake: the client has received the server's whole
// flight and answered it, and that answer (the client's Finished) is held
// back. The script then writes Initial, Handshake and 1-RTT packets with
// the peer's keys.

// tcHandshake is the long-header state of a testConn handed over during
// the handshake.
type tcHandshake struct {
	version  uint32
	scid     []byte           // the peer's Source Connection ID
	write    [2]*protect.Keys // the peer's Initial and Handshake write keys
	read     [2]*protect.Keys // and read keys
	nextPN   [2]int64         // the peer's next Initial and Handshake packet numbers
	received [2][]int64       // packet numbers received from the connection, by space
	held     []inFlight       // the client's answer to the server's flight
}

// newHandshakeTestConn handshakes a pair until the client has the server's
// whole flight and hands the connection of the given side to the test.
func newHandshakeTestConn(t *testing.T, side Side, opts ...tcOption) *testConn {
	t.Helper()
	opts = append([]tcOption{withSettings(Client, noPacing), withSettings(Server, noPacing)}, opts...)
	p := newPair(t, opts...)
	p.client.c.Start()
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("Connected") }) {
		t.Fatalf("the client did not complete: %v", p.client.names())
	}
	tc := &testConn{t: t, p: p, ignored: map[reflect.Type]bool{}, sizes: map[netip.AddrPort][]int{}}
	tc.side, tc.peer = p.server, p.client
	if side == Client {
		tc.side, tc.peer = p.client, p.server
	}
	hs := &tcHandshake{version: p.client.c.version}
	for len(p.wire) > 0 {
		if d := p.take(); d.to == p.server {
			hs.held = append(hs.held, d)
		}
	}
	tc.hs = hs
	tc.c = tc.side.c
	tc.c.host = tc
	tc.peerAddr = tc.peer.addr
	pc := tc.peer.c
	tc.dcid = bytes.Clone(pc.cids.dcid())
	hs.scid = bytes.Clone(pc.cids.scid())
	hs.write[0], hs.read[0] = protect.InitialKeys(hs.version, p.client.c.cids.originalDCID, pc.side == Client)
	hs.write[1], hs.read[1] = pc.spaces[recovery.SpaceHandshake].write, pc.spaces[recovery.SpaceHandshake].read
	for sp := range 2 {
		hs.nextPN[sp] = pc.spaces[sp].nextPN
	}
	tc.writeKeys, tc.writePhase = pc.app.write, pc.app.phase
	tc.readKeys, tc.readPhase = pc.app.readCur, pc.app.phase
	if tc.readKeys == nil {
		// A server reads 1-RTT packets only after the client's
		// Finished: open the client's with the keys it seals with.
		tc.readKeys = tc.c.app.write
	}
	tc.nextPN = pc.spaces[recovery.SpaceApp].nextPN
	tc.firstPN = tc.nextPN
	tc.ignoreFrame(wire.DebugPadding{})
	return tc
}

// spaceOf is the packet number space of a long-header packet type.
func spaceOf(pt wire.PacketType) int {
	if pt == wire.PacketInitial {
		return int(recovery.SpaceInitial)
	}
	return int(recovery.SpaceHandshake)
}

// decodeLong opens the long-header packets at the start of a datagram the
// connection sent, queues their frames and returns the rest.
func (tc *testConn) decodeLong(d []byte, to netip.AddrPort) []byte {
	tc.t.Helper()
	for len(d) > 0 && wire.IsLongHeader(d[0]) {
		h, ok := wire.ParseLongHeader(d)
		if !ok || h.Len > len(d) || h.Type != wire.PacketInitial && h.Type != wire.PacketHandshake {
			tc.t.Errorf("sent an unexpected long-header packet: % x", d[:min(len(d), 16)])
			return nil
		}
		pkt := bytes.Clone(d[:h.Len])
		d = d[h.Len:]
		sp := spaceOf(h.Type)
		keys := tc.hs.read[sp]
		if keys == nil {
			tc.t.Errorf("sent a %v packet the peer has no keys for", h.Type)
			continue
		}
		largest := int64(-1)
		for _, pn := range tc.hs.received[sp] {
			largest = max(largest, pn)
		}
		pn, hdrLen, ok := packet.Unprotect(pkt, h.PNOffset, &keys.HP, largest)
		if !ok {
			tc.t.Errorf("a %v packet's header does not open", h.Type)
			continue
		}
		payload, err := packet.Open(pkt, hdrLen, pn, &keys.AEAD)
		if err != nil {
			tc.t.Errorf("%v packet %d does not open: %v", h.Type, pn, err)
			continue
		}
		tc.hs.received[sp] = append(tc.hs.received[sp], pn)
		frames, err := wire.ParseDebugFrames(payload)
		if err != nil {
			tc.t.Errorf("%v packet %d: %v", h.Type, pn, err)
		}
		for _, f := range frames {
			tc.pending = append(tc.pending, sentFrame{pt: h.Type, f: f, to: to, pn: pn, dcid: h.DCID})
		}
	}
	return d
}

// writeLong sends the connection one Initial or Handshake packet of the
// peer's holding frames (a client's Initial in a 1200-byte datagram) and
// runs the connection.
func (tc *testConn) writeLong(pt wire.PacketType, frames ...wire.DebugFrame) {
	tc.t.Helper()
	sp := spaceOf(pt)
	var payload []byte
	for _, f := range frames {
		payload = f.Append(payload)
	}
	var b packet.Builder
	b.Reset(make([]byte, 0, 1500))
	b.StartDatagram(1500)
	if !b.StartLong(pt, tc.hs.version, tc.dcid, tc.hs.scid, nil, tc.hs.nextPN[sp], -1, tc.hs.write[sp]) {
		tc.t.Fatal("writeLong: no room")
	}
	b.Buf = append(b.Buf, payload...)
	b.Finish()
	minSize := 0
	if pt == wire.PacketInitial && tc.peer == tc.p.client {
		minSize = minInitialDatagram
	}
	_, n := b.EndDatagram(minSize)
	tc.hs.nextPN[sp]++
	tc.writeDatagram(tc.peerAddr, bytes.Clone(b.Buf[:n]))
}

// releaseHeld delivers the client's held answer to the server's flight.
func (tc *testConn) releaseHeld() {
	for _, d := range tc.hs.held {
		tc.writeDatagram(d.src, d.data)
	}
	tc.hs.held = nil
}

// wantCloseIn checks that the connection's next frame is a transport
// CONNECTION_CLOSE with code for frameType in a packet of type pt.
func (tc *testConn) wantCloseIn(why string, pt wire.PacketType, code wire.ErrorCode, frameType uint64) {
	tc.t.Helper()
	got := tc.wantFrameType(why, pt, wire.DebugConnectionClose{})
	cc := got.f.(wire.DebugConnectionClose)
	if cc.App || cc.Code != uint64(code) || cc.FrameType != frameType {
		tc.t.Fatalf("%s: got %v, want a transport CONNECTION_CLOSE with code %#x for frame type %#x", why, cc, uint64(code), frameType)
	}
}

// RFC 9000 §12.4 and §17.2.4: a Handshake packet may not carry STREAM
// frames; one that does is a PROTOCOL_VIOLATION, reported in a Handshake
// packet.
func TestScriptedStreamFrameInHandshakePacket(t *testing.T) {
	tc := newHandshakeTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeLong(wire.PacketHandshake, wire.DebugStream{ID: 0, Data: []byte("early")})
	tc.wantCloseIn("STREAM in a Handshake packet", wire.PacketHandshake, wire.ProtocolViolation, 0x0a)
}

// RFC 9000 §12.4 and §17.2.2: an Initial packet carries only CRYPTO, ACK,
// PING, PADDING and CONNECTION_CLOSE (type 0x1c); a NEW_CONNECTION_ID in
// one is a PROTOCOL_VIOLATION.
func TestScriptedNewConnectionIDInInitialPacket(t *testing.T) {
	tc := newHandshakeTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeLong(wire.PacketInitial, peerCID(9))
	tc.wantCloseIn("NEW_CONNECTION_ID in an Initial packet", wire.PacketInitial, wire.ProtocolViolation, 0x18)
}

// RFC 9000 §12.4 and §19.20: HANDSHAKE_DONE is allowed only in 1-RTT
// packets; in a Handshake packet it is a PROTOCOL_VIOLATION.
func TestScriptedHandshakeDoneInHandshakePacket(t *testing.T) {
	tc := newHandshakeTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeLong(wire.PacketHandshake, wire.DebugHandshakeDone{})
	tc.wantCloseIn("HANDSHAKE_DONE in a Handshake packet", wire.PacketHandshake, wire.ProtocolViolation, 0x1e)
}

// RFC 9000 §19.20: a server that receives HANDSHAKE_DONE MUST treat it as
// a PROTOCOL_VIOLATION.
func TestScriptedHandshakeDoneFromClient(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugHandshakeDone{})
	tc.wantClose("HANDSHAKE_DONE from the client", wire.ProtocolViolation, 0x1e)
}

// RFC 9000 §19.7: a server that receives NEW_TOKEN MUST treat it as a
// PROTOCOL_VIOLATION.
func TestScriptedNewTokenFromClient(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugNewToken{Token: []byte("token")})
	tc.wantClose("NEW_TOKEN from the client", wire.ProtocolViolation, 0x07)
}

// RFC 9000 §12.4: an unknown frame type is a FRAME_ENCODING_ERROR naming
// that type.
func TestScriptedUnknownFrameType(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugPing{}, rawFrame{0x21})
	tc.wantClose("frame type 0x21", wire.FrameEncodingError, 0x21)
}

// RFC 9000 §19.20 and §13.3: once the handshake completes the server sends
// HANDSHAKE_DONE in a 1-RTT packet, and sends it again until it is
// acknowledged.
func TestScriptedHandshakeDoneIsRetransmitted(t *testing.T) {
	tc := newHandshakeTestConn(t, Server)
	tc.releaseHeld()
	var first sentFrame
	for {
		f, ok := tc.readFrame()
		if !ok {
			t.Fatal("no HANDSHAKE_DONE after the client's Finished")
		}
		if _, ok := f.f.(wire.DebugHandshakeDone); ok {
			first = f
			break
		}
	}
	if first.pt != wire.Packet1RTT {
		t.Fatalf("HANDSHAKE_DONE in a %v packet", first.pt)
	}
	tc.pending = nil
	found := false
	for range 3 {
		tc.advanceToTimer()
		for {
			f, ok := tc.readFrame()
			if !ok {
				break
			}
			if _, ok := f.f.(wire.DebugHandshakeDone); ok && f.pt == wire.Packet1RTT {
				found = true
			}
		}
		if found {
			break
		}
	}
	if !found {
		t.Fatal("HANDSHAKE_DONE was not sent again while unacknowledged")
	}
	tc.writeAckForAll()
	tc.pending = nil
	tc.ignoreFrame(wire.DebugAck{})
	tc.advance(10 * tc.c.loss.PTO())
	for {
		f, ok := tc.readFrame()
		if !ok {
			break
		}
		if _, ok := f.f.(wire.DebugHandshakeDone); ok {
			t.Fatalf("HANDSHAKE_DONE again after its acknowledgment: %v", f)
		}
	}
}

// RFC 9001 §4.1.2 and §6.1: a client's handshake is confirmed only by
// HANDSHAKE_DONE; before that it MUST NOT start a key update.
func TestScriptedClientWaitsForHandshakeDone(t *testing.T) {
	tc := newHandshakeTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	if tc.c.forceKeyUpdate(tc.p.now) {
		t.Fatal("a key update before the handshake was confirmed")
	}
	tc.writeFrames(wire.DebugHandshakeDone{})
	if !tc.c.life.handshakeConfirmed {
		t.Fatal("HANDSHAKE_DONE did not confirm the handshake")
	}
	if !tc.c.forceKeyUpdate(tc.p.now) {
		t.Fatal("no key update after the handshake was confirmed")
	}
}

// RFC 9001 §4.9.2: a client discards its Handshake keys when the handshake
// is confirmed; later Handshake packets are not processed.
func TestScriptedHandshakeKeysDiscardedAtConfirmation(t *testing.T) {
	tc := newHandshakeTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugNewConnectionID{})
	tc.writeFrames(wire.DebugHandshakeDone{})
	tc.wantIdle("confirmed")
	tc.writeLong(wire.PacketHandshake, wire.DebugHandshakeDone{})
	tc.advance(time.Second)
	tc.wantIdle("a Handshake packet after confirmation is dropped, not a violation")
	if tc.c.life.closing() {
		t.Fatal("the connection closed")
	}
}

// closeFrames returns the CONNECTION_CLOSE frames the connection sent, by
// packet type.
func (tc *testConn) closeFrames() map[wire.PacketType]wire.DebugConnectionClose {
	got := map[wire.PacketType]wire.DebugConnectionClose{}
	for {
		f, ok := tc.readFrame()
		if !ok {
			return got
		}
		if cc, ok := f.f.(wire.DebugConnectionClose); ok {
			got[f.pt] = cc
		}
	}
}

// RFC 9000 §10.2.3: before the handshake is confirmed a client sends its
// CONNECTION_CLOSE in Handshake and 1-RTT packets; in the Handshake packet
// the application's close becomes a transport APPLICATION_ERROR.
func TestScriptedApplicationCloseDuringHandshakeClient(t *testing.T) {
	tc := newHandshakeTestConn(t, Client)
	tc.c.Shutdown(false, 5)
	tc.run()
	got := tc.closeFrames()
	want := map[wire.PacketType]wire.DebugConnectionClose{
		wire.PacketHandshake: {Code: uint64(wire.ApplicationError)},
		wire.Packet1RTT:      {App: true, Code: 5},
	}
	if len(got) != len(want) || got[wire.PacketHandshake] != want[wire.PacketHandshake] || got[wire.Packet1RTT] != want[wire.Packet1RTT] {
		t.Fatalf("CONNECTION_CLOSE frames %v, want %v", got, want)
	}
}

// RFC 9000 §10.2.3: a server that does not know whether the client has
// Handshake keys sends its CONNECTION_CLOSE in Initial and Handshake
// packets, as APPLICATION_ERROR for the application's close.
func TestScriptedApplicationCloseDuringHandshakeServer(t *testing.T) {
	tc := newHandshakeTestConn(t, Server)
	tc.c.Shutdown(false, 5)
	tc.run()
	got := tc.closeFrames()
	ae := wire.DebugConnectionClose{Code: uint64(wire.ApplicationError)}
	if got[wire.PacketInitial] != ae || got[wire.PacketHandshake] != ae {
		t.Fatalf("CONNECTION_CLOSE frames %v, want APPLICATION_ERROR in both Initial and Handshake packets", got)
	}
	if cc, ok := got[wire.Packet1RTT]; ok && (!cc.App || cc.Code != 5) {
		t.Fatalf("1-RTT CONNECTION_CLOSE %v, want the application's code 5", cc)
	}
}

// RFC 9000 §8.1: before the client's address is validated the server sends
// at most three times the bytes it received, its retransmissions included.
func TestScriptedServerAmplificationLimit(t *testing.T) {
	tc := newHandshakeTestConn(t, Server)
	if tc.c.path.validated {
		t.Fatal("the client's address was validated before the hand-over")
	}
	recvd := tc.p.recvBytes[tc.side]
	sent := tc.p.sentBytes[tc.side]
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugCrypto{})
	tc.ignoreFrame(wire.DebugPing{})
	for range 6 {
		if tc.c.deadline().IsZero() {
			break
		}
		tc.advanceToTimer()
	}
	for _, n := range tc.sizes[tc.peerAddr] {
		sent += n
	}
	if sent > 3*recvd {
		t.Errorf("sent %d bytes after receiving %d, more than three times as much", sent, recvd)
	}
	t.Logf("received %d, sent %d", recvd, sent)
}
