package conn

import (
	"bytes"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// onRetry handles a Retry packet on a client (RFC 9000 §17.2.5.2): at most
// one, only before any Initial from the server, with a valid integrity tag
// (RFC 9001 §5.8). The client then sends its Initial again, to the Retry's
// Source Connection ID and with its token, keeping its packet numbers.
func (c *Conn) onRetry(now mono.Time, pkt []byte) {
	if c.side != Client || c.cids.retried || c.cids.peerInitialSCID != nil || c.life.state != stateHandshake || c.setup == nil {
		return
	}
	version, _, scid, tok, tag, ok := wire.ParseRetry(pkt)
	if !ok || version != c.version || len(tok) == 0 || bytes.Equal(scid, c.cids.dcid()) {
		return
	}
	pseudo := wire.AppendRetryPseudoPacket(nil, c.cids.originalDCID, pkt[:len(pkt)-16])
	if !protect.VerifyRetryIntegrity(c.version, pseudo, tag[:]) {
		return
	}
	c.traceRetry(now, pkt)
	c.cids.retried = true
	c.cids.retrySCID = bytes.Clone(scid)
	c.cids.remote[0].cid = makeConnID(scid)
	c.setup.initialToken = bytes.Clone(tok)
	c.stats.StatelessRetry = true
	sp := c.spaces[recovery.SpaceInitial]
	sp.write, sp.read = protect.InitialKeys(c.version, scid, true)
	c.cryptoSend(recovery.SpaceInitial).ResendUnacked()
	// A server that sends a Retry keeps no state: the 0-RTT packets sent
	// so far are gone, and are sent again (RFC 9000 §17.2.5.3).
	c.onZeroRTTLost()
}

// onVersionNegotiation handles a Version Negotiation packet on a client
// (RFC 9000 §6.2). It is ignored once any other packet was processed, after
// an earlier Version Negotiation, or if it lists the version we used (a
// forgery or a downgrade attempt, §6.2). Otherwise the client starts again,
// invisibly to the application, with the first of its versions the server
// lists, or fails with a version negotiation error if there is none.
func (c *Conn) onVersionNegotiation(now mono.Time, pkt []byte) {
	if c.side != Client || c.cids.peerInitialSCID != nil || c.cids.retried || c.vers.restarted || c.life.state != stateHandshake {
		return
	}
	dcid, scid, versions, ok := wire.ParseVersionNegotiation(pkt)
	if !ok || !bytes.Equal(dcid, c.cids.scid()) || !bytes.Equal(scid, c.cids.originalDCID) {
		return
	}
	if wire.VersionListContains(versions, c.version) {
		return
	}
	c.traceVersionNegotiation(now, pkt, dcid, scid, versions)
	c.stats.VersionNegotiation = true
	for _, v := range c.versions() {
		if wire.IsSupportedVersion(v) && wire.VersionListContains(versions, v) {
			c.restartWithVersion(now, v)
			return
		}
	}
	c.closeLocal(now, ReasonVersionNegotiation, true)
}

// onNewToken hands a NEW_TOKEN token to the client's token store
// (RFC 9000 §8.1.3).
func (c *Conn) onNewToken(tok []byte) {
	if c.onNewTok != nil {
		c.onNewTok(bytes.Clone(tok))
	}
}
