package conn

import (
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/recovery"
)

// Speeding up handshake completion (RFC 9002 §6.2.3). A server that
// receives an Initial packet with duplicate CRYPTO data can assume the
// client did not receive all of its Initial CRYPTO data; a client that
// receives Handshake or 1-RTT packets before it has Handshake keys can
// assume some of the server's Initial packets were lost. Either MAY, a
// limited number of times per connection, send unacknowledged CRYPTO data
// before the PTO expires, within the anti-amplification limit (RFC 9000
// §8.1): without an RTT sample the first PTO is three initial RTTs away,
// and it backs off.
//
// A speed-up is a probe sent early: the CRYPTO data goes in probe packets
// (recovery.State.RequestProbes), not blocked by the congestion window
// like the PTO probes it anticipates (RFC 9002 §7.5), and with an ACK
// frame for the space (frameWriter.writeAck), which lets the peer detect
// its own losses. A client whose ClientHello was acknowledged has no
// CRYPTO data to send: its Initial probe carries that ACK and a PING, so
// the server learns which of its Initial packets arrived (RFC 9002 §6.2.3
// suggests such PING packets to elicit acknowledgments).

// maxSpeedUps bounds the speed-ups of a connection: RFC 9002 §6.2.3 finds
// one enough for a single loss and warns that always answering packets one
// cannot process risks an endless exchange; under bursty loss a few more
// help.
const maxSpeedUps = 3

// minSpeedUpGap separates two speed-ups at least, without an RTT sample:
// the datagrams of one flight arrive back to back, and they are one
// signal, not several.
const minSpeedUpGap = 5 * time.Millisecond

// speedUpHandshake sends the unacknowledged handshake CRYPTO data again
// now, if a speed-up is still allowed (RFC 9002 §6.2.3). The server calls
// it on an Initial packet with duplicate CRYPTO data, the client on a
// Handshake or 1-RTT packet it has no keys for yet.
func (c *Conn) speedUpHandshake(now mono.Time) {
	st := c.setup
	if st == nil || c.hs == nil || c.life.closing() || st.speedUps >= maxSpeedUps {
		return
	}
	if st.speedUps > 0 && now.Sub(st.lastSpeedUp) < c.speedUpGap() {
		return
	}
	initial := c.cryptoSend(recovery.SpaceInitial)
	if initial == nil || c.spaces[recovery.SpaceInitial].discarded {
		return
	}
	probes := 1
	switch c.side {
	case Server:
		if !initial.Unacked() {
			return // the client has the server's Initial data
		}
		initial.ResendUnacked()
		// The Handshake packets of the flight may be lost too; they go
		// in the next datagram, coalesced with an Initial probe.
		if hs := c.cryptoSend(recovery.SpaceHandshake); hs != nil && !c.spaces[recovery.SpaceHandshake].discarded && hs.ResendUnacked() {
			probes = 2
		}
	case Client:
		hs := c.spaces[recovery.SpaceHandshake]
		if hs.read != nil || hs.discarded {
			return // the client has Handshake keys
		}
		if initial.ResendUnacked() {
			probes = 2 // a ClientHello may span two datagrams
		}
	}
	c.loss.RequestProbes(recovery.SpaceInitial, probes)
	st.speedUps++
	st.lastSpeedUp = now
}

// onLateHandshakePacket handles a Handshake packet that reaches a server
// after it discarded its Handshake keys, at confirmation (RFC 9001
// §4.9.2): the client is still sending Handshake packets, its PTO probes,
// because it did not get HANDSHAKE_DONE, which confirms its handshake
// (RFC 9001 §4.1.2). Until the client acknowledges it, HANDSHAKE_DONE goes
// again at once rather than after the server's own PTO, like the
// speed-ups above; the client's PTO bounds how often. The packet is not
// otherwise processed: it cannot be read.
func (c *Conn) onLateHandshakePacket() {
	if !c.life.handshakeDoneAcked && !c.life.closing() {
		c.flags |= flagHandshakeDone
	}
}

// speedUpGap is the least time between two speed-ups: half the minimum
// RTT, so that a new one answers a new round trip, not another datagram of
// the flight that triggered the last one.
func (c *Conn) speedUpGap() time.Duration {
	if r := c.loss.RTT(); r.HasSample {
		return max(r.Min/2, minSpeedUpGap)
	}
	return minSpeedUpGap
}
