// Package token implements address validation tokens for Retry and
// NEW_TOKEN (RFC 9000, Sections 8.1.1-8.1.4), stateless reset tokens
// (RFC 9000, Section 10.3.2) and the client's cache of NEW_TOKEN tokens.
//
// Server tokens are sealed with AES-256-GCM under a key that can be rotated;
// the previous key still opens tokens. Token contents are opaque to clients.
// Wall-clock time.Time is used here (not mono.Time) because tokens must stay
// valid across server restarts and between servers of a fleet; callers pass
// the current time.
package token

import (
	"errors"
	"net/netip"
	"time"
)

// Kind says why a token was issued. A server must be able to tell Retry
// tokens from NEW_TOKEN tokens (RFC 9000, Section 8.1.1).
type Kind uint8

const (
	// KindRetry is a token sent in a Retry packet (RFC 9000, Section 8.1.2).
	KindRetry Kind = 1
	// KindNewToken is a token sent in a NEW_TOKEN frame (RFC 9000,
	// Section 8.1.3).
	KindNewToken Kind = 2
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindRetry:
		return "retry"
	case KindNewToken:
		return "new_token"
	}
	return "unknown"
}

// Validation errors. Each is distinct so that a server can treat an invalid
// Retry token (connection error INVALID_TOKEN, RFC 9000, Section 8.1.2)
// differently from a stale NEW_TOKEN token (ignored, Section 8.1.3).
var (
	// ErrMalformed reports a token that does not decrypt or parse: forged,
	// modified, sealed under an unknown key, or not ours.
	ErrMalformed = errors.New("quic: malformed token")
	// ErrExpired reports a token used outside its lifetime, or one issued
	// more than ClockSkew in the future.
	ErrExpired = errors.New("quic: token expired")
	// ErrWrongAddress reports a token presented from another client address.
	ErrWrongAddress = errors.New("quic: token bound to another address")
	// ErrWrongKind reports a token of the other kind.
	ErrWrongKind = errors.New("quic: wrong token kind")
)

// ClockSkew is how far in the future a token's issue time may lie and still
// be accepted, to tolerate clock differences between servers sharing a key.
const ClockSkew = time.Minute

// Token is the content of an address validation token.
type Token struct {
	// Kind says whether the token came from a Retry packet or a NEW_TOKEN
	// frame.
	Kind Kind
	// Version is the QUIC version of the connection that issued the token.
	// A server MUST NOT accept a token issued under another version
	// (RFC 9369, Section 5); the caller compares it.
	Version uint32
	// Addr is the client address the token was issued to. NEW_TOKEN tokens
	// are bound to its IP only, Retry tokens to IP and port.
	Addr netip.AddrPort
	// OriginalDCID is the Destination Connection ID of the client's first
	// Initial packet (Retry tokens; the server echoes it in the
	// original_destination_connection_id transport parameter, RFC 9000,
	// Section 7.3).
	OriginalDCID []byte
	// RetrySCID is the Source Connection ID of the Retry packet (Retry
	// tokens; echoed in retry_source_connection_id).
	RetrySCID []byte
	// IssuedAt is when the token was sealed, to the second.
	IssuedAt time.Time
}

// Validate checks that the token is of kind, was issued to from, and is
// within lifetime of its issue time at now (RFC 9000, Sections 8.1.2 and
// 8.1.3). Retry tokens must match from's IP and port; NEW_TOKEN tokens only
// its IP, since the client's port may have changed. IPv4-mapped IPv6
// addresses compare equal to their IPv4 form.
func (t *Token) Validate(kind Kind, from netip.AddrPort, now time.Time, lifetime time.Duration) error {
	if t.Kind != kind {
		return ErrWrongKind
	}
	if now.Sub(t.IssuedAt) > lifetime || t.IssuedAt.Sub(now) > ClockSkew {
		return ErrExpired
	}
	if t.Addr.Addr().Unmap() != from.Addr().Unmap() {
		return ErrWrongAddress
	}
	if kind == KindRetry && t.Addr.Port() != from.Port() {
		return ErrWrongAddress
	}
	return nil
}
