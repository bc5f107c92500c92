// Package protect implements QUIC packet protection (RFC 9001, Section 5):
// HKDF-Expand-Label, Initial secrets for QUIC v1 and v2, in-place AEAD
// sealing and opening of packet payloads, header protection, key update
// (RFC 9001, Section 6), AEAD usage limits and the Retry integrity tag.
//
// The package works on plain byte slices and knows nothing of the packet
// layout beyond what header protection needs (the first byte and the packet
// number offset). Seal, Open, Apply and Remove do not allocate.
package protect

import (
	"crypto/tls"
	"errors"
)

// QUIC versions whose key derivation this package knows.
const (
	// Version1 is QUIC version 1 (RFC 9000).
	Version1 uint32 = 0x00000001
	// Version2 is QUIC version 2 (RFC 9369, Section 3.1).
	Version2 uint32 = 0x6b3343cf
)

// Errors returned by this package.
var (
	// ErrOpen reports that a packet failed authentication or was too short
	// to hold an authentication tag.
	ErrOpen = errors.New("quic: packet authentication failed")
	// ErrSuite reports a TLS cipher suite that QUIC cannot use.
	ErrSuite = errors.New("quic: unsupported cipher suite")
	// ErrSecret reports a traffic secret whose length does not match the
	// cipher suite's hash.
	ErrSecret = errors.New("quic: traffic secret has the wrong length")
)

// labels are the HKDF labels of one QUIC version (RFC 9001, Sections 5.1,
// 5.4 and 6.1; RFC 9369, Section 3.3.2).
type labels struct {
	key, iv, hp, ku string
}

var (
	labelsV1 = labels{key: "quic key", iv: "quic iv", hp: "quic hp", ku: "quic ku"}
	labelsV2 = labels{key: "quicv2 key", iv: "quicv2 iv", hp: "quicv2 hp", ku: "quicv2 ku"}
)

// versionLabels returns the labels for version. Every version other than
// QUIC v2 uses the v1 labels.
func versionLabels(version uint32) *labels {
	if version == Version2 {
		return &labelsV2
	}
	return &labelsV1
}

// suiteKeyLen returns the AEAD key length of a TLS 1.3 cipher suite, or 0 if
// QUIC cannot use it. TLS_AES_128_CCM_8_SHA256 has a short tag that QUIC
// forbids (RFC 9001, Section 5.3); TLS_AES_128_CCM_SHA256 is not offered by
// crypto/tls.
func suiteKeyLen(suite uint16) int {
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256:
		return 16
	case tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256:
		return 32
	}
	return 0
}
