package stream

import "github.com/hquic/quic/internal/rangeset"

// recvBuf is the reassembly buffer of a receiving stream part: a ring of
// power-of-two size holding the stream bytes from the read offset onwards.
//
// Invariants that make MsQuic's RECEIVE contract safe:
//   - A byte is written into the ring at most once: only ranges not yet
//     received are copied, so bytes already indicated to the application are
//     never overwritten, even by a peer that retransmits different bytes.
//   - Bytes are never moved inside the ring. When the ring must grow, the
//     live bytes are copied into a new, larger ring and the old ring is left
//     untouched (and returned to the pool only if no indicated byte is still
//     unconsumed), so slices the application holds stay valid and unchanged.
//   - The ring never holds more than the advertised window: the caller checks
//     flow control before writing, so ring size <= window rounded up to a
//     power of two.
type recvBuf struct {
	c         *chunk               // ring storage; nil until data arrives
	head      int                  // ring index of readOff
	readOff   uint64               // stream offset of the first unconsumed byte
	recvd     rangeset.Set[uint64] // received ranges at or above readOff
	indicated uint64               // highest offset handed out by readable
	rd        [2][]byte            // storage for the slices readable returns
}

// contig returns the end of the contiguous data starting at readOff.
func (b *recvBuf) contig() uint64 {
	if b.recvd.IsEmpty() {
		return b.readOff
	}
	if r := b.recvd.At(0); r.Start <= b.readOff {
		return r.End
	}
	return b.readOff
}

// write stores the bytes of data (at stream offset off) that are at or above
// readOff and not yet received, growing the ring if needed. initial is the
// smallest ring to allocate. If store is false only the ranges are recorded
// (the data is being discarded).
func (b *recvBuf) write(off uint64, data []byte, initial int, store bool) {
	end := off + uint64(len(data))
	if end <= b.readOff {
		return
	}
	if off < b.readOff {
		data = data[b.readOff-off:]
		off = b.readOff
	}
	if store && len(data) > 0 {
		if b.c == nil || end-b.readOff > uint64(len(b.c.b)) {
			b.grow(int(end-b.readOff), initial)
		}
		forGaps(&b.recvd, off, end, func(start, stop uint64) {
			b.copyIn(start, data[start-off:stop-off])
		})
	}
	b.recvd.Add(off, end)
}

// copyIn copies p into the ring at stream offset off.
func (b *recvBuf) copyIn(off uint64, p []byte) {
	i := b.index(off)
	n := copy(b.c.b[i:], p)
	copy(b.c.b, p[n:])
}

// index returns the ring index of stream offset off (readOff <= off <
// readOff+len(ring)).
func (b *recvBuf) index(off uint64) int {
	return (b.head + int(off-b.readOff)) & (len(b.c.b) - 1)
}

// grow replaces the ring by one of at least need bytes (at least twice the old
// size, at least initial) holding the same live bytes.
func (b *recvBuf) grow(need, initial int) {
	old := b.c
	size := max(need, initial)
	if old != nil {
		size = max(size, 2*len(old.b))
	}
	b.c = getChunk(size)
	if old != nil {
		if span := b.recvd.Max(); span > b.readOff {
			n := int(span - b.readOff)
			k := copy(b.c.b[:n], old.b[b.head:])
			copy(b.c.b[k:n], old.b)
		}
		if b.indicated <= b.readOff {
			putChunk(old)
		}
	}
	b.head = 0
}

// readable returns the contiguous bytes from readOff in at most two slices
// (the ring may wrap). The slices have no spare capacity.
func (b *recvBuf) readable() [][]byte {
	n := int(b.contig() - b.readOff)
	if n == 0 {
		return nil
	}
	b.indicated = max(b.indicated, b.readOff+uint64(n))
	e := min(b.head+n, len(b.c.b))
	b.rd[0] = b.c.b[b.head:e:e]
	if rest := n - (e - b.head); rest > 0 {
		b.rd[1] = b.c.b[:rest:rest]
		return b.rd[:2]
	}
	return b.rd[:1]
}

// consume releases the first n contiguous bytes (n <= contig()-readOff).
func (b *recvBuf) consume(n uint64) {
	b.readOff += n
	if b.c != nil {
		b.head = (b.head + int(n)) & (len(b.c.b) - 1)
	}
	b.recvd.RemoveBelow(b.readOff)
}

// skipTo discards everything below off (no byte at or above readOff is
// indicated any more).
func (b *recvBuf) skipTo(off uint64) {
	if off > b.readOff {
		b.release()
		b.readOff = off
		b.recvd.RemoveBelow(off)
	}
}

// release drops the ring. It goes back to the pool only if the application
// holds no indicated, unconsumed bytes of it.
func (b *recvBuf) release() {
	if b.c != nil && b.indicated <= b.readOff {
		putChunk(b.c)
	}
	b.c = nil
	b.head = 0
	b.rd = [2][]byte{}
}
