package conn

import (
	"bytes"
	"encoding/binary"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/wire"
)

// QueueDatagram hands a received datagram to the connection. It may be
// called from any goroutine. It returns false, leaving d.Buf to the caller,
// if the receive queue is full or the connection has terminated.
func (c *Conn) QueueDatagram(d Datagram) bool {
	ok, wasEmpty := c.rx.push(d)
	if ok && wasEmpty {
		c.wake()
	}
	return ok
}

// QueueDatagramsLater is QueueDatagrams without the wake-up, for a socket
// reader that queues a whole read before any connection runs: it returns
// how many datagrams it took and whether the connection must be kicked
// (Kick) once the read is queued.
func (c *Conn) QueueDatagramsLater(ds []Datagram) (n int, kick bool) {
	n, wasEmpty := c.rx.pushBatch(ds)
	return n, n > 0 && wasEmpty
}

// Kick wakes the connection after QueueDatagramsLater asked for it. With
// inline set (the read brought datagrams for this connection only, so the
// socket is quiet) it is MsQuic's low-latency receive: once the handshake
// is complete, and when the scheduler is an InlineScheduler, the
// connection runs on the calling goroutine at once if no other goroutine
// runs it (receive, process, send). Handshakes stay on the workers: their
// cryptography would hold up the reader of a shared socket.
func (c *Conn) Kick(inline bool) {
	if inline && c.inlineOK.Load() {
		if is, ok := c.sched.(InlineScheduler); ok && is.TryRun() {
			return
		}
	}
	c.wake()
}

// QueueDatagrams hands several received datagrams to the connection with
// one lock and at most one wake-up (the segments of a GRO batch). It may be
// called from any goroutine. It returns how many datagrams, a prefix of ds,
// it took; the caller keeps the Bufs of the rest (queue full or connection
// terminated).
func (c *Conn) QueueDatagrams(ds []Datagram) int {
	n, wasEmpty := c.rx.pushBatch(ds)
	if n > 0 && wasEmpty {
		c.wake()
	}
	return n
}

// maxBufferedPackets bounds the packets kept while their keys are not yet
// available (RFC 9001 §5.7).
const maxBufferedPackets = 16

// bufferedPacket is a copy of a packet that could not be decrypted yet.
type bufferedPacket struct {
	data []byte
	peer Datagram
}

// processDatagram handles every packet coalesced in one datagram
// (RFC 9000 §12.2).
func (c *Conn) processDatagram(now mono.Time, d *Datagram) {
	if c.life.state == stateDone {
		return
	}
	c.stats.RecvTotalBytes += uint64(len(d.Data))
	if pr := c.path.probe; pr != nil && pr.on(d.Peer, d.Local) {
		pr.onReceived(len(d.Data))
	}
	if c.path.is(d.Peer, d.Local) {
		c.path.onReceived(len(d.Data))
		if c.side == Server && !c.path.validated {
			// The datagram raised the anti-amplification budget: re-arm
			// the PTO timer the limit suspended, or a lost server flight
			// is never probed and the handshake deadlocks (RFC 9002
			// §6.2.2.1, Appendix A.6). flush marks the limit again.
			c.loss.SetAmplificationLimited(false)
		}
	}
	c.processPackets(now, d)
}

// processPackets handles the packets of datagram d, each counted in
// RecvTotalPackets whatever becomes of it (MsQuic's definition). A packet
// buffered until its keys are ready (bufferPacket) counts when it is
// replayed; the replay (replayBuffered) comes here directly, so that its
// bytes count once in the statistics and in the anti-amplification budget.
func (c *Conn) processPackets(now mono.Time, d *Datagram) {
	c.rxd = d
	defer func() { c.rxd = nil }()
	data := d.Data
	var first []byte
	for len(data) > 0 {
		c.stats.RecvTotalPackets++
		if !wire.IsLongHeader(data[0]) {
			c.processShortPacket(now, d, data, first)
			return
		}
		n, dcid := c.processLongPacket(now, d, data, first)
		if n <= 0 {
			return
		}
		if first == nil {
			first = dcid
		}
		data = data[n:]
	}
}

// processLongPacket handles the long-header packet at the start of data and
// returns its length (≤ 0 to drop the rest of the datagram) and its
// Destination Connection ID.
func (c *Conn) processLongPacket(now mono.Time, d *Datagram, data, first []byte) (int, []byte) {
	if len(data) >= 5 && binary.BigEndian.Uint32(data[1:5]) == 0 {
		c.onVersionNegotiation(now, data)
		return 0, nil
	}
	h, ok := wire.ParseLongHeader(data)
	if !ok {
		return 0, nil
	}
	if !c.fixedBitOK(data[0]) {
		c.traceDrop(now, h.Type, h.Len, "invalid")
		return h.Len, h.DCID
	}
	if first != nil && !bytes.Equal(h.DCID, first) {
		c.traceDrop(now, h.Type, h.Len, "connection_unknown")
		return h.Len, h.DCID // RFC 9000 §12.2: ignore a different DCID
	}
	if h.Type == wire.PacketInitial && c.side == Server && len(d.Data) < minInitialDatagram {
		// RFC 9000 §14.1: a server MUST discard an Initial packet in a
		// datagram smaller than 1200 bytes.
		c.traceDrop(now, h.Type, h.Len, "invalid")
		return h.Len, h.DCID
	}
	pkt := data[:h.Len]
	var sp recovery.Space
	var keys, switchWrite *protect.Keys
	switch {
	case h.Type == wire.PacketRetry:
		c.onRetry(now, pkt)
		return 0, nil
	case h.Version != c.version:
		if keys, switchWrite = c.acceptVersion(&h); keys == nil {
			c.traceDrop(now, h.Type, h.Len, "unsupported")
			return h.Len, h.DCID
		}
		sp = recovery.SpaceInitial
	case h.Type == wire.PacketInitial:
		sp, keys = recovery.SpaceInitial, c.spaces[recovery.SpaceInitial].read
	case h.Type == wire.PacketHandshake:
		sp, keys = recovery.SpaceHandshake, c.spaces[recovery.SpaceHandshake].read
	case h.Type == wire.Packet0RTT && c.side == Server:
		sp, keys = recovery.SpaceApp, c.zeroRTT.read
		if keys == nil && c.hs != nil {
			// TLS read the ClientHello and accepted no 0-RTT, or the keys
			// are discarded: the packet MUST NOT be processed
			// (RFC 9001 §4.6.2). Before TLS runs it is buffered.
			c.traceDrop(now, h.Type, h.Len, "key_unavailable")
			return h.Len, h.DCID
		}
	default:
		c.traceDrop(now, h.Type, h.Len, "unsupported")
		return h.Len, h.DCID
	}
	if keys == nil && sp == recovery.SpaceHandshake && c.side == Server && c.life.handshakeConfirmed {
		c.onLateHandshakePacket()
		c.traceDrop(now, h.Type, h.Len, "key_unavailable")
		return h.Len, h.DCID
	}
	if keys == nil {
		c.bufferPacket(d, pkt, sp)
		if c.side == Client && sp == recovery.SpaceHandshake {
			// The server's Initial packets were lost (RFC 9002 §6.2.3).
			c.speedUpHandshake(now)
		}
		return h.Len, h.DCID
	}
	s := c.spaces[sp]
	pn, hdrLen, ok := packet.Unprotect(pkt, h.PNOffset, &keys.HP, s.acks.LargestReceived())
	if !ok {
		c.traceDrop(now, h.Type, h.Len, "invalid")
		return h.Len, h.DCID
	}
	payload, err := packet.Open(pkt, hdrLen, pn, &keys.AEAD)
	if err != nil {
		c.stats.RecvDecryptionFailures++
		c.traceDrop(now, h.Type, h.Len, "decryption_failure")
		return h.Len, h.DCID
	}
	if switchWrite != nil {
		c.commitVersion(h.Version, keys, switchWrite)
	}
	if c.side == Client && sp == recovery.SpaceInitial && !c.onServerInitial(h.SCID) {
		c.traceDrop(now, h.Type, h.Len, "rejected")
		return h.Len, h.DCID
	}
	if c.side == Server && sp == recovery.SpaceInitial {
		c.onClientInitial(h.SCID)
	}
	if sp == recovery.SpaceHandshake && c.side == Server {
		// A Handshake packet proves the client's address (RFC 9000 §8.1)
		// and ends the server's use of Initial keys (RFC 9001 §4.9.1).
		c.path.validated = true
		c.loss.SetAmplificationLimited(false)
		c.discardSpace(recovery.SpaceInitial)
	}
	c.onPacketOpened(now, d, sp, h.Type, pn, pkt, payload, h.DCID)
	return h.Len, h.DCID
}

// fixedBitOK reports whether a packet's fixed bit is acceptable: it must
// be set (RFC 9000 §17.2, §17.3.1) unless we advertised grease_quic_bit
// (RFC 9287 §3).
func (c *Conn) fixedBitOK(b0 byte) bool {
	return b0&wire.FixedBit != 0 || c.set.GreaseQUICBit
}

// onServerInitial records the server's Source Connection ID from its first
// Initial packet (RFC 9000 §7.2); later Initials must carry the same one,
// but for one exception: until the server's handshake data starts, an
// Initial with another ID replaces it. MsQuic's server acknowledges the
// first datagram of a ClientHello that spans two (Go's X25519MLKEM768 key
// share makes it so) with the client's original Destination Connection ID
// as its Source Connection ID, a placeholder until its listener accepts
// the connection, and sends its ServerHello from a new ID; held to the
// first, the client dropped the ServerHello whenever the second datagram
// was lost or late. The initial_source_connection_id check (§7.3) still
// binds the ID kept to the server's handshake.
func (c *Conn) onServerInitial(scid []byte) bool {
	if c.cids.peerInitialSCID != nil {
		if bytes.Equal(scid, c.cids.peerInitialSCID) {
			return true
		}
		if c.hs == nil || c.hs.Received(int(recovery.SpaceInitial)) > 0 {
			return false
		}
	}
	c.cids.peerInitialSCID = bytes.Clone(scid)
	c.cids.remote[0].cid = makeConnID(scid)
	return true
}

// onClientInitial takes the client's Source Connection ID from the first
// Initial packet that opens (RFC 9000 §7.2). The connection was made for
// a datagram whose header nothing had authenticated yet: when that
// datagram was corrupted in its Source Connection ID, its packet failed
// to open, and the server would have sent its every packet to an ID the
// client does not have.
func (c *Conn) onClientInitial(scid []byte) {
	if c.spaces[recovery.SpaceInitial].acks.LargestReceived() >= 0 || bytes.Equal(scid, c.cids.peerInitialSCID) {
		return
	}
	c.cids.peerInitialSCID = bytes.Clone(scid)
	c.cids.remote[0].cid = makeConnID(scid)
}

// processShortPacket handles a 1-RTT packet (always the last in a datagram).
func (c *Conn) processShortPacket(now mono.Time, d *Datagram, data, first []byte) {
	n := c.cidLen
	if len(data) < 1+n+4+packet.TagLen {
		c.traceDrop(now, wire.Packet1RTT, len(data), "invalid")
		return // too short for a header-protection sample (RFC 9001 §5.4.2)
	}
	dcid := data[1 : 1+n]
	if first != nil && !bytes.Equal(dcid, first) || !c.fixedBitOK(data[0]) {
		c.traceDrop(now, wire.Packet1RTT, len(data), "invalid")
		return
	}
	var tail [16]byte
	copy(tail[:], data[len(data)-16:])
	if !c.cids.isLocal(dcid) {
		if !c.checkStatelessReset(now, tail[:]) {
			c.traceDrop(now, wire.Packet1RTT, len(data), "connection_unknown")
		}
		return
	}
	if c.app.readCur == nil {
		c.bufferPacket(d, data, recovery.SpaceApp)
		if c.side == Client {
			// Without Handshake keys: the server's Initial packets were
			// lost (RFC 9002 §6.2.3); speedUpHandshake checks.
			c.speedUpHandshake(now)
		}
		return
	}
	s := c.spaces[recovery.SpaceApp]
	pn, hdrLen, ok := packet.Unprotect(data, 1+n, &c.app.readCur.HP, s.acks.LargestReceived())
	if !ok {
		c.traceDrop(now, wire.Packet1RTT, len(data), "invalid")
		return
	}
	phase := packet.KeyPhase(data[0])
	keys, next := c.app.readKeys(phase, pn)
	if keys == nil {
		c.traceDrop(now, wire.Packet1RTT, len(data), "key_unavailable")
		return
	}
	payload, err := packet.Open(data, hdrLen, pn, &keys.AEAD)
	if err != nil {
		c.stats.RecvDecryptionFailures++
		if c.checkStatelessReset(now, tail[:]) {
			return
		}
		c.traceDrop(now, wire.Packet1RTT, len(data), "decryption_failure")
		if c.app.onOpenFailed() {
			c.closeWithError(now, &wire.Error{Code: wire.AEADLimitReached, Reason: "too many packets failed authentication"})
		}
		return
	}
	if s.acks.IsDuplicate(pn) {
		c.stats.RecvDuplicatePackets++
		c.traceDrop(now, wire.Packet1RTT, len(data), "duplicate")
		return
	}
	c.onOpened(now, phase, pn, next)
	c.onPeerUsedLocal(dcid)
	c.onPacketOpened(now, d, recovery.SpaceApp, wire.Packet1RTT, pn, data, payload, dcid)
}

// checkStatelessReset closes the connection if tail is the stateless reset
// token of one of the peer's connection IDs that we used: the tokens of
// IDs never used MUST NOT be checked (RFC 9000 §10.3.1).
func (c *Conn) checkStatelessReset(now mono.Time, tail []byte) bool {
	for i := range c.cids.remote {
		r := &c.cids.remote[i]
		if (i == 0 || r.used) && r.hasToken && token.EqualResetToken(r.token[:], tail) {
			c.traceStatelessReset(now, tail)
			c.closeLocal(now, ReasonStatelessReset, true)
			return true
		}
	}
	return false
}

// onPacketOpened processes an authenticated packet's frames; pkt is the
// whole packet, its header unprotected and payload opened in place.
func (c *Conn) onPacketOpened(now mono.Time, d *Datagram, sp recovery.Space, pt wire.PacketType, pn int64, pkt, payload, dcid []byte) {
	if packet.ReservedBitsSet(pkt[0]) {
		c.closeWithError(now, &wire.Error{Code: wire.ProtocolViolation, Reason: "reserved header bits set"})
		return
	}
	s := c.spaces[sp]
	if s.acks.IsDuplicate(pn) {
		c.stats.RecvDuplicatePackets++
		c.traceDrop(now, pt, len(pkt), "duplicate")
		return
	}
	if c.qlog != nil {
		c.traceReceived(now, sp, pt, pn, pkt, payload, dcid)
	}
	if c.life.closing() {
		c.scanForClose(now, payload)
		c.onPacketWhileClosing()
		return
	}
	if pn < s.acks.LargestReceived() {
		c.stats.RecvReorderedPackets++
	}
	ackEliciting, probing, err := c.handleFrames(now, sp, pt, payload, dcid)
	if err != nil {
		c.closeWithError(now, err)
		return
	}
	if c.life.state == stateDone {
		return
	}
	s.acks.OnPacketReceived(now, pn, ackEliciting, recovery.ECN(d.ECN&3))
	if pt == wire.Packet1RTT {
		if ackEliciting && c.elicitedSinceSent < 2 {
			c.elicitedSinceSent++
		}
		c.onPeerPath(now, d, pn, probing)
	}
	c.sentSinceReceive = false
	c.restartIdleTimer(now)
}

// scanForClose looks for CONNECTION_CLOSE in a packet received while
// closing, which ends the closing period early (RFC 9000 §10.2.2).
func (c *Conn) scanForClose(now mono.Time, payload []byte) {
	for len(payload) > 0 {
		typ, n := wire.ConsumeFrameType(payload)
		if n < 0 {
			return
		}
		if typ == wire.FrameConnectionCloseTransport || typ == wire.FrameConnectionCloseApp {
			app, code, ft, reason, m := wire.ConsumeConnectionClose(payload)
			if m > 0 {
				c.peerClosed(now, app, code, ft, reason)
			}
			return
		}
		m := skipFrame(typ, payload)
		if m <= 0 {
			return
		}
		payload = payload[m:]
	}
}

// bufferPacket keeps a copy of a packet whose keys are not available yet.
func (c *Conn) bufferPacket(d *Datagram, pkt []byte, sp recovery.Space) {
	if c.life.handshakeConfirmed || c.setup == nil || c.spaces[sp].discarded || len(c.setup.buffered) >= maxBufferedPackets {
		c.stats.RecvDroppedPackets++
		c.traceBuffered(pkt, false)
		return
	}
	meta := *d
	meta.Data, meta.Buf = nil, nil
	c.setup.buffered = append(c.setup.buffered, bufferedPacket{data: bytes.Clone(pkt), peer: meta})
	c.stats.RecvTotalPackets-- // counted again when it is replayed
	c.traceBuffered(pkt, true)
}

// replayBufferedPackets marks buffered packets for another attempt; they
// are replayed by Run after the current datagram, not from inside a TLS
// callback.
func (c *Conn) replayBufferedPackets() {
	if c.setup != nil && len(c.setup.buffered) > 0 {
		c.setup.replayPending = true
	}
}

func (c *Conn) replayBuffered(now mono.Time) {
	for c.setup != nil && c.setup.replayPending {
		c.setup.replayPending = false
		pending := c.setup.buffered
		c.setup.buffered = nil
		for i := range pending {
			if c.life.state == stateDone {
				return
			}
			d := pending[i].peer
			d.Data = pending[i].data
			c.processPackets(now, &d)
		}
	}
}
