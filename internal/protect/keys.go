package protect

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
)

// Initial salts (RFC 9001, Section 5.2; RFC 9369, Section 3.3.1).
var (
	initialSaltV1 = []byte{
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
	}
	initialSaltV2 = []byte{
		0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
	}
)

// Keys is the packet protection state for one direction of one encryption
// level: the AEAD and header protection keys plus the traffic secret they
// came from, which key update needs (RFC 9001, Section 6.1).
type Keys struct {
	// HP is the header protection key. It does not change on key update.
	HP HeaderProtection
	// AEAD is the payload protection key of this key generation.
	AEAD AEAD

	version uint32
	suite   uint16
	// sec[:secLen] is the traffic secret, held inline so that keys are a
	// single allocation (SHA-384 secrets are the longest, 48 bytes).
	secLen uint8
	sec    [sha512.Size384]byte
}

// secret returns the traffic secret of the keys.
func (k *Keys) secret() []byte { return k.sec[:k.secLen] }

// NewKeys derives packet protection keys from a TLS traffic secret
// (RFC 9001, Section 5.1). suite is the TLS 1.3 cipher suite id
// (tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384 or
// tls.TLS_CHACHA20_POLY1305_SHA256); version selects the HKDF labels
// (QUIC v2 uses its own, RFC 9369, Section 3.3.2). The secret is copied.
func NewKeys(version uint32, suite uint16, secret []byte) (*Keys, error) {
	keyLen := suiteKeyLen(suite)
	if keyLen == 0 {
		return nil, ErrSuite
	}
	h := suiteHash(suite)
	if len(secret) != h().Size() {
		return nil, ErrSecret
	}
	l := versionLabels(version)
	hp, err := newHeaderProtection(suite, HKDFExpandLabel(h, secret, l.hp, nil, keyLen))
	if err != nil {
		return nil, err
	}
	k := &Keys{HP: hp, version: version, suite: suite}
	k.secLen = uint8(copy(k.sec[:], secret))
	if err := k.deriveAEAD(); err != nil {
		return nil, err
	}
	return k, nil
}

// deriveAEAD sets k.AEAD from k.secret (RFC 9001, Section 5.1).
func (k *Keys) deriveAEAD() error {
	h := suiteHash(k.suite)
	l := versionLabels(k.version)
	key := HKDFExpandLabel(h, k.secret(), l.key, nil, suiteKeyLen(k.suite))
	iv := HKDFExpandLabel(h, k.secret(), l.iv, nil, 12)
	a, err := newAEAD(k.suite, key, iv)
	if err != nil {
		return err
	}
	k.AEAD = a
	return nil
}

// Suite returns the TLS cipher suite id of the keys.
func (k *Keys) Suite() uint16 { return k.suite }

// Version returns the QUIC version whose labels derived the keys.
func (k *Keys) Version() uint32 { return k.version }

// Next returns the keys of the next key generation (RFC 9001, Section 6.1):
// the secret becomes HKDF-Expand-Label(secret, "quic ku", "", Hash.length)
// ("quicv2 ku" for QUIC v2), the AEAD key and IV are derived from it again,
// and the header protection key is kept: it is not updated (Section 6.1).
// k is left unchanged.
func (k *Keys) Next() (*Keys, error) {
	h := suiteHash(k.suite)
	n := &Keys{HP: k.HP, version: k.version, suite: k.suite}
	n.secLen = uint8(copy(n.sec[:], HKDFExpandLabel(h, k.secret(), versionLabels(k.version).ku, nil, h().Size())))
	if err := n.deriveAEAD(); err != nil {
		return nil, err
	}
	return n, nil
}

// InitialKeys derives the Initial packet protection keys of a connection from
// the Destination Connection ID of the client's first Initial packet
// (RFC 9001, Section 5.2), with the v1 salt and labels or, for Version2, the
// v2 ones (RFC 9369, Section 3.3). Any version other than Version2 uses the
// v1 derivation. write protects what this endpoint sends and read what it
// receives: a client writes with "client in" and reads with "server in", a
// server the reverse.
func InitialKeys(version uint32, dcid []byte, isClient bool) (write, read *Keys) {
	salt := initialSaltV1
	if version == Version2 {
		salt = initialSaltV2
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		panic("quic: HKDF-Extract: " + err.Error())
	}
	client := mustKeys(version, HKDFExpandLabel(sha256.New, initial, "client in", nil, sha256.Size))
	server := mustKeys(version, HKDFExpandLabel(sha256.New, initial, "server in", nil, sha256.Size))
	if isClient {
		return client, server
	}
	return server, client
}

// mustKeys builds AES-128-GCM keys, Initial packets' AEAD (RFC 9001,
// Section 5.2); derivation cannot fail for a 32-byte secret.
func mustKeys(version uint32, secret []byte) *Keys {
	k, err := NewKeys(version, tls.TLS_AES_128_GCM_SHA256, secret)
	if err != nil {
		panic("quic: initial keys: " + err.Error())
	}
	return k
}
