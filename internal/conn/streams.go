package conn

import (
	"sync/atomic"

	"github.com/hquic/quic/internal/flow"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/stream"
	"github.com/hquic/quic/internal/wire"
)

// Stream flag values, equal to MsQuic's; the public package defines its
// typed flags from these.
const (
	StreamOpenUnidirectional   = 0x1
	StreamOpen0RTT             = 0x2
	StreamOpenDelayIDFCUpdates = 0x4

	StreamStartImmediate          = 0x1
	StreamStartFailBlocked        = 0x2
	StreamStartShutdownOnFail     = 0x4
	StreamStartIndicatePeerAccept = 0x8
	StreamStartPriorityWork       = 0x10

	StreamShutdownGraceful     = 0x1
	StreamShutdownAbortSend    = 0x2
	StreamShutdownAbortReceive = 0x4
	StreamShutdownImmediate    = 0x8

	SendFlagAllow0RTT    = 0x1
	SendFlagStart        = 0x2
	SendFlagFIN          = 0x4
	SendFlagDelay        = 0x10
	SendFlagCancelOnLoss = 0x20
	SendFlagPriorityWork = 0x40
)

// StartStatus is the outcome reported in START_COMPLETE.
type StartStatus uint8

// Stream start outcomes.
const (
	StartOK                 StartStatus = iota
	StartStreamLimitReached             // FAIL_BLOCKED and the peer's limit is exhausted
	StartInvalidState                   // the connection was closed locally
	StartAborted                        // the connection was closed by the peer
)

// ReceiveResult is what the application's RECEIVE handler decided.
type ReceiveResult uint8

// RECEIVE outcomes (MsQuic's RECEIVE contract).
const (
	ReceiveDone     ReceiveResult = iota // consumed bytes; pause if not all
	ReceiveContinue                      // consumed bytes; indicate the rest now
	ReceivePending                       // the app keeps the data until ReceiveComplete
)

// StreamShutdownInfo describes a stream's SHUTDOWN_COMPLETE.
type StreamShutdownInfo struct {
	ConnectionShutdown       bool
	AppCloseInProgress       bool
	ConnectionShutdownByApp  bool
	ConnectionClosedRemotely bool
	ConnectionErrorCode      uint64
	ConnectionReason         CloseReason
}

// StreamEvents receives stream events; see Events for the calling rules.
type StreamEvents interface {
	// PeerStreamStarted reports a stream the peer opened; an error rejects
	// it (both directions are aborted).
	PeerStreamStarted(s *Stream, flags uint32) error
	StreamStartComplete(s *Stream, status StartStatus, id uint64, peerAccepted bool)
	// StreamReceive indicates data; it returns how many bytes were consumed
	// and what to do next.
	StreamReceive(s *Stream, off uint64, bufs [][]byte, fin, zeroRTT bool) (consumed uint64, r ReceiveResult)
	StreamSendComplete(s *Stream, ctx any, canceled bool)
	StreamPeerSendShutdown(s *Stream)
	StreamPeerSendAborted(s *Stream, code uint64)
	StreamPeerReceiveAborted(s *Stream, code uint64)
	StreamSendShutdownComplete(s *Stream, graceful bool)
	StreamShutdownComplete(s *Stream, info StreamShutdownInfo)
	StreamIdealSendBufferSize(s *Stream, n uint64)
	StreamPeerAccepted(s *Stream)
	// StreamCancelOnLoss reports that data of a stream in cancel-on-loss
	// mode (SendFlagCancelOnLoss) was lost; the stream is then aborted in
	// both directions with the returned code.
	StreamCancelOnLoss(s *Stream) (code uint64)
	// StreamClosing is called just before a stream's final events: from
	// then on the application's new sends on it must be refused
	// synchronously. Sends queued earlier complete as canceled.
	StreamClosing(s *Stream)
}

// Stream is one stream of a connection. Its fields are owned by the
// connection goroutine; Handle is the public package's value.
type Stream struct {
	// Handle belongs to the public package; the connection never reads it.
	Handle any

	c     *Conn
	entry *stream.Entry[*Stream]
	id    stream.ID
	uni   bool
	local bool

	send stream.SendState
	recv stream.RecvState

	started        bool
	priority       uint16
	announce       bool // send an empty STREAM frame (START_IMMEDIATE)
	recvDisabled   bool // RECEIVE paused (partial consumption or SetReceiveEnabled(false))
	recvPending    bool // the app returned Pending
	recvAborted    bool // the app aborted its receive direction (ABORT_RECEIVE)
	recvQueued     bool // in streamState.recvReady
	ctrlQueued     bool // in streamState.ctrl
	shutdownDone   bool // SHUTDOWN_COMPLETE delivered (or suppressed)
	appClosed      bool // the handle was closed
	immediate      bool // SHUTDOWN_COMPLETE was delivered early (IMMEDIATE)
	peerAccepted   bool
	indicateAccept bool
	delayIDFC      bool // keep the stream in the set until the handle closes
	cancelOnLoss   bool // a send had SendFlagCancelOnLoss (irreversible)
	lossCanceled   bool // lost data in cancel-on-loss mode (senddelay.go)
	lossAborted    bool // and was aborted for it
	sendDelayed    bool // the latest send had SendFlagDelay (senddelay.go)

	partsReady bool     // send and receive parts initialised
	traced     [2]uint8 // send and receive phases last traced (qlog.go)
	indicated  uint64   // bytes in the pending RECEIVE

	// pendingRecvEvents are receive-side events not yet indicated.
	pendingRecvEvents stream.Event

	zeroRTTRecvEnd uint64 // received data below this offset came in 0-RTT packets
	zeroRTTSendEnd uint64 // data below this offset may go in 0-RTT packets (SendFlagAllow0RTT)
	zeroRTTFin     bool   // and so may the FIN

	// queuedSends counts the application's sends queued on s as
	// operations that have not run yet (any goroutine adds, the
	// connection goroutine subtracts), so that finishing a stream looks
	// for them in the operation queue only when there are some.
	queuedSends atomic.Int32
}

// ID returns the stream ID; valid once started.
func (s *Stream) ID() uint64 { return uint64(s.id) }

// Unidirectional reports whether the stream is unidirectional.
func (s *Stream) Unidirectional() bool { return s.uni }

// streamState is the connection's stream machinery: the stream set with
// its limits and scheduler, connection-level flow control, and the queues
// of streams with work.
type streamState struct {
	set      stream.Set[*Stream]
	connRecv flow.RecvWindow
	connSend flow.SendCredit
	sentNew  uint64 // new stream bytes sent: used connection credit
	recvd    uint64 // sum of highest offsets received

	unstarted []*Stream // opened locally, not started
	recvReady []*Stream // streams with data or events to indicate
	ctrl      []*Stream // streams with control frames to send

	peerBidiLocal, peerBidiRemote, peerUniTP uint64

	// idealBuf is the connection's ideal send buffer size, raised as the
	// most bytes ever in flight grows (idealbuf.go).
	idealBuf uint64
	in0RTT   bool // the packet being processed is a 0-RTT packet
	// lossCancel says a cancel-on-loss stream lost data (senddelay.go).
	lossCancel bool
}

func (st *streamState) init(c *Conn) {
	s := &c.set
	side := stream.SideClient
	if c.side == Server {
		side = stream.SideServer
	}
	st.set.Init(side, s.PeerBidiStreamCount, s.PeerUniStreamCount)
	st.connRecv.Init(s.ConnFlowControlWindow, max(s.ConnFlowControlWindow, maxConnWindow))
	st.set.SetScheme(stream.SchemeRoundRobin)
	st.idealBuf = stream.DefaultIdealSendBuffer
}

// maxConnWindow and maxStreamWindow bound flow-control auto-tuning.
const (
	maxConnWindow   = 64 << 20
	maxStreamWindow = 16 << 20
)

// available returns how many streams of each type we may open now.
func (st *streamState) available() (bidi, uni uint64) {
	if st.set.Local() == stream.SideClient && st.set.Len() == 0 && st.connSend.Limit() == 0 {
		return 0, 0
	}
	return st.set.Available(true), st.set.Available(false)
}

// onPeerParameters applies the peer's transport parameters to streams
// (RFC 9000 §7.4, §18.2). A resuming client applies those it remembers
// first, for 0-RTT, then the server's (RFC 9000 §7.4.1): every stream with
// data waiting is scheduled again, since the connection limit changed.
func (st *streamState) onPeerParameters(c *Conn, p *wire.TransportParameters) {
	st.connSend.Init(p.InitialMaxData)
	st.peerBidiLocal = p.InitialMaxStreamDataBidiRemote // their remote = our local streams
	st.peerBidiRemote = p.InitialMaxStreamDataBidiLocal
	st.peerUniTP = p.InitialMaxStreamDataUni
	for e := range st.set.All() {
		s := e.Stream
		if s.send.Phase() != stream.SendNone {
			if s.send.OnMaxStreamData(st.sendLimitFor(s)) || s.send.Queued() > s.send.Sent() {
				st.set.Schedule(e)
			}
		}
	}
	for _, s := range st.unstarted {
		if s.send.Phase() != stream.SendNone {
			s.send.OnMaxStreamData(st.sendLimitFor(s))
		}
	}
	st.set.OnMaxStreams(true, p.InitialMaxStreamsBidi)
	st.set.OnMaxStreams(false, p.InitialMaxStreamsUni)
	if c.events != nil {
		c.events.StreamsAvailable(st.set.Available(true), st.set.Available(false))
	}
}

// sendLimitFor returns the peer's initial stream limit for our sending part
// of s.
func (st *streamState) sendLimitFor(s *Stream) uint64 {
	switch {
	case s.uni:
		return st.peerUniTP
	case s.local:
		return st.peerBidiLocal
	}
	return st.peerBidiRemote
}

// recvWindowFor returns our initial receive window for s.
func recvWindowFor(c *Conn, s *Stream) uint64 {
	switch {
	case s.uni:
		return c.set.StreamRecvWindowUni
	case s.local:
		return c.set.StreamRecvWindowBidiLocal
	}
	return c.set.StreamRecvWindowBidiRemote
}

// NewStream creates a local stream object; nothing is sent and no ID is
// assigned until it is started. Safe from any goroutine: the stream is not
// yet known to the connection goroutine.
func (c *Conn) NewStream(flags uint32) *Stream {
	s := &Stream{c: c, uni: flags&StreamOpenUnidirectional != 0, local: true, priority: stream.DefaultPriority,
		delayIDFC: flags&StreamOpenDelayIDFCUpdates != 0}
	return s
}

// SetDelayIDFCUpdates makes a peer's stream return its stream-count credit
// to the peer only when the application closes it, not when both
// directions end (MsQuic's QUIC_STREAM_OPEN_FLAG_DELAY_ID_FC_UPDATES, set
// in PEER_STREAM_STARTED). It must be called on the connection goroutine,
// from that event.
func (s *Stream) SetDelayIDFCUpdates() { s.delayIDFC = true }

// setupParts initialises the send and receive parts of s on the
// connection goroutine.
func (st *streamState) setupParts(c *Conn, s *Stream) {
	canSend := s.local || !s.uni
	canRecv := !s.local || !s.uni
	if canSend {
		s.send.Init(st.sendLimitFor(s), c.set.SendBuffering)
	}
	if canRecv {
		w := recvWindowFor(c, s)
		s.recv.Init(w, max(w, maxStreamWindow), int(max(c.set.StreamRecvBuffer, 4096)))
		st.connRecv.EnsureWindow(min(2*w, maxConnWindow))
	}
}

// queueCtrl marks s as having control frames to send.
func (st *streamState) queueCtrl(s *Stream) {
	if !s.ctrlQueued {
		s.ctrlQueued = true
		st.ctrl = append(st.ctrl, s)
	}
}

// queueRecv marks s as having something to indicate to the application.
func (st *streamState) queueRecv(s *Stream) {
	if !s.recvQueued {
		s.recvQueued = true
		st.recvReady = append(st.recvReady, s)
	}
}

// schedule puts s in the send queue if it has an entry.
func (st *streamState) schedule(s *Stream) {
	if s.entry != nil {
		st.set.Schedule(s.entry)
	}
}

// lookup returns a started stream by ID.
func (st *streamState) lookup(id uint64) *Stream {
	if e := st.set.Get(stream.ID(id)); e != nil {
		return e.Stream
	}
	return nil
}

// afterStateChange reports a stream's accumulated events and retires it
// when both parts are done.
func (st *streamState) afterStateChange(c *Conn, s *Stream) {
	if c.qlog != nil {
		c.traceStream(s)
	}
	ev := s.send.TakeEvents()
	st.reportSendCompletions(c, s)
	if ev&stream.EventSendShutdownComplete != 0 && c.events != nil && !s.shutdownDone {
		c.events.StreamSendShutdownComplete(s, s.send.Phase() == stream.SendDataRecvd)
	}
	rev := s.recv.TakeEvents()
	if rev&(stream.EventPeerSendAborted|stream.EventPeerSendShutdown) != 0 {
		st.queueRecv(s)
		s.pendingRecvEvents |= rev
	}
	st.maybeFinish(c, s)
}

// reportSendCompletions raises SEND_COMPLETE for finished sends.
func (st *streamState) reportSendCompletions(c *Conn, s *Stream) {
	for {
		ctx, canceled, ok := s.send.PopCompleted()
		if !ok {
			return
		}
		if _, internal := ctx.(finMarker); internal {
			continue
		}
		if c.events != nil {
			c.events.StreamSendComplete(s, ctx, canceled)
		}
	}
}

// finMarker is the context of the FIN-only sends that graceful shutdown
// queues; they produce no SEND_COMPLETE.
type finMarker struct{}

// done reports whether both parts of s reached a terminal state.
func (s *Stream) done() bool {
	sp := s.send.Phase()
	rp := s.recv.Phase()
	sendDone := sp == stream.SendNone || sp == stream.SendDataRecvd || sp == stream.SendResetRecvd
	recvDone := rp == stream.RecvNone || rp == stream.RecvDataRead || rp == stream.RecvResetRead
	return sendDone && recvDone && s.pendingRecvEvents == 0
}

// maybeFinish delivers SHUTDOWN_COMPLETE and removes s from the set once
// both directions are done.
func (st *streamState) maybeFinish(c *Conn, s *Stream) {
	if !s.done() || s.entry == nil {
		return
	}
	if !s.shutdownDone {
		if c.events != nil {
			c.events.StreamClosing(s)
		}
		st.cancelQueuedSends(c, s)
		s.shutdownDone = true
		if c.events != nil {
			c.events.StreamShutdownComplete(s, StreamShutdownInfo{AppCloseInProgress: s.appClosed})
		}
	}
	if s.delayIDFC && !s.appClosed {
		return // the peer gets the stream's credit back at StreamClose
	}
	st.set.Remove(s.entry)
	s.entry = nil
}

// cancelQueuedSends reports as canceled the sends the application queued
// on s (on every started stream if s is nil) that have not run yet, so
// that their SEND_COMPLETE precedes the stream's SHUTDOWN_COMPLETE: a send
// accepted before a stream shuts down is canceled by it (MsQuic semantics).
func (st *streamState) cancelQueuedSends(c *Conn, s *Stream) {
	if s != nil && s.queuedSends.Load() == 0 {
		return
	}
	match := func(o *op) bool { return o.kind == opStreamSend && (o.s == s || s == nil && o.s.started) }
	for i := c.opNext; i < len(c.opScratch); i++ {
		if o := &c.opScratch[i]; match(o) {
			ctx, os := o.ctx, o.s
			*o = op{kind: opFunc, fn: nopOp}
			os.queuedSends.Add(-1)
			st.cancelSend(c, os, ctx)
		}
	}
	if !c.ops.pending() {
		return
	}
	q := c.ops.takeSends(nil, s)
	for i := range q {
		q[i].s.queuedSends.Add(-1)
		st.cancelSend(c, q[i].s, q[i].ctx)
	}
}

// nopOp replaces a queued operation that was canceled.
func nopOp(*Conn, mono.Time) {}

// shutdownAll ends every stream because the connection is closing: pending
// sends are canceled and every started stream gets SHUTDOWN_COMPLETE.
func (st *streamState) shutdownAll(c *Conn) {
	info := StreamShutdownInfo{
		ConnectionShutdown:       true,
		ConnectionShutdownByApp:  c.life.reason.App && !c.life.reason.Remote,
		ConnectionClosedRemotely: c.life.reason.Remote,
		ConnectionErrorCode:      c.life.reason.Code,
		ConnectionReason:         c.life.reason,
	}
	st.cancelQueuedSends(c, nil)
	finish := func(s *Stream) {
		s.send.Close()
		s.recv.Close()
		st.reportSendCompletions(c, s)
		if !s.shutdownDone && s.started {
			s.shutdownDone = true
			if c.events != nil {
				i := info
				i.AppCloseInProgress = s.appClosed
				c.events.StreamShutdownComplete(s, i)
			}
		}
	}
	for e := range st.set.All() {
		s := e.Stream
		finish(s)
		st.set.Remove(e)
		s.entry = nil
	}
	for _, s := range st.unstarted {
		finish(s)
	}
	st.unstarted = nil
	st.recvReady = nil
	st.ctrl = nil
}

// onConnRecvGrown charges grown stream data to the connection window.
func (st *streamState) onConnRecvGrown(grown uint64) error {
	if grown == 0 {
		return nil
	}
	st.recvd += grown
	if !st.connRecv.OnReceived(st.recvd) {
		return &wire.Error{Code: wire.FlowControlError, Reason: "connection flow control limit exceeded"}
	}
	return nil
}

// onConnCredit returns consumed or discarded bytes to the connection
// window.
func (st *streamState) onConnCredit(c *Conn, now mono.Time, n uint64) {
	if n > 0 {
		st.connRecv.OnConsumed(now, n, c.loss.RTT().Smoothed)
	}
}
