package conn

import (
	"crypto/tls"

	"github.com/hquic/quic/internal/recovery"
)

// onConnected reports handshake completion to the application.
func (c *Conn) onConnected() {
	c.life.state = stateEstablished
	cs := c.hs.ConnectionState()
	c.alpn = cs.NegotiatedProtocol
	c.restartIdleTimer(c.now)
	// Publish first so that getters called from the event's handler, or
	// right after it, already see the negotiated ALPN.
	c.publishSnapshot()
	if c.events != nil {
		c.events.Connected(cs.DidResume, c.alpn)
	}
}

// ConnectionState returns TLS's view of the connection; it must be called
// on the connection goroutine (from a callback or Do).
func (c *Conn) ConnectionState() tls.ConnectionState {
	if c.hs == nil {
		return tls.ConnectionState{}
	}
	return c.hs.ConnectionState()
}

// onProbeTimeout prepares probe packets after a PTO (RFC 9002 §6.2.4):
// in the handshake spaces the unacknowledged CRYPTO data is sent again;
// otherwise the probe is a PING if nothing else is pending.
//
// A probe in either handshake space also resends the other's outstanding
// CRYPTO data, coalesced (RFC 9002 §6.2.4): the peer may be unable to read
// the space whose timer expired, as a client that lost the server's Initial
// cannot open its Handshake packets, while the congestion window is full of
// them.
func (c *Conn) onProbeTimeout() {
	if !c.handshakeProbing() || c.hs == nil {
		return
	}
	for sp := recovery.SpaceInitial; sp < recovery.SpaceApp; sp++ {
		if cs := c.cryptoSend(sp); cs != nil && !c.spaces[sp].discarded {
			cs.ResendUnacked()
		}
	}
}

// handshakeProbing reports whether a probe is due in a handshake space.
func (c *Conn) handshakeProbing() bool {
	return c.loss.ProbesNeeded(recovery.SpaceInitial) > 0 || c.loss.ProbesNeeded(recovery.SpaceHandshake) > 0
}
