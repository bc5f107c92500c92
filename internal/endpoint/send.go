package endpoint

import (
	"errors"
	"net"

	"github.com/hquic/quic/internal/udp"
)

// errTooLarge is the write error of a datagram larger than UDP carries.
var errTooLarge = errors.New("endpoint: datagram larger than UDP carries")

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
				b.writeFailed(errTooLarge)
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
			b.writeFailed(net.ErrClosed)
			return
		}
		rest = rest[n:]
	}
}
