package protect

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"hash"
)

// HKDFExpandLabel implements HKDF-Expand-Label from TLS 1.3 (RFC 8446,
// Section 7.1) as QUIC uses it (RFC 9001, Section 5.1): the label is prefixed
// with "tls13 ". It returns length bytes.
//
// It panics if length exceeds what HKDF can produce for hash (255 times the
// hash size) or if label or context exceed 255 bytes; callers pass constants.
func HKDFExpandLabel(hash func() hash.Hash, secret []byte, label string, context []byte, length int) []byte {
	const prefix = "tls13 "
	if len(prefix)+len(label) > 255 || len(context) > 255 {
		panic("quic: HKDF label or context too long")
	}
	info := make([]byte, 0, 2+1+len(prefix)+len(label)+1+len(context))
	info = append(info, byte(length>>8), byte(length))
	info = append(info, byte(len(prefix)+len(label)))
	info = append(info, prefix...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(hash, secret, string(info), length)
	if err != nil {
		panic("quic: HKDF-Expand: " + err.Error())
	}
	return out
}

// suiteHash returns the hash function of a TLS 1.3 cipher suite. Only suites
// for which suiteKeyLen is non-zero may be passed.
func suiteHash(suite uint16) func() hash.Hash {
	if suite == tls.TLS_AES_256_GCM_SHA384 {
		return sha512.New384
	}
	return sha256.New
}
