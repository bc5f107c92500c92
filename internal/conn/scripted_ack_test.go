package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Scripted-peer tests of acknowledgments (RFC 9000 §13.2) and loss
// recovery (RFC 9002).

// ackOf is the ACK frame for the peer's packets from..to, with a raw ACK
// Delay field.
func ackOf(delay uint64, ranges ...wire.DebugAckRange) wire.DebugAck {
	return wire.DebugAck{Delay: delay, Ranges: ranges}
}

func pns(from, to int64) wire.DebugAckRange { return wire.DebugAckRange{Smallest: from, Largest: to} }

// RFC 9000 §13.2.1: an ack-eliciting packet MUST be acknowledged within
// max_ack_delay; a lone one waits for it. The ACK Delay field is the time
// since the packet arrived, in units of 2^ack_delay_exponent microseconds
// (§19.3; the default exponent is 3).
func TestScriptedLoneAckElicitingPacketWaitsMaxAckDelay(t *testing.T) {
	tc := newTestConn(t, Server)
	pn := tc.nextPN
	tc.writeFrames(wire.DebugPing{})
	tc.wantIdle("one ack-eliciting packet: the ACK waits")
	start := tc.p.now
	tc.advanceToTimer()
	if d := tc.p.now.Sub(start); d != 25*time.Millisecond {
		t.Errorf("ACK timer after %v, want max_ack_delay (25ms)", d)
	}
	tc.wantFrame("the delayed ACK", wire.Packet1RTT, ackOf(25000>>3, pns(tc.firstPN, pn)))
	tc.wantIdle("one ACK")
}

// RFC 9000 §13.2.2: a receiver SHOULD acknowledge at least every second
// ack-eliciting packet at once.
func TestScriptedSecondAckElicitingPacketIsAckedAtOnce(t *testing.T) {
	tc := newTestConn(t, Server)
	pn := tc.nextPN
	tc.ignoreFrame(wire.DebugPing{}) // TestScriptedReceiverKeepsOnePingInFlight
	tc.writeFrames(wire.DebugPing{})
	tc.writeFrames(wire.DebugPing{})
	tc.wantFrame("two packets: ACK now", wire.Packet1RTT, ackOf(0, pns(tc.firstPN, pn+1)))
	tc.wantIdle("one ACK")
}

// RFC 9000 §13.2.1: packets with only ACK frames are not acknowledged.
func TestScriptedAckOnlyPacketsAreNotAcked(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.openStream(false, []byte("x"), false)
	tc.wantFrameType("data to acknowledge", wire.Packet1RTT, wire.DebugStream{})
	for range 3 {
		tc.writeAckForAll()
	}
	tc.wantIdle("ACK-only packets draw no ACK")
	tc.advance(time.Second)
	tc.wantIdle("not later either")
}

// RFC 9000 §13.2.1: a receiver SHOULD send an ACK at once when a packet
// arrives out of order, so that the sender learns of the gap.
func TestScriptedOutOfOrderPacketIsAckedAtOnce(t *testing.T) {
	tc := newTestConn(t, Server)
	pn := tc.nextPN
	tc.writeFrames(wire.DebugPing{})
	tc.advanceToTimer()
	tc.wantFrame("the first packet's ACK", wire.Packet1RTT, ackOf(25000>>3, pns(tc.firstPN, pn)))
	tc.nextPN++ // pn+1 is lost
	tc.writeFrames(wire.DebugPing{})
	tc.wantFrame("a gap: ACK now, with both ranges", wire.Packet1RTT, ackOf(0, pns(pn+2, pn+2), pns(tc.firstPN, pn)))
}

// RFC 9000 §13.1: an acknowledgment of a packet never sent SHOULD be
// treated as a PROTOCOL_VIOLATION.
func TestScriptedAckOfUnsentPacket(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	tc.writeFrames(ackOf(0, pns(0, tc.largestReceived()+10)))
	tc.wantClose("ACK of packet numbers never used", wire.ProtocolViolation, 0x02)
}

// RFC 9000 §12.3: a receiver MUST discard a duplicate packet: its data is
// delivered once.
func TestScriptedDuplicatePacketIsDiscarded(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	d := tc.seal(wire.DebugStream{ID: 0, Data: []byte("once")})
	tc.writeDatagram(tc.peerAddr, d)
	tc.writeDatagram(tc.peerAddr, d)
	tc.skipEvents()
	if got := tc.side.received[0]; !bytes.Equal(got, []byte("once")) {
		t.Errorf("received %q, want %q", got, "once")
	}
}

// RFC 9002 §6.1.1: a packet is lost once three later packets are
// acknowledged; its data is sent again.
func TestScriptedPacketThresholdLoss(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	data := bytes.Repeat([]byte("0123456789abcdef"), 320) // 5120 bytes, five packets
	tc.openStream(false, data, false)
	first := tc.wantFrameType("the first packet", wire.Packet1RTT, wire.DebugStream{})
	lost := first.f.(wire.DebugStream)
	var later []int64
	for {
		f, ok := tc.readFrame()
		if !ok {
			break
		}
		later = append(later, f.pn)
	}
	if len(later) < 3 || lost.Off != 0 {
		t.Fatalf("the data went out as %v then %d frames", lost, len(later))
	}
	tc.writeFrames(ackOf(0, pns(later[0], later[len(later)-1])))
	tc.wantStreamData("the lost packet's data again", 0, data, 0, len(lost.Data))
	tc.wantIdle("only that")
}

// RFC 9002 §6.2.4: when the probe timer expires, the sender MUST send at
// least one ack-eliciting packet; with data outstanding, it resends data.
func TestScriptedProbeTimeoutSendsAckElicitingPacket(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.openStream(false, []byte("probe me"), false)
	sent := tc.wantFrame("the data", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("probe me")})
	tc.wantIdle("waiting for an ACK")
	tc.advanceToTimer()
	probe := tc.wantFrame("the probe carries the data again", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("probe me")})
	if probe.pn <= sent.pn {
		t.Errorf("probe in packet %d, after packet %d", probe.pn, sent.pn)
	}
}

// RFC 9002 §6.2.1: each consecutive probe timeout doubles the timer.
func TestScriptedProbeTimeoutBacksOff(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	tc.ignoreFrame(wire.DebugPing{})
	tc.ignoreFrame(wire.DebugStream{})
	tc.openStream(false, []byte("x"), false)
	var gaps []time.Duration
	last := tc.p.now
	for range 4 {
		tc.advanceToTimer()
		gaps = append(gaps, tc.p.now.Sub(last))
		last = tc.p.now
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] != 2*gaps[i-1] {
			t.Fatalf("probe timeouts after %v, want each twice the last", gaps)
		}
	}
}

// RFC 9002 §6.1.2: a packet sent before an acknowledged one is lost once
// 9/8 of the round trip has passed since it was sent; its data is sent
// again then, not before.
func TestScriptedTimeThresholdLoss(t *testing.T) {
	tc := newTestConn(t, Client)
	tc.ignoreFrame(wire.DebugAck{})
	s := tc.openStream(false, []byte("first"), false)
	first := tc.wantFrame("the first packet", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("first")})
	sentFirst := tc.p.now
	tc.advance(time.Millisecond)
	tc.send(s, []byte("second"))
	second := tc.wantFrame("the second packet", wire.Packet1RTT, wire.DebugStream{ID: 0, Off: 5, Data: []byte("second")})
	tc.advance(9 * time.Millisecond)
	tc.writeFrames(ackOf(0, pns(second.pn, second.pn)))
	tc.wantIdle("one later packet acknowledged: not lost yet")
	rtt := tc.c.loss.Stats()
	lossDelay := max(9*max(rtt.SmoothedRTT, rtt.LatestRTT)/8, time.Millisecond)
	tc.advanceToTimer()
	if d := tc.p.now.Sub(sentFirst); d != lossDelay {
		t.Errorf("declared lost %v after it was sent, want 9/8 of the RTT, %v", d, lossDelay)
	}
	tc.wantFrame("the first packet's data again", wire.Packet1RTT, wire.DebugStream{ID: 0, Data: []byte("first")})
	if first.pn >= tc.largestReceived() {
		t.Errorf("retransmitted in packet %d", tc.largestReceived())
	}
}

// RFC 9000 §19.3.1: an ACK range that goes below packet number 0 is a
// FRAME_ENCODING_ERROR.
func TestScriptedAckRangeBelowZero(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.ignoreFrame(wire.DebugAck{})
	// Largest Acknowledged 1, ACK Delay 0, no further ranges, First ACK
	// Range 5: down to packet -4.
	tc.writeFrames(rawFrame{0x02, 0x01, 0x00, 0x00, 0x05})
	tc.wantClose("an ACK range below 0", wire.FrameEncodingError, 0x02)
}

// RFC 9000 §13.2.4: a receiver that sends only ACK frames sends a PING now
// and then to be acknowledged. hquic adds one to an acknowledgment when
// the peer has sent two ack-eliciting packets since our last ack-eliciting
// one and nothing ack-eliciting of ours is in flight, so that one PING is
// always in flight while the peer sends and a probe timer is armed.
func TestScriptedReceiverKeepsOnePingInFlight(t *testing.T) {
	tc := newTestConn(t, Client)
	chunk := make([]byte, 1000)
	off := uint64(0)
	stream := func() {
		tc.writeFrames(wire.DebugStream{ID: 1, Off: off, Data: chunk})
		off += uint64(len(chunk))
	}
	stream()
	stream()
	tc.wantFrameType("two packets: ACK now", wire.Packet1RTT, wire.DebugAck{})
	tc.wantFrame("with a PING, nothing of ours being in flight", wire.Packet1RTT, wire.DebugPing{})
	tc.wantIdle("one packet")
	if !tc.c.loss.AckElicitingInFlight(recovery.SpaceApp) {
		t.Fatal("the PING is not in flight: no probe timer")
	}
	stream()
	stream()
	tc.wantFrameType("the next ACK", wire.Packet1RTT, wire.DebugAck{})
	tc.wantIdle("no second PING while the first is in flight")
	tc.writeAckForAll()
	stream()
	stream()
	tc.wantFrameType("an ACK after the PING was acknowledged", wire.Packet1RTT, wire.DebugAck{})
	tc.wantFrame("with a new PING", wire.Packet1RTT, wire.DebugPing{})
	tc.wantIdle("one packet")
}

// Two endpoints acknowledging each other's PINGs stop: a lone PING from
// the peer draws a plain ACK even with nothing of ours in flight.
func TestScriptedLonePingDrawsPlainAck(t *testing.T) {
	tc := newTestConn(t, Server)
	tc.writeFrames(wire.DebugPing{})
	tc.advanceToTimer()
	tc.wantFrameType("the delayed ACK", wire.Packet1RTT, wire.DebugAck{})
	tc.wantIdle("no PING in answer to a PING")
	tc.advance(time.Second)
	tc.writeFrames(wire.DebugPing{})
	tc.advanceToTimer()
	tc.wantFrameType("the next delayed ACK", wire.Packet1RTT, wire.DebugAck{})
	tc.wantFrame("two PINGs since ours: now one goes back", wire.Packet1RTT, wire.DebugPing{})
	tc.writeAckForAll()
	tc.advance(time.Second)
	tc.writeFrames(wire.DebugPing{})
	tc.advanceToTimer()
	tc.wantFrameType("the third ACK", wire.Packet1RTT, wire.DebugAck{})
	tc.wantIdle("one PING since ours: a plain ACK again")
}
