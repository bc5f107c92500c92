package quicnet

import (
	"context"
	"sync"

	"github.com/hquic/quic"
)

// Unreliable datagrams (RFC 9221). Both queues are bounded by
// Config.DatagramQueue: sent datagrams are copied and held until the
// library put them on the wire, and SendDatagram blocks while that many
// are held; received ones wait for ReceiveDatagram, and when that many
// wait the newest is dropped, as a full UDP socket buffer drops it.

// outDatagram is a sent datagram's copy, held by the library until sent;
// its address is the send's context.
type outDatagram struct {
	b    []byte
	bufs [1][]byte
}

var outDatagramPool = sync.Pool{New: func() any { return new(outDatagram) }}

// datagrams is a Conn's datagram state, guarded by Conn.mu.
type datagrams struct {
	limit   int
	in      [][]byte
	dropped uint64
	inWake  chan struct{}
	out     int // sent, not yet on the wire
	outWake chan struct{}
}

func (d *datagrams) init(limit int) {
	d.limit = limit
	d.inWake = make(chan struct{}, 1)
	d.outWake = make(chan struct{}, 1)
}

// received queues a copy of a received datagram.
func (d *datagrams) received(c *Conn, data []byte) {
	b := append([]byte(nil), data...)
	c.mu.Lock()
	if len(d.in) >= d.limit {
		d.dropped++
		c.mu.Unlock()
		return
	}
	d.in = append(d.in, b)
	c.mu.Unlock()
	signal(d.inWake)
}

// sendStateChanged releases a sent datagram's copy once the library is
// done with it (sent, or in a final state).
func (d *datagrams) sendStateChanged(c *Conn, ev *quic.DatagramSendStateChangedEvent) {
	o, ok := ev.SendContext.(*outDatagram)
	if !ok || ev.State != quic.DatagramSendSent && !ev.State.IsFinal() {
		return
	}
	ev.SendContext = nil // later states of this datagram find nothing to release
	o.bufs[0] = nil
	outDatagramPool.Put(o)
	c.mu.Lock()
	d.out--
	c.mu.Unlock()
	signal(d.outWake)
}

// SendDatagram sends b as an unreliable datagram; b may be reused when it
// returns. The peer must have enabled datagrams
// (Settings.DatagramReceiveEnabled) and b must fit its limit: otherwise,
// or after the connection ended, it fails with the library's error. It
// blocks while Config.DatagramQueue datagrams wait to be sent.
func (c *Conn) SendDatagram(b []byte) error {
	c.mu.Lock()
	for c.dg.out >= c.dg.limit && c.err == nil {
		c.mu.Unlock()
		select {
		case <-c.dg.outWake:
		case <-c.done:
		}
		c.mu.Lock()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.dg.out++
	more := c.dg.out < c.dg.limit
	c.mu.Unlock()
	if more {
		signal(c.dg.outWake) // another sender may be waiting
	}
	o := outDatagramPool.Get().(*outDatagram)
	o.b = append(o.b[:0], b...)
	o.bufs[0] = o.b
	if err := c.qc.SendDatagram(o.bufs[:], quic.SendNone, o); err != nil {
		o.bufs[0] = nil
		outDatagramPool.Put(o)
		c.mu.Lock()
		c.dg.out--
		c.mu.Unlock()
		signal(c.dg.outWake)
		return err
	}
	return nil
}

// ReceiveDatagram returns the next datagram the peer sent, blocking until
// one arrives, ctx is done or the connection ends. The slice is the
// caller's. This side must have enabled datagrams
// (Settings.DatagramReceiveEnabled) for the peer to send any.
func (c *Conn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if len(c.dg.in) > 0 {
			b := c.dg.in[0]
			c.dg.in[0] = nil
			c.dg.in = c.dg.in[1:]
			more := len(c.dg.in) > 0
			c.mu.Unlock()
			if more {
				signal(c.dg.inWake)
			}
			return b, nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		c.mu.Unlock()
		select {
		case <-c.dg.inWake:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// DroppedDatagrams returns how many received datagrams were dropped
// because Config.DatagramQueue of them waited for ReceiveDatagram.
func (c *Conn) DroppedDatagrams() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dg.dropped
}
