package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"sync"
)

// Retry integrity keys and nonces: fixed AEAD_AES_128_GCM parameters
// (RFC 9001, Section 5.8; RFC 9369, Section 3.3.3).
var (
	retryKeyV1   = [16]byte{0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e}
	retryNonceV1 = [12]byte{0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb}
	retryKeyV2   = [16]byte{0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92}
	retryNonceV2 = [12]byte{0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a}
)

// retryAEADs holds the two fixed Retry AEADs, built once. cipher.AEAD values
// are safe for concurrent use.
var retryAEADs = sync.OnceValue(func() [2]cipher.AEAD {
	return [2]cipher.AEAD{mustGCM(retryKeyV1[:]), mustGCM(retryKeyV2[:])}
})

func mustGCM(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic("quic: retry AEAD: " + err.Error())
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic("quic: retry AEAD: " + err.Error())
	}
	return a
}

// retryAEAD returns the Retry AEAD and nonce of version; versions other than
// Version2 use the v1 ones.
func retryAEAD(version uint32) (cipher.AEAD, []byte) {
	if version == Version2 {
		return retryAEADs()[1], retryNonceV2[:]
	}
	return retryAEADs()[0], retryNonceV1[:]
}

// RetryIntegrityTag computes the Retry Integrity Tag (RFC 9001, Section 5.8):
// AES-128-GCM with the version's fixed key and nonce over an empty plaintext,
// with the Retry pseudo-packet as associated data. The caller builds
// pseudoPacket: ODCID length, ODCID, then the Retry packet without its tag.
// It is safe for concurrent use. It makes one 16-byte allocation (the tag
// escapes through the cipher.AEAD interface); AppendRetryIntegrityTag makes
// none.
func RetryIntegrityTag(version uint32, pseudoPacket []byte) [16]byte {
	var tag [16]byte
	AppendRetryIntegrityTag(tag[:0], version, pseudoPacket)
	return tag
}

// AppendRetryIntegrityTag appends the Retry Integrity Tag of pseudoPacket
// (see RetryIntegrityTag) to dst, without allocating when dst has room for
// it.
func AppendRetryIntegrityTag(dst []byte, version uint32, pseudoPacket []byte) []byte {
	a, nonce := retryAEAD(version)
	return a.Seal(dst, nonce, nil, pseudoPacket)
}

// VerifyRetryIntegrity reports, in constant time, whether tag is the Retry
// Integrity Tag of pseudoPacket. A client MUST discard a Retry packet whose
// tag does not verify (RFC 9001, Section 5.8). It is safe for concurrent use.
func VerifyRetryIntegrity(version uint32, pseudoPacket []byte, tag []byte) bool {
	want := RetryIntegrityTag(version, pseudoPacket)
	return subtle.ConstantTimeCompare(want[:], tag) == 1
}
