package conn

import "net/netip"

// setupState is what a connection needs only until its handshake is
// confirmed. It lives behind a pointer that confirmHandshake clears, so an
// established connection does not carry it.
type setupState struct {
	// accept is a server's state before TLS starts (accept.go); nil once
	// the configuration arrived.
	accept *acceptState
	// issueToken is Config.IssueToken, used once at confirmation.
	issueToken func(peer netip.AddrPort) []byte
	// preferred is Config.PreferredAddress, offered in our transport
	// parameters.
	preferred PreferredAddress
}

// preferredAddress returns the server's preferred address to offer, none
// once the handshake is over.
func (c *Conn) preferredAddress() PreferredAddress {
	if c.setup == nil {
		return PreferredAddress{}
	}
	return c.setup.preferred
}

// maybeReleaseTLS drops TLS's state on a server once nothing more will pass
// through TLS: the handshake is confirmed and no session ticket can still
// be asked for (resumption is off, or the one ticket crypto/tls issues per
// connection was sent). An idle server connection then keeps only its QUIC
// state (its TLS configuration copy goes too). Clients keep TLS, which
// receives the server's tickets.
func (c *Conn) maybeReleaseTLS() {
	if c.side != Server || c.hs == nil || c.hs.Released() || !c.life.handshakeConfirmed || c.life.closing() {
		return
	}
	if c.set.ServerResumption != ResumeNone && !c.resume.ticketSent {
		return
	}
	c.hs.Release()
	c.tlsConfig = nil
}
