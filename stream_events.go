package quic

import (
	"github.com/hquic/quic/internal/conn"
)

// The conn.StreamEvents half of connEvents: stream events, delivered with
// the connection's reused event values to the stream's handler.

func handleOf(cs *conn.Stream) *Stream { return cs.Handle.(*Stream) }

// PeerStreamStarted implements conn.StreamEvents: it creates the handle
// for a peer stream and raises PeerStreamStartedEvent. A handler error, or
// no stream handler set, rejects the stream.
func (e *connEvents) PeerStreamStarted(cs *conn.Stream, flags uint32) error {
	s := &Stream{c: e.c(), flags: StreamOpenFlags(flags), peer: true, state: streamStarted, eng: cs, earlyComplete: -1,
		priority: defaultStreamPriority}
	s.id.Store(cs.ID() + 1)
	cs.Handle = s
	ev := &e.ev.peerStream
	*ev = PeerStreamStartedEvent{Stream: s, Flags: StreamOpenFlags(flags)}
	if err := e.c().dispatch(ev); err != nil {
		return err
	}
	if s.handler.Load() == nil {
		return errNoStreamHandler
	}
	if ev.Flags&StreamOpenDelayIDFCUpdates != 0 {
		cs.SetDelayIDFCUpdates()
	}
	return nil
}

// errNoStreamHandler rejects a peer stream the application gave no handler.
var errNoStreamHandler = opError("PeerStreamStartedEvent", StatusInvalidState, "no stream handler set")

// StreamStartComplete implements conn.StreamEvents.
func (e *connEvents) StreamStartComplete(cs *conn.Stream, st conn.StartStatus, id uint64, accepted bool) {
	s := handleOf(cs)
	ev := &e.ev.startComplete
	*ev = StartCompleteEvent{Status: startStatus(st), PeerAccepted: accepted}
	if st == conn.StartOK {
		ev.ID = id
		s.id.Store(id + 1)
	}
	s.dispatch(ev)
}

func startStatus(st conn.StartStatus) Status {
	switch st {
	case conn.StartStreamLimitReached:
		return StatusStreamLimitReached
	case conn.StartInvalidState:
		return StatusInvalidState
	case conn.StartAborted:
		return StatusAborted
	}
	return StatusSuccess
}

// StreamReceive implements conn.StreamEvents with MsQuic's receive
// contract (see ReceiveEvent).
func (e *connEvents) StreamReceive(cs *conn.Stream, off uint64, bufs [][]byte, fin, zeroRTT bool) (uint64, conn.ReceiveResult) {
	s := handleOf(cs)
	var total uint64
	for _, b := range bufs {
		total += uint64(len(b))
	}
	ev := &e.ev.receive
	*ev = ReceiveEvent{AbsoluteOffset: off, TotalBufferLength: total, Buffers: bufs}
	if fin {
		ev.Flags |= ReceiveFIN
	}
	if zeroRTT {
		ev.Flags |= Receive0RTT
	}
	c := e.c()
	c.mu.Lock()
	s.state |= streamInReceive
	s.offered, s.earlyComplete = total, -1
	c.mu.Unlock()
	err := s.dispatch(ev)
	consumed := min(ev.TotalBufferLength, total)
	c.mu.Lock()
	defer c.mu.Unlock()
	s.state &^= streamInReceive
	switch {
	case err == Pending && s.earlyComplete >= 0:
		return uint64(s.earlyComplete), conn.ReceiveDone
	case err == Pending:
		s.state |= streamPending
		return 0, conn.ReceivePending
	case err == Continue:
		return consumed, conn.ReceiveContinue
	}
	return consumed, conn.ReceiveDone
}

// StreamSendComplete implements conn.StreamEvents.
func (e *connEvents) StreamSendComplete(cs *conn.Stream, ctx any, canceled bool) {
	ev := &e.ev.sendComplete
	*ev = SendCompleteEvent{Canceled: canceled, SendContext: ctx}
	handleOf(cs).dispatch(ev)
}

// StreamPeerSendShutdown implements conn.StreamEvents.
func (e *connEvents) StreamPeerSendShutdown(cs *conn.Stream) {
	handleOf(cs).dispatch(&e.ev.peerShutdown)
}

// StreamPeerSendAborted implements conn.StreamEvents.
func (e *connEvents) StreamPeerSendAborted(cs *conn.Stream, code uint64) {
	ev := &e.ev.peerAborted
	*ev = PeerSendAbortedEvent{ErrorCode: code}
	handleOf(cs).dispatch(ev)
}

// StreamPeerReceiveAborted implements conn.StreamEvents.
func (e *connEvents) StreamPeerReceiveAborted(cs *conn.Stream, code uint64) {
	ev := &e.ev.peerRecvAbort
	*ev = PeerReceiveAbortedEvent{ErrorCode: code}
	handleOf(cs).dispatch(ev)
}

// StreamSendShutdownComplete implements conn.StreamEvents.
func (e *connEvents) StreamSendShutdownComplete(cs *conn.Stream, graceful bool) {
	ev := &e.ev.sendShutdown
	*ev = SendShutdownCompleteEvent{Graceful: graceful}
	handleOf(cs).dispatch(ev)
}

// StreamShutdownComplete implements conn.StreamEvents.
func (e *connEvents) StreamShutdownComplete(cs *conn.Stream, info conn.StreamShutdownInfo) {
	ev := &e.ev.streamComplete
	*ev = StreamShutdownCompleteEvent{
		ConnectionShutdown:       info.ConnectionShutdown,
		AppCloseInProgress:       info.AppCloseInProgress,
		ConnectionShutdownByApp:  info.ConnectionShutdownByApp,
		ConnectionClosedRemotely: info.ConnectionClosedRemotely,
		ConnectionErrorCode:      info.ConnectionErrorCode,
	}
	if info.ConnectionShutdown {
		ev.ConnectionCloseStatus, _ = closeStatus(info.ConnectionReason)
	}
	handleOf(cs).dispatch(ev)
}

// StreamIdealSendBufferSize implements conn.StreamEvents.
func (e *connEvents) StreamIdealSendBufferSize(cs *conn.Stream, n uint64) {
	ev := &e.ev.idealBuffer
	*ev = IdealSendBufferSizeEvent{ByteCount: n}
	handleOf(cs).dispatch(ev)
}

// StreamPeerAccepted implements conn.StreamEvents.
func (e *connEvents) StreamPeerAccepted(cs *conn.Stream) {
	handleOf(cs).dispatch(&e.ev.peerAccepted)
}

// StreamCancelOnLoss implements conn.StreamEvents.
func (e *connEvents) StreamCancelOnLoss(cs *conn.Stream) uint64 {
	ev := &e.ev.cancelOnLoss
	*ev = CancelOnLossEvent{}
	handleOf(cs).dispatch(ev)
	return min(ev.ErrorCode, MaxVarInt)
}
