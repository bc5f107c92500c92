package endpoint

import "github.com/hquic/quic/internal/udp"

// queueSend hands m to the sender goroutine in pooled copies: one buffer
// of the smallest class that holds it, or, for a GSO batch larger than the
// largest class, several buffers each holding whole segments. The caller
// keeps m.Buf. A datagram that fits no buffer could not be sent anyway
// (UDP carries at most 65,527 bytes) and counts as a failed write.
func (b *Binding) queueSend(m udp.Msg) {
	rest := m.Buf
	for len(rest) > 0 {
		n := len(rest)
		if n > b.sendLarge.Size() {
			if m.SegSize <= 0 || m.SegSize > b.sendLarge.Size() {
				b.WriteErr.Add(1)
				return
			}
			n = b.sendLarge.Size() / m.SegSize * m.SegSize
		}
		pool := b.sendSmall
		if n > pool.Size() {
			pool = b.sendLarge
		}
		buf := pool.Get()
		buf.B = append(buf.B, rest[:n]...)
		part := m
		part.Buf = buf.B
		if !b.sender.Send(part, buf) {
			b.WriteErr.Add(1)
			return
		}
		rest = rest[n:]
	}
}
