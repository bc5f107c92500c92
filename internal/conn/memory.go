package conn

import (
	"net/netip"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/recovery"
)

// setupState is what a connection needs only until its handshake is
// confirmed. It lives behind a pointer that confirmHandshake clears, so an
// established connection does not carry it.
type setupState struct {
	// accept is a server's state before TLS starts (accept.go); nil once
	// the configuration arrived.
	accept *acceptState
	// decideCert is Config.DecideCertificate (cert.go): the peer's
	// certificate is decided before the handshake completes.
	decideCert CertificateDecision
	// issueToken is Config.IssueToken, used once at confirmation.
	issueToken func(peer netip.AddrPort) []byte
	// preferred is Config.PreferredAddress, offered in our transport
	// parameters.
	preferred PreferredAddress
	// spaces are the Initial and Handshake packet number spaces.
	spaces [recovery.SpaceApp]space
	// initialToken is a client's token for its Initial packets (Retry or
	// NEW_TOKEN).
	initialToken []byte
	// buffered are packets that arrived before their keys; replayPending
	// says they are to be tried again (recv.go).
	buffered      []bufferedPacket
	replayPending bool
	// speedUps counts the handshake speed-ups sent, the last at
	// lastSpeedUp (speedup.go).
	speedUps    int
	lastSpeedUp mono.Time
}

// spaceGone stands for the Initial and Handshake packet number spaces of
// every connection whose setup state was dropped: discarded and keyless.
// It is shared and never written: code reaching a discarded space only
// reads it (discardSpace returns early, and no packet is built or opened
// without keys).
var spaceGone = space{largestAcked: -1, discarded: true}

// dropSetup frees the setup state once the handshake is confirmed and
// both handshake packet number spaces are discarded.
func (c *Conn) dropSetup() {
	if c.setup == nil || !c.spaces[recovery.SpaceInitial].discarded || !c.spaces[recovery.SpaceHandshake].discarded {
		return
	}
	c.setup = nil
	c.spaces[recovery.SpaceInitial] = &spaceGone
	c.spaces[recovery.SpaceHandshake] = &spaceGone
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
//
// Once released, the CRYPTO streams go too as soon as everything sent on
// them was acknowledged (the session ticket).
func (c *Conn) maybeReleaseTLS() {
	if c.side != Server || c.hs == nil || !c.life.handshakeConfirmed || c.life.closing() || c.tlsCompact {
		return
	}
	if !c.hs.Released() {
		if c.set.ServerResumption != ResumeNone && !c.resume.ticketSent {
			return
		}
		c.hs.Release()
		c.tlsConfig = nil
	}
	c.tlsCompact = c.hs.Compact()
}

// cryptoSend returns the send side of the CRYPTO stream of space sp, nil
// before TLS exists and once a server compacted it (maybeReleaseTLS).
func (c *Conn) cryptoSend(sp recovery.Space) *handshake.CryptoSend {
	if c.hs == nil {
		return nil
	}
	return c.hs.Send(int(sp))
}
