package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// AEAD protects packet payloads for one key generation (RFC 9001,
// Section 5.3). It keeps a nonce scratch buffer, so a value must not be used
// by two goroutines at once.
type AEAD struct {
	aead  cipher.AEAD
	iv    [12]byte
	nonce [12]byte
}

// newAEAD builds the AEAD of suite from a key of suiteKeyLen(suite) bytes and
// a 12-byte IV.
func newAEAD(suite uint16, key, iv []byte) (AEAD, error) {
	var a AEAD
	var err error
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384:
		var b cipher.Block
		b, err = aes.NewCipher(key)
		if err == nil {
			a.aead, err = cipher.NewGCM(b)
		}
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		a.aead, err = chacha20poly1305.New(key)
	default:
		err = ErrSuite
	}
	if err != nil {
		return AEAD{}, err
	}
	copy(a.iv[:], iv)
	return a, nil
}

// Overhead returns the number of bytes the AEAD adds to a payload: the
// 16-byte authentication tag.
func (a *AEAD) Overhead() int { return a.aead.Overhead() }

// makeNonce sets a.nonce to the IV XORed with the packet number, the packet
// number left-padded to the IV's size (RFC 9001, Section 5.3).
func (a *AEAD) makeNonce(pn int64) []byte {
	a.nonce = a.iv
	for i := range 8 {
		a.nonce[4+i] ^= byte(uint64(pn) >> (56 - 8*i))
	}
	return a.nonce[:]
}

// Seal encrypts pkt[hdrLen:] in place, authenticating the header
// pkt[:hdrLen] as associated data (RFC 9001, Section 5.3), and returns
// header || ciphertext || tag, which shares pkt's storage.
//
// pkt should have room for the tag (cap(pkt) >= len(pkt)+Overhead()); if it
// does not, Seal grows it, which allocates.
func (a *AEAD) Seal(pkt []byte, hdrLen int, pn int64) []byte {
	pkt = slices.Grow(pkt, a.aead.Overhead())
	ct := a.aead.Seal(pkt[hdrLen:hdrLen], a.makeNonce(pn), pkt[hdrLen:], pkt[:hdrLen])
	return pkt[:hdrLen+len(ct)]
}

// Open authenticates and decrypts pkt[hdrLen:] (ciphertext || tag) in place,
// using the header pkt[:hdrLen] as associated data, and returns the
// plaintext, which aliases pkt[hdrLen:].
//
// It returns ErrOpen if authentication fails or the packet is too short to
// hold a tag. After a failure the payload bytes of pkt are unspecified (the
// underlying ciphers may have zeroed them), so a packet can be tried against
// only one key.
func (a *AEAD) Open(pkt []byte, hdrLen int, pn int64) ([]byte, error) {
	if hdrLen < 0 || len(pkt)-hdrLen < a.aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := a.aead.Open(pkt[hdrLen:hdrLen], a.makeNonce(pn), pkt[hdrLen:], pkt[:hdrLen])
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
