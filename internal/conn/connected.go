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

// StoreSession implements handshake.Callbacks. The connection does not
// enable TLS session events: clients resume through the TLS configuration's
// ClientSessionCache, so this is never called.
func (c *Conn) StoreSession(*tls.SessionState) {}

// onProbeTimeout prepares probe packets after a PTO (RFC 9002 §6.2.4):
// in the handshake spaces the unacknowledged CRYPTO data is sent again;
// otherwise the probe is a PING if nothing else is pending.
func (c *Conn) onProbeTimeout() {
	for sp := recovery.SpaceInitial; sp < recovery.NumSpaces; sp++ {
		if c.loss.ProbesNeeded(sp) == 0 {
			continue
		}
		if sp != recovery.SpaceApp && c.hs != nil {
			c.hs.Send[sp].ResendUnacked()
		}
	}
}
