package quic

import (
	"math"
	"sync/atomic"

	"github.com/hquic/quic/internal/conn"
)

// Stream is a QUIC stream handle (MsQuic's HQUIC stream). Local streams are
// created with Connection.NewStream and started with Start (or a Send with
// SendStart); peer streams arrive in PeerStreamStartedEvent. Events go to
// the stream's StreamHandler. The last event is always
// *StreamShutdownCompleteEvent, after which the application calls Close.
// Methods are safe for concurrent use and may be called from handlers.
type Stream struct {
	c     *Connection
	eng   *conn.Stream // created with the handle and never replaced
	flags StreamOpenFlags
	peer  bool

	handler atomic.Pointer[StreamHandler]
	context atomic.Pointer[any]
	id      atomic.Uint64 // ID+1 once started; 0 before

	// Guarded by c.mu (see Locking in connection.go).
	state    streamState
	priority uint16 // as last set (SetPriority)
	// Receive bookkeeping for ReceiveComplete (see ReceiveEvent).
	offered       uint64 // bytes offered by the running or pending ReceiveEvent
	earlyComplete int64  // ReceiveComplete called inside the handler: n, else -1
}

// streamState is a Stream's handle state, as bits; guarded by c.mu.
type streamState uint8

const (
	streamStarted   streamState = 1 << iota // Start or a Send with SendStart was accepted
	streamFinQueued                         // the end of the stream was queued
	streamClosed                            // the application called Close
	streamFinal                             // the stream's final events have begun
	streamInReceive                         // a ReceiveEvent handler is running
	streamPending                           // the handler returned Pending
)

func (s streamState) has(f streamState) bool { return s&f != 0 }

// NewStream creates a local stream (StreamOpen). Nothing is sent and no ID
// is assigned until it is started. The connection need not be started yet:
// operations on the stream then take effect when it starts. Flags:
// StreamOpenUnidirectional; StreamOpenDelayIDFCUpdates, which on a local
// stream changes nothing (stream credit is the peer's to give; on a peer
// stream set it in PeerStreamStartedEvent.Flags). Errors:
// ErrInvalidParameter for a nil handler, StreamOpen0RTT (it marks peer
// streams) or unknown flags, ErrNotSupported for StreamOpenAppOwnedBuffers,
// ErrInvalidState once the connection was closed by the application.
func (c *Connection) NewStream(flags StreamOpenFlags, h StreamHandler) (*Stream, error) {
	const op = "Connection.NewStream"
	switch {
	case h == nil:
		return nil, opError(op, StatusInvalidParameter, "nil handler")
	case flags&StreamOpenAppOwnedBuffers != 0:
		return nil, opError(op, StatusNotSupported, "StreamOpenAppOwnedBuffers (MsQuic preview) is not implemented")
	case flags&StreamOpen0RTT != 0:
		return nil, opError(op, StatusInvalidParameter, "StreamOpen0RTT marks peer streams; send with SendAllow0RTT")
	case flags&^(StreamOpenUnidirectional|StreamOpenDelayIDFCUpdates) != 0:
		return nil, opError(op, StatusInvalidParameter, "unknown flags %v", flags)
	}
	c.mu.Lock()
	closed := c.state.has(connClosed)
	c.mu.Unlock()
	if closed {
		return nil, opError(op, StatusInvalidState, "connection closed")
	}
	s := &Stream{c: c, flags: flags, earlyComplete: -1, eng: c.eng.NewStream(uint32(flags)), priority: defaultStreamPriority}
	s.eng.Handle = s
	s.handler.Store(&h)
	return s, nil
}

// SetHandler replaces the stream's handler. For a peer stream it must be
// called inside PeerStreamStartedEvent.
func (s *Stream) SetHandler(h StreamHandler) {
	if h != nil {
		s.handler.Store(&h)
	}
}

// SetContext stores an application value with the stream.
func (s *Stream) SetContext(v any) { s.context.Store(&v) }

// Context returns the value stored with SetContext.
func (s *Stream) Context() any {
	if p := s.context.Load(); p != nil {
		return *p
	}
	return nil
}

// Connection returns the stream's connection.
func (s *Stream) Connection() *Connection { return s.c }

// ID returns the stream ID, assigned when the stream starts; before that it
// fails with ErrInvalidState.
func (s *Stream) ID() (uint64, error) {
	if v := s.id.Load(); v != 0 {
		return v - 1, nil
	}
	return 0, opError("Stream.ID", StatusInvalidState, "stream not started")
}

// Start starts a local stream (StreamStart): it gets its ID and may send.
// StartCompleteEvent always follows a nil return and reports the outcome.
// Errors: ErrInvalidState if already started, closed, or a peer stream.
func (s *Stream) Start(flags StreamStartFlags) error {
	const op = "Stream.Start"
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.state.has(streamStarted|streamClosed) || s.peer {
		return opError(op, StatusInvalidState, "stream already started, closed or opened by the peer")
	}
	s.state |= streamStarted
	if err := s.checkOpen(op); err != nil {
		return err
	}
	c.eng.StreamStart(s.eng, uint32(flags))
	return nil
}

// checkOpen fails an operation once the stream or its connection has
// begun its final events, when it could never report its outcome:
// ErrAborted once the connection is closing, ErrInvalidState once the
// stream is. c.mu is held.
func (s *Stream) checkOpen(op string) error {
	switch {
	case s.c.state.has(connClosing):
		return opError(op, StatusAborted, "connection is closing")
	case s.state.has(streamFinal):
		return opError(op, StatusInvalidState, "stream has shut down")
	}
	return nil
}

// Send queues data (StreamSend): the bytes of bufs, then the end of the
// stream if flags has SendFIN. The buffers belong to the library until the
// SendCompleteEvent carrying sendCtx, which every successful Send gets
// exactly once (Canceled if the data was not delivered). SendStart starts
// the stream first. A zero-length send is allowed (with SendFIN it only
// ends the stream). Other flags: SendAllow0RTT lets the data (up to the
// end of this send) go in 0-RTT packets; SendDelay holds it for a send
// pass that runs for another reason (received packets, a timer, another
// operation); SendCancelOnLoss switches the stream to cancel-on-loss
// (CancelOnLossEvent); SendPriorityWork queues the call ahead of other
// operations. Errors, which queue nothing: ErrInvalidState after the
// end of the stream was queued, on a receive-only stream or a closed
// handle; ErrInvalidParameter if the total exceeds 2^32-1 bytes or for
// the datagram-only flags SendDatagramPriority and SendCancelOnBlocked.
func (s *Stream) Send(bufs [][]byte, flags SendFlags, sendCtx any) error {
	const op = "Stream.Send"
	var total uint64
	for _, b := range bufs {
		total += uint64(len(b))
	}
	if total > math.MaxUint32 {
		return opError(op, StatusInvalidParameter, "send longer than 2^32-1 bytes")
	}
	if f := flags & (SendDatagramPriority | SendCancelOnBlocked); f != 0 {
		return opError(op, StatusInvalidParameter, "flags %v are for datagrams", f)
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.state.has(streamClosed):
		return opError(op, StatusInvalidState, "stream closed")
	case s.peer && s.flags&StreamOpenUnidirectional != 0:
		return opError(op, StatusInvalidState, "the peer's unidirectional stream is receive-only")
	case s.state.has(streamFinQueued):
		return opError(op, StatusInvalidState, "send after the end of the stream")
	}
	if flags&SendFIN != 0 {
		s.state |= streamFinQueued
	}
	if flags&SendStart != 0 {
		s.state |= streamStarted
	}
	if err := s.checkOpen(op); err != nil {
		return err
	}
	c.eng.StreamSend(s.eng, bufs, uint32(flags), sendCtx)
	return nil
}

// Shutdown shuts down one or both directions (StreamShutdown):
// StreamShutdownGraceful ends the sending direction after the queued data;
// StreamShutdownAbortSend resets it (RESET_STREAM with code; pending sends
// complete as canceled); StreamShutdownAbortReceive asks the peer to stop
// (STOP_SENDING with code); StreamShutdownImmediate, with both aborts,
// delivers StreamShutdownCompleteEvent at once. StreamShutdownInline is
// accepted and treated like the rest: the shutdown runs after the current
// handler returns. Errors: ErrInvalidParameter for no flags, a code above
// MaxVarInt, Graceful combined with an abort, or Immediate without both
// aborts; ErrInvalidState on a closed handle.
func (s *Stream) Shutdown(flags StreamShutdownFlags, code uint64) error {
	const op = "Stream.Shutdown"
	abort := flags & StreamShutdownAbort
	switch {
	case flags&^StreamShutdownInline == 0:
		return opError(op, StatusInvalidParameter, "no shutdown flags")
	case code > MaxVarInt:
		return opError(op, StatusInvalidParameter, "error code above 2^62-1")
	case flags&StreamShutdownGraceful != 0 && flags&(StreamShutdownAbort|StreamShutdownImmediate) != 0:
		return opError(op, StatusInvalidParameter, "graceful shutdown combined with an abort")
	case flags&StreamShutdownImmediate != 0 && abort != StreamShutdownAbort:
		return opError(op, StatusInvalidParameter, "immediate shutdown needs both abort flags")
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.state.has(streamClosed) {
		return opError(op, StatusInvalidState, "stream closed")
	}
	if flags&(StreamShutdownGraceful|StreamShutdownAbortSend) != 0 {
		s.state |= streamFinQueued
	}
	if err := s.checkOpen(op); err != nil {
		return err
	}
	c.eng.StreamShutdown(s.eng, uint32(flags), code)
	return nil
}

// ReceiveComplete reports how many bytes of a pending ReceiveEvent were
// consumed (StreamReceiveComplete), after its handler returned Pending; it
// may also be called inside the handler before it returns Pending. Fewer
// bytes than offered pause receive events until SetReceiveEnabled(true).
// Errors, which change nothing: ErrInvalidState when no receive is pending,
// ErrInvalidParameter when n exceeds the bytes offered.
func (s *Stream) ReceiveComplete(n uint64) error {
	const op = "Stream.ReceiveComplete"
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.state.has(streamClosed):
		return opError(op, StatusInvalidState, "stream closed")
	case !s.state.has(streamInReceive | streamPending):
		return opError(op, StatusInvalidState, "no receive is pending")
	case n > s.offered:
		return opError(op, StatusInvalidParameter, "completing %d bytes of %d offered", n, s.offered)
	}
	if s.state.has(streamInReceive) {
		s.earlyComplete = int64(n)
		return nil
	}
	s.state &^= streamPending
	c.eng.StreamReceiveComplete(s.eng, n)
	return nil
}

// SetReceiveEnabled pauses or resumes receive events
// (StreamReceiveSetEnabled). It takes effect after events already queued,
// so to stop reliably consume 0 bytes in the handler instead. Errors:
// ErrInvalidState on a closed handle.
func (s *Stream) SetReceiveEnabled(enabled bool) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.state.has(streamClosed) {
		return opError("Stream.SetReceiveEnabled", StatusInvalidState, "stream closed")
	}
	c.eng.StreamSetReceiveEnabled(s.eng, enabled)
	return nil
}

// SetPriority sets the send priority, 0 (lowest) to 0xFFFF; the default is
// 0x7FFF (QUIC_PARAM_STREAM_PRIORITY). Higher-priority data is sent first;
// equal priorities share the connection as
// Connection.SetStreamSchedulingScheme says (round robin unless set).
func (s *Stream) SetPriority(p uint16) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.state.has(streamClosed) {
		return opError("Stream.SetPriority", StatusInvalidState, "stream closed")
	}
	s.priority = p
	c.eng.StreamSetPriority(s.eng, p)
	return nil
}

// defaultStreamPriority is MsQuic's default stream priority.
const defaultStreamPriority = 0x7FFF

// Priority returns the send priority last set with SetPriority, 0x7FFF
// by default (QUIC_PARAM_STREAM_PRIORITY).
func (s *Stream) Priority() uint16 {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.priority
}

// Close releases the handle (StreamClose); no event follows. A stream not
// yet shut down is aborted in both directions with error code 0, and its
// pending sends are dropped without SendCompleteEvent (the application,
// which is closing, gets its buffers back now). Closing twice does nothing.
func (s *Stream) Close() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.state.has(streamClosed) {
		return
	}
	s.state |= streamClosed
	c.eng.StreamClose(s.eng)
}

// dispatch delivers a stream event to the handler.
func (s *Stream) dispatch(ev StreamEvent) error {
	h := s.handler.Load()
	if h == nil {
		return nil
	}
	return (*h)(s, ev)
}

// StreamOpenFlags modify StreamOpen (QUIC_STREAM_OPEN_FLAGS).
type StreamOpenFlags uint32

const (
	// StreamOpenNone opens a bidirectional stream.
	StreamOpenNone StreamOpenFlags = 0x0000
	// StreamOpenUnidirectional opens a stream only the opener sends on.
	StreamOpenUnidirectional StreamOpenFlags = conn.StreamOpenUnidirectional
	// StreamOpen0RTT marks a peer stream opened by 0-RTT data; NewStream
	// refuses it (local data goes in 0-RTT with SendAllow0RTT).
	StreamOpen0RTT StreamOpenFlags = conn.StreamOpen0RTT
	// StreamOpenDelayIDFCUpdates delays new stream-ID credit for the peer
	// until the application closes the stream.
	StreamOpenDelayIDFCUpdates StreamOpenFlags = conn.StreamOpenDelayIDFCUpdates
	// StreamOpenAppOwnedBuffers makes the application provide receive
	// buffers (MsQuic preview feature); not implemented: NewStream fails
	// with ErrNotSupported.
	StreamOpenAppOwnedBuffers StreamOpenFlags = 0x0008
)

// String returns the flag names.
func (f StreamOpenFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Unidirectional"}, {0x2, "0RTT"}, {0x4, "DelayIDFCUpdates"}, {0x8, "AppOwnedBuffers"},
	})
}

// StreamStartFlags modify StreamStart (QUIC_STREAM_START_FLAGS).
type StreamStartFlags uint32

const (
	// StreamStartNone assigns the stream ID; the peer learns of the stream
	// when data is sent.
	StreamStartNone StreamStartFlags = 0x0000
	// StreamStartImmediate announces the stream to the peer at once.
	StreamStartImmediate StreamStartFlags = conn.StreamStartImmediate
	// StreamStartFailBlocked fails the start with StatusStreamLimitReached
	// instead of waiting for stream credit.
	StreamStartFailBlocked StreamStartFlags = conn.StreamStartFailBlocked
	// StreamStartShutdownOnFail shuts the stream down if the start fails.
	StreamStartShutdownOnFail StreamStartFlags = conn.StreamStartShutdownOnFail
	// StreamStartIndicatePeerAccept delivers a peer-accepted event later if
	// the stream was not accepted at start.
	StreamStartIndicatePeerAccept StreamStartFlags = conn.StreamStartIndicatePeerAccept
	// StreamStartPriorityWork queues the start ahead of other work.
	StreamStartPriorityWork StreamStartFlags = conn.StreamStartPriorityWork
)

// String returns the flag names.
func (f StreamStartFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Immediate"}, {0x2, "FailBlocked"}, {0x4, "ShutdownOnFail"},
		{0x8, "IndicatePeerAccept"}, {0x10, "PriorityWork"},
	})
}

// StreamShutdownFlags modify StreamShutdown (QUIC_STREAM_SHUTDOWN_FLAGS).
type StreamShutdownFlags uint32

const (
	// StreamShutdownNone is not a valid argument to StreamShutdown.
	StreamShutdownNone StreamShutdownFlags = 0x0000
	// StreamShutdownGraceful sends FIN after the queued data.
	StreamShutdownGraceful StreamShutdownFlags = conn.StreamShutdownGraceful
	// StreamShutdownAbortSend resets the send direction (RESET_STREAM).
	StreamShutdownAbortSend StreamShutdownFlags = conn.StreamShutdownAbortSend
	// StreamShutdownAbortReceive aborts the receive direction (STOP_SENDING).
	StreamShutdownAbortReceive StreamShutdownFlags = conn.StreamShutdownAbortReceive
	// StreamShutdownAbort aborts both directions.
	StreamShutdownAbort StreamShutdownFlags = 0x0006
	// StreamShutdownImmediate completes the shutdown without waiting for the
	// peer's acknowledgement; only with StreamShutdownAbort.
	StreamShutdownImmediate StreamShutdownFlags = conn.StreamShutdownImmediate
	// StreamShutdownInline processes the shutdown synchronously when called
	// from a callback.
	StreamShutdownInline StreamShutdownFlags = 0x0010
)

// String returns the flag names.
func (f StreamShutdownFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Graceful"}, {0x6, "Abort"}, {0x2, "AbortSend"}, {0x4, "AbortReceive"},
		{0x8, "Immediate"}, {0x10, "Inline"},
	})
}

// SendFlags modify StreamSend and DatagramSend (QUIC_SEND_FLAGS).
type SendFlags uint32

const (
	// SendNone sends with no special behaviour.
	SendNone SendFlags = 0x0000
	// SendAllow0RTT allows the data to be sent with 0-RTT keys.
	SendAllow0RTT SendFlags = conn.SendFlagAllow0RTT
	// SendStart starts the stream as StreamStart(StreamStartNone) would.
	SendStart SendFlags = conn.SendFlagStart
	// SendFIN ends the send direction gracefully after this data.
	SendFIN SendFlags = conn.SendFlagFIN
	// SendDatagramPriority puts a datagram at the front of the queue.
	SendDatagramPriority SendFlags = 0x0008
	// SendDelay (streams) queues the data without a send pass of its own:
	// it goes with the next pass that has another reason to run.
	SendDelay SendFlags = conn.SendFlagDelay
	// SendCancelOnLoss (streams) makes the stream cancel-on-loss,
	// irreversibly: lost data aborts it (CancelOnLossEvent).
	SendCancelOnLoss SendFlags = conn.SendFlagCancelOnLoss
	// SendPriorityWork queues the send ahead of other work.
	SendPriorityWork SendFlags = conn.SendFlagPriorityWork
	// SendCancelOnBlocked drops a datagram that cannot be sent immediately.
	SendCancelOnBlocked SendFlags = 0x0080
)

// String returns the flag names.
func (f SendFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Allow0RTT"}, {0x2, "Start"}, {0x4, "FIN"}, {0x8, "DatagramPriority"},
		{0x10, "Delay"}, {0x20, "CancelOnLoss"}, {0x40, "PriorityWork"}, {0x80, "CancelOnBlocked"},
	})
}

// ReceiveFlags describe received data (QUIC_RECEIVE_FLAGS).
type ReceiveFlags uint32

const (
	// ReceiveNone marks ordinary data.
	ReceiveNone ReceiveFlags = 0x0000
	// Receive0RTT marks data (partly) protected with 0-RTT keys.
	Receive0RTT ReceiveFlags = 0x0001
	// ReceiveFIN marks data that reaches the stream's final size.
	ReceiveFIN ReceiveFlags = 0x0002
)

// String returns the flag names.
func (f ReceiveFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{{0x1, "0RTT"}, {0x2, "FIN"}})
}
