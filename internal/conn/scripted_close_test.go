package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of connection termination (RFC 9000 §10): the
// closing and draining states, the idle timeout and stateless resets.

// wantShutdownComplete checks that the connection's shutdown completed,
// skipping other events.
func (tc *testConn) wantShutdownComplete(why string) event {
	tc.t.Helper()
	for tc.events < len(tc.side.events) {
		ev := tc.side.events[tc.events]
		tc.events++
		if ev.name == "ShutdownComplete" {
			return ev
		}
	}
	tc.t.Fatalf("%s: no ShutdownComplete (events %v)", why, tc.side.names())
	return event{}
}

// RFC 9000 §10.2 and §19.19: the application's close sends an application
// CONNECTION_CLOSE (type 0x1d) with its code, then nothing until the peer
// sends again.
func TestScriptedApplicationClose(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.c.Shutdown(false, 42)
	tc.run()
	tc.wantFrame("the application's code", wire.Packet1RTT, wire.DebugConnectionClose{App: true, Code: 42})
	tc.wantIdle("closing")
}

// RFC 9000 §10.2.1: in the closing state a packet from the peer is
// answered with the CONNECTION_CLOSE again, at a limited rate (hquic
// answers the 1st, 2nd, 4th, 8th, ... packet).
func TestScriptedClosingStateRepeatsConnectionClose(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.c.Shutdown(false, 7)
	tc.run()
	want := wire.DebugConnectionClose{App: true, Code: 7}
	tc.wantFrame("the close", wire.Packet1RTT, want)
	for n := 1; n <= 9; n++ {
		tc.writeFrames(wire.DebugStream{ID: 0, Data: []byte("late")})
		if n&(n-1) == 0 {
			tc.wantFrame("packet "+string(rune('0'+n))+" is answered", wire.Packet1RTT, want)
		}
		tc.wantIdle("nothing else while closing")
	}
}

// RFC 9000 §10.2: the closing state lasts three PTOs; then the connection
// is gone and sends nothing more.
func TestScriptedClosingLastsThreePTO(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	pto := tc.c.loss.PTO()
	start := tc.p.now
	tc.c.Shutdown(false, 1)
	tc.run()
	tc.wantFrameType("the close", wire.Packet1RTT, wire.DebugConnectionClose{})
	tc.skipEvents()
	tc.advanceToTimer()
	if d := tc.p.now.Sub(start); d != 3*pto {
		t.Errorf("closing state ended after %v, want three PTOs (%v)", d, 3*pto)
	}
	if ev := tc.wantShutdownComplete("closed"); ev.b != 0 {
		t.Errorf("ShutdownComplete says the peer acknowledged the close")
	}
	tc.writeFrames(wire.DebugPing{})
	tc.wantIdle("gone: nothing in response")
}

// RFC 9000 §10.2.2: an endpoint that receives CONNECTION_CLOSE enters the
// draining state: it may send one CONNECTION_CLOSE (hquic sends
// NO_ERROR), then MUST NOT send anything, and ends after three PTOs.
func TestScriptedDrainingSendsNothing(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	pto := tc.c.loss.PTO()
	start := tc.p.now
	tc.skipEvents()
	tc.writeFrames(wire.DebugConnectionClose{App: true, Code: 9, Reason: "bye"})
	if ev := tc.wantEvent("the application hears the peer's code", "ShutdownByPeer"); ev.a != 9 {
		t.Errorf("ShutdownByPeer code %d, want 9", ev.a)
	}
	tc.wantFrame("one answer", wire.Packet1RTT, wire.DebugConnectionClose{Code: uint64(wire.NoError)})
	for range 4 {
		tc.writeFrames(wire.DebugPing{})
		tc.wantIdle("draining: nothing")
	}
	tc.advanceToTimer()
	if d := tc.p.now.Sub(start); d != 3*pto {
		t.Errorf("draining state ended after %v, want three PTOs (%v)", d, 3*pto)
	}
	tc.wantShutdownComplete("drained")
	tc.wantIdle("gone")
}

// RFC 9000 §10.2.2: an endpoint in the closing state that receives a
// CONNECTION_CLOSE may end its closing period: hquic does at once, without
// answering.
func TestScriptedPeerCloseEndsClosingState(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.c.Shutdown(false, 3)
	tc.run()
	tc.wantFrameType("the close", wire.Packet1RTT, wire.DebugConnectionClose{})
	tc.skipEvents()
	tc.writeFrames(wire.DebugConnectionClose{App: true, Code: 3})
	if ev := tc.wantShutdownComplete("the peer closed too"); ev.b != 1 {
		t.Errorf("ShutdownComplete does not say the peer acknowledged the close")
	}
	tc.wantIdle("no answer")
}

// RFC 9000 §10.1: without packets from the peer the connection closes
// silently when the idle timeout (the smaller max_idle_timeout, 30 s here)
// passes after the last packet received.
func TestScriptedIdleTimeout(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(wire.DebugPing{})
	received := tc.p.now
	tc.skipEvents()
	tc.advance(30*time.Second - time.Millisecond)
	if tc.side.has("ShutdownComplete") {
		t.Fatalf("closed %v after the last packet", tc.p.now.Sub(received))
	}
	tc.advanceToTimer()
	if d := tc.p.now.Sub(received); d != 30*time.Second {
		t.Errorf("idle timeout after %v, want 30s", d)
	}
	ev := tc.wantEvent("idle", "ShutdownByTransport")
	if ev.r.Local != ReasonIdle {
		t.Errorf("closed with %+v, want the idle reason", ev.r)
	}
	tc.wantShutdownComplete("idle")
	tc.wantIdle("a silent close: no CONNECTION_CLOSE")
}

// RFC 9000 §10.1: the idle timer restarts when the first ack-eliciting
// packet is sent after a packet was received, not on later sends.
func TestScriptedIdleTimerRestartsOnFirstAckElicitingSend(t *testing.T) {
	tc := newTestConn(t, Client, withSettings(Client, func(s *Settings) { s.DisconnectTimeout = time.Minute }))
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugStream{})
	tc.ignoreFrame(wire.DebugPing{})
	tc.writeFrames(wire.DebugPing{})
	tc.advance(10 * time.Second)
	sent := tc.p.now
	tc.openStream(false, []byte("unacknowledged"), false)
	tc.skipEvents()
	// Probes of the data (ack-eliciting, not the first since the
	// receipt) go out meanwhile without restarting the timer.
	for !tc.side.has("ShutdownComplete") {
		tc.advanceToTimer()
	}
	if d := tc.p.now.Sub(sent); d != 30*time.Second {
		t.Errorf("idle timeout %v after the first ack-eliciting send, want 30s", d)
	}
}

// RFC 9000 §10.1: the idle timeout is at least three PTOs, however small
// the negotiated value.
func TestScriptedIdleTimeoutIsAtLeastThreePTO(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	s := tc.c.set
	s.IdleTimeout = time.Millisecond
	tc.c.updateSettings(tc.p.now, s)
	tc.writeFrames(wire.DebugPing{})
	received := tc.p.now
	pto := tc.c.loss.PTO()
	tc.skipEvents()
	for !tc.side.has("ShutdownComplete") {
		tc.advanceToTimer()
	}
	if d := tc.p.now.Sub(received); d != 3*pto {
		t.Errorf("idle timeout after %v, want three PTOs (%v)", d, 3*pto)
	}
}

// RFC 9000 §10.1.2: with a keep-alive interval the connection sends a
// PING when it has been idle that long, which keeps the peer's idle timer
// from expiring.
func TestScriptedKeepAlivePing(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	s := tc.c.set
	s.KeepAliveInterval = 5 * time.Second
	tc.c.updateSettings(tc.p.now, s)
	tc.writeFrames(wire.DebugPing{})
	received := tc.p.now
	tc.advanceToTimer()
	for tc.p.now.Sub(received) < 5*time.Second {
		tc.wantIdle("before the interval")
		tc.advanceToTimer()
	}
	if d := tc.p.now.Sub(received); d != 5*time.Second {
		t.Errorf("keep-alive after %v, want 5s", d)
	}
	tc.wantFrame("keep-alive", wire.Packet1RTT, wire.DebugPing{})
}

// statelessReset is a datagram that looks like a 1-RTT packet and ends
// with token (RFC 9000 §10.3).
func statelessReset(token [16]byte) []byte {
	d := []byte{0x4b}
	for i := range 24 {
		d = append(d, byte(0x5a+i*7))
	}
	return append(d, token[:]...)
}

// RFC 9000 §10.3.1: a datagram ending with the stateless reset token of
// the connection ID in use ends the connection at once: it sends nothing
// more, not even in answer to later packets.
func TestScriptedStatelessReset(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	r := tc.c.cids.remote[0]
	if !r.hasToken {
		t.Fatal("no reset token for the server's connection ID in use")
	}
	tc.skipEvents()
	tc.writeDatagram(tc.peerAddr, statelessReset(r.token))
	ev := tc.wantEvent("reset", "ShutdownByTransport")
	if ev.r.Local != ReasonStatelessReset {
		t.Errorf("closed with %+v, want the stateless-reset reason", ev.r)
	}
	tc.wantShutdownComplete("reset")
	tc.wantIdle("silent")
	tc.writeFrames(wire.DebugPing{})
	tc.wantIdle("gone")
}

// RFC 9000 §10.3.1: an endpoint MUST NOT check for the stateless reset
// tokens of connection IDs it has not used: a datagram ending with one is
// dropped and the connection goes on.
func TestScriptedStatelessResetTokenOfUnusedIDIsIgnored(t *testing.T) {
	tc := newTestConn(t, Client)
	r := tc.c.cids.remote[1]
	if !r.hasToken {
		t.Fatal("no reset token for the server's second connection ID")
	}
	tc.skipEvents()
	tc.writeDatagram(tc.peerAddr, statelessReset(r.token))
	if tc.side.has("ShutdownComplete") {
		t.Fatal("the token of a connection ID never used reset the connection")
	}
	pn := tc.nextPN
	tc.writeFrames(wire.DebugPing{})
	tc.writeFrames(wire.DebugPing{})
	tc.wantFrame("still open", wire.Packet1RTT, ackOf(0, pns(tc.firstPN, pn+1)))
}
