package conn

import "github.com/hquic/quic/internal/mono"

// maybeUpdateDCID moves to a fresh connection ID of the peer's before
// sending after the connection has sent nothing for
// DestCIDUpdateIdleTimeout (MsQuic's DestCidUpdateIdleTimeoutMs): a NAT
// may have rebound the idle flow, and the new ID keeps an observer from
// linking the activity before and after the pause (RFC 9000 §9.5). It
// needs a confirmed handshake, no path validation under way and a spare
// ID; the old one is retired.
func (c *Conn) maybeUpdateDCID(now mono.Time) {
	t := c.set.DestCIDUpdateIdleTimeout
	if t <= 0 || c.lastFlush.IsZero() || now.Sub(c.lastFlush) < t || !c.life.handshakeConfirmed ||
		c.life.closing() || c.path.probe != nil || len(c.cids.remote) < 2 {
		return
	}
	c.cids.switchRemote(c, c.cids.remote[1].seq)
}
