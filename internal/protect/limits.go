package protect

import (
	"crypto/tls"
	"math"
)

// ConfidentialityLimit returns how many packets may be protected with one key
// before it must be updated (RFC 9001, Section 6.6): 2^23 for AES-GCM. For
// ChaCha20-Poly1305 the limit exceeds the number of possible packets, so it
// returns math.MaxUint64. It returns 0 for suites QUIC cannot use.
func ConfidentialityLimit(suite uint16) uint64 {
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384:
		return 1 << 23
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return math.MaxUint64
	}
	return 0
}

// IntegrityLimit returns how many packets may fail authentication with one
// key before the connection MUST be closed, unless keys are updated first
// (RFC 9001, Section 6.6): 2^52 for AES-GCM and 2^36 for ChaCha20-Poly1305.
// It returns 0 for suites QUIC cannot use.
func IntegrityLimit(suite uint16) uint64 {
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384:
		return 1 << 52
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return 1 << 36
	}
	return 0
}
