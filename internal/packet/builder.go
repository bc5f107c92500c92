// Package packet assembles and opens whole QUIC packets: it writes headers
// and packet numbers with internal/wire, and seals and header-protects them
// in place with internal/protect (RFC 9000 §17, RFC 9001 §5).
//
// A Builder writes packets into one buffer, which may hold several
// datagrams (a GSO batch), each of which may hold several coalesced packets
// (RFC 9000 §12.2). Sealing of a packet is deferred until the next packet
// starts or its datagram ends, so the last packet of a datagram can still be
// padded: that is how a datagram carrying an Initial packet reaches 1200
// bytes (RFC 9000 §14.1).
package packet

import (
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/wire"
)

// TagLen is the AEAD authentication tag length of every QUIC cipher suite.
const TagLen = 16

// minPNAndPayload is the number of bytes the packet number and plaintext
// payload must span together so that the header-protection sample, taken
// four bytes after the start of the packet number, has 16 bytes available
// (RFC 9001 §5.4.2).
const minPNAndPayload = 4

// Builder writes packets into Buf. The zero value is ready after Reset.
type Builder struct {
	// Buf holds the datagrams built so far; the caller owns its storage.
	Buf []byte

	dgramStart int // offset of the current datagram
	dgramLimit int // end limit of the current datagram

	// The open packet, if any.
	open       bool
	start      int // first byte of the packet
	lengthOff  int // long header Length field, or -1
	pnOff      int
	pnLen      int
	payloadOff int
	pn         int64
	keys       *protect.Keys

	// A packet whose frames are complete but that is not sealed yet.
	pending packetState
}

type packetState struct {
	valid      bool
	start      int
	lengthOff  int
	pnOff      int
	pnLen      int
	payloadOff int
	pn         int64
	keys       *protect.Keys
}

// Reset starts a new buffer, reusing buf's storage.
func (b *Builder) Reset(buf []byte) {
	*b = Builder{Buf: buf[:0]}
}

// StartDatagram begins a datagram of at most maxSize bytes at the end of
// Buf. Any packet still open must have been finished or abandoned, and the
// previous datagram ended with EndDatagram.
func (b *Builder) StartDatagram(maxSize int) {
	b.dgramStart = len(b.Buf)
	b.dgramLimit = len(b.Buf) + maxSize
}

// DatagramLen returns the bytes written to the current datagram so far,
// including a pending packet's tag.
func (b *Builder) DatagramLen() int {
	n := len(b.Buf) - b.dgramStart
	if b.pending.valid {
		n += TagLen
	}
	return n
}

// DatagramRoom returns how many more bytes the current datagram can hold,
// counting the tag of a pending packet as used.
func (b *Builder) DatagramRoom() int {
	return b.dgramLimit - b.dgramStart - b.DatagramLen()
}

// StartLong opens a long-header packet. It returns false, writing nothing,
// if the datagram has no room for the header, a packet number, the minimum
// payload and the tag.
func (b *Builder) StartLong(t wire.PacketType, version uint32, dcid, scid, token []byte, pn, largestAcked int64, keys *protect.Keys) bool {
	pnLen := wire.PacketNumberLen(pn, largestAcked)
	need := 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 2 + pnLen + minPNAndPayload + TagLen
	if t == wire.PacketInitial {
		need += wire.SizeVarint(uint64(len(token))) + len(token)
	}
	if need > b.DatagramRoom() {
		return false
	}
	b.sealPending()
	b.start = len(b.Buf)
	b.Buf, b.lengthOff = wire.AppendLongHeader(b.Buf, t, version, dcid, scid, token, pnLen)
	b.begin(pn, pnLen, keys)
	return true
}

// ShortBits are the variable bits of a 1-RTT packet's first byte (RFC
// 9000 §17.3.1); the zero value sends key phase 0 with the fixed bit set.
type ShortBits struct {
	KeyPhase bool // the key phase (RFC 9001 §6)
	Spin     bool // the latency spin bit (RFC 9000 §17.4)
	// GreaseFixedBit clears the fixed bit, allowed only when the peer
	// advertised grease_quic_bit (RFC 9287).
	GreaseFixedBit bool
}

// StartShort opens a 1-RTT packet (RFC 9000 §17.3.1).
func (b *Builder) StartShort(dcid []byte, pn, largestAcked int64, bits ShortBits, keys *protect.Keys) bool {
	pnLen := wire.PacketNumberLen(pn, largestAcked)
	if 1+len(dcid)+pnLen+minPNAndPayload+TagLen > b.DatagramRoom() {
		return false
	}
	b.sealPending()
	b.start = len(b.Buf)
	b.lengthOff = -1
	b.Buf = wire.AppendShortHeaderGrease(b.Buf, dcid, pnLen, bits.KeyPhase, bits.Spin, !bits.GreaseFixedBit)
	b.begin(pn, pnLen, keys)
	return true
}

func (b *Builder) begin(pn int64, pnLen int, keys *protect.Keys) {
	b.pnOff = len(b.Buf)
	b.Buf = wire.AppendPacketNumber(b.Buf, pn, pnLen)
	b.payloadOff = len(b.Buf)
	b.pnLen = pnLen
	b.pn = pn
	b.keys = keys
	b.open = true
}

// Room returns how many payload bytes the open packet can still take.
func (b *Builder) Room() int {
	return b.dgramLimit - len(b.Buf) - TagLen
}

// PayloadLen returns the payload bytes written to the open packet.
func (b *Builder) PayloadLen() int { return len(b.Buf) - b.payloadOff }

// PacketNumber returns the open packet's number.
func (b *Builder) PacketNumber() int64 { return b.pn }

// Abandon discards the open packet.
func (b *Builder) Abandon() {
	b.Buf = b.Buf[:b.start]
	b.open = false
}

// Finish closes the open packet. It stays unsealed until the next packet
// starts or the datagram ends, so it can still be padded. It returns the
// packet's size on the wire.
func (b *Builder) Finish() int {
	if pad := minPNAndPayload - b.pnLen - b.PayloadLen(); pad > 0 {
		b.Buf = wire.AppendPadding(b.Buf, pad)
	}
	b.pending = packetState{true, b.start, b.lengthOff, b.pnOff, b.pnLen, b.payloadOff, b.pn, b.keys}
	b.open = false
	return len(b.Buf) - b.start + TagLen
}

// PendingPayload returns the plaintext payload of the packet Finish closed,
// until it is sealed; nil if there is none. Tracing reads it.
func (b *Builder) PendingPayload() []byte {
	if !b.pending.valid {
		return nil
	}
	return b.Buf[b.pending.payloadOff:]
}

// EndDatagram seals the last packet, first padding it with PADDING frames so
// that the datagram is at least minSize bytes (0 for no padding, RFC 9000
// §14.1). It returns how many bytes padding added and the datagram's
// final length; a datagram with no packet has length 0.
func (b *Builder) EndDatagram(minSize int) (padded, length int) {
	if b.pending.valid {
		if short := minSize - b.DatagramLen(); short > 0 {
			short = min(short, b.dgramLimit-b.dgramStart-b.DatagramLen())
			b.Buf = wire.AppendPadding(b.Buf, short)
			padded = short
		}
		b.sealPending()
	}
	return padded, len(b.Buf) - b.dgramStart
}

// sealPending encrypts and header-protects the pending packet in place.
func (b *Builder) sealPending() {
	p := &b.pending
	if !p.valid {
		return
	}
	p.valid = false
	if p.lengthOff >= 0 {
		wire.PutVarint2(b.Buf[p.lengthOff:], uint64(len(b.Buf)-p.pnOff+TagLen))
	}
	pkt := p.keys.AEAD.Seal(b.Buf[p.start:], p.payloadOff-p.start, p.pn)
	p.keys.HP.Apply(pkt, p.pnOff-p.start, p.pnLen)
	b.Buf = b.Buf[:p.start+len(pkt)]
}
