package conn

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Packet events of the tracing glue (qlog.go).

// traceStage describes the packet the builder just finished, still in
// plaintext; commitSent logs it once its size is final.
func (c *Conn) traceStage(b *packet.Builder, pt wire.PacketType, pn int64, size int) {
	h := qlog.Header{Type: pt, PN: pn, Version: c.version, DCID: c.cids.dcid()}
	switch pt {
	case wire.Packet1RTT:
		h.KeyPhase = uint64(c.app.updates)
		if c.qlog.first1RTT < 0 {
			c.qlog.first1RTT = pn
		}
	case wire.PacketInitial:
		if c.side == Client && c.setup != nil {
			h.TokenLen = len(c.setup.initialToken)
		}
		fallthrough
	default:
		h.SCID = c.cids.scid()
	}
	c.qlog.StageSent(&h, size, b.PendingPayload(), ackDelayExponent)
}

// traceReceived logs an authenticated packet with its frames.
func (c *Conn) traceReceived(now mono.Time, sp recovery.Space, pt wire.PacketType, pn int64, pkt, payload, dcid []byte) {
	h := qlog.Header{Type: pt, PN: pn, Version: c.version, DCID: dcid}
	ackExp := uint8(ackDelayExponent)
	if pt == wire.Packet1RTT {
		h.KeyPhase = uint64(c.app.updates)
		if packet.KeyPhase(pkt[0]) != c.app.phase && h.KeyPhase > 0 {
			h.KeyPhase-- // opened with the previous keys
		}
		if c.hasPeerTP {
			ackExp = c.peerTP.ackDelayExponent
		}
	} else if lh, ok := wire.ParseLongHeader(pkt); ok {
		h.Version, h.SCID, h.TokenLen = lh.Version, lh.SCID, len(lh.Token)
	}
	c.qlog.PacketReceived(now, &h, len(pkt), payload, ackExp, "")
}

// traceDrop logs a packet the connection dropped, with qlog's reason.
func (c *Conn) traceDrop(now mono.Time, pt wire.PacketType, size int, trigger string) {
	c.stats.RecvDroppedPackets++ // every drop is traced; RecvDroppedPackets counts them
	if c.qlog != nil {
		h := qlog.Header{Type: pt, PN: -1}
		c.qlog.PacketDropped(now, &h, size, trigger)
	}
}

// traceBuffered logs a packet kept until its keys are available, or
// dropped because the buffer is full.
func (c *Conn) traceBuffered(pkt []byte, buffered bool) {
	if c.qlog == nil {
		return
	}
	h := qlog.Header{Type: wire.Packet1RTT, PN: -1}
	if wire.IsLongHeader(pkt[0]) {
		lh, _ := wire.ParseLongHeader(pkt)
		h.Type, h.Version, h.DCID, h.SCID = lh.Type, lh.Version, lh.DCID, lh.SCID
	}
	if buffered {
		c.qlog.PacketBuffered(c.now, &h, len(pkt))
	} else {
		c.qlog.PacketDropped(c.now, &h, len(pkt), "rejected")
	}
}

// traceLost logs a packet declared lost with the frames its record keeps.
func (c *Conn) traceLost(p *recovery.Sent) {
	typ := wire.Packet1RTT
	switch {
	case p.Space == recovery.SpaceInitial:
		typ = wire.PacketInitial
	case p.Space == recovery.SpaceHandshake:
		typ = wire.PacketHandshake
	case c.qlog.first1RTT < 0 || p.PN < c.qlog.first1RTT:
		typ = wire.Packet0RTT
	}
	// Recovery declares a packet lost three below the largest
	// acknowledged (RFC 9002 §6.1.1) or by the time threshold (§6.1.2).
	trigger := ""
	if largest := c.spaces[p.Space].largestAcked; largest >= p.PN+3 {
		trigger = "reordering_threshold"
	} else if largest > p.PN {
		trigger = "time_threshold"
	}
	e := c.qlog.BeginPacketLost(c.now, typ, p.PN, trigger, p.PMTUProbe)
	traceFrameLog(e, p.Frames)
	c.qlog.EndPacketLost()
}

// traceFrameLog describes the frames of a sent packet's record (sentlog.go):
// what the record keeps of each, which for some frames is only the type.
func traceFrameLog(e *qlog.Encoder, log []byte) {
	r := logReader(log)
	for len(r) > 0 {
		switch r.tag() {
		case logAck:
			r.varint()
			e.SimpleFrame("ack")
		case logCrypto:
			off, n := r.varint(), r.varint()
			e.CryptoFrame(off, int(n))
		case logStream:
			id, off, n, fin := r.varint(), r.varint(), r.varint(), r.varint()
			e.StreamFrame(id, off, int(n), fin != 0)
		case logResetStream:
			e.StreamIDFrame("reset_stream", r.varint())
		case logStopSending:
			e.StreamIDFrame("stop_sending", r.varint())
		case logMaxData:
			e.LimitFrame("max_data", "maximum", r.varint())
		case logMaxStreamData:
			id := r.varint()
			e.StreamLimitFrame("max_stream_data", "maximum", id, r.varint())
		case logMaxStreamsBidi:
			e.StreamsFrame("max_streams", "maximum", true, r.varint())
		case logMaxStreamsUni:
			e.StreamsFrame("max_streams", "maximum", false, r.varint())
		case logDataBlocked:
			e.LimitFrame("data_blocked", "limit", r.varint())
		case logStreamDataBlocked:
			id := r.varint()
			e.StreamLimitFrame("stream_data_blocked", "limit", id, r.varint())
		case logStreamsBlocked:
			bidi := r.varint() != 0
			e.StreamsFrame("streams_blocked", "limit", bidi, r.varint())
		case logNewCID:
			e.LimitFrame("new_connection_id", "sequence_number", r.varint())
		case logRetireCID:
			e.LimitFrame("retire_connection_id", "sequence_number", r.varint())
		case logHandshakeDone:
			e.SimpleFrame("handshake_done")
		case logNewToken:
			e.SimpleFrame("new_token")
		case logDatagram:
			r.varint()
			e.SimpleFrame("datagram")
		case logPMTUProbe:
			r.varint()
			r.varint()
			e.SimpleFrame("ping")
		default:
			return
		}
	}
}

// traceRetry logs an accepted Retry packet and the new Initial keys.
func (c *Conn) traceRetry(now mono.Time, pkt []byte) {
	if c.qlog == nil {
		return
	}
	if lh, ok := wire.ParseLongHeader(pkt); ok {
		h := qlog.Header{Type: wire.PacketRetry, PN: -1, Version: lh.Version, DCID: lh.DCID, SCID: lh.SCID, TokenLen: len(lh.Token)}
		c.qlog.PacketReceived(now, &h, len(pkt), nil, 0, "")
	}
	c.traceInitialKeys(now, "")
}

// traceVersionNegotiation logs a Version Negotiation packet the client
// acts on and the version it chooses.
func (c *Conn) traceVersionNegotiation(now mono.Time, pkt, dcid, scid, versions []byte) {
	if c.qlog == nil {
		return
	}
	h := qlog.Header{Type: wire.PacketVersionNegotiation, PN: -1, DCID: dcid, SCID: scid}
	c.qlog.VersionNegotiation(now, &h, len(pkt), versions)
	var server []uint32
	for b := versions; len(b) >= 4; b = b[4:] {
		server = append(server, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
	}
	var chosen uint32
	for _, v := range c.versions() {
		if chosen == 0 && wire.IsSupportedVersion(v) && wire.VersionListContains(versions, v) {
			chosen = v
		}
	}
	c.qlog.Versions(now, server, c.versions(), chosen)
}

// traceStatelessReset logs a stateless reset from the peer.
func (c *Conn) traceStatelessReset(now mono.Time, token []byte) {
	if c.qlog != nil {
		c.qlog.StatelessReset(now, token)
	}
}
