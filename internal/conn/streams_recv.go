package conn

import (
	"errors"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/stream"
	"github.com/hquic/quic/internal/wire"
)

// streamError turns an error of the stream package into the connection
// error to close with.
func streamError(err error, frameType uint64) error {
	var se *stream.Error
	if errors.As(err, &se) {
		return &wire.Error{Code: wire.ErrorCode(se.Code), FrameType: frameType, Reason: se.Reason}
	}
	return err
}

// incoming finds (and, for new peer streams, opens) the stream a received
// frame addresses. It returns nil for a stream that is already gone.
func (st *streamState) incoming(c *Conn, id uint64, part stream.Part, frameType uint64) (*Stream, error) {
	e, open, err := st.set.Incoming(stream.ID(id), part)
	if err != nil {
		return nil, streamError(err, frameType)
	}
	if e != nil {
		return e.Stream, nil
	}
	sid := stream.ID(id)
	for ; open > 0; open-- {
		ne := st.set.OpenPeer(sid.Bidi())
		if ne == nil {
			return nil, &wire.Error{Code: wire.StreamLimitError, FrameType: frameType, Reason: "stream limit exceeded"}
		}
		s := &Stream{c: c, entry: ne, id: ne.ID(), uni: !sid.Bidi(), started: true, partsReady: true, priority: stream.DefaultPriority}
		ne.Stream = s
		st.setupParts(c, s)
		st.peerStarted(c, s)
		if ne.ID() == sid {
			return s, nil
		}
	}
	return nil, nil
}

// peerStarted raises PEER_STREAM_STARTED; a rejection aborts the stream.
func (st *streamState) peerStarted(c *Conn, s *Stream) {
	if c.events == nil {
		return
	}
	var flags uint32
	if s.uni {
		flags |= StreamOpenUnidirectional
	}
	if st.in0RTT {
		flags |= StreamOpen0RTT
	}
	if err := c.events.PeerStreamStarted(s, flags); err != nil {
		st.abort(c, s, StreamShutdownAbortSend|StreamShutdownAbortReceive, 0)
		s.shutdownDone = true
	}
}

// onStreamFrame handles a STREAM frame (RFC 9000 §19.8).
func (st *streamState) onStreamFrame(c *Conn, now mono.Time, id, off uint64, data []byte, fin, zeroRTT bool) error {
	s, err := st.incoming(c, id, stream.PartRecv, wire.FrameStream)
	if s == nil || err != nil {
		return err
	}
	grown, freed, err := s.recv.OnData(off, data, fin)
	if err != nil {
		return streamError(err, wire.FrameStream)
	}
	if err := st.onConnRecvGrown(grown); err != nil {
		return err
	}
	st.onConnCredit(c, now, freed)
	c.stats.RecvTotalStreamBytes += uint64(len(data))
	if zeroRTT {
		s.zeroRTTRecvEnd = max(s.zeroRTTRecvEnd, off+uint64(len(data)))
	}
	st.queueRecv(s)
	if s.recv.NeedsMaxStreamData() {
		st.queueCtrl(s)
	}
	return nil
}

// onResetStream handles RESET_STREAM (RFC 9000 §19.4).
func (st *streamState) onResetStream(c *Conn, id, code, finalSize uint64) error {
	s, err := st.incoming(c, id, stream.PartRecv, wire.FrameResetStream)
	if s == nil || err != nil {
		return err
	}
	grown, freed, err := s.recv.OnReset(code, finalSize)
	if err != nil {
		return streamError(err, wire.FrameResetStream)
	}
	if err := st.onConnRecvGrown(grown); err != nil {
		return err
	}
	st.onConnCredit(c, c.now, freed)
	st.afterStateChange(c, s)
	return nil
}

// onStopSending handles STOP_SENDING (RFC 9000 §19.5): the send part is
// reset with the peer's code and the application hears of it.
func (st *streamState) onStopSending(c *Conn, id, code uint64) error {
	s, err := st.incoming(c, id, stream.PartSend, wire.FrameStopSending)
	if s == nil || err != nil {
		return err
	}
	if s.send.OnStopSending(code) {
		st.queueCtrl(s)
		if c.events != nil && !s.shutdownDone {
			c.events.StreamPeerReceiveAborted(s, code)
		}
	}
	st.afterStateChange(c, s)
	return nil
}

// onMaxStreamData handles MAX_STREAM_DATA (RFC 9000 §19.10).
func (st *streamState) onMaxStreamData(c *Conn, id, v uint64) error {
	s, err := st.incoming(c, id, stream.PartSend, wire.FrameMaxStreamData)
	if s == nil || err != nil {
		return err
	}
	before := s.send.Limit()
	if s.send.OnMaxStreamData(v) {
		st.schedule(s)
	}
	if s.send.Limit() > before {
		st.adjustIdealSendBuffer(c, s)
	}
	return nil
}

// onStreamDataBlocked handles STREAM_DATA_BLOCKED: it only validates the
// stream (RFC 9000 §19.13); our windows are updated as data is consumed.
func (st *streamState) onStreamDataBlocked(c *Conn, id uint64) error {
	_, err := st.incoming(c, id, stream.PartRecv, wire.FrameStreamDataBlocked)
	return err
}

// onMaxData handles MAX_DATA (RFC 9000 §19.9). appendData unschedules a
// stream that the connection limit blocks, so every stream with unsent
// data is scheduled again when the limit rises.
func (st *streamState) onMaxData(c *Conn, v uint64) {
	if !st.connSend.OnMaxData(v) {
		return
	}
	for e := range st.set.All() {
		if s := e.Stream; s.send.Queued() > s.send.Sent() {
			st.set.Schedule(e)
		}
	}
}

// onMaxStreams handles MAX_STREAMS (RFC 9000 §19.11).
func (st *streamState) onMaxStreams(c *Conn, bidi bool, v uint64) {
	raised, from, to, err := st.set.OnMaxStreams(bidi, v)
	if err != nil || !raised {
		return
	}
	side := st.set.Local()
	for i := from; i < to; i++ {
		e := st.set.Get(stream.IDFromIndex(side, bidi, i))
		if e == nil {
			continue
		}
		s := e.Stream
		s.peerAccepted = true
		st.set.Schedule(e)
		if s.indicateAccept && c.events != nil && !s.shutdownDone {
			c.events.StreamPeerAccepted(s)
		}
	}
	if c.events != nil {
		c.events.StreamsAvailable(st.set.Available(true), st.set.Available(false))
	}
}

// deliverReceives raises RECEIVE, PEER_SEND_SHUTDOWN and PEER_SEND_ABORTED
// for streams with news, after a batch of packets (MsQuic
// FLUSH_STREAM_RECV).
func (st *streamState) deliverReceives(c *Conn) {
	// Index the queue rather than reslicing its front away, so its storage
	// is reused from run to run; deliver may append to it.
	for i := 0; i < len(st.recvReady); i++ {
		s := st.recvReady[i]
		st.recvReady[i] = nil
		s.recvQueued = false
		st.deliver(c, s)
		if c.life.state == stateDone {
			return
		}
	}
	st.recvReady = st.recvReady[:0]
}

// deliver indicates what stream s has for the application.
func (st *streamState) deliver(c *Conn, s *Stream) {
	for !s.recvDisabled && !s.recvPending && !s.shutdownDone && c.events != nil {
		off, bufs, fin := s.recv.Readable()
		if len(bufs) == 0 && !fin {
			break
		}
		var total uint64
		for _, b := range bufs {
			total += uint64(len(b))
		}
		consumed, result := c.events.StreamReceive(s, off, bufs, fin, off < s.zeroRTTRecvEnd)
		if result == ReceivePending {
			s.recvPending = true
			s.indicated = total
			break
		}
		consumed = min(consumed, total)
		st.consume(c, s, consumed)
		if result == ReceiveDone && consumed < total {
			s.recvDisabled = true
		}
		if consumed == 0 && total > 0 && result == ReceiveContinue {
			break
		}
		if fin && consumed == total {
			break
		}
	}
	ev := s.pendingRecvEvents | s.recv.TakeEvents()
	s.pendingRecvEvents = 0
	if ev&stream.EventPeerSendAborted != 0 {
		// An application that aborted its receive direction is not told
		// of the peer's answering RESET_STREAM (MsQuic semantics).
		if c.events != nil && !s.shutdownDone && !s.recvAborted {
			c.events.StreamPeerSendAborted(s, s.recv.ResetCode())
		}
		s.recv.OnResetRead()
	}
	if ev&stream.EventPeerSendShutdown != 0 && c.events != nil && !s.shutdownDone {
		c.events.StreamPeerSendShutdown(s)
	}
	st.afterStateChange(c, s)
}

// consume releases n indicated bytes and returns their credit.
func (st *streamState) consume(c *Conn, s *Stream, n uint64) {
	if err := s.recv.Consume(c.now, n, c.loss.RTT().Smoothed); err != nil {
		return
	}
	st.onConnCredit(c, c.now, n)
	if s.recv.NeedsMaxStreamData() {
		st.queueCtrl(s)
	}
}
