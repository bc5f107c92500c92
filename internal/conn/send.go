package conn

import (
	"time"

	"github.com/hquic/quic/internal/lend"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// sendFlags says which connection-level control frames are waiting to be
// sent (MsQuic's send-flag bitmask). Streams and datagrams keep their own
// queues; the builder asks each sub-state to append what it has.
type sendFlags uint32

const (
	flagPing sendFlags = 1 << iota // an ack-eliciting packet is needed
	flagHandshakeDone
	flagNewCID
	flagRetireCID
	flagNewToken
	flagPathChallenge
	flagPathResponse
	flagProbeData // application probes carry the oldest outstanding data (onProbeTimeout)
)

// sendBufSize holds a full GSO batch of maximum-size datagrams plus one
// datagram of slack for the tag of the last packet.
const sendBufSize = 64<<10 + 2048

// sendScratch is what building and sending datagrams needs for the
// duration of one flush: the send buffer, the packet builder writing into
// it, the batch handed to the host and frame-building scratch.
type sendScratch struct {
	b   packet.Builder
	out OutBatch
	log []byte         // frame log of the packet being built (sentlog.go)
	ecn wire.ECNCounts // ECN counts of the ACK frame being built
	// crypto is set when the last packet built carried CRYPTO data;
	// holdStreams keeps STREAM frames out of the packet being built;
	// pathResponse is set when the datagram being built holds a
	// PATH_RESPONSE.
	crypto, holdStreams, pathResponse bool
}

// sendScratches lends send scratch for the duration of one flush, so an
// idle connection holds none. No more are lent at once than goroutines
// flush connections at once, which the bound covers.
var sendScratches = lend.Lender[sendScratch]{Max: 64, New: func() *sendScratch {
	return &sendScratch{b: packet.Builder{Buf: make([]byte, 0, sendBufSize)}}
}}

// getSendScratch lends c a send scratch with an empty buffer; c.tx points
// to it until putSendScratch.
func (c *Conn) getSendScratch() *packet.Builder {
	tx := sendScratches.Get()
	tx.b.Reset(tx.b.Buf)
	c.tx = tx
	return &tx.b
}

// putSendScratch returns c's send scratch to the pool, keeping only the
// buffer's storage.
func (c *Conn) putSendScratch() {
	tx := c.tx
	c.tx = nil
	tx.b.Reset(tx.b.Buf)
	tx.out = OutBatch{}
	sendScratches.Put(tx)
}

// maxGSOSegments bounds one batch (the kernel's UDP_MAX_SEGMENTS is 64).
const maxGSOSegments = 64

// maxBatchBytes bounds the bytes of one batch: a GSO send is one UDP
// datagram to the kernel, at most 65,535 bytes less the IPv4 and UDP
// headers.
const maxBatchBytes = 65535 - 20 - 8

// datagramInfo describes a datagram the builder produced.
type datagramInfo struct {
	size         int
	ackEliciting bool
}

// flush builds and sends everything the connection may send now.
func (c *Conn) flush(now mono.Time) {
	c.sendLimited = false
	if c.life.state == stateDone || c.life.state == stateIdle && !c.idleAckDue(now) {
		// A server sends nothing but ACKs of Initial packets before the
		// application gives it a configuration (accept.go).
		return
	}
	if c.life.state == stateIdle {
		c.vers.answered = true // in the client's version (chooseCompatibleVersion)
	}
	if c.life.closing() && !c.life.closeFrame {
		return
	}
	c.maybeUpdateDCID(now)
	b := c.getSendScratch()
	defer c.putSendScratch()

	mtu := c.path.maxDatagramSize()
	batchStart, segSize, segs := 0, 0, 0
	ecn := c.ecnMark()
	if c.mtuProbeDue(now) {
		if size := c.buildMTUProbe(now, b); size > 0 {
			c.path.onSent(size)
			c.sendDatagrams(b.Buf[:size], 0, 1, ecn)
		}
		b.Reset(b.Buf)
	}
	sendBatch := func(end int) {
		if end > batchStart {
			c.sendDatagrams(b.Buf[batchStart:end], segSize, segs, ecn)
		}
		batchStart, segSize, segs = end, 0, 0
	}
	// A flush may always fill one whole GSO batch of full-size datagrams.
	// When it stops at its limit, sendLimited makes Run ask to run again
	// at once: the rest must not wait for the next received packet.
	perBatch := max(1, min(maxGSOSegments, maxBatchBytes/mtu))
	perFlush := max(maxDatagramsPerFlush, perBatch)
	for n := 0; ; n++ {
		if n == perFlush {
			c.sendLimited = true
			break
		}
		limit := min(mtu, c.path.amplificationBudget(c.side))
		if limit < minPacketRoom {
			c.loss.SetAmplificationLimited(true)
			break
		}
		if len(b.Buf)+limit > cap(b.Buf) {
			sendBatch(len(b.Buf))
			b.Reset(b.Buf)
			batchStart = 0
		}
		start := len(b.Buf)
		b.StartDatagram(limit)
		info := c.buildDatagram(now, b)
		if info.size == 0 {
			c.noteAppLimited(now)
			break
		}
		c.path.onSent(info.size)
		if info.size == mtu {
			c.onFullSizeSent()
		}
		switch {
		case segs == 0:
			segSize, segs = info.size, 1
		case info.size == segSize && segs < perBatch:
			segs++
		case info.size < segSize:
			segs++
			sendBatch(len(b.Buf))
			continue
		default:
			sendBatch(start)
			segSize, segs = info.size, 1
		}
		if info.size < mtu || segs == perBatch {
			sendBatch(len(b.Buf))
		}
		if c.life.closing() {
			break
		}
	}
	sendBatch(len(b.Buf))
	if c.life.closing() {
		c.life.closeFrame = false
		c.life.closeSent++
	}
}

// noteAppLimited runs when a flush found nothing more to send: unless the
// pacer held packets back, the sender is application-limited (or limited
// by flow control), and the congestion window must not grow on what is
// acknowledged until the window is full again (RFC 9002, Section 7.8).
// recovery.State.OnAppLimited itself ignores a window with no room left.
func (c *Conn) noteAppLimited(now mono.Time) {
	if t := c.timers[timerPacing]; !t.IsZero() && t > now {
		return
	}
	c.loss.OnAppLimited()
}

// minPacketRoom is the smallest datagram worth building.
const minPacketRoom = 64

func (c *Conn) sendDatagrams(buf []byte, segSize, segs int, ecn uint8) {
	if segs <= 1 {
		segSize = 0
	}
	c.stats.SendTotalBytes += uint64(len(buf))
	c.lastFlush = c.now
	c.tx.out = OutBatch{Buf: buf, SegSize: segSize, Addr: c.path.peer, Local: c.path.local, ECN: ecn}
	c.host.Send(&c.tx.out)
}

func (c *Conn) ecnMark() uint8 {
	// A server's ACKs sent before its configuration go unmarked: its ECN
	// validation starts afresh with the configuration, and must not find
	// the peer counting marks it does not know it sent.
	if c.life.state != stateIdle && c.loss.ECNMarking() {
		return uint8(recovery.ECNECT0)
	}
	return 0
}

// buildDatagram fills one datagram with coalesced packets from every space
// that has something to send, in Initial, Handshake, 1-RTT order.
func (c *Conn) buildDatagram(now mono.Time, b *packet.Builder) datagramInfo {
	var info datagramInfo
	pad, sealed := false, false
	c.tx.pathResponse = false
	for sp := recovery.SpaceInitial; sp < recovery.NumSpaces; sp++ {
		before := len(b.Buf)
		sent, ackEliciting := c.buildPacket(now, b, sp)
		if !sent {
			// A packet started and then abandoned for want of frames
			// has sealed the one before it (its tag was appended),
			// which can no longer be padded.
			sealed = sealed || len(b.Buf) > before
			continue
		}
		sealed = false
		info.ackEliciting = info.ackEliciting || ackEliciting
		if sp == recovery.SpaceInitial && (c.side == Client || ackEliciting) {
			// RFC 9000 §14.1: datagrams with a client's Initial, or a
			// server's ack-eliciting Initial, are at least 1200 bytes.
			pad = true
		}
		if sp == recovery.SpaceHandshake && c.side == Client && c.tx.crypto {
			// No stream data with the client's Finished: it goes in
			// the next datagram, as quic-go's and MsQuic's clients send
			// it. Coalescing it is valid (RFC 9000 §12.2), but a server
			// whose application sees the handshake complete only after
			// the whole datagram was processed may refuse the streams
			// whose first frames came with it (the @matrixai/quic 2.0.9
			// server over quiche resets them with code 0).
			c.tx.holdStreams = true
		}
	}
	c.tx.holdStreams = false
	padTo := 0
	if pad {
		padTo = minInitialDatagram
		if sealed && b.DatagramLen() < padTo {
			c.buildPaddingPacket(now, b)
		}
	}
	if c.tx.pathResponse {
		// RFC 9000 §8.2.2: a datagram with PATH_RESPONSE is expanded
		// to 1200 bytes, as far as the anti-amplification limit (the
		// datagram's limit) allows. The 1-RTT packet is the last.
		padTo = max(padTo, minChallengeDatagram)
	}
	padded, size := b.EndDatagram(padTo)
	if c.lastSent != nil {
		c.lastSent.Size += padded
		if padded > 0 {
			c.lastSent.InFlight = true
		}
		c.commitSent(now, c.lastSent)
		c.lastSent = nil
	}
	info.size = size
	if c.side == Client && c.spaces[recovery.SpaceHandshake].write != nil && c.sentHandshake {
		// A client discards its Initial keys once it sends a Handshake
		// packet (RFC 9001 §4.9.1).
		c.discardSpace(recovery.SpaceInitial)
	}
	return info
}

// buildPaddingPacket adds an Initial packet holding only PADDING to a
// datagram that must reach 1200 bytes but whose last packet is already
// sealed (buildDatagram): EndDatagram pads this one instead (RFC 9000
// §14.1 allows padding a datagram by coalescing packets).
func (c *Conn) buildPaddingPacket(now mono.Time, b *packet.Builder) {
	keys, pt := c.packetWriteKeys(recovery.SpaceInitial)
	if keys == nil {
		return
	}
	s := c.spaces[recovery.SpaceInitial]
	var token []byte
	if c.side == Client && c.setup != nil {
		token = c.setup.initialToken
	}
	pn := s.nextPN
	if !b.StartLong(pt, c.version, c.cids.dcid(), c.cids.scid(), token, pn, s.largestAcked, keys) {
		return
	}
	b.Buf = wire.AppendPadding(b.Buf, 1)
	size := b.Finish()
	s.nextPN++
	rec := c.loss.NewSent()
	rec.PN, rec.Space, rec.Size = pn, recovery.SpaceInitial, size
	rec.InFlight = true // PADDING counts in flight (RFC 9002 §2)
	rec.ECT = c.ecnMark() != 0
	if c.lastSent != nil {
		c.commitSent(now, c.lastSent)
	}
	c.lastSent = rec
	if c.qlog != nil {
		c.traceStage(b, pt, pn, size)
	}
	c.stats.SendTotalPackets++
}

// packetWriteKeys returns the keys and packet type for a space, or nil.
func (c *Conn) packetWriteKeys(sp recovery.Space) (*protect.Keys, wire.PacketType) {
	s := c.spaces[sp]
	switch sp {
	case recovery.SpaceInitial:
		return s.write, wire.PacketInitial
	case recovery.SpaceHandshake:
		return s.write, wire.PacketHandshake
	case recovery.SpaceApp:
		if c.app.write != nil {
			return c.app.write, wire.Packet1RTT
		}
		if c.zeroRTT.write != nil && c.side == Client {
			return c.zeroRTT.write, wire.Packet0RTT
		}
	}
	return nil, 0
}

// buildPacket builds one packet in space sp if there is anything to send
// there. It reports whether a packet was built and whether it is
// ack-eliciting.
func (c *Conn) buildPacket(now mono.Time, b *packet.Builder, sp recovery.Space) (sent, ackEliciting bool) {
	keys, pt := c.packetWriteKeys(sp)
	if keys == nil {
		return false, false
	}
	if sp == recovery.SpaceApp && c.flags&flagProbeData != 0 && !c.mtu.building {
		c.queueProbeData()
	}
	s := c.spaces[sp]
	pn := s.nextPN
	var ok bool
	if pt == wire.Packet1RTT {
		grease := c.set.GreaseQUICBit && c.peerTP.greaseQUICBit && pn&1 == 1
		ok = b.StartShort(c.cids.dcid(), pn, s.largestAcked, packet.ShortBits{KeyPhase: c.app.phase, GreaseFixedBit: grease}, keys)
	} else {
		var token []byte
		if pt == wire.PacketInitial && c.side == Client && c.setup != nil {
			token = c.setup.initialToken
		}
		ok = b.StartLong(pt, c.version, c.cids.dcid(), c.cids.scid(), token, pn, s.largestAcked, keys)
	}
	if !ok {
		return false, false
	}
	ackDue := s.acks.ShouldSendAck(now)
	w := frameWriter{c: c, b: b, log: c.tx.log[:0], sp: sp, pt: pt, now: now, ackDue: ackDue, holdStreams: c.tx.holdStreams}
	w.writeFrames()
	c.tx.log = w.log
	c.tx.crypto = w.crypto
	// An application-space acknowledgment that is not yet due rides along
	// with other frames but does not make a packet of its own: a lone
	// ack-eliciting packet is acknowledged at max_ack_delay, every second
	// one at once (RFC 9000 §13.2.1, §13.2.2). Initial and Handshake ACKs
	// are always due, or repeated on purpose (writeAck).
	if b.PayloadLen() == 0 || sp == recovery.SpaceApp && w.hasAck && !ackDue && b.PayloadLen() == w.ackLen {
		b.Abandon()
		return false, false
	}
	if w.hasAck {
		s.acks.OnAckSent(now)
	}
	size := b.Finish()
	s.nextPN++
	rec := c.loss.NewSent()
	rec.PN, rec.Space = pn, sp
	rec.Frames = appendLog(rec.Frames, w.log)
	rec.Size = size
	rec.AckEliciting = w.ackEliciting
	rec.InFlight = w.ackEliciting
	rec.ECT = c.ecnMark() != 0
	if pt == wire.Packet1RTT {
		c.app.onSealed(pn, size)
	}
	if sp == recovery.SpaceHandshake {
		c.sentHandshake = true
	}
	if c.lastSent != nil {
		c.commitSent(now, c.lastSent)
	}
	c.lastSent = rec
	if c.qlog != nil {
		c.traceStage(b, pt, pn, size)
	}
	c.stats.SendTotalPackets++
	if w.ackEliciting {
		c.stats.SendRetransmittablePackets++
		c.onAckElicitingSent(now)
		if pt == wire.Packet1RTT {
			c.elicitedSinceSent = 0
		}
	}
	return true, w.ackEliciting
}

// commitSent hands a finished packet's record to loss recovery.
func (c *Conn) commitSent(now mono.Time, rec *recovery.Sent) {
	if c.qlog != nil {
		c.qlog.CommitSent(now, rec.PN, rec.Size, rec.PMTUProbe)
	}
	c.loss.OnPacketSent(now, rec)
}

// ackDelayField encodes an ACK delay with our exponent (RFC 9000 §19.3).
func ackDelayField(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d.Microseconds()) >> ackDelayExponent
}
