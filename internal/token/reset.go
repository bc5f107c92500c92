package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"sync"
)

// ResetKey derives stateless reset tokens from a static key (RFC 9000,
// Section 10.3.2): token = first 16 bytes of HMAC-SHA256(key, CID). A server
// that keeps the key across restarts can reset connections it has lost state
// for. It is safe for concurrent use.
type ResetKey struct {
	pool sync.Pool // of *resetHasher keyed with the static key
}

// resetHasher is a keyed HMAC with its own output buffer, so computing a
// token does not allocate.
type resetHasher struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// NewResetKey returns a ResetKey for static, which must be secret and
// random.
func NewResetKey(static [32]byte) *ResetKey {
	k := &ResetKey{}
	k.pool.New = func() any {
		return &resetHasher{mac: hmac.New(sha256.New, static[:])}
	}
	return k
}

// Token returns the stateless reset token for the connection ID cid. The
// same cid always yields the same token; the token cannot be computed
// without the key (RFC 9000, Section 10.3.2). It does not allocate in steady
// state (HMAC states are pooled).
func (k *ResetKey) Token(cid []byte) [16]byte {
	h := k.pool.Get().(*resetHasher)
	h.mac.Reset()
	h.mac.Write(cid)
	h.mac.Sum(h.sum[:0])
	var t [16]byte
	copy(t[:], h.sum[:16])
	k.pool.Put(h)
	return t
}

// EqualResetToken reports, in constant time, whether a and b are the same
// token. An endpoint compares a datagram's last 16 bytes with its peer's
// reset tokens without leaking timing (RFC 9000, Section 10.3.1).
func EqualResetToken(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
