package conn

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
