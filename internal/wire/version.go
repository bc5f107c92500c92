package wire

// QUIC versions this package can parse headers for.
const (
	// Version1 is QUIC version 1 (RFC 9000).
	Version1 uint32 = 0x00000001
	// Version2 is QUIC version 2 (RFC 9369).
	Version2 uint32 = 0x6b3343cf
)

// IsReservedVersion reports whether v follows the pattern 0x?a?a?a?a
// reserved to exercise version negotiation (RFC 9000 §15).
func IsReservedVersion(v uint32) bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// IsSupportedVersion reports whether v is QUIC version 1 or 2.
func IsSupportedVersion(v uint32) bool { return v == Version1 || v == Version2 }
