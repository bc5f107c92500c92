package conn

import (
	"github.com/hquic/quic/internal/wire"
)

// Unreliable datagrams (RFC 9221) with MsQuic's send-state reporting: the
// application's buffers are copied into a packet when the datagram is sent
// (state SENT, from which the application may reuse them), and every
// datagram reaches exactly one final state.

// maxTrackedDatagrams bounds datagrams awaiting acknowledgment; older ones
// are reported as lost-discarded.
const maxTrackedDatagrams = 256

// DatagramFlags modify SendDatagram (MsQuic's QUIC_SEND_FLAGS for
// datagrams).
type DatagramFlags uint8

const (
	// DatagramFront puts the datagram ahead of those queued.
	DatagramFront DatagramFlags = 1 << iota
	// DatagramAllow0RTT lets the datagram go in a 0-RTT packet.
	DatagramAllow0RTT
	// DatagramCancelOnBlocked cancels the datagram if the send pass
	// after it was queued does not send it.
	DatagramCancelOnBlocked
	// DatagramPriorityWork queues the send operation ahead of normal ones.
	DatagramPriorityWork
)

type outDatagram struct {
	id    uint64
	bufs  [][]byte
	size  int
	ctx   any
	flags DatagramFlags
}

type datagramState struct {
	sendEnabled bool
	maxSend     int
	// maxEarly is the largest datagram 0-RTT may carry, from the
	// remembered transport parameters; 0: none.
	maxEarly int32
	// cancelable counts queued datagrams with DatagramCancelOnBlocked.
	cancelable int32
	queue      []outDatagram // not sent yet
	tracked    []outDatagram // sent, awaiting acknowledgment (bufs cleared)
	nextID     uint64
}

// onPeerParameters enables sending when the peer advertised
// max_datagram_frame_size (RFC 9221 §3).
func (d *datagramState) onPeerParameters(c *Conn, p *wire.TransportParameters) {
	d.sendEnabled = p.HasMaxDatagramFrameSize && p.MaxDatagramFrameSize > 0
	d.maxSend = d.maxFor(c, p)
	if c.events != nil {
		c.events.DatagramStateChanged(d.sendEnabled, d.maxSend)
	}
}

// onEarlyParameters lets a resuming client send DatagramAllow0RTT
// datagrams in 0-RTT packets within the limit the server gave last time
// (RFC 9221 §3: max_datagram_frame_size is remembered for 0-RTT).
func (d *datagramState) onEarlyParameters(c *Conn, p *wire.TransportParameters) {
	d.maxEarly = int32(d.maxFor(c, p))
}

// maxFor returns the largest datagram p lets us send, 0 if none.
func (d *datagramState) maxFor(c *Conn, p *wire.TransportParameters) int {
	if !p.HasMaxDatagramFrameSize || p.MaxDatagramFrameSize == 0 {
		return 0
	}
	// A DATAGRAM frame with a length field: type, 2-byte length, data;
	// a 1-RTT packet adds at most 1+20+4 header bytes and a tag.
	room := c.path.maxDatagramSize() - (1 + wire.MaxCIDLen + 4 + 16) - 3
	return int(min(uint64(room), p.MaxDatagramFrameSize-3))
}

// send queues a datagram; the caller checked the length against maxSend.
func (d *datagramState) send(c *Conn, bufs [][]byte, size int, ctx any, flags DatagramFlags) {
	c.traceDatagram(true, size)
	o := outDatagram{id: d.nextID, bufs: bufs, size: size, ctx: ctx, flags: flags}
	d.nextID++
	if flags&DatagramCancelOnBlocked != 0 {
		d.cancelable++
	}
	if flags&DatagramFront != 0 {
		d.queue = append([]outDatagram{o}, d.queue...)
		return
	}
	d.queue = append(d.queue, o)
}

// cancelBlocked runs after each send pass: the datagrams with
// DatagramCancelOnBlocked it did not send are canceled (MsQuic's
// QuicDatagramCancelBlocked).
func (d *datagramState) cancelBlocked(c *Conn) {
	if d.cancelable == 0 {
		return
	}
	kept := d.queue[:0]
	for _, o := range d.queue {
		if o.flags&DatagramCancelOnBlocked != 0 {
			d.finish(c, o, DatagramCanceled)
			continue
		}
		kept = append(kept, o)
	}
	clear(d.queue[len(kept):])
	d.queue = kept
	d.cancelable = 0
}

// appendFrames writes queued datagrams that fit into the packet; a 0-RTT
// packet carries only those that allow it, within the remembered limit.
func (d *datagramState) appendFrames(w *frameWriter) {
	early := w.pt == wire.Packet0RTT
	for i := 0; i < len(d.queue); {
		o := &d.queue[i]
		if early {
			if o.flags&DatagramAllow0RTT == 0 || o.size > int(d.maxEarly) {
				i++
				continue
			}
		} else if !d.sendEnabled || o.size > d.maxSend {
			d.finish(w.c, *o, DatagramCanceled)
			d.remove(i)
			continue
		}
		need := 1 + wire.SizeVarint(uint64(o.size)) + o.size
		if !w.fits(need) {
			return
		}
		w.b.Buf = append(w.b.Buf, byte(wire.FrameDatagramLen))
		w.b.Buf = wire.AppendVarint(w.b.Buf, uint64(o.size))
		for _, b := range o.bufs {
			w.b.Buf = append(w.b.Buf, b...)
		}
		w.ackEliciting = true
		w.log = logEntry1(w.log, logDatagram, o.id)
		sent := *o
		sent.bufs = nil
		d.remove(i)
		if w.c.events != nil {
			sent.ctx = w.c.events.DatagramSendStateChanged(sent.ctx, DatagramSent)
		}
		if len(d.tracked) == maxTrackedDatagrams {
			d.finish(w.c, d.tracked[0], DatagramLostDiscarded)
			d.tracked = d.tracked[1:]
		}
		d.tracked = append(d.tracked, sent)
	}
}

// remove takes queued datagram i out of the queue.
func (d *datagramState) remove(i int) {
	if d.queue[i].flags&DatagramCancelOnBlocked != 0 {
		d.cancelable--
	}
	copy(d.queue[i:], d.queue[i+1:])
	d.queue[len(d.queue)-1] = outDatagram{}
	d.queue = d.queue[:len(d.queue)-1]
}

func (d *datagramState) finish(c *Conn, o outDatagram, st DatagramState) {
	if c.events != nil {
		c.events.DatagramSendStateChanged(o.ctx, st)
	}
}

// take removes a tracked datagram by id.
func (d *datagramState) take(id uint64) (outDatagram, bool) {
	for i := range d.tracked {
		if d.tracked[i].id == id {
			o := d.tracked[i]
			d.tracked = append(d.tracked[:i], d.tracked[i+1:]...)
			return o, true
		}
	}
	return outDatagram{}, false
}

func (d *datagramState) onAcked(c *Conn, id uint64, spurious bool) {
	if o, ok := d.take(id); ok {
		st := DatagramAcknowledged
		if spurious {
			st = DatagramAcknowledgedSpurious
		}
		d.finish(c, o, st)
	}
}

func (d *datagramState) onLost(c *Conn, id uint64) {
	if o, ok := d.take(id); ok {
		d.finish(c, o, DatagramLostDiscarded)
	}
}

// onReceived delivers a DATAGRAM frame (RFC 9221 §5).
func (d *datagramState) onReceived(c *Conn, data []byte, zeroRTT bool) error {
	if !c.set.DatagramReceive || len(data) > maxDatagramFrameSize {
		return &wire.Error{Code: wire.ProtocolViolation, FrameType: wire.FrameDatagram,
			Reason: "DATAGRAM frame not negotiated or too large"}
	}
	c.stats.RecvDatagrams++
	c.traceDatagram(false, len(data))
	if c.events != nil {
		c.events.DatagramReceived(data, zeroRTT)
	}
	return nil
}

// cancelAll ends every datagram not yet in a final state (connection
// closing).
func (d *datagramState) cancelAll(c *Conn) {
	for _, o := range d.queue {
		d.finish(c, o, DatagramCanceled)
	}
	for _, o := range d.tracked {
		d.finish(c, o, DatagramCanceled)
	}
	d.queue, d.tracked = nil, nil
	d.sendEnabled, d.cancelable = false, 0
}
