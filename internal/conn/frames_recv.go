package conn

import (
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// handleFrames processes the frames of an authenticated packet. It reports
// whether the packet was ack-eliciting and whether it held only probing
// frames (RFC 9000 §9.1).
func (c *Conn) handleFrames(now mono.Time, sp recovery.Space, pt wire.PacketType, payload, dcid []byte) (ackEliciting, probing bool, err error) {
	if len(payload) == 0 {
		return false, false, &wire.Error{Code: wire.ProtocolViolation, Reason: "packet without frames"}
	}
	probing = true
	c.streams.in0RTT = pt == wire.Packet0RTT
	in := frameIn{now: now, sp: sp, pt: pt, dcid: dcid}
	for len(payload) > 0 {
		typ, n := wire.ConsumeFrameType(payload)
		if n < 0 {
			return false, false, &wire.Error{Code: wire.FrameEncodingError, Reason: "malformed frame type"}
		}
		if !wire.FrameAllowed(typ, wire.Packet1RTT) {
			// Every known frame type may appear in 1-RTT packets, so this
			// one is unknown (RFC 9000 §12.4: FRAME_ENCODING_ERROR).
			return false, false, &wire.Error{Code: wire.FrameEncodingError, FrameType: typ, Reason: "unknown frame type"}
		}
		if !wire.FrameAllowed(typ, pt) {
			return false, false, &wire.Error{Code: wire.ProtocolViolation, FrameType: typ,
				Reason: "frame not allowed in this packet type"}
		}
		ackEliciting = ackEliciting || wire.IsAckEliciting(typ)
		probing = probing && wire.IsProbing(typ)
		in.typ = typ
		n, err = c.handleFrame(&in, payload)
		if err != nil {
			// The CONNECTION_CLOSE names the type of the frame that
			// caused the error (RFC 9000 §19.19), such as 0x0e for a
			// STREAM frame with offset and length, not its family's.
			if we, ok := err.(*wire.Error); ok {
				we.FrameType = typ
			}
			return false, false, err
		}
		if n <= 0 {
			return false, false, &wire.Error{Code: wire.FrameEncodingError, FrameType: typ, Reason: "malformed frame"}
		}
		if c.life.closing() {
			return ackEliciting, probing, nil
		}
		payload = payload[n:]
	}
	return ackEliciting, probing, nil
}

// frameIn is what a frame's handler knows of the packet that carried it.
type frameIn struct {
	now  mono.Time
	sp   recovery.Space
	pt   wire.PacketType
	typ  uint64
	dcid []byte // the packet's destination connection ID
}

// handleFrame processes one frame, whose type is in.typ and whose encoding
// (after the type) starts b, and returns its length; a negative length
// means a malformed frame.
func (c *Conn) handleFrame(in *frameIn, b []byte) (int, error) {
	switch in.typ {
	case wire.FramePadding:
		return wire.ConsumePadding(b), nil
	case wire.FramePing:
		return wire.ConsumePing(b), nil
	case wire.FrameAck, wire.FrameAckECN:
		return c.recvAck(in, b)
	case wire.FrameCrypto:
		return c.recvCrypto(in, b)
	case wire.FrameStream, wire.FrameStream | 1, wire.FrameStream | 2, wire.FrameStream | 3,
		wire.FrameStream | 4, wire.FrameStream | 5, wire.FrameStream | 6, wire.FrameStream | 7:
		return c.recvStream(in, b)
	case wire.FrameResetStream:
		return c.recvResetStream(b)
	case wire.FrameStopSending:
		return c.recvStopSending(b)
	case wire.FrameMaxData:
		return c.recvMaxData(b)
	case wire.FrameMaxStreamData:
		return c.recvMaxStreamData(b)
	case wire.FrameMaxStreamsBidi, wire.FrameMaxStreamsUni:
		return c.recvMaxStreams(b)
	case wire.FrameDataBlocked:
		_, n := wire.ConsumeDataBlocked(b)
		return n, nil
	case wire.FrameStreamDataBlocked:
		return c.recvStreamDataBlocked(b)
	case wire.FrameStreamsBlockedBidi, wire.FrameStreamsBlockedUni:
		return c.recvStreamsBlocked(b)
	case wire.FrameNewConnectionID:
		return c.recvNewConnectionID(b)
	case wire.FrameRetireConnectionID:
		return c.recvRetireConnectionID(in, b)
	case wire.FramePathChallenge:
		return c.recvPathChallenge(b)
	case wire.FramePathResponse:
		return c.recvPathResponse(in, b)
	case wire.FrameConnectionCloseTransport, wire.FrameConnectionCloseApp:
		return c.recvConnectionClose(in, b)
	case wire.FrameHandshakeDone:
		return c.recvHandshakeDone(in, b)
	case wire.FrameNewToken:
		return c.recvNewToken(in, b)
	case wire.FrameDatagram, wire.FrameDatagramLen:
		return c.recvDatagram(in, b)
	}
	return 0, &wire.Error{Code: wire.FrameEncodingError, FrameType: in.typ, Reason: "unknown frame type"}
}

func (c *Conn) recvAck(in *frameIn, b []byte) (int, error) {
	f, n := wire.ConsumeAck(b)
	if n < 0 {
		return n, nil
	}
	return n, c.onAckFrame(in.now, in.sp, &f)
}

func (c *Conn) recvCrypto(in *frameIn, b []byte) (int, error) {
	off, data, n := wire.ConsumeCrypto(b)
	if n < 0 {
		return n, nil
	}
	return n, c.onCryptoFrame(in.now, in.sp, off, data)
}

func (c *Conn) recvStream(in *frameIn, b []byte) (int, error) {
	id, off, fin, data, n := wire.ConsumeStream(b)
	if n < 0 {
		return n, nil
	}
	return n, c.streams.onStreamFrame(c, in.now, id, off, data, fin, in.pt == wire.Packet0RTT)
}

func (c *Conn) recvResetStream(b []byte) (int, error) {
	id, code, size, n := wire.ConsumeResetStream(b)
	if n < 0 {
		return n, nil
	}
	return n, c.streams.onResetStream(c, id, code, size)
}

func (c *Conn) recvStopSending(b []byte) (int, error) {
	id, code, n := wire.ConsumeStopSending(b)
	if n < 0 {
		return n, nil
	}
	return n, c.streams.onStopSending(c, id, code)
}

func (c *Conn) recvMaxData(b []byte) (int, error) {
	v, n := wire.ConsumeMaxData(b)
	if n >= 0 {
		c.streams.onMaxData(c, v)
	}
	return n, nil
}

func (c *Conn) recvMaxStreamData(b []byte) (int, error) {
	id, v, n := wire.ConsumeMaxStreamData(b)
	if n < 0 {
		return n, nil
	}
	return n, c.streams.onMaxStreamData(c, id, v)
}

func (c *Conn) recvMaxStreams(b []byte) (int, error) {
	bidi, v, n := wire.ConsumeMaxStreams(b)
	if n >= 0 {
		c.streams.onMaxStreams(c, bidi, v)
	}
	return n, nil
}

func (c *Conn) recvStreamDataBlocked(b []byte) (int, error) {
	id, _, n := wire.ConsumeStreamDataBlocked(b)
	if n < 0 {
		return n, nil
	}
	return n, c.streams.onStreamDataBlocked(c, id)
}

// recvStreamsBlocked tells the application that the peer wants more
// streams (MsQuic's PEER_NEEDS_STREAMS).
func (c *Conn) recvStreamsBlocked(b []byte) (int, error) {
	bidi, _, n := wire.ConsumeStreamsBlocked(b)
	if n >= 0 && c.events != nil {
		c.events.PeerNeedsStreams(bidi)
	}
	return n, nil
}

func (c *Conn) recvNewConnectionID(b []byte) (int, error) {
	seq, rpt, cid, tok, n := wire.ConsumeNewConnectionID(b)
	if n < 0 {
		return n, nil
	}
	return n, c.onNewConnectionID(seq, rpt, cid, tok)
}

func (c *Conn) recvRetireConnectionID(in *frameIn, b []byte) (int, error) {
	seq, n := wire.ConsumeRetireConnectionID(b)
	if n < 0 {
		return n, nil
	}
	return n, c.onRetireConnectionID(seq, in.dcid)
}

func (c *Conn) recvPathChallenge(b []byte) (int, error) {
	data, n := wire.ConsumePathChallenge(b)
	if n > 0 {
		c.path.onChallenge(c, data, c.rxd.Peer, c.rxd.Local, len(c.rxd.Data))
	}
	return n, nil
}

func (c *Conn) recvPathResponse(in *frameIn, b []byte) (int, error) {
	data, n := wire.ConsumePathResponse(b)
	if n > 0 {
		c.onPathResponse(in.now, data)
	}
	return n, nil
}

func (c *Conn) recvConnectionClose(in *frameIn, b []byte) (int, error) {
	app, code, ft, reason, n := wire.ConsumeConnectionClose(b)
	if n > 0 {
		c.peerClosed(in.now, app, code, ft, reason)
	}
	return n, nil
}

// recvHandshakeDone confirms a client's handshake (RFC 9001 §4.1.2); only
// a server may send HANDSHAKE_DONE (RFC 9000 §19.20).
func (c *Conn) recvHandshakeDone(in *frameIn, b []byte) (int, error) {
	n := wire.ConsumeHandshakeDone(b)
	if c.side == Server {
		return n, &wire.Error{Code: wire.ProtocolViolation, FrameType: in.typ, Reason: "HANDSHAKE_DONE from a client"}
	}
	c.confirmHandshake()
	c.loss.SetPeerAddressValidated()
	return n, nil
}

// recvNewToken keeps a token for the next connection; only a server may
// send NEW_TOKEN (RFC 9000 §19.7).
func (c *Conn) recvNewToken(in *frameIn, b []byte) (int, error) {
	tok, n := wire.ConsumeNewToken(b)
	if n < 0 {
		return n, nil
	}
	if c.side == Server {
		return n, &wire.Error{Code: wire.ProtocolViolation, FrameType: in.typ, Reason: "NEW_TOKEN from a client"}
	}
	c.onNewToken(tok)
	return n, nil
}

func (c *Conn) recvDatagram(in *frameIn, b []byte) (int, error) {
	data, n := wire.ConsumeDatagram(b)
	if n < 0 {
		return n, nil
	}
	return n, c.datagrams.onReceived(c, data, in.pt == wire.Packet0RTT)
}

// onAckFrame feeds an ACK frame to loss recovery (RFC 9002 §5–6).
func (c *Conn) onAckFrame(now mono.Time, sp recovery.Space, f *wire.AckFrame) error {
	c.ackRanges = c.ackRanges[:0]
	it := f.Iter()
	for {
		lo, hi, ok := it.Next()
		if !ok {
			break
		}
		c.ackRanges = append(c.ackRanges, recovery.AckRange{Smallest: lo, Largest: hi})
	}
	// Initial and Handshake ACK frames are sent before the peer's
	// ack_delay_exponent can be known: they use the default, 3
	// (RFC 9000 §18.2).
	exp := uint64(ackDelayExponent)
	if sp == recovery.SpaceApp && c.hasPeerTP {
		exp = uint64(c.peerTP.ackDelayExponent)
	}
	delay := time.Duration(min(f.Delay<<exp, uint64(1<<40))) * time.Microsecond
	var ecn *recovery.ECNCounts
	if f.ECN {
		c.ecnRecv = recovery.ECNCounts{ECT0: f.ECT0, ECT1: f.ECT1, CE: f.CE}
		ecn = &c.ecnRecv
	}
	before := c.loss.Stats().BytesInFlight
	if err := c.loss.OnAckReceived(now, sp, c.ackRanges, delay, ecn, c); err != nil {
		return &wire.Error{Code: wire.ProtocolViolation, FrameType: wire.FrameAck, Reason: err.Error()}
	}
	c.stats.RecvValidAckFrames++
	if c.qlog != nil {
		c.traceRecovery(now)
	}
	if sp == recovery.SpaceHandshake && c.side == Client {
		c.loss.SetPeerAddressValidated()
	}
	if c.loss.Stats().BytesInFlight != before {
		c.onAckProgress(now)
	}
	return nil
}

// onCryptoFrame feeds handshake data to TLS, or, on a server that has no
// configuration yet, to the ClientHello buffer.
func (c *Conn) onCryptoFrame(now mono.Time, sp recovery.Space, off uint64, data []byte) error {
	if c.hs == nil {
		if sp != recovery.SpaceInitial || c.side != Server || c.setup == nil || c.setup.accept == nil {
			return &wire.Error{Code: wire.ProtocolViolation, FrameType: wire.FrameCrypto, Reason: "unexpected CRYPTO frame"}
		}
		return c.setup.accept.onCrypto(c, now, off, data)
	}
	if sp == recovery.SpaceInitial && c.side == Server && len(data) > 0 && off+uint64(len(data)) <= c.hs.Received(int(sp)) {
		// Duplicate CRYPTO data: the client did not get all of ours
		// (RFC 9002 §6.2.3).
		c.speedUpHandshake(now)
	}
	return c.hs.HandleCrypto(int(sp), off, data)
}

// skipFrame returns the length of the frame at the start of b, or ≤ 0.
func skipFrame(typ uint64, b []byte) int {
	var n int
	switch {
	case typ == wire.FramePadding:
		n = wire.ConsumePadding(b)
	case typ == wire.FramePing, typ == wire.FrameHandshakeDone:
		n = wire.ConsumePing(b)
	case typ == wire.FrameAck || typ == wire.FrameAckECN:
		_, n = wire.ConsumeAck(b)
	case typ == wire.FrameCrypto:
		_, _, n = wire.ConsumeCrypto(b)
	case typ >= wire.FrameStream && typ <= wire.FrameStream|0x07:
		_, _, _, _, n = wire.ConsumeStream(b)
	case typ == wire.FrameResetStream:
		_, _, _, n = wire.ConsumeResetStream(b)
	case typ == wire.FrameStopSending:
		_, _, n = wire.ConsumeStopSending(b)
	case typ == wire.FrameNewToken:
		_, n = wire.ConsumeNewToken(b)
	case typ == wire.FrameMaxData:
		_, n = wire.ConsumeMaxData(b)
	case typ == wire.FrameMaxStreamData:
		_, _, n = wire.ConsumeMaxStreamData(b)
	case typ == wire.FrameMaxStreamsBidi || typ == wire.FrameMaxStreamsUni:
		_, _, n = wire.ConsumeMaxStreams(b)
	case typ == wire.FrameDataBlocked:
		_, n = wire.ConsumeDataBlocked(b)
	case typ == wire.FrameStreamDataBlocked:
		_, _, n = wire.ConsumeStreamDataBlocked(b)
	case typ == wire.FrameStreamsBlockedBidi || typ == wire.FrameStreamsBlockedUni:
		_, _, n = wire.ConsumeStreamsBlocked(b)
	case typ == wire.FrameNewConnectionID:
		_, _, _, _, n = wire.ConsumeNewConnectionID(b)
	case typ == wire.FrameRetireConnectionID:
		_, n = wire.ConsumeRetireConnectionID(b)
	case typ == wire.FramePathChallenge:
		_, n = wire.ConsumePathChallenge(b)
	case typ == wire.FramePathResponse:
		_, n = wire.ConsumePathResponse(b)
	case typ == wire.FrameDatagram || typ == wire.FrameDatagramLen:
		_, n = wire.ConsumeDatagram(b)
	}
	return n
}
