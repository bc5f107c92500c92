package stream

import (
	"time"

	"github.com/hquic/quic/internal/flow"
	"github.com/hquic/quic/internal/mono"
)

// RecvPhase is a state of the receiving part of a stream (RFC 9000,
// Section 3.2).
type RecvPhase uint8

// Receiving-part states. RecvNone is the zero value: the stream has no
// receiving part (a unidirectional stream we opened).
const (
	RecvNone       RecvPhase = iota
	RecvReceiving            // "Recv": data arriving, final size unknown
	RecvSizeKnown            // FIN received, data missing
	RecvDataRecvd            // all data received, not all read
	RecvResetRecvd           // RESET_STREAM received, not yet reported
	RecvDataRead             // all data read (terminal)
	RecvResetRead            // reset reported to the application (terminal)
)

var recvPhaseNames = [...]string{"None", "Recv", "SizeKnown", "DataRecvd", "ResetRecvd", "DataRead", "ResetRead"}

// String returns the RFC name of the state.
func (p RecvPhase) String() string {
	if int(p) < len(recvPhaseNames) {
		return recvPhaseNames[p]
	}
	return "RecvPhase(?)"
}

// RecvState is the receiving part of a stream: final-size and flow-control
// checks, reassembly, delivery in MsQuic's RECEIVE model, the stream's receive
// window, and our STOP_SENDING.
//
// Connection-level accounting: every method that can change what the peer
// has sent or what will never be read returns grown (how far the highest
// received offset advanced; add it to the connection's received total and
// check it against the connection window) and freed (bytes that will never
// be consumed by the application because the stream was reset or aborted;
// return them as connection credit like consumed bytes). Bytes the
// application consumes through Consume are returned as connection credit by
// the caller.
//
// The zero value has no receiving part; call Init.
type RecvState struct {
	phase      RecvPhase
	win        flow.RecvWindow
	buf        recvBuf
	initialBuf int
	highest    uint64
	finalSize  uint64
	sizeKnown  bool
	discard    bool // receive aborted locally: data is counted, not stored
	resetCode  uint64
	stop       ctrl
	stopCode   uint64
	events     Event
}

// Init creates the receiving part. window is the initial stream window (the
// initial_max_stream_data transport parameter we sent for this stream type),
// maxWindow the largest it may auto-tune to (flow.RecvWindow), and
// initialBuffer the first allocation of the reassembly buffer (MsQuic's
// StreamRecvBufferDefault, 4096 by default); the buffer is allocated when the
// first data arrives and doubles as needed, never beyond the window rounded up
// to a power of two.
func (r *RecvState) Init(window, maxWindow uint64, initialBuffer int) {
	r.buf.release()
	*r = RecvState{phase: RecvReceiving, initialBuf: initialBuffer}
	r.win.Init(window, maxWindow)
}

// Phase returns the current state.
func (r *RecvState) Phase() RecvPhase { return r.phase }

// OnData processes a STREAM frame: data at stream offset off, with the FIN
// bit. It checks, in order (RFC 9000, Section 4.5 and 4.1):
//   - offset+length beyond 2^62-1: FLOW_CONTROL_ERROR (Section 19.8);
//   - data beyond a known final size, or a FIN that changes it:
//     FINAL_SIZE_ERROR;
//   - a FIN below data already received: FINAL_SIZE_ERROR;
//   - data beyond our advertised stream limit: FLOW_CONTROL_ERROR.
//
// On error (a *Error) nothing changes and the connection must close. Bytes
// already received are neither stored nor delivered again. Data arriving after
// a reset, after everything was read, or after StopSending is checked but not
// stored. grown and freed are explained on RecvState.
func (r *RecvState) OnData(off uint64, data []byte, fin bool) (grown, freed uint64, err error) {
	if r.phase == RecvNone {
		return 0, 0, errNoRecvPart
	}
	if off > MaxOffset || uint64(len(data)) > MaxOffset-off {
		return 0, 0, errOffsetTooLarge
	}
	end := off + uint64(len(data))
	if err := r.checkFinalSize(end, fin); err != nil {
		return 0, 0, err
	}
	if !r.win.OnReceived(end) {
		return 0, 0, errBeyondWindow
	}
	if r.phase != RecvReceiving && r.phase != RecvSizeKnown {
		return 0, 0, nil
	}
	if end > r.highest {
		grown = end - r.highest
		r.highest = end
	}
	if fin && !r.sizeKnown {
		r.sizeKnown = true
		r.finalSize = end
		r.phase = RecvSizeKnown
	}
	r.buf.write(off, data, r.initialBuf, !r.discard)
	if r.discard {
		freed = r.skipReceived()
	}
	if r.sizeKnown && r.buf.contig() == r.finalSize {
		r.phase = RecvDataRecvd
		if r.discard {
			r.phase = RecvDataRead
		}
	}
	return grown, freed, nil
}

// checkFinalSize applies the final-size rules of RFC 9000, Section 4.5 to a
// frame ending at end.
func (r *RecvState) checkFinalSize(end uint64, fin bool) error {
	if r.sizeKnown {
		if end > r.finalSize {
			return errBeyondFinalSize
		}
		if fin && end != r.finalSize {
			return errFinalSizeChanged
		}
		return nil
	}
	if fin && end < r.highest {
		return errFinalSizeBelow
	}
	return nil
}

// skipReceived drops the contiguous received bytes (receive aborted) and
// returns how many there were.
func (r *RecvState) skipReceived() uint64 {
	from := r.buf.readOff
	r.buf.skipTo(r.buf.contig())
	return r.buf.readOff - from
}

// OnReset processes a RESET_STREAM frame (RFC 9000, Section 3.2 and 19.4).
// A final size that differs from a known one or lies below data already
// received is a FINAL_SIZE_ERROR, one beyond our limit a FLOW_CONTROL_ERROR
// (Section 4.5). In Recv and Size Known the stream moves to Reset Recvd, all
// unread data is discarded (freed counts it, together with bytes never
// received below the final size) and EventPeerSendAborted is raised. In Data
// Recvd the reset is ignored and the remaining data is still delivered, as
// Section 3.2 permits; in other states it is ignored.
func (r *RecvState) OnReset(code, finalSize uint64) (grown, freed uint64, err error) {
	if r.phase == RecvNone {
		return 0, 0, errNoRecvPart
	}
	if finalSize > MaxOffset {
		return 0, 0, errOffsetTooLarge
	}
	if r.sizeKnown && finalSize != r.finalSize {
		return 0, 0, errFinalSizeChanged
	}
	if finalSize < r.highest {
		return 0, 0, errFinalSizeBelow
	}
	if !r.win.OnReceived(finalSize) {
		return 0, 0, errBeyondWindow
	}
	if r.phase != RecvReceiving && r.phase != RecvSizeKnown {
		return 0, 0, nil
	}
	grown = finalSize - r.highest
	r.highest = finalSize
	r.sizeKnown = true
	r.finalSize = finalSize
	freed = finalSize - r.buf.readOff
	r.buf.skipTo(finalSize)
	r.resetCode = code
	r.phase = RecvResetRecvd
	r.events |= EventPeerSendAborted
	return grown, freed, nil
}

// OnResetRead records that the application was told about the reset
// (PEER_SEND_ABORTED): Reset Recvd moves to Reset Read.
func (r *RecvState) OnResetRead() {
	if r.phase == RecvResetRecvd {
		r.phase = RecvResetRead
	}
}

// ResetCode returns the application error code of the peer's RESET_STREAM.
func (r *RecvState) ResetCode() uint64 { return r.resetCode }

// Readable returns the contiguous data available from the read offset off:
// at most two slices (the buffer is a ring), and fin=true when that data ends
// at the final size (then len(bufs) may be 0: a FIN-only indication). The
// same bytes are returned again until consumed; they stay valid and unchanged
// in memory until Consume releases them, whatever else arrives meanwhile, so
// the application may hold them across a pending RECEIVE. The returned slice
// of slices is reused by the next call; copy it to keep it. After a reset,
// a local abort, or once everything was read, nothing is readable.
func (r *RecvState) Readable() (off uint64, bufs [][]byte, fin bool) {
	switch r.phase {
	case RecvReceiving, RecvSizeKnown, RecvDataRecvd:
		if r.discard {
			return r.buf.readOff, nil, false
		}
		return r.buf.readOff, r.buf.readable(), r.phase == RecvDataRecvd
	}
	return r.buf.readOff, nil, false
}

// Consume releases the first n readable bytes (partial consumption is
// allowed) and credits them to the stream window; the caller credits the
// connection window with the same n. now and rtt (the smoothed RTT) drive
// window auto-tuning. When all data up to the FIN has been consumed, the
// stream moves to Data Read and raises EventPeerSendShutdown (Consume(0)
// completes a FIN-only indication). Consuming more than is readable returns
// ErrConsumeTooMuch; after a reset, an abort or the end of the stream it
// returns ErrRecvClosed (the bytes were already returned as freed). Errors
// change nothing.
func (r *RecvState) Consume(now mono.Time, n uint64, rtt time.Duration) error {
	switch r.phase {
	case RecvNone:
		return ErrNoRecv
	case RecvReceiving, RecvSizeKnown, RecvDataRecvd:
	default:
		return ErrRecvClosed
	}
	if r.discard {
		return ErrRecvClosed
	}
	if n > r.buf.contig()-r.buf.readOff {
		return ErrConsumeTooMuch
	}
	r.buf.consume(n)
	r.win.OnConsumed(now, n, rtt)
	if r.phase == RecvDataRecvd && r.buf.readOff == r.finalSize {
		r.phase = RecvDataRead
		r.events |= EventPeerSendShutdown
		r.buf.release()
	}
	return nil
}

// StopSending aborts the receive direction locally (MsQuic ABORT_RECEIVE):
// buffered data is dropped and later data only counted, and a STOP_SENDING
// frame with code is queued if the peer may still send (Recv or Size Known;
// RFC 9000, Section 3.5). In Data Recvd nothing needs to be sent and the
// stream moves straight to Data Read. freed is the number of received bytes
// dropped unread. Later calls do nothing.
func (r *RecvState) StopSending(code uint64) (freed uint64) {
	switch r.phase {
	case RecvReceiving, RecvSizeKnown:
		if r.discard {
			return 0
		}
		r.discard = true
		r.stop = ctrlWant
		r.stopCode = code
		return r.skipReceived()
	case RecvDataRecvd:
		freed = r.finalSize - r.buf.readOff
		r.buf.skipTo(r.finalSize)
		r.phase = RecvDataRead
		return freed
	}
	return 0
}

// StopSendingPending returns the error code for a STOP_SENDING frame the
// connection should send now. It is sent until acknowledged, and not any
// more once the peer's data or reset has all arrived (RFC 9000, Section 13.3).
func (r *RecvState) StopSendingPending() (code uint64, ok bool) {
	return r.stopCode, r.stop == ctrlWant && (r.phase == RecvReceiving || r.phase == RecvSizeKnown)
}

// OnStopSendingSent records that the STOP_SENDING frame was put in a packet.
func (r *RecvState) OnStopSendingSent() { r.stop.onSent() }

// OnStopSendingLost records that the packet carrying STOP_SENDING was lost.
func (r *RecvState) OnStopSendingLost() { r.stop.onLost() }

// OnStopSendingAcked records that STOP_SENDING was acknowledged.
func (r *RecvState) OnStopSendingAcked() { r.stop.onAcked() }

// NeedsMaxStreamData reports whether MaxStreamData would return a value.
func (r *RecvState) NeedsMaxStreamData() bool {
	return r.phase == RecvReceiving && !r.discard && r.win.NeedsUpdate()
}

// MaxStreamData returns a new limit to send in a MAX_STREAM_DATA frame when
// one is due (flow.RecvWindow.Update). Only a stream in the Recv state sends
// updates: once the final size is known the peer needs no more credit (RFC
// 9000, Section 3.2), and an aborted receive gives none.
func (r *RecvState) MaxStreamData(now mono.Time) (limit uint64, ok bool) {
	if r.phase != RecvReceiving || r.discard {
		return r.win.Limit(), false
	}
	return r.win.Update(now)
}

// OnMaxStreamDataLost records that a MAX_STREAM_DATA frame carrying v was
// lost; it is sent again if v is still the current limit.
func (r *RecvState) OnMaxStreamDataLost(v uint64) { r.win.OnLimitLost(v) }

// Limit returns the stream limit advertised to the peer.
func (r *RecvState) Limit() uint64 { return r.win.Limit() }

// Window returns the current stream window size.
func (r *RecvState) Window() uint64 { return r.win.Window() }

// ReadOffset returns the offset of the first byte not yet consumed (or
// dropped).
func (r *RecvState) ReadOffset() uint64 { return r.buf.readOff }

// Highest returns the highest offset received (the final size after a
// reset).
func (r *RecvState) Highest() uint64 { return r.highest }

// FinalSize returns the final size, once known.
func (r *RecvState) FinalSize() (size uint64, known bool) { return r.finalSize, r.sizeKnown }

// TakeEvents returns the events raised since the last call and clears them.
func (r *RecvState) TakeEvents() Event {
	e := r.events
	r.events = 0
	return e
}

// Close abandons the receiving part when the connection goes away: the
// buffer is dropped (never pooled, since the application may still hold
// indicated bytes) and the state becomes terminal (Reset Read, or Data Read if
// it was Data Recvd).
func (r *RecvState) Close() {
	if r.phase == RecvNone {
		return
	}
	r.buf.indicated = MaxOffset // never return the ring to the pool
	r.buf.release()
	switch r.phase {
	case RecvDataRead, RecvResetRead:
	case RecvDataRecvd:
		r.phase = RecvDataRead
	default:
		r.phase = RecvResetRead
	}
}
