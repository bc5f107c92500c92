package conn

import (
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Every sent packet carries a compact log of the frames it held
// (recovery.Sent.Frames): a tag byte followed by varint fields. When the
// packet is acknowledged or lost the log is replayed to tell each
// sub-state what happened. Data is never copied into the log: a STREAM
// entry is just (id, offset, length, fin).
const (
	logAck               byte = iota + 1 // largest acknowledged
	logCrypto                            // offset, length
	logStream                            // id, offset, length, fin
	logResetStream                       // id
	logStopSending                       // id
	logMaxData                           // limit
	logMaxStreamData                     // id, limit
	logMaxStreamsBidi                    // limit
	logMaxStreamsUni                     // limit
	logDataBlocked                       // limit
	logStreamDataBlocked                 // id, limit
	logStreamsBlocked                    // bidi (0/1), limit
	logNewCID                            // sequence number
	logRetireCID                         // sequence number
	logHandshakeDone                     //
	logNewToken                          //
	logDatagram                          // datagram id
	logPMTUProbe                         // probed datagram size, path generation (mtu.go)
)

func logEntry(b []byte, tag byte, vals ...uint64) []byte {
	b = append(b, tag)
	for _, v := range vals {
		b = wire.AppendVarint(b, v)
	}
	return b
}

func logEntry1(b []byte, tag byte, v uint64) []byte {
	return wire.AppendVarint(append(b, tag), v)
}

// minLogCap is the least capacity a sent record's log gets. Records are
// recycled, and each packet's log lands on whichever record is free: had a
// log only the capacity it first needed, every record would grow again,
// one allocation at a time, as rarer and longer frame combinations (an
// ACK, MAX_DATA and MAX_STREAM_DATA beside a STREAM frame with an 8-byte
// offset) reached it, and a steady transfer would keep allocating. 48
// bytes hold such a combination.
const minLogCap = 48

// appendLog copies log into a record's log storage dst, growing it to at
// least minLogCap, or to twice the log's length if that is more.
func appendLog(dst, log []byte) []byte {
	if cap(dst) < len(log) {
		dst = make([]byte, 0, max(minLogCap, 2*len(log)))
	}
	return append(dst[:0], log...)
}

// logReader walks a frame log.
type logReader []byte

func (r *logReader) varint() uint64 {
	v, n := wire.ConsumeVarint(*r)
	if n < 0 {
		*r = nil
		return 0
	}
	*r = (*r)[n:]
	return v
}

func (r *logReader) tag() byte {
	t := (*r)[0]
	*r = (*r)[1:]
	return t
}

// OnPacketAcked implements recovery.Handler.
func (c *Conn) OnPacketAcked(p *recovery.Sent) {
	c.onSizedAcked(p)
	if p.Space == recovery.SpaceApp {
		c.app.onAcked(p.PN)
	}
	sp := c.spaces[p.Space]
	if p.PN > sp.largestAcked {
		sp.largestAcked = p.PN
	}
	r := logReader(p.Frames)
	for len(r) > 0 {
		switch r.tag() {
		case logAck:
			sp.acks.OnAckAcked(int64(r.varint()))
		case logCrypto:
			off, n := r.varint(), r.varint()
			if cs := c.cryptoSend(p.Space); cs != nil {
				cs.OnAcked(off, int(n))
			}
		case logStream:
			id, off, n, fin := r.varint(), r.varint(), r.varint(), r.varint()
			c.streams.onStreamAcked(c, id, off, int(n), fin != 0)
		case logResetStream:
			c.streams.onResetAcked(c, r.varint())
		case logStopSending:
			c.streams.onStopSendingAcked(c, r.varint())
		case logMaxData, logMaxStreamsBidi, logMaxStreamsUni, logDataBlocked:
			r.varint()
		case logMaxStreamData, logStreamDataBlocked, logStreamsBlocked:
			r.varint()
			r.varint()
		case logNewCID:
			c.cids.onNewCIDAcked(r.varint())
		case logRetireCID:
			c.cids.onRetireAcked(r.varint())
		case logHandshakeDone:
			c.flags &^= flagHandshakeDone
			c.life.handshakeDoneAcked = true
		case logNewToken:
			c.flags &^= flagNewToken
			c.newToken = nil // delivered: an idle connection keeps no copy
		case logDatagram:
			c.datagrams.onAcked(c, r.varint(), p.WasLost())
		case logPMTUProbe:
			size := int(r.varint())
			c.onMTUProbeAcked(size, int(r.varint()))
		}
	}
}

// OnPacketLost implements recovery.Handler.
func (c *Conn) OnPacketLost(p *recovery.Sent) {
	if c.qlog != nil {
		c.traceLost(p)
	}
	c.onSizedLost(p)
	c.stats.SendSuspectedLostPackets++
	c.replayLost(p, false)
}

// replayLost tells the sub-states that the frames of p must be sent again;
// a lost ACK frame makes a new one due (AckTracker.OnAckLost). With probe,
// p is not lost but in flight, and a PTO probe carries its data again
// (onProbeTimeout): its ACK and DATAGRAM frames, which are never
// retransmitted, and its PMTU probe are left alone.
func (c *Conn) replayLost(p *recovery.Sent, probe bool) {
	r := logReader(p.Frames)
	for len(r) > 0 {
		switch r.tag() {
		case logAck:
			if largest := int64(r.varint()); !probe && !c.spaces[p.Space].discarded {
				c.spaces[p.Space].acks.OnAckLost(c.now, largest)
			}
		case logCrypto:
			off, n := r.varint(), r.varint()
			if cs := c.cryptoSend(p.Space); cs != nil && !c.spaces[p.Space].discarded {
				cs.OnLost(off, int(n))
			}
		case logStream:
			id, off, n, fin := r.varint(), r.varint(), r.varint(), r.varint()
			c.streams.onStreamLost(c, id, off, int(n), fin != 0)
		case logResetStream:
			c.streams.onResetLost(c, r.varint())
		case logStopSending:
			c.streams.onStopSendingLost(c, r.varint())
		case logMaxData:
			c.streams.connRecv.OnLimitLost(r.varint())
		case logMaxStreamData:
			id := r.varint()
			c.streams.onMaxStreamDataLost(c, id, r.varint())
		case logMaxStreamsBidi:
			c.streams.set.OnMaxStreamsLost(true, r.varint())
		case logMaxStreamsUni:
			c.streams.set.OnMaxStreamsLost(false, r.varint())
		case logDataBlocked:
			c.streams.connSend.OnBlockedLost(r.varint())
		case logStreamDataBlocked:
			id := r.varint()
			c.streams.onDataBlockedLost(c, id, r.varint())
		case logStreamsBlocked:
			bidi := r.varint() != 0
			c.streams.set.OnStreamsBlockedLost(bidi, r.varint())
		case logNewCID:
			c.cids.onNewCIDLost(c, r.varint())
		case logRetireCID:
			c.cids.onRetireLost(c, r.varint())
		case logHandshakeDone:
			// Another copy may have been acknowledged already.
			if !c.life.closing() && !c.life.handshakeDoneAcked {
				c.flags |= flagHandshakeDone
			}
		case logNewToken:
			if c.newToken != nil {
				c.flags |= flagNewToken
			}
		case logDatagram:
			if id := r.varint(); !probe {
				c.datagrams.onLost(c, id)
			}
		case logPMTUProbe:
			size, gen := int(r.varint()), int(r.varint())
			if !probe {
				c.onMTUProbeLost(size, gen)
			}
		}
	}
}
