package wire

import "encoding/binary"

// retryTagLen is the length of the Retry Integrity Tag (RFC 9001 §5.8).
const retryTagLen = 16

// AppendVersionNegotiation appends a Version Negotiation packet (RFC 9000
// §17.2.1, RFC 8999 §6). The high bit of firstByte is forced on; the other
// seven bits are the caller's (RFC 9000 says they are set to an arbitrary
// value, ideally random). dcid and scid echo the client's SCID and DCID and
// may be up to 255 bytes. versions should include a reserved version
// (RFC 9000 §6.3) to exercise the client's handling.
func AppendVersionNegotiation(b []byte, firstByte byte, dcid, scid []byte, versions []uint32) []byte {
	b = append(b, firstByte|LongHeaderBit, 0, 0, 0, 0)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	for _, v := range versions {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// ParseVersionNegotiation parses a Version Negotiation packet (RFC 9000
// §17.2.1). versions is the raw list of 4-byte big-endian versions aliasing
// b; use VersionListContains to search it. It returns ok = false if b is
// not a long header with version 0, a connection ID is truncated, or the
// version list is not a whole number of 4-byte entries.
func ParseVersionNegotiation(b []byte) (dcid, scid []byte, versions []byte, ok bool) {
	if len(b) < 7 || !IsLongHeader(b[0]) || binary.BigEndian.Uint32(b[1:5]) != 0 {
		return nil, nil, nil, false
	}
	dcid, n, ok := consumeCID(b, 5, 255)
	if !ok {
		return nil, nil, nil, false
	}
	scid, n, ok = consumeCID(b, n, 255)
	if !ok || (len(b)-n)%4 != 0 {
		return nil, nil, nil, false
	}
	return dcid, scid, b[n:], true
}

// VersionListContains reports whether the raw list of 4-byte big-endian
// versions (as returned by ParseVersionNegotiation) contains v.
func VersionListContains(raw []byte, v uint32) bool {
	for len(raw) >= 4 {
		if binary.BigEndian.Uint32(raw) == v {
			return true
		}
		raw = raw[4:]
	}
	return false
}

// AppendRetry appends a Retry packet without its integrity tag (RFC 9000
// §17.2.5): first byte with the fixed bit, the version's Retry type bits and
// the low four bits of firstByteLowBits (unused, set arbitrarily), then the
// version, connection IDs and the token. The caller computes the Retry
// Integrity Tag over AppendRetryPseudoPacket (RFC 9001 §5.8) and appends it.
func AppendRetry(b []byte, version uint32, firstByteLowBits byte, dcid, scid, token []byte) []byte {
	b = append(b, LongHeaderBit|FixedBit|longTypeBits(PacketRetry, version)<<4|firstByteLowBits&0x0f)
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	return append(b, token...)
}

// ParseRetry parses a Retry packet of QUIC version 1 or 2 (RFC 9000
// §17.2.5). token aliases b; tag is the Retry Integrity Tag, which the
// caller verifies. It returns ok = false if b is not a Retry packet of a
// supported version, a connection ID is longer than 20 bytes, or the token
// is empty (a client MUST discard such a Retry, RFC 9000 §17.2.5.2).
func ParseRetry(b []byte) (version uint32, dcid, scid, token []byte, tag [16]byte, ok bool) {
	h, ok := ParseLongHeader(b)
	if !ok || h.Type != PacketRetry {
		return 0, nil, nil, nil, tag, false
	}
	copy(tag[:], b[len(b)-retryTagLen:])
	return h.Version, h.DCID, h.SCID, h.Token, tag, true
}

// AppendRetryPseudoPacket appends the Retry pseudo-packet over which the
// Retry Integrity Tag is computed (RFC 9001 §5.8): the original destination
// connection ID with its one-byte length, followed by the Retry packet
// without its tag.
func AppendRetryPseudoPacket(b []byte, odcid []byte, retryWithoutTag []byte) []byte {
	b = append(b, byte(len(odcid)))
	b = append(b, odcid...)
	return append(b, retryWithoutTag...)
}
