package stream

import (
	"github.com/hquic/quic/internal/flow"
	"github.com/hquic/quic/internal/rangeset"
)

// SendPhase is a state of the sending part of a stream (RFC 9000,
// Section 3.1).
type SendPhase uint8

// Sending-part states. SendNone is the zero value: the stream has no sending
// part (a unidirectional stream opened by the peer).
const (
	SendNone       SendPhase = iota
	SendReady                // "Ready": nothing sent yet
	SendSending              // "Send": sending data
	SendDataSent             // all data and the FIN sent, not all acknowledged
	SendDataRecvd            // all data and the FIN acknowledged (terminal)
	SendResetSent            // RESET_STREAM queued or sent, not acknowledged
	SendResetRecvd           // RESET_STREAM acknowledged (terminal)
)

var sendPhaseNames = [...]string{"None", "Ready", "Send", "DataSent", "DataRecvd", "ResetSent", "ResetRecvd"}

// String returns the RFC name of the state.
func (p SendPhase) String() string {
	if int(p) < len(sendPhaseNames) {
		return sendPhaseNames[p]
	}
	return "SendPhase(?)"
}

// DefaultIdealSendBuffer is MsQuic's initial IDEAL_SEND_BUFFER_SIZE
// (128 KiB); MaxIdealSendBuffer its ceiling (128 MiB).
const (
	DefaultIdealSendBuffer = 128 << 10
	MaxIdealSendBuffer     = 128 << 20
)

// IdealSendBufferSize returns the number of bytes an application should keep
// queued on a stream so the connection is never application-limited, given
// an estimate of the bandwidth-delay product in bytes (for example the
// congestion window, or delivery rate times smoothed RTT): the smallest
// power-of-two multiple of DefaultIdealSendBuffer above bdp, at most
// MaxIdealSendBuffer. Rounding up to powers of two keeps the
// IDEAL_SEND_BUFFER_SIZE event rare.
func IdealSendBufferSize(bdp uint64) uint64 {
	size := uint64(DefaultIdealSendBuffer)
	for size <= bdp && size < MaxIdealSendBuffer {
		size *= 2
	}
	return size
}

// SendState is the sending part of a stream: the queue of application sends,
// what to send next (retransmissions first), acknowledgement and loss
// tracking, the peer's stream flow-control limit, FIN and RESET_STREAM.
//
// Send model (MsQuic StreamSend): Queue keeps references to the
// application's buffers, and the send completes (PopCompleted) only when every
// byte of it, and its FIN, has been acknowledged; until then the application
// must not modify the buffers. With send buffering enabled (MsQuic's
// SendBufferingEnabled, on by default there), a send whose bytes fit in the
// ideal send buffer size together with the bytes already buffered is instead
// copied into a stream-owned ring (pooled memory) and completes at once; the
// copy is kept until acknowledged. Larger sends are referenced as without
// buffering.
//
// The zero value has no sending part; call Init.
type SendState struct {
	phase     SendPhase
	credit    flow.SendCredit // peer's MAX_STREAM_DATA
	q         sendQueue
	queued    uint64 // end of queued data; the final size once finQueued
	sent      uint64 // first offset never sent
	acked     rangeset.Set[uint64]
	lost      rangeset.Set[uint64]
	finQueued bool
	finSent   bool // FIN sent and not declared lost (or acknowledged)
	finAcked  bool
	reset     ctrl
	resetCode uint64
	stopCode  uint64
	stopRecvd bool
	buffering bool
	ideal     uint64
	events    Event
}

// Init creates the sending part. limit is the peer's initial stream limit
// (its initial_max_stream_data_* transport parameter for this stream type);
// buffering selects send buffering (see SendState). The ideal send buffer
// size starts at DefaultIdealSendBuffer.
func (s *SendState) Init(limit uint64, buffering bool) {
	putChunk(s.q.ring)
	*s = SendState{phase: SendReady, buffering: buffering, ideal: DefaultIdealSendBuffer}
	s.credit.Init(limit)
}

// Phase returns the current state.
func (s *SendState) Phase() SendPhase { return s.phase }

// Queue adds one application send: the bytes of bufs, then the FIN if fin.
// It keeps bufs and the slices in it (see SendState for buffering) and
// reports ctx back through PopCompleted. A zero-length send is allowed (with
// fin: a FIN-only send). Errors, which change nothing: ErrNoSend (no sending
// part), ErrReset (after Reset or the peer's STOP_SENDING), ErrFinSent (after a
// FIN was queued), ErrTooLong (offset would pass 2^62-1).
func (s *SendState) Queue(bufs [][]byte, fin bool, ctx any) error {
	switch s.phase {
	case SendNone:
		return ErrNoSend
	case SendResetSent, SendResetRecvd:
		return ErrReset
	case SendDataSent, SendDataRecvd:
		return ErrFinSent
	}
	if s.finQueued {
		return ErrFinSent
	}
	var total uint64
	for _, b := range bufs {
		total += uint64(len(b))
	}
	if total > MaxOffset-s.queued {
		return ErrTooLong
	}
	r := sendReq{start: s.queued, end: s.queued + total, bufs: bufs, ctx: ctx, fin: fin, bo: s.queued}
	if s.buffering && s.q.buffered()+total <= s.ideal {
		r.ownPos = s.q.copyToRing(bufs, total)
		r.own, r.bufs, r.ctx, r.reported = true, nil, nil, true
		s.q.complete(ctx, false)
		s.events |= EventSendComplete
	}
	s.q.push(r)
	s.queued += total
	s.finQueued = fin
	s.completeAcked()
	return nil
}

// PopCompleted returns the next finished send, in completion order: its ctx
// and whether it was canceled (by Reset, STOP_SENDING or Close) rather than
// delivered or buffered. Every Queue call that returned nil is reported
// exactly once. ok is false when none is waiting.
func (s *SendState) PopCompleted() (ctx any, canceled, ok bool) {
	c, ok := s.q.popDone()
	return c.ctx, c.canceled, ok
}

// ackedOff returns the end of the acknowledged prefix of the stream.
func (s *SendState) ackedOff() uint64 {
	if s.acked.IsEmpty() || s.acked.At(0).Start > 0 {
		return 0
	}
	return s.acked.At(0).End
}

// completeAcked reports and removes the sends at the head of the queue whose
// bytes (and FIN) are all acknowledged.
func (s *SendState) completeAcked() {
	ao := s.ackedOff()
	for r := s.q.front(); r != nil && r.end <= ao && (!r.fin || s.finAcked); r = s.q.front() {
		if !r.reported {
			s.q.complete(r.ctx, false)
			s.events |= EventSendComplete
		}
		s.q.pop()
	}
}

func (s *SendState) canSendData() bool {
	return s.phase == SendReady || s.phase == SendSending || s.phase == SendDataSent
}

// Pending returns the next range the stream wants to send: off and length n,
// and whether the FIN goes with it (n may be 0 for a FIN alone). Lost ranges
// come first, lowest offset first, and need no connection credit; new data is
// limited by the peer's stream limit and by connCredit, the connection-level
// credit left (flow.SendCredit.Available). It changes nothing: the caller
// sends any prefix of the range (a FIN only with the whole range), copies the
// bytes with WriteData and then calls OnSent. ok is false when nothing can be
// sent now.
func (s *SendState) Pending(connCredit uint64) (off, n uint64, fin, ok bool) {
	if !s.canSendData() {
		return 0, 0, false, false
	}
	if !s.lost.IsEmpty() {
		r := s.lost.At(0)
		return r.Start, r.Size(), s.finQueued && !s.finSent && r.End == s.queued, true
	}
	n = min(s.queued-s.sent, s.credit.Available(s.sent), connCredit)
	fin = s.finQueued && !s.finSent && s.sent+n == s.queued
	return s.sent, n, fin, n > 0 || fin
}

// WriteData copies the stream bytes [off, off+len(dst)) into dst, straight
// from the application's buffers (or the send buffer), and returns the number
// of bytes copied: len(dst) for any range Pending offered. It changes no
// stream state.
func (s *SendState) WriteData(dst []byte, off uint64) int {
	if !s.canSendData() || off < s.ackedOff() {
		return 0
	}
	return s.q.read(dst, off)
}

// OnSent records that a STREAM frame carrying [off, off+n), with fin, was put
// in a packet, and returns how many of those bytes are new (beyond every byte
// sent before), which the caller charges to the connection's flow-control
// credit (RFC 9000, Section 4.1). A range that was not offered by Pending is
// ignored.
func (s *SendState) OnSent(off uint64, n int, fin bool) (newBytes uint64) {
	end := off + uint64(n)
	if !s.canSendData() || n < 0 || end > s.queued || off > s.sent || end > max(s.sent, s.credit.Limit()) {
		return 0
	}
	s.lost.Remove(off, end)
	if end > s.sent {
		newBytes = end - s.sent
		s.sent = end
	}
	if fin && s.finQueued && end == s.queued && !s.finAcked {
		s.finSent = true
	}
	if s.phase == SendReady {
		s.phase = SendSending
	}
	if s.phase == SendSending && s.finSent && s.sent == s.queued {
		s.phase = SendDataSent
	}
	return newBytes
}

// OnAcked records the acknowledgement of a STREAM frame that carried
// [off, off+n) and fin. Acknowledging bytes twice, or after they were
// declared lost, is harmless. Sends whose bytes are all acknowledged complete
// (EventSendComplete); when all data and the FIN are acknowledged the stream
// enters Data Recvd (EventSendShutdownComplete).
func (s *SendState) OnAcked(off uint64, n int, fin bool) {
	if n < 0 || (s.phase != SendSending && s.phase != SendDataSent) {
		return
	}
	end := min(off+uint64(n), s.sent)
	if off < end {
		s.acked.Add(off, end)
		s.lost.Remove(off, end)
	}
	if fin && s.phase == SendDataSent && off+uint64(n) == s.queued {
		s.finAcked = true
		s.finSent = true
	}
	s.completeAcked()
	if s.finAcked && s.ackedOff() == s.queued {
		s.phase = SendDataRecvd
		s.events |= EventSendShutdownComplete
		s.q.cancelAll() // empty by now; releases the send buffer
		s.acked.Clear()
	}
}

// OnLost records that a STREAM frame that carried [off, off+n) and fin was
// declared lost. The bytes not acknowledged since are queued for
// retransmission ahead of new data, and so is the FIN if it was not
// acknowledged. It returns true if that gave the stream something to send
// (the caller schedules it). Losses after acknowledgement or after a reset
// are ignored (RFC 9000, Section 3.3: no retransmission after RESET_STREAM).
func (s *SendState) OnLost(off uint64, n int, fin bool) bool {
	if n < 0 || (s.phase != SendSending && s.phase != SendDataSent) {
		return false
	}
	added := false
	start, end := max(off, s.ackedOff()), min(off+uint64(n), s.sent)
	if start < end {
		forGaps(&s.acked, start, end, func(a, b uint64) {
			s.lost.Add(a, b)
			added = true
		})
	}
	if fin && s.finSent && !s.finAcked && off+uint64(n) == s.queued {
		s.finSent = false
		added = true
	}
	return added
}

// OnMaxStreamData applies a MAX_STREAM_DATA frame (limits only increase). It
// returns true if the stream was blocked by its old limit with data waiting
// and can now send (the caller schedules it).
func (s *SendState) OnMaxStreamData(limit uint64) bool {
	waiting := s.canSendData() && s.queued > s.sent && s.sent >= s.credit.Limit()
	s.credit.OnMaxData(limit)
	return waiting && s.credit.Limit() > s.sent
}

// DataBlocked returns the limit to report in a STREAM_DATA_BLOCKED frame when
// the stream has queued data it cannot send because of the peer's stream
// limit; ok is true once per limit value (flow.SendCredit.Blocked), so the
// frame is sent once per limit (RFC 9000, Section 4.1). Call it when the frame
// is about to be written.
func (s *SendState) DataBlocked() (limit uint64, ok bool) {
	if (s.phase != SendReady && s.phase != SendSending) || s.queued == s.sent {
		return s.credit.Limit(), false
	}
	limit, ok = s.credit.Blocked(s.sent)
	if ok && s.phase == SendReady {
		s.phase = SendSending
	}
	return limit, ok
}

// OnDataBlockedLost records that a STREAM_DATA_BLOCKED frame carrying limit
// was lost; it is reported again if the stream is still blocked at limit.
func (s *SendState) OnDataBlockedLost(limit uint64) { s.credit.OnBlockedLost(limit) }

// Limit returns the peer's stream limit.
func (s *SendState) Limit() uint64 { return s.credit.Limit() }

// Reset abandons the send direction with an application error code (MsQuic
// ABORT_SEND). From Ready, Send or Data Sent it enters Reset Sent, queues a
// RESET_STREAM whose final size is the highest offset sent so far (RFC 9000,
// Section 4.5), cancels every send not yet reported (PopCompleted returns them
// with canceled=true, exactly once) and stops all retransmission. Resetting an
// already reset or fully acknowledged stream does nothing. It fails only with
// ErrNoSend.
func (s *SendState) Reset(code uint64) error {
	switch s.phase {
	case SendNone:
		return ErrNoSend
	case SendReady, SendSending, SendDataSent:
	default:
		return nil
	}
	s.phase = SendResetSent
	s.resetCode = code
	s.reset = ctrlWant
	s.cancel()
	return nil
}

// cancel drops all queued sends (reporting them canceled) and transmission
// state.
func (s *SendState) cancel() {
	hadPending := s.q.front() != nil
	s.q.cancelAll()
	if hadPending {
		s.events |= EventSendComplete
	}
	s.lost.Clear()
	s.acked.Clear()
}

// OnStopSending processes a STOP_SENDING frame with the peer's error code.
// A stream in Ready, Send or Data Sent is reset with the same code (RFC 9000,
// Section 3.5: an endpoint MUST send RESET_STREAM in Ready and Send, and
// SHOULD copy the error code); reset reports whether that happened, in which
// case the caller raises PEER_RECEIVE_ABORTED. Duplicates are harmless.
func (s *SendState) OnStopSending(code uint64) (reset bool) {
	if !s.stopRecvd {
		s.stopRecvd = true
		s.stopCode = code
	}
	if !s.canSendData() {
		return false
	}
	s.Reset(code)
	return true
}

// PeerStopCode returns the error code of the peer's STOP_SENDING, if one was
// received.
func (s *SendState) PeerStopCode() (code uint64, ok bool) { return s.stopCode, s.stopRecvd }

// ResetPending returns the RESET_STREAM frame to send now, if any: it is sent
// in Reset Sent until acknowledged (RFC 9000, Section 13.3).
func (s *SendState) ResetPending() (code, finalSize uint64, ok bool) {
	return s.resetCode, s.sent, s.phase == SendResetSent && s.reset == ctrlWant
}

// OnResetSent records that RESET_STREAM was put in a packet.
func (s *SendState) OnResetSent() { s.reset.onSent() }

// OnResetLost records that the packet carrying RESET_STREAM was lost.
func (s *SendState) OnResetLost() { s.reset.onLost() }

// OnResetAcked records that RESET_STREAM was acknowledged: Reset Sent moves to
// Reset Recvd (EventSendShutdownComplete, not graceful).
func (s *SendState) OnResetAcked() {
	s.reset.onAcked()
	if s.phase == SendResetSent {
		s.phase = SendResetRecvd
		s.events |= EventSendShutdownComplete
	}
}

// SetIdealSendBuffer sets the ideal send buffer size (see
// IdealSendBufferSize), which also bounds send buffering, and reports whether
// it changed, in which case the caller raises IDEAL_SEND_BUFFER_SIZE.
func (s *SendState) SetIdealSendBuffer(size uint64) (changed bool) {
	if size == s.ideal {
		return false
	}
	s.ideal = size
	return true
}

// IdealSendBuffer returns the current ideal send buffer size.
func (s *SendState) IdealSendBuffer() uint64 { return s.ideal }

// Queued returns the total number of bytes queued (the final size once the
// FIN is queued).
func (s *SendState) Queued() uint64 { return s.queued }

// Sent returns the highest offset sent so far.
func (s *SendState) Sent() uint64 { return s.sent }

// Acked returns the number of bytes acknowledged from the start of the
// stream without a gap.
func (s *SendState) Acked() uint64 {
	if s.phase == SendDataRecvd {
		return s.queued
	}
	return s.ackedOff()
}

// Buffered returns the number of bytes held in the send buffer.
func (s *SendState) Buffered() uint64 { return s.q.buffered() }

// TakeEvents returns the events raised since the last call and clears them.
func (s *SendState) TakeEvents() Event {
	e := s.events
	s.events = 0
	return e
}

// Close abandons the sending part when the connection goes away: every send
// not yet reported is canceled and the stream sends nothing more. The state
// becomes Reset Recvd unless it was already terminal; no event is raised
// besides EventSendComplete.
func (s *SendState) Close() {
	if s.phase == SendNone {
		return
	}
	s.cancel()
	if s.phase != SendDataRecvd {
		s.phase = SendResetRecvd
	}
}
