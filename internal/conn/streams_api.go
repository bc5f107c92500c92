package conn

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/stream"
)

// Stream API calls. Like every API call they queue an operation; the
// public package validates arguments and documents the errors.

// StreamStart starts s (MsQuic StreamStart); START_COMPLETE reports the
// outcome. StreamStartPriorityWork queues it ahead of normal operations.
func (c *Conn) StreamStart(s *Stream, flags uint32) {
	c.enqueue(lane(flags&StreamStartPriorityWork != 0), op{kind: opStreamStart, s: s, flags: flags})
}

// StreamSend queues bufs (and a FIN) on s; SEND_COMPLETE returns ctx.
// SendFlagPriorityWork queues it ahead of normal operations.
func (c *Conn) StreamSend(s *Stream, bufs [][]byte, flags uint32, ctx any) {
	s.queuedSends.Add(1)
	c.enqueue(lane(flags&SendFlagPriorityWork != 0), op{kind: opStreamSend, s: s, bufs: bufs, flags: flags, ctx: ctx})
}

// StreamShutdown shuts down one or both directions of s.
func (c *Conn) StreamShutdown(s *Stream, flags uint32, code uint64) {
	c.enqueue(laneNormal, op{kind: opStreamShutdown, s: s, flags: flags, code: code})
}

// StreamReceiveComplete completes a pending RECEIVE with n consumed bytes.
func (c *Conn) StreamReceiveComplete(s *Stream, n uint64) {
	c.enqueue(laneNormal, op{kind: opStreamReceiveComplete, s: s, n: n})
}

// StreamSetReceiveEnabled pauses or resumes RECEIVE events.
func (c *Conn) StreamSetReceiveEnabled(s *Stream, enabled bool) {
	var f uint32
	if enabled {
		f = 1
	}
	c.enqueue(laneNormal, op{kind: opStreamReceiveEnabled, s: s, flags: f})
}

// StreamClose reports that the application closed its stream handle. A
// stream not shut down is aborted in both directions with error code 0
// (MsQuic semantics); the only events that follow are the SEND_COMPLETE
// (canceled) of sends still pending, so each buffer comes back once.
func (c *Conn) StreamClose(s *Stream) {
	c.enqueue(laneNormal, op{kind: opStreamClose, s: s})
}

// StreamSetPriority changes the send priority of s.
func (c *Conn) StreamSetPriority(s *Stream, prio uint16) {
	c.enqueue(laneNormal, op{kind: opStreamSetPriority, s: s, n: uint64(prio)})
}

func lane(priority bool) int {
	if priority {
		return lanePriority
	}
	return laneNormal
}

// runOp executes a stream operation.
func (st *streamState) runOp(c *Conn, now mono.Time, o *op) {
	s := o.s
	st.ensureParts(c, s)
	switch o.kind {
	case opStreamStart:
		st.start(c, s, o.flags)
	case opStreamSend:
		s.queuedSends.Add(-1)
		st.send(c, s, o)
	case opStreamShutdown:
		st.shutdown(c, s, o.flags, o.code)
	case opStreamReceiveComplete:
		if !s.recvPending {
			return
		}
		s.recvPending = false
		if o.n < s.indicated {
			s.recvDisabled = true
		}
		st.consume(c, s, min(o.n, s.indicated))
		st.queueRecv(s)
	case opStreamReceiveEnabled:
		s.recvDisabled = o.flags == 0
		if !s.recvDisabled {
			st.queueRecv(s)
		}
	case opStreamClose:
		st.closeStream(c, s)
	case opStreamSetPriority:
		s.priority = uint16(o.n)
		if s.entry != nil {
			st.set.SetPriority(s.entry, s.priority)
		}
	}
}

// ensureParts sets up a local stream's send and receive parts the first
// time an operation touches it.
func (st *streamState) ensureParts(c *Conn, s *Stream) {
	if s.partsReady {
		return
	}
	s.partsReady = true
	st.setupParts(c, s)
	if !s.started {
		st.unstarted = append(st.unstarted, s)
	}
}

// start assigns the stream its ID (MsQuic StreamStart semantics).
func (st *streamState) start(c *Conn, s *Stream, flags uint32) {
	if s.started || s.appClosed {
		return
	}
	fail := func(status StartStatus) {
		if c.events != nil {
			c.events.StreamStartComplete(s, status, 0, false)
		}
		if flags&StreamStartShutdownOnFail != 0 {
			st.dropUnstarted(c, s, true)
		}
	}
	switch {
	case c.life.closing() && c.life.reason.Remote:
		fail(StartAborted)
		return
	case c.life.closing():
		fail(StartInvalidState)
		return
	case flags&StreamStartFailBlocked != 0 && st.set.Available(!s.uni) == 0:
		st.set.MarkBlocked(!s.uni)
		fail(StartStreamLimitReached)
		return
	}
	e, err := st.set.OpenLocal(!s.uni)
	if err != nil {
		fail(StartStreamLimitReached)
		return
	}
	st.removeUnstarted(s)
	e.Stream = s
	s.entry, s.id, s.started = e, e.ID(), true
	s.indicateAccept = flags&StreamStartIndicatePeerAccept != 0
	s.peerAccepted = st.set.Accepted(s.id)
	st.set.SetPriority(e, s.priority)
	if flags&StreamStartImmediate != 0 {
		s.announce = true
	}
	if c.events != nil {
		c.events.StreamStartComplete(s, StartOK, uint64(s.id), s.peerAccepted)
	}
	st.set.Schedule(e)
	st.queueCtrl(s)
	st.afterStateChange(c, s)
}

// send queues an application send.
func (st *streamState) send(c *Conn, s *Stream, o *op) {
	if o.flags&SendFlagStart != 0 && !s.started {
		st.start(c, s, 0)
	}
	if c.life.closing() || s.appClosed {
		st.cancelSend(c, s, o.ctx)
		return
	}
	if err := s.send.Queue(o.bufs, o.flags&SendFlagFIN != 0, o.ctx); err != nil {
		st.cancelSend(c, s, o.ctx)
		return
	}
	if o.flags&SendFlagCancelOnLoss != 0 {
		s.cancelOnLoss = true
	}
	s.sendDelayed = o.flags&SendFlagDelay != 0
	if o.flags&SendFlagAllow0RTT != 0 {
		// Like MsQuic, 0-RTT may carry the stream up to the end of the
		// latest send that allowed it.
		s.zeroRTTSendEnd = s.send.Queued()
		s.zeroRTTFin = o.flags&SendFlagFIN != 0
	}
	st.schedule(s)
	st.afterStateChange(c, s)
}

// cancelSend reports a send that could not be queued as canceled, so the
// application gets its buffers back exactly once. A send that arrives after
// the stream's SHUTDOWN_COMPLETE reports nothing, since that event is the
// last; the public package rejects such calls.
func (st *streamState) cancelSend(c *Conn, s *Stream, ctx any) {
	if c.events != nil && !s.appClosed && !s.shutdownDone {
		c.events.StreamSendComplete(s, ctx, true)
	}
}

// shutdown implements StreamShutdown's flags.
func (st *streamState) shutdown(c *Conn, s *Stream, flags uint32, code uint64) {
	if flags&StreamShutdownGraceful != 0 {
		if s.send.Queue(nil, true, finMarker{}) == nil {
			st.schedule(s)
		}
	}
	st.abort(c, s, flags, code)
	if flags&StreamShutdownImmediate != 0 && !s.shutdownDone {
		s.shutdownDone = true
		s.immediate = true
		if c.events != nil {
			c.events.StreamShutdownComplete(s, StreamShutdownInfo{AppCloseInProgress: s.appClosed})
		}
	}
	st.afterStateChange(c, s)
}

// abort resets the send direction and/or stops the receive direction.
func (st *streamState) abort(c *Conn, s *Stream, flags uint32, code uint64) {
	if flags&StreamShutdownAbortSend != 0 && s.send.Phase() != stream.SendNone {
		s.send.Reset(code)
		st.queueCtrl(s)
		st.schedule(s)
	}
	if flags&StreamShutdownAbortReceive != 0 && s.recv.Phase() != stream.RecvNone {
		s.recvAborted = true
		st.onConnCredit(c, c.now, s.recv.StopSending(code))
		st.queueCtrl(s)
	}
	st.reportSendCompletions(c, s)
}

// closeStream handles the application's StreamClose.
func (st *streamState) closeStream(c *Conn, s *Stream) {
	if s.appClosed {
		return
	}
	if !s.shutdownDone {
		s.appClosed = true
		s.shutdownDone = true // no events after close
		st.abort(c, s, StreamShutdownAbortSend|StreamShutdownAbortReceive, 0)
	}
	s.appClosed = true
	if !s.started {
		st.dropUnstarted(c, s, false)
		return
	}
	st.afterStateChange(c, s)
}

// dropUnstarted discards a stream that was never started.
func (st *streamState) dropUnstarted(c *Conn, s *Stream, notify bool) {
	st.removeUnstarted(s)
	s.send.Close()
	st.reportSendCompletions(c, s)
	if notify && !s.shutdownDone && c.events != nil {
		s.shutdownDone = true
		c.events.StreamShutdownComplete(s, StreamShutdownInfo{AppCloseInProgress: s.appClosed})
	}
	s.shutdownDone = true
}

func (st *streamState) removeUnstarted(s *Stream) {
	for i, u := range st.unstarted {
		if u == s {
			st.unstarted = append(st.unstarted[:i], st.unstarted[i+1:]...)
			return
		}
	}
}
