package packet

import (
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/wire"
)

// Unprotect removes header protection from the packet pkt (exactly its
// bytes, from the first byte to the end of its tag) in place and returns the
// full packet number, decoded against largest, the largest packet number
// received so far in the space (-1 if none), and the header length
// (packet number included). ok is false if the packet is too short.
func Unprotect(pkt []byte, pnOffset int, hp *protect.HeaderProtection, largest int64) (pn int64, hdrLen int, ok bool) {
	pnLen, ok := hp.Remove(pkt, pnOffset)
	if !ok || pnOffset+pnLen+TagLen > len(pkt) {
		return 0, 0, false
	}
	var truncated uint64
	for _, c := range pkt[pnOffset : pnOffset+pnLen] {
		truncated = truncated<<8 | uint64(c)
	}
	return wire.DecodePacketNumber(largest, truncated, pnLen), pnOffset + pnLen, true
}

// Open decrypts the payload of a packet whose header protection was removed
// and returns the plaintext frames, which alias pkt.
func Open(pkt []byte, hdrLen int, pn int64, aead *protect.AEAD) ([]byte, error) {
	return aead.Open(pkt, hdrLen, pn)
}

// KeyPhase returns the Key Phase bit of an unprotected short header
// (RFC 9001 §6).
func KeyPhase(b0 byte) bool { return b0&0x04 != 0 }

// ReservedBitsSet reports whether an unprotected header has a reserved bit
// set, which is a PROTOCOL_VIOLATION once the packet has been authenticated
// (RFC 9000 §17.2 and §17.3.1).
func ReservedBitsSet(b0 byte) bool {
	if wire.IsLongHeader(b0) {
		return b0&0x0c != 0
	}
	return b0&0x18 != 0
}
