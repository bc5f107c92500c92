package netsim

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Conn is a UDP socket on a Network. It implements net.PacketConn, plus
// the netip.AddrPort forms of *net.UDPConn's read and write methods.
// Writes never block: a datagram goes on its link at once. Reads block on
// channels only, so that a blocked reader lets a synctest bubble's clock
// advance.
type Conn struct {
	n     *Network
	local netip.AddrPort
	ext   netip.AddrPort // external address; guarded by n.mu
	// closed is guarded by n.mu; done is closed with it.
	closed bool
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	queue   []received // received datagrams, queue[head:]
	head    int
	queued  int           // payload bytes in the queue
	notify  chan struct{} // wakes a blocked reader (capacity 1)
	readDL  time.Time
	writeDL time.Time
}

// received is a datagram waiting to be read.
type received struct {
	from netip.AddrPort
	data []byte
}

func newConn(n *Network, local netip.AddrPort) *Conn {
	return &Conn{n: n, local: local, ext: local, done: make(chan struct{}), notify: make(chan struct{}, 1)}
}

// errClosed is what operations on a closed Conn return.
var errClosed = &net.OpError{Op: "use", Net: "udp", Err: net.ErrClosed}

// deliver queues a datagram unless that would exceed limit bytes.
func (c *Conn) deliver(from netip.AddrPort, data []byte, limit int) bool {
	c.mu.Lock()
	if c.queued+len(data) > limit {
		c.mu.Unlock()
		return false
	}
	if c.head > 0 && len(c.queue) == cap(c.queue) {
		n := copy(c.queue, c.queue[c.head:])
		clear(c.queue[n:])
		c.queue, c.head = c.queue[:n], 0
	}
	c.queue = append(c.queue, received{from: from, data: data})
	c.queued += len(data)
	c.mu.Unlock()
	c.wake()
	return true
}

// wake makes a blocked reader look again.
func (c *Conn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// ReadFromUDPAddrPort reads one datagram into b and returns its length and
// sender. A datagram longer than b is cut to len(b), the rest discarded,
// as UDP sockets do. It blocks until a datagram arrives, the read deadline
// passes (an error for which os.ErrDeadlineExceeded is true with
// errors.Is) or the Conn is closed (net.ErrClosed).
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		if c.head < len(c.queue) {
			r := c.queue[c.head]
			c.queue[c.head] = received{}
			c.head++
			if c.head == len(c.queue) {
				c.queue, c.head = c.queue[:0], 0
			}
			c.queued -= len(r.data)
			c.mu.Unlock()
			return copy(b, r.data), r.from, nil
		}
		dl := c.readDL
		c.mu.Unlock()
		select {
		case <-c.done:
			return 0, netip.AddrPort{}, errClosed
		default:
		}
		if dl.IsZero() {
			select {
			case <-c.notify:
			case <-c.done:
			}
			continue
		}
		d := time.Until(dl)
		if d <= 0 {
			return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Addr: c.LocalAddr(), Err: os.ErrDeadlineExceeded}
		}
		t := time.NewTimer(d)
		select {
		case <-c.notify:
		case <-t.C:
		case <-c.done:
		}
		t.Stop()
	}
}

// ReadFrom implements net.PacketConn.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteToUDPAddrPort sends b as one datagram to addr and returns len(b).
// A datagram the network drops is still written successfully, as with UDP.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	c.mu.Lock()
	dl := c.writeDL
	c.mu.Unlock()
	if !dl.IsZero() && !time.Now().Before(dl) {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: c.LocalAddr(), Err: os.ErrDeadlineExceeded}
	}
	if err := c.n.send(c, b, addr); err != nil {
		return 0, err
	}
	return len(b), nil
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: net.InvalidAddrError("not a UDP address")}
	}
	return c.WriteToUDPAddrPort(b, ua.AddrPort())
}

// Close implements net.PacketConn: the address becomes free, blocked reads
// return net.ErrClosed, and datagrams still queued for the Conn are
// dropped.
func (c *Conn) Close() error {
	c.n.closeConn(c)
	c.once.Do(func() { close(c.done) })
	c.mu.Lock()
	c.queue, c.head, c.queued = nil, 0, 0
	c.mu.Unlock()
	return nil
}

// LocalAddr implements net.PacketConn: the address the Conn was bound to.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.local) }

// LocalAddrPort returns the address the Conn was bound to.
func (c *Conn) LocalAddrPort() netip.AddrPort { return c.local }

// ExternalAddr returns the address peers see the Conn's datagrams come
// from: its LocalAddrPort until Network.Rebind changes it.
func (c *Conn) ExternalAddr() netip.AddrPort {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.ext
}

// SetDeadline implements net.PacketConn.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDL, c.writeDL = t, t
	c.mu.Unlock()
	c.wake()
	return nil
}

// SetReadDeadline implements net.PacketConn.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDL = t
	c.mu.Unlock()
	c.wake()
	return nil
}

// SetWriteDeadline implements net.PacketConn. Writes never block, so the
// deadline only makes writes after it fail.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDL = t
	c.mu.Unlock()
	return nil
}
