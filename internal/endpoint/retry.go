package endpoint

import (
	"crypto/rand"
	"net/netip"
	"time"

	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/wire"
)

// Token lifetimes: a Retry token is used right away (one round trip), a
// NEW_TOKEN token on a later connection.
const (
	retryTokenLifetime    = 10 * time.Second
	newTokenTokenLifetime = 24 * time.Hour
)

// minRetrySCIDLen is the shortest connection ID a Retry gives the client
// to use next; it is CIDLen long when that is longer.
const minRetrySCIDLen = 8

// checkToken validates the token of a client's Initial (RFC 9000 §8.1.3,
// §8.1.4). A valid Retry token fills info.RetryODCID; any valid token sets
// info.AddressValidated. It returns false when the packet must be dropped:
// a Retry token that is forged, expired, for another address or version,
// or for another connection ID. (RFC 9000 §8.1.2 lets a server drop such a
// packet instead of closing with INVALID_TOKEN, which would need state.)
// An invalid NEW_TOKEN token only means the address is not validated.
func (b *Binding) checkToken(info *InitialInfo, tok []byte) bool {
	if len(tok) == 0 || b.cfg.Tokens == nil {
		return true
	}
	now := time.Now()
	t, err := b.cfg.Tokens.Open(tok, now)
	if err == nil && t.Version != info.Version {
		err = token.ErrMalformed
	}
	if err == nil {
		switch t.Kind {
		case token.KindRetry:
			err = t.Validate(token.KindRetry, info.Peer, now, retryTokenLifetime)
			if err == nil && string(t.RetrySCID) != string(info.DCID) {
				err = token.ErrMalformed
			}
			if err == nil {
				info.RetryODCID = t.OriginalDCID
			}
		case token.KindNewToken:
			err = t.Validate(token.KindNewToken, info.Peer, now, newTokenTokenLifetime)
		}
	}
	if err != nil {
		b.TokensRejected.Add(1)
		// A client that followed our Retry cannot be sent another one
		// (RFC 9000 §17.2.5.2), so its packet is dropped; with a bad
		// NEW_TOKEN token, or an unreadable one, the client continues as if
		// it had none (RFC 9000 §8.1.3).
		return t.Kind != token.KindRetry
	}
	b.TokensAccepted.Add(1)
	info.AddressValidated = true
	return true
}

// sendRetry answers a client's Initial with a Retry packet carrying a
// token that binds its address and original DCID (RFC 9000 §8.1.2,
// §17.2.5), with the integrity tag of RFC 9001 §5.8.
func (b *Binding) sendRetry(info *InitialInfo) {
	if !b.stateless.allow() {
		return
	}
	scid := make([]byte, max(b.cfg.CIDLen, minRetrySCIDLen))
	n := 0
	if b.cfg.ServerCIDPrefix != nil {
		n = copy(scid, b.cfg.ServerCIDPrefix(info.Local.Addr()))
	}
	rand.Read(scid[n:])
	tok := b.cfg.Tokens.Seal(nil, &token.Token{
		Kind: token.KindRetry, Version: info.Version, Addr: info.Peer,
		OriginalDCID: info.DCID, RetrySCID: scid, IssuedAt: time.Now(),
	})
	var low [1]byte
	rand.Read(low[:])
	pkt := wire.AppendRetry(nil, info.Version, low[0]&0x0f, info.SCID, scid, tok)
	pseudo := wire.AppendRetryPseudoPacket(nil, info.DCID, pkt)
	tag := protect.RetryIntegrityTag(info.Version, pseudo)
	pkt = append(pkt, tag[:]...)
	b.write(pkt, info.Peer, info.Local)
	b.RetriesSent.Add(1)
}

// NewToken returns a NEW_TOKEN token for a client at peer, or nil when the
// binding has no token key.
func (b *Binding) NewToken(version uint32, peer netip.AddrPort) []byte {
	if b.cfg.Tokens == nil {
		return nil
	}
	return b.cfg.Tokens.Seal(nil, &token.Token{Kind: token.KindNewToken, Version: version, Addr: peer, IssuedAt: time.Now()})
}
