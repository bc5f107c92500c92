package endpoint

import (
	"net"
	"net/netip"
	"sync"

	"github.com/hquic/quic/internal/udp"
)

// memConn is an in-memory udp.Conn: datagrams pushed with deliver are
// read by the binding, and what the binding writes is collected. It
// blocks only on channels, so it runs inside testing/synctest bubbles.
type memConn struct {
	local  netip.AddrPort
	in     chan udp.Msg
	closed chan struct{}
	once   sync.Once

	mu  sync.Mutex
	out []udp.Msg // copies of written datagrams
}

func newMemConn(local netip.AddrPort) *memConn {
	return &memConn{local: local, in: make(chan udp.Msg, 4096), closed: make(chan struct{})}
}

// deliver queues a datagram from peer for the binding to read.
func (c *memConn) deliver(data []byte, peer netip.AddrPort) {
	c.in <- udp.Msg{Buf: append([]byte(nil), data...), Addr: peer}
}

// written returns and forgets what the binding wrote.
func (c *memConn) written() []udp.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.out
	c.out = nil
	return out
}

func (c *memConn) fill(dst *udp.Msg, m udp.Msg) {
	dst.Buf = append(dst.Buf[:0], m.Buf...)
	dst.Addr, dst.SegSize, dst.ECN, dst.Local = m.Addr, 0, 0, netip.Addr{}
}

func (c *memConn) ReadBatch(msgs []udp.Msg) (int, error) {
	select {
	case m := <-c.in:
		c.fill(&msgs[0], m)
	case <-c.closed:
		return 0, net.ErrClosed
	}
	n := 1
	for n < len(msgs) {
		select {
		case m := <-c.in:
			c.fill(&msgs[n], m)
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

func (c *memConn) WriteBatch(msgs []udp.Msg) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	for _, m := range msgs {
		c.out = append(c.out, udp.Msg{Buf: append([]byte(nil), m.Buf...), Addr: m.Addr, Local: m.Local, SegSize: m.SegSize})
	}
	c.mu.Unlock()
	return len(msgs), nil
}

func (c *memConn) LocalAddr() netip.AddrPort      { return c.local }
func (c *memConn) Capabilities() udp.Capabilities { return udp.Capabilities{} }
func (c *memConn) Stats() udp.Stats               { return udp.Stats{} }

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}
