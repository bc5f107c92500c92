package endpoint

import (
	"crypto/rand"
	"errors"
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

// TokenRejection says why a binding rejected an Initial's token.
type TokenRejection uint8

// Reasons for rejecting a token.
const (
	// TokenMalformed: not a token sealed by our keys, or one that does not
	// parse (forged, modified, or from before a key rotation).
	TokenMalformed TokenRejection = iota
	// TokenExpired: past its lifetime, or issued in the future.
	TokenExpired
	// TokenWrongAddress: issued to another client address.
	TokenWrongAddress
	// TokenWrongVersion: issued under another QUIC version (RFC 9369 §5).
	TokenWrongVersion
	// TokenWrongConnectionID: a Retry token presented with a Destination
	// Connection ID other than the Retry's Source Connection ID.
	TokenWrongConnectionID
	// NumTokenRejections is the number of token rejection reasons.
	NumTokenRejections
)

// String returns the reason's name.
func (r TokenRejection) String() string {
	switch r {
	case TokenMalformed:
		return "malformed"
	case TokenExpired:
		return "expired"
	case TokenWrongAddress:
		return "wrong address"
	case TokenWrongVersion:
		return "wrong version"
	case TokenWrongConnectionID:
		return "wrong connection ID"
	}
	return "unknown"
}

// checkToken validates the token of a client's Initial (RFC 9000 §8.1.3,
// §8.1.4). It runs on the reader goroutine and allocates nothing. A valid
// Retry token fills info.RetryODCID, which points into a buffer the next
// call reuses; any valid token sets
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
	t, buf, err := b.cfg.Tokens.OpenInto(b.tokenBuf[:0], tok, now)
	b.tokenBuf = buf
	why := TokenMalformed
	if err == nil && t.Version != info.Version {
		err, why = token.ErrMalformed, TokenWrongVersion
	}
	if err == nil {
		switch t.Kind {
		case token.KindRetry:
			err = t.Validate(token.KindRetry, info.Peer, now, retryTokenLifetime)
			if err == nil && string(t.RetrySCID) != string(info.DCID) {
				err, why = token.ErrMalformed, TokenWrongConnectionID
			}
			if err == nil {
				info.RetryODCID = t.OriginalDCID
			}
		case token.KindNewToken:
			err = t.Validate(token.KindNewToken, info.Peer, now, newTokenTokenLifetime)
		}
		switch {
		case errors.Is(err, token.ErrExpired):
			why = TokenExpired
		case errors.Is(err, token.ErrWrongAddress):
			why = TokenWrongAddress
		}
	}
	if err != nil {
		b.TokensRejected.Add(1)
		b.TokenRejections[why].Add(1)
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

// appendRetry appends a Retry packet answering op, a client's Initial: a
// token binding the client's address and original DCID (RFC 9000 §8.1.2,
// §17.2.5), with the integrity tag of RFC 9001 §5.8.
func (b *Binding) appendRetry(dst []byte, op *statelessOp, scr *answerScratch) []byte {
	var scidBuf [wire.MaxCIDLen]byte
	scid := scidBuf[:max(b.cfg.CIDLen, minRetrySCIDLen)]
	n := 0
	if b.cfg.ServerCIDPrefix != nil {
		n = copy(scid, b.cfg.ServerCIDPrefix(op.local.Addr()))
	}
	rand.Read(scid[n:])
	scr.token = b.cfg.Tokens.Seal(scr.token[:0], &token.Token{
		Kind: token.KindRetry, Version: op.version, Addr: op.peer,
		OriginalDCID: op.dcid(), RetrySCID: scid, IssuedAt: time.Now(),
	})
	var low [1]byte
	rand.Read(low[:])
	start := len(dst)
	dst = wire.AppendRetry(dst, op.version, low[0]&0x0f, op.scid(), scid, scr.token)
	scr.pseudo = wire.AppendRetryPseudoPacket(scr.pseudo[:0], op.dcid(), dst[start:])
	return protect.AppendRetryIntegrityTag(dst, op.version, scr.pseudo)
}

// NewToken returns a NEW_TOKEN token for a client at peer, or nil when the
// binding has no token key.
func (b *Binding) NewToken(version uint32, peer netip.AddrPort) []byte {
	if b.cfg.Tokens == nil {
		return nil
	}
	return b.cfg.Tokens.Seal(nil, &token.Token{Kind: token.KindNewToken, Version: version, Addr: peer, IssuedAt: time.Now()})
}
