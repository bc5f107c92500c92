package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// Sealed token layout:
//
//	key id (1) || nonce (12) || AES-GCM(plaintext) || tag (16)
//
// AES-256-GCM with a 32-byte key, AES-128-GCM with a 16-byte one.
//
// with the key id as associated data. Plaintext:
//
//	flags (1): kind in bits 0-1, bit 6 IPv4 address, bit 7 IPv6 address
//	version (4)
//	issued at (5): Unix seconds, big-endian
//	IP (0, 4 or 16), port (2)
//	ODCID length (1), ODCID, Retry SCID length (1), Retry SCID
//
// A Retry token for an IPv6 client with two 20-byte connection IDs is 99
// bytes.
const (
	nonceLen    = 12
	tagLen      = 16
	headerLen   = 1 + nonceLen
	minPlainLen = 1 + 4 + 5 + 2 + 1 + 1
	maxPlainLen = minPlainLen + 16 + 255 + 255
	// MaxLen is the length of the longest token Seal produces.
	MaxLen = headerLen + maxPlainLen + tagLen

	flagKind = 0x03
	flagIPv4 = 0x40
	flagIPv6 = 0x80
)

// sealKey is one immutable token key.
type sealKey struct {
	id   byte
	aead cipher.AEAD
}

// keySet is the immutable pair of keys a Sealer uses: cur seals and opens,
// prev (possibly nil) only opens.
type keySet struct {
	cur, prev *sealKey
}

// Sealer seals and opens address validation tokens. It is safe for
// concurrent use: Seal and Open read an immutable key set through an atomic
// pointer and never lock.
//
// Nonces are random, so a key should seal well under 2^32 tokens; rotate it
// periodically (Rotate).
type Sealer struct {
	keys atomic.Pointer[keySet]
}

// NewSealer returns a Sealer whose tokens are sealed with key
// (AES-256-GCM).
func NewSealer(key [32]byte) *Sealer { return NewSealerKey(key[:]) }

// NewSealerKey returns a Sealer whose tokens are sealed with key: 16 bytes
// for AES-128-GCM, 32 for AES-256-GCM. It panics on another length.
func NewSealerKey(key []byte) *Sealer {
	s := &Sealer{}
	s.keys.Store(&keySet{cur: newSealKey(key)})
	return s
}

func newSealKey(key []byte) *sealKey {
	if len(key) != 16 && len(key) != 32 {
		panic("quic: token key must be 16 or 32 bytes")
	}
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic("quic: token key: " + err.Error())
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic("quic: token key: " + err.Error())
	}
	// The key id is derived from the key, so servers sharing keys agree
	// on it whatever order they rotated in.
	h := sha256.New()
	h.Write([]byte("hquic token key id"))
	h.Write(key[:])
	return &sealKey{id: h.Sum(nil)[0], aead: a}
}

// Rotate makes newKey the sealing key. The previous sealing key is kept for
// opening only; the one before it is forgotten, so its tokens no longer
// open.
func (s *Sealer) Rotate(newKey [32]byte) { s.RotateKey(newKey[:]) }

// RotateKey is Rotate with a key of either length NewSealerKey takes.
func (s *Sealer) RotateKey(newKey []byte) {
	k := newSealKey(newKey)
	for {
		old := s.keys.Load()
		if s.keys.CompareAndSwap(old, &keySet{cur: k, prev: old.cur}) {
			return
		}
	}
}

// Seal appends the sealed form of t to dst and returns it. t.IssuedAt is
// stored to the second; times before 1970 are stored as 1970. It panics if
// a connection ID is longer than 255 bytes (no such ID can be on the wire)
// or t.Kind is unknown.
func (s *Sealer) Seal(dst []byte, t *Token) []byte {
	if t.Kind != KindRetry && t.Kind != KindNewToken {
		panic("quic: sealing a token of unknown kind")
	}
	if len(t.OriginalDCID) > 255 || len(t.RetrySCID) > 255 {
		panic("quic: connection ID too long for a token")
	}
	k := s.keys.Load().cur
	start := len(dst)
	dst = append(dst, k.id)
	dst = append(dst, make([]byte, nonceLen)...)
	nonce := dst[start+1 : start+headerLen]
	// crypto/rand.Read never returns an error (it crashes the program if
	// the OS fails to provide randomness).
	rand.Read(nonce)

	plain := len(dst)
	ip := t.Addr.Addr().Unmap()
	flags := byte(t.Kind)
	switch {
	case ip.Is4():
		flags |= flagIPv4
	case ip.Is6():
		flags |= flagIPv6
	}
	dst = append(dst, flags)
	dst = binary.BigEndian.AppendUint32(dst, t.Version)
	secs := max(t.IssuedAt.Unix(), 0)
	dst = append(dst, byte(secs>>32), byte(secs>>24), byte(secs>>16), byte(secs>>8), byte(secs))
	if ip.IsValid() {
		dst = append(dst, ip.AsSlice()...)
	}
	dst = binary.BigEndian.AppendUint16(dst, t.Addr.Port())
	dst = append(dst, byte(len(t.OriginalDCID)))
	dst = append(dst, t.OriginalDCID...)
	dst = append(dst, byte(len(t.RetrySCID)))
	dst = append(dst, t.RetrySCID...)

	dst = slices.Grow(dst, tagLen)
	nonce = dst[start+1 : start+headerLen]
	ct := k.aead.Seal(dst[plain:plain], nonce, dst[plain:], dst[start:start+1])
	return dst[:plain+len(ct)]
}

// Open decrypts and parses a token. It returns ErrMalformed for anything
// that is not a token sealed by one of the Sealer's two current keys, and
// ErrExpired for a token issued more than ClockSkew after now. It never
// panics, and it copies what it returns: token may be reused afterwards.
// Lifetime, kind and address are checked by Token.Validate.
func (s *Sealer) Open(token []byte, now time.Time) (Token, error) {
	t, _, err := s.OpenInto(nil, token, now)
	return t, err
}

// OpenInto is Open decrypting into buf's storage (grown if too small)
// instead of new memory, for callers that open tokens in a loop without
// allocating. The connection IDs of the returned Token alias the returned
// buffer, which the caller passes back in next time.
func (s *Sealer) OpenInto(buf, token []byte, now time.Time) (Token, []byte, error) {
	if len(token) < headerLen+minPlainLen+tagLen || len(token) > MaxLen {
		return Token{}, buf, ErrMalformed
	}
	ks := s.keys.Load()
	var plain []byte
	for _, k := range [...]*sealKey{ks.cur, ks.prev} {
		if k == nil || k.id != token[0] {
			continue
		}
		p, err := k.aead.Open(buf[:0], token[1:headerLen], token[headerLen:], token[:1])
		if err == nil {
			plain, buf = p, p
			break
		}
	}
	if plain == nil {
		return Token{}, buf, ErrMalformed
	}
	t, ok := parse(plain)
	if !ok {
		return Token{}, buf, ErrMalformed
	}
	if t.IssuedAt.Sub(now) > ClockSkew {
		return Token{}, buf, ErrExpired
	}
	return t, buf, nil
}

// parse decodes a decrypted token. The returned connection IDs alias p.
func parse(p []byte) (Token, bool) {
	if len(p) < minPlainLen {
		return Token{}, false
	}
	var t Token
	flags := p[0]
	t.Kind = Kind(flags & flagKind)
	if t.Kind != KindRetry && t.Kind != KindNewToken || flags&^(flagKind|flagIPv4|flagIPv6) != 0 {
		return Token{}, false
	}
	t.Version = binary.BigEndian.Uint32(p[1:5])
	var secs int64
	for _, b := range p[5:10] {
		secs = secs<<8 | int64(b)
	}
	t.IssuedAt = time.Unix(secs, 0)
	p = p[10:]
	var ip netip.Addr
	switch flags & (flagIPv4 | flagIPv6) {
	case flagIPv4:
		if len(p) < 4 {
			return Token{}, false
		}
		ip = netip.AddrFrom4([4]byte(p[:4]))
		p = p[4:]
	case flagIPv6:
		if len(p) < 16 {
			return Token{}, false
		}
		ip = netip.AddrFrom16([16]byte(p[:16]))
		p = p[16:]
	case flagIPv4 | flagIPv6:
		return Token{}, false
	}
	if len(p) < 2 {
		return Token{}, false
	}
	t.Addr = netip.AddrPortFrom(ip, binary.BigEndian.Uint16(p))
	p = p[2:]
	var ok bool
	if t.OriginalDCID, p, ok = consumeCID(p); !ok {
		return Token{}, false
	}
	if t.RetrySCID, p, ok = consumeCID(p); !ok || len(p) != 0 {
		return Token{}, false
	}
	return t, true
}

// consumeCID reads a length-prefixed connection ID; an empty one is nil.
func consumeCID(p []byte) (cid, rest []byte, ok bool) {
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return nil, nil, false
	}
	n := int(p[0])
	if n == 0 {
		return nil, p[1:], true
	}
	return p[1 : 1+n : 1+n], p[1+n:], true
}
