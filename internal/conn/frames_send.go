package conn

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// frameWriter appends frames to the packet being built, in priority order
// (ACK, CONNECTION_CLOSE, CRYPTO, HANDSHAKE_DONE, path frames, flow-control
// updates, connection-ID frames, stream control, stream data, DATAGRAM,
// PING), and records them in the packet's frame log. Whatever it writes,
// the packet is kept; if it writes nothing the packet is abandoned.
type frameWriter struct {
	c   *Conn
	b   *packet.Builder
	log []byte
	sp  recovery.Space
	pt  wire.PacketType
	now mono.Time

	ackEliciting bool
	hasAck       bool
	ackLen       int // payload bytes once the ACK frame was written
	hasClose     bool
	crypto       bool // CRYPTO data written
	ackDue       bool // the space's acknowledgment is due now
	holdStreams  bool // write no STREAM frames (buildDatagram)
}

// room returns the payload bytes still available.
func (w *frameWriter) room() int { return w.b.Room() }

// fits reports whether a frame of size bytes fits in the packet.
func (w *frameWriter) fits(size int) bool { return size <= w.room() }

func (w *frameWriter) writeFrames() {
	c := w.c
	if c.mtu.building {
		w.writeMTUProbe()
		return
	}
	if c.life.closing() {
		if c.life.closeFrame {
			w.b.Buf = c.appendClose(w.b.Buf, w.pt, w.room())
			w.hasClose = true
		}
		return
	}
	probe := c.loss.ProbesNeeded(w.sp) > 0
	// CRYPTO data coalesced with a probe of the other handshake space is
	// part of the probe (onProbeTimeout).
	coalesced := w.sp != recovery.SpaceApp && c.handshakeProbing()
	w.writeAck(coalesced && w.sp == recovery.SpaceInitial && c.side == Client)
	if w.pt == wire.PacketInitial && c.side == Server && w.b.DatagramRoom()+w.b.DatagramLen() < minInitialDatagram {
		// A server pads every datagram with an ack-eliciting Initial
		// packet to 1200 bytes (RFC 9000 §14.1); one the
		// anti-amplification limit (RFC 9000 §8.1) keeps smaller
		// carries only the acknowledgment.
		return
	}
	if w.pt == wire.Packet1RTT {
		// PATH_RESPONSE is not held back by congestion control: a peer
		// validating our new address may be sending its
		// acknowledgments to the old one, so our window would never
		// open (RFC 9000 §8.2.2: do not delay it). It is small and
		// sent once per challenge.
		c.path.appendFrames(w)
	}
	// Only application data waits for the congestion window. CRYPTO data
	// in the Initial and Handshake spaces does not: 0-RTT or 0.5-RTT
	// packets can fill the window, and they are not acknowledged (nor,
	// before the handshake is confirmed, probed for: RFC 9002 §6.2.1)
	// until the handshake completes, so a lost handshake packet held back
	// by the window would never be sent again. The handshake flight is
	// small and a server's is still bounded by the anti-amplification
	// limit.
	if w.sp == recovery.SpaceApp && !probe && !w.congestionAllows() {
		return
	}
	w.writeCrypto()
	if w.sp == recovery.SpaceApp {
		if w.pt == wire.Packet1RTT {
			w.writeConnectionControl()
		}
		if !w.holdStreams {
			c.streams.appendFrames(w)
		}
		if w.pt == wire.Packet1RTT || w.pt == wire.Packet0RTT {
			// 0-RTT carries only the datagrams that allow it
			// (DatagramAllow0RTT).
			c.datagrams.appendFrames(w)
		}
	}
	if (probe || c.flags&flagPing != 0 || w.keepsAckElicitingInFlight()) && !w.ackEliciting && w.fits(1) {
		w.b.Buf = wire.AppendPing(w.b.Buf)
		w.ackEliciting = true
		c.flags &^= flagPing
	}
}

// keepsAckElicitingInFlight reports whether a 1-RTT acknowledgment that
// would go alone should carry a PING, because nothing of ours that the
// peer must acknowledge is in flight while the peer keeps sending. A
// receiver that sends only ACK frames is never acknowledged (RFC 9000
// §13.2.4 has it send a PING now and then, such as once per round trip),
// and, worse, has no probe timer armed: when a NAT moves it to a new
// address and forgets the old mapping, the peer's packets stop arriving,
// nothing prompts it to send, and the peer, which learns the new address
// only from its packets (RFC 9000 §9.3), cannot reach it until the idle
// timeout. With one PING in flight, its probe timeout fires and the probe
// tells the peer where it is now. It needs two ack-eliciting packets from
// the peer since our last ack-eliciting one, so that two endpoints
// acknowledging each other's PINGs do not keep each other busy.
func (w *frameWriter) keepsAckElicitingInFlight() bool {
	c := w.c
	return w.pt == wire.Packet1RTT && w.hasAck && w.ackDue && c.elicitedSinceSent >= 2 &&
		c.life.handshakeConfirmed && !c.loss.AckElicitingInFlight(recovery.SpaceApp)
}

// congestionAllows reports whether the congestion window and the pacer let
// an ack-eliciting packet go now; when the pacer says no, the pacing timer
// is armed.
func (w *frameWriter) congestionAllows() bool {
	c := w.c
	if c.loss.CongestionWindowAvailable() <= 0 {
		return false
	}
	if next := c.loss.NextSendTime(w.now); !next.IsZero() && next > w.now {
		c.timers[timerPacing] = next
		return false
	}
	return true
}

// writeAck appends an ACK frame when one is pending in this space
// (RFC 9000 §13.2), or with again, when there is anything to acknowledge.
//
// A client's Initial probes (PTO probes and speed-ups, with again) repeat
// the acknowledgment of the server's Initial packets: an ACK frame is not
// retransmitted when lost, new ones carry the latest state (RFC 9000
// §13.3), and a lost ACK is not followed by another until the server sends
// an ack-eliciting Initial packet again, possibly seconds later with its
// PTO backoff. A server whose ServerHello was lost learns it from the
// acknowledgment of the Initial packets that did arrive, and resets its
// backoff (RFC 9002 §6.2.1). Other probes do not repeat theirs: a
// server's ServerHello makes its acknowledgment moot, and a server drops
// its Handshake keys when the client's Finished arrives. A repeated ACK
// reports its delay like any other (RFC 9000 §13.2.5), so the peer's RTT
// estimate can discount it.
func (w *frameWriter) writeAck(again bool) {
	c := w.c
	s := c.spaces[w.sp]
	// No ACK in 0-RTT packets (RFC 9000 §17.2.3).
	if w.pt == wire.Packet0RTT || s.acks.AckDeadline().IsZero() && !again || s.acks.Ranges().IsEmpty() {
		return
	}
	// The delay is reported in every space: RFC 9000 §13.2.5 calls it
	// especially useful during the handshake, when it may be large.
	delay := ackDelayField(s.acks.AckDelay(w.now))
	var ecn *wire.ECNCounts
	if counts, ok := s.acks.ECNCounts(); ok {
		c.tx.ecn = wire.ECNCounts{ECT0: counts.ECT0, ECT1: counts.ECT1, CE: counts.CE}
		ecn = &c.tx.ecn
	}
	before := len(w.b.Buf)
	w.b.Buf = wire.AppendAck(w.b.Buf, s.acks.Ranges(), delay, ecn, w.room())
	if len(w.b.Buf) == before {
		return
	}
	w.hasAck = true
	w.ackLen = w.b.PayloadLen()
	w.log = logEntry1(w.log, logAck, uint64(s.acks.Ranges().Max()-1))
}

// writeCrypto appends CRYPTO frames with pending handshake data.
func (w *frameWriter) writeCrypto() {
	c := w.c
	cs := c.cryptoSend(w.sp)
	if cs == nil || w.pt == wire.Packet0RTT {
		return
	}
	if c.side == Client && w.sp != recovery.SpaceApp && !cs.HasPending() && c.loss.ProbesNeeded(w.sp) > 0 && !c.spaces[w.sp].discarded {
		// A client's probe after the one that carried its outstanding
		// CRYPTO data carries it again rather than a bare PING (RFC 9002
		// §6.2.4: probes may send previously sent data): when the server
		// has acknowledged one datagram of a two-datagram ClientHello, the
		// half that keeps getting lost goes twice per probe round. (A
		// server's second probe has its Handshake flight to carry.)
		cs.ResendUnacked()
	}
	for {
		off, n, ok := cs.Pending(w.room())
		if !ok {
			return
		}
		if over := wire.SizeCryptoHeader(off, n) + n - w.room(); over > 0 {
			n -= over
		}
		if n <= 0 {
			return
		}
		w.b.Buf = wire.AppendCryptoHeader(w.b.Buf, off, n)
		w.b.Buf = append(w.b.Buf, cs.Data(off, n)...)
		cs.OnSent(off, n)
		w.ackEliciting, w.crypto = true, true
		w.log = logEntry(w.log, logCrypto, off, uint64(n))
	}
}

// writeConnectionControl appends connection-level control frames.
func (w *frameWriter) writeConnectionControl() {
	c := w.c
	if c.flags&flagHandshakeDone != 0 && w.fits(1) {
		w.b.Buf = wire.AppendHandshakeDone(w.b.Buf)
		w.ackEliciting = true
		w.log = append(w.log, logHandshakeDone)
		c.flags &^= flagHandshakeDone
	}
	if c.flags&flagNewCID != 0 {
		all := true
		for i := range c.cids.local {
			l := &c.cids.local[i]
			if !l.needSend {
				continue
			}
			rpt := uint64(c.cids.localRetirePriorTo)
			if l.seq < rpt {
				l.needSend = false // the peer is to retire it unseen
				continue
			}
			size := 1 + wire.SizeVarint(l.seq) + wire.SizeVarint(rpt) + 1 + int(l.cid.n) + 16 + 8
			if !w.fits(size) {
				all = false
				break
			}
			w.b.Buf = wire.AppendNewConnectionID(w.b.Buf, l.seq, rpt, l.id(), l.token)
			w.ackEliciting = true
			w.log = logEntry1(w.log, logNewCID, l.seq)
			l.needSend = false
		}
		if all {
			c.flags &^= flagNewCID
		}
	}
	if c.flags&flagRetireCID != 0 {
		all := true
		for i := range c.cids.retiring {
			r := &c.cids.retiring[i]
			if !r.unsent {
				continue
			}
			if !w.fits(1 + wire.SizeVarint(r.seq)) {
				all = false
				break
			}
			w.b.Buf = wire.AppendRetireConnectionID(w.b.Buf, r.seq)
			w.ackEliciting = true
			w.log = logEntry1(w.log, logRetireCID, r.seq)
			r.unsent = false
		}
		if all {
			c.flags &^= flagRetireCID
		}
	}
	if c.flags&flagNewToken != 0 && len(c.newToken) > 0 && w.fits(1+2+len(c.newToken)) {
		w.b.Buf = wire.AppendNewToken(w.b.Buf, c.newToken)
		w.ackEliciting = true
		w.log = append(w.log, logNewToken)
		c.flags &^= flagNewToken
	}
}
