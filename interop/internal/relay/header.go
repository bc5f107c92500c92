package relay

import "encoding/binary"

// PacketType is a QUIC packet type as the relay decodes it from the
// unprotected bits of a header.
type PacketType uint8

// Packet types.
const (
	TypeShort PacketType = iota // 1-RTT (short header)
	TypeInitial
	Type0RTT
	TypeHandshake
	TypeRetry
	TypeVersionNegotiation
)

var typeNames = [...]string{"1-RTT", "Initial", "0-RTT", "Handshake", "Retry", "VersionNegotiation"}

// String returns the type's name.
func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// QUIC versions whose long-header type bits the decoder knows.
const (
	Version1 uint32 = 0x00000001
	Version2 uint32 = 0x6b3343cf
)

// Header is what the relay reads from one QUIC packet's cleartext fields
// (RFC 8999 invariants and RFC 9000 §17.2): everything past them is
// protected.
type Header struct {
	Type    PacketType
	Version uint32 // 0 for short headers and Version Negotiation
	DCID    []byte // short headers: nil (its length is not on the wire)
	SCID    []byte
	Token   []byte // Initial and Retry packets only
	// Size is the packet's size within its datagram.
	Size int
	// Prefix holds the first bytes of a short-header packet (up to
	// PrefixLen), enough to remove its header protection with the keys.
	Prefix []byte
}

// PrefixLen is how much of a short-header packet Header.Prefix keeps: the
// first byte, a connection ID of up to 20 bytes, and the 4-byte packet
// number field and 16-byte sample of RFC 9001 §5.4.2.
const PrefixLen = 1 + maxCIDLen + 4 + 16

// maxCIDLen is the largest connection ID of QUIC v1/v2 (RFC 9000 §17.2).
const maxCIDLen = 20

// Decode splits a UDP datagram into its coalesced QUIC packets (RFC 9000
// §12.2) and decodes their cleartext header fields. It stops at the first
// packet it cannot parse; the headers before it are returned. It never
// panics and allocates only the returned slice and copies of the IDs.
func Decode(d []byte) []Header {
	var hs []Header
	for len(d) > 0 {
		h, n, ok := decodeOne(d)
		if !ok {
			break
		}
		hs = append(hs, h)
		d = d[n:]
	}
	return hs
}

// decodeOne decodes the packet at the start of d and returns its size.
func decodeOne(d []byte) (Header, int, bool) {
	if d[0]&0x80 == 0 {
		// Short header: the rest of the datagram (RFC 9000 §12.2).
		return Header{Type: TypeShort, Size: len(d), Prefix: append([]byte(nil), d[:min(len(d), PrefixLen)]...)}, len(d), true
	}
	if len(d) < 7 {
		return Header{}, 0, false
	}
	h := Header{Version: binary.BigEndian.Uint32(d[1:5])}
	p := 5
	dl := int(d[p])
	p++
	if dl > maxCIDLen && h.Version != 0 || p+dl >= len(d) {
		return Header{}, 0, false
	}
	h.DCID = append([]byte(nil), d[p:p+dl]...)
	p += dl
	sl := int(d[p])
	p++
	if sl > maxCIDLen && h.Version != 0 || p+sl > len(d) {
		return Header{}, 0, false
	}
	h.SCID = append([]byte(nil), d[p:p+sl]...)
	p += sl
	if h.Version == 0 {
		h.Type = TypeVersionNegotiation
		h.Size = len(d)
		return h, len(d), true
	}
	switch typeBits(h.Version, d[0]) {
	case 0:
		h.Type = TypeInitial
		tl, n := varint(d[p:])
		if n == 0 || tl > uint64(len(d)-p-n) {
			return Header{}, 0, false
		}
		p += n
		h.Token = append([]byte(nil), d[p:p+int(tl)]...)
		p += int(tl)
	case 1:
		h.Type = Type0RTT
	case 2:
		h.Type = TypeHandshake
	case 3:
		// The Retry token runs to the 16-byte integrity tag (RFC 9000
		// §17.2.5).
		h.Type = TypeRetry
		if len(d)-p >= 16 {
			h.Token = append([]byte(nil), d[p:len(d)-16]...)
		}
		h.Size = len(d)
		return h, len(d), true
	}
	length, n := varint(d[p:])
	if n == 0 || length > uint64(len(d)-p-n) {
		return Header{}, 0, false
	}
	h.Size = p + n + int(length)
	return h, h.Size, true
}

// typeBits maps a long header's type bits to v1's numbering (Initial 0,
// 0-RTT 1, Handshake 2, Retry 3); QUIC v2 rotates them (RFC 9369 §3.2).
func typeBits(version uint32, first byte) byte {
	t := first >> 4 & 3
	if version == Version2 {
		t = (t + 3) & 3
	}
	return t
}

// varint decodes a QUIC variable-length integer (RFC 9000 §16); n is 0 if
// b is too short.
func varint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}
