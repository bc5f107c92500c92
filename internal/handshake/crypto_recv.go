package handshake

import (
	"github.com/hquic/quic/internal/rangeset"
	"github.com/hquic/quic/internal/wire"
)

// MaxCryptoBuffer is how far past the first unread byte a peer may send
// CRYPTO data before the connection fails with CRYPTO_BUFFER_EXCEEDED
// (RFC 9000 §7.5 requires at least 4096 bytes).
const MaxCryptoBuffer = 64 << 10

// CryptoRecv reassembles one CRYPTO stream. Data arrives at arbitrary
// offsets; Next returns the contiguous bytes at the read offset.
type CryptoRecv struct {
	buf  []byte // bytes from off; holes are zero until filled
	off  uint64 // read offset
	have rangeset.Set[uint64]
}

// Push stores data received at stream offset off. Data below the read
// offset is ignored (a retransmission).
func (r *CryptoRecv) Push(off uint64, data []byte) error {
	end := off + uint64(len(data))
	if end <= r.off {
		return nil
	}
	if end-r.off > MaxCryptoBuffer {
		return &wire.Error{Code: wire.CryptoBufferExceeded, FrameType: wire.FrameCrypto,
			Reason: "CRYPTO data too far beyond the read offset"}
	}
	if off < r.off {
		data = data[r.off-off:]
		off = r.off
	}
	need := int(end - r.off)
	if need > len(r.buf) {
		if need > cap(r.buf) {
			nb := make([]byte, need, max(need, 2*cap(r.buf)))
			copy(nb, r.buf)
			r.buf = nb
		} else {
			r.buf = r.buf[:need]
		}
	}
	r.fill(off, data)
	r.have.Add(off, end)
	return nil
}

// fill copies the bytes of data (at stream offset off, not below the read
// offset) that were not received before: data at a given offset must not
// change (RFC 9000 §2.2), so a retransmission that differs from the first
// copy cannot alter bytes already examined, such as a handshake message
// held back for the application's certificate decision.
func (r *CryptoRecv) fill(off uint64, data []byte) {
	end := off + uint64(len(data))
	pos := off
	for i := 0; i < r.have.Len() && pos < end; i++ {
		h := r.have.At(i)
		if h.End <= pos {
			continue
		}
		if h.Start >= end {
			break
		}
		if h.Start > pos {
			copy(r.buf[pos-r.off:h.Start-r.off], data[pos-off:h.Start-off])
		}
		pos = max(pos, h.End)
	}
	if pos < end {
		copy(r.buf[pos-r.off:], data[pos-off:])
	}
}

// Next returns the contiguous data at the read offset. The slice is valid
// until the next Push or Consume.
func (r *CryptoRecv) Next() []byte {
	if r.have.IsEmpty() || r.have.At(0).Start != r.off {
		return nil
	}
	return r.buf[:r.have.At(0).End-r.off]
}

// Consume advances the read offset by n bytes.
func (r *CryptoRecv) Consume(n int) {
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	if len(r.buf) == 0 {
		r.buf = nil // an idle connection keeps no handshake buffer
	}
	r.off += uint64(n)
	r.have.RemoveBelow(r.off)
}

// Offset returns the read offset: how many bytes were delivered.
func (r *CryptoRecv) Offset() uint64 { return r.off }
