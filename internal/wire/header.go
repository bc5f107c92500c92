package wire

import (
	"encoding/binary"
	"strconv"
)

// PacketType identifies the kind of a QUIC packet. The zero value is not a
// valid type.
type PacketType uint8

// Packet types (RFC 9000 §17).
const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	Packet1RTT
	PacketVersionNegotiation
)

// String returns the RFC name of the packet type.
func (t PacketType) String() string {
	switch t {
	case PacketInitial:
		return "Initial"
	case Packet0RTT:
		return "0-RTT"
	case PacketHandshake:
		return "Handshake"
	case PacketRetry:
		return "Retry"
	case Packet1RTT:
		return "1-RTT"
	case PacketVersionNegotiation:
		return "VersionNegotiation"
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// Bits of the first byte of a packet (RFC 9000 §17.2, §17.3.1).
const (
	// LongHeaderBit is the Header Form bit, set in long headers.
	LongHeaderBit byte = 0x80
	// FixedBit is the QUIC Bit. Senders set it unless the peer advertised
	// grease_quic_bit (RFC 9287 §3); receivers that advertised
	// grease_quic_bit MUST accept packets where it is clear (RFC 9287 §3),
	// so the parsers here never check it and leave that decision, which
	// depends on negotiated state, to the caller.
	FixedBit byte = 0x40
	// SpinBit is the latency spin bit of short headers (RFC 9000 §17.4).
	SpinBit byte = 0x20
	// KeyPhaseBit is the key phase bit of short headers (RFC 9000 §17.3.1),
	// protected by header protection.
	KeyPhaseBit byte = 0x04
)

// MaxCIDLen is the maximum connection ID length in QUIC versions 1 and 2
// (RFC 9000 §17.2).
const MaxCIDLen = 20

// IsLongHeader reports whether a packet whose first byte is b0 has a long
// header (RFC 8999 §5.1).
func IsLongHeader(b0 byte) bool { return b0&LongHeaderBit != 0 }

// longTypeBits returns the two Long Packet Type bits for t in version v
// (RFC 9000 §17.2, RFC 9369 §3.2).
func longTypeBits(t PacketType, v uint32) byte {
	var bits byte
	switch t {
	case PacketInitial:
		bits = 0
	case Packet0RTT:
		bits = 1
	case PacketHandshake:
		bits = 2
	case PacketRetry:
		bits = 3
	default:
		panic("wire: not a long header packet type: " + t.String())
	}
	if v == Version2 {
		// QUIC v2 rotates the type codes: Initial=0b01, 0-RTT=0b10,
		// Handshake=0b11, Retry=0b00 (RFC 9369 §3.2).
		bits = (bits + 1) & 3
	}
	return bits
}

// longPacketType is the inverse of longTypeBits.
func longPacketType(b0 byte, v uint32) PacketType {
	bits := b0 >> 4 & 3
	if v == Version2 {
		bits = (bits + 3) & 3
	}
	return PacketInitial + PacketType(bits)
}

// LongHeader is a parsed long header. Byte slices alias the datagram.
type LongHeader struct {
	Type    PacketType
	Version uint32
	DCID    []byte
	SCID    []byte
	// Token is the token of an Initial packet or the Retry Token of a Retry
	// packet; nil otherwise.
	Token []byte
	// PNOffset is the offset of the (protected) packet number from the
	// start of the packet; zero for Retry and Version Negotiation.
	PNOffset int
	// Len is the number of bytes of this packet in the datagram, so the
	// next coalesced packet starts at b[Len:] (RFC 9000 §12.2).
	Len int
}

// ParseLongHeader parses the long header of the packet at the start of b.
//
// It handles QUIC versions 1 and 2 and recognises Version Negotiation
// packets (version 0; Len = len(b), connection IDs up to 255 bytes).
// For Initial, 0-RTT and Handshake packets the Length field must fit in b;
// the header-protected first-byte bits and packet number are left to the
// caller, as is the fixed bit (see FixedBit). For Retry packets Len = len(b)
// and Token excludes the 16-byte integrity tag. It returns ok = false if
// the header is malformed, a connection ID exceeds 20 bytes (RFC 9000
// §17.2), or the version is unknown; use ParseInvariantHeader for those.
func ParseLongHeader(b []byte) (h LongHeader, ok bool) {
	if len(b) < 7 || !IsLongHeader(b[0]) {
		return LongHeader{}, false
	}
	h.Version = binary.BigEndian.Uint32(b[1:5])
	if h.Version == 0 {
		dcid, scid, _, ok := ParseVersionNegotiation(b)
		if !ok {
			return LongHeader{}, false
		}
		return LongHeader{Type: PacketVersionNegotiation, DCID: dcid, SCID: scid, Len: len(b)}, true
	}
	if !IsSupportedVersion(h.Version) {
		return LongHeader{}, false
	}
	h.Type = longPacketType(b[0], h.Version)
	n := 5
	h.DCID, n, ok = consumeCID(b, n, MaxCIDLen)
	if !ok {
		return LongHeader{}, false
	}
	h.SCID, n, ok = consumeCID(b, n, MaxCIDLen)
	if !ok {
		return LongHeader{}, false
	}
	switch h.Type {
	case PacketRetry:
		// Retry Token then a 16-byte Retry Integrity Tag (RFC 9000
		// §17.2.5); a client MUST discard a Retry with a zero-length token
		// (RFC 9000 §17.2.5.2), so it is rejected here.
		if len(b)-n <= retryTagLen {
			return LongHeader{}, false
		}
		h.Token = b[n : len(b)-retryTagLen]
		h.Len = len(b)
		return h, true
	case PacketInitial:
		tok, m := consumeVarintBytes(b[n:])
		if m < 0 {
			return LongHeader{}, false
		}
		h.Token = tok
		n += m
	}
	length, m := ConsumeVarint(b[n:])
	if m < 0 {
		return LongHeader{}, false
	}
	n += m
	if length > uint64(len(b)-n) {
		return LongHeader{}, false
	}
	h.PNOffset = n
	h.Len = n + int(length)
	return h, true
}

// consumeCID reads a one-byte length and a connection ID of at most max
// bytes at b[n:], returning the ID and the offset after it.
func consumeCID(b []byte, n, max int) (cid []byte, next int, ok bool) {
	if n >= len(b) {
		return nil, 0, false
	}
	l := int(b[n])
	n++
	if l > max || l > len(b)-n {
		return nil, 0, false
	}
	return b[n : n+l], n + l, true
}

// ParseInvariantHeader parses the version-independent fields of a long
// header (RFC 8999 §5.1): version and connection IDs of up to 255 bytes.
// It is used to answer packets of unknown versions with Version
// Negotiation.
func ParseInvariantHeader(b []byte) (version uint32, dcid, scid []byte, ok bool) {
	if len(b) < 7 || !IsLongHeader(b[0]) {
		return 0, nil, nil, false
	}
	version = binary.BigEndian.Uint32(b[1:5])
	dcid, n, ok := consumeCID(b, 5, 255)
	if !ok {
		return 0, nil, nil, false
	}
	scid, _, ok = consumeCID(b, n, 255)
	if !ok {
		return 0, nil, nil, false
	}
	return version, dcid, scid, true
}

// ParseDCID returns the destination connection ID of the first packet in a
// datagram, for demultiplexing. A long header carries its length (up to 255
// bytes, RFC 8999 §5.1); a short header's length, shortCIDLen, is known only
// to the endpoint that issued it (RFC 8999 §5.2). It does not allocate.
func ParseDCID(b []byte, shortCIDLen int) (dcid []byte, ok bool) {
	if len(b) == 0 {
		return nil, false
	}
	if IsLongHeader(b[0]) {
		if len(b) < 6 {
			return nil, false
		}
		dcid, _, ok = consumeCID(b, 5, 255)
		return dcid, ok
	}
	if shortCIDLen < 0 || shortCIDLen > len(b)-1 {
		return nil, false
	}
	return b[1 : 1+shortCIDLen], true
}

// AppendLongHeader appends a long header of type t (Initial, 0-RTT or
// Handshake) for version (1 or 2) with a packet number length of pnLen
// bytes (RFC 9000 §17.2). It writes the first byte with the fixed bit, the
// version's type bits and the packet number length, the version, both
// connection IDs, for Initial packets the token length and token, and a
// 2-byte placeholder Length field at lengthOffset. The caller appends the
// packet number and payload, then patches Length with PutVarint2, so the
// packet-number-plus-payload length must stay below 16384 bytes. To grease
// the QUIC Bit (RFC 9287 §3), clear FixedBit in the first byte afterwards.
// It panics if t is not Initial, 0-RTT or Handshake.
func AppendLongHeader(b []byte, t PacketType, version uint32, dcid, scid, token []byte, pnLen int) (out []byte, lengthOffset int) {
	if t == PacketRetry {
		panic("wire: AppendLongHeader cannot write Retry packets; use AppendRetry")
	}
	b = append(b, LongHeaderBit|FixedBit|longTypeBits(t, version)<<4|byte(pnLen-1)&3)
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	if t == PacketInitial {
		b = appendVarintBytes(b, token)
	}
	lengthOffset = len(b)
	return append(b, 0x40, 0), lengthOffset
}

// AppendShortHeader appends a 1-RTT short header (RFC 9000 §17.3.1) with the
// fixed bit set, the given spin and key phase bits, reserved bits zero, and
// a packet number length of pnLen bytes. The caller appends the packet
// number.
func AppendShortHeader(b []byte, dcid []byte, pnLen int, keyPhase, spin bool) []byte {
	return AppendShortHeaderGrease(b, dcid, pnLen, keyPhase, spin, true)
}

// AppendShortHeaderGrease is AppendShortHeader with control of the fixed
// bit: fixedBit=false clears it, which is allowed only once the peer has
// advertised the grease_quic_bit transport parameter (RFC 9287 §3). Callers
// greasing the bit should choose it unpredictably per packet.
func AppendShortHeaderGrease(b []byte, dcid []byte, pnLen int, keyPhase, spin, fixedBit bool) []byte {
	b0 := byte(pnLen-1) & 3
	if fixedBit {
		b0 |= FixedBit
	}
	if spin {
		b0 |= SpinBit
	}
	if keyPhase {
		b0 |= KeyPhaseBit
	}
	b = append(b, b0)
	return append(b, dcid...)
}
