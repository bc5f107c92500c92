package handshake

import "github.com/hquic/quic/internal/rangeset"

// CryptoSend is the send side of one CRYPTO stream (RFC 9000 §19.6). It
// keeps every byte TLS produced until the peer acknowledges it, so lost
// ranges can be sent again. Handshake data is small (kilobytes), so a flat
// buffer is enough.
type CryptoSend struct {
	buf   []byte // stream bytes from offset base
	base  uint64 // stream offset of buf[0]
	next  uint64 // lowest offset never sent
	acked rangeset.Set[uint64]
	lost  rangeset.Set[uint64] // sent, declared lost, not yet re-sent
}

// Write appends data produced by TLS. The data is copied.
func (s *CryptoSend) Write(data []byte) {
	s.buf = append(s.buf, data...)
}

// end returns one past the last byte written.
func (s *CryptoSend) end() uint64 { return s.base + uint64(len(s.buf)) }

// Written returns how many bytes TLS wrote to the stream.
func (s *CryptoSend) Written() uint64 { return s.end() }

// HasPending reports whether there is data to send: lost ranges or bytes
// never sent.
func (s *CryptoSend) HasPending() bool {
	return !s.lost.IsEmpty() || s.next < s.end()
}

// Pending returns the next range to send, at most max bytes: lost data
// first, then new data.
func (s *CryptoSend) Pending(max int) (off uint64, n int, ok bool) {
	if max <= 0 {
		return 0, 0, false
	}
	if !s.lost.IsEmpty() {
		r := s.lost.At(0)
		return r.Start, int(min(r.Size(), uint64(max))), true
	}
	if s.next < s.end() {
		return s.next, int(min(s.end()-s.next, uint64(max))), true
	}
	return 0, 0, false
}

// Data returns the bytes [off, off+n). The slice aliases the buffer and is
// valid until the next Write or OnAcked.
func (s *CryptoSend) Data(off uint64, n int) []byte {
	i := off - s.base
	return s.buf[i : i+uint64(n)]
}

// OnSent records that [off, off+n) went out in a packet.
func (s *CryptoSend) OnSent(off uint64, n int) {
	end := off + uint64(n)
	s.lost.Remove(off, end)
	if end > s.next {
		s.next = end
	}
}

// OnAcked records that [off, off+n) was acknowledged and releases the
// acknowledged prefix of the buffer.
func (s *CryptoSend) OnAcked(off uint64, n int) {
	end := off + uint64(n)
	s.acked.Add(off, end)
	s.lost.Remove(off, end)
	if s.acked.Len() > 0 && s.acked.At(0).Start == 0 {
		if done := s.acked.At(0).End; done > s.base {
			drop := done - s.base
			s.buf = s.buf[:copy(s.buf, s.buf[drop:])]
			s.base = done
			if len(s.buf) == 0 {
				s.buf = nil // an idle connection keeps no handshake buffer
			}
		}
	}
}

// OnLost records that the packet carrying [off, off+n) was lost. Parts
// already acknowledged are not resent.
func (s *CryptoSend) OnLost(off uint64, n int) {
	end := off + uint64(n)
	if end <= s.base {
		return
	}
	off = max(off, s.base)
	s.lost.Add(off, end)
	for i := 0; i < s.acked.Len(); i++ {
		r := s.acked.At(i)
		s.lost.Remove(r.Start, r.End)
	}
}

// ResendUnacked marks every sent, unacknowledged byte for retransmission.
// It is used for probe packets (RFC 9002 §6.2.4), which should carry data
// that is still outstanding.
func (s *CryptoSend) ResendUnacked() bool {
	if s.next <= s.base {
		return false
	}
	s.OnLost(s.base, int(s.next-s.base))
	return !s.lost.IsEmpty()
}

// Unacked reports whether any sent byte is still unacknowledged.
func (s *CryptoSend) Unacked() bool {
	if s.next <= s.base {
		return false
	}
	return !s.acked.ContainsRange(s.base, s.next)
}

// Discard drops all state; used when the keys for its level are discarded.
func (s *CryptoSend) Discard() {
	*s = CryptoSend{}
}
