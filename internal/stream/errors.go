package stream

import (
	"errors"
	"fmt"
)

// Transport error codes (RFC 9000, Section 20.1) that this package reports.
const (
	FlowControlError   = 0x3
	StreamLimitError   = 0x4
	StreamStateError   = 0x5
	FinalSizeError     = 0x6
	FrameEncodingError = 0x7
)

// Error is a protocol violation by the peer. The connection closes with a
// CONNECTION_CLOSE frame carrying Code (RFC 9000, Section 11.1). Values are
// shared and must not be modified; match with errors.As.
type Error struct {
	Code   uint64
	Reason string
}

// Error formats the reason and the code.
func (e *Error) Error() string {
	return fmt.Sprintf("quic: %s (transport error 0x%x)", e.Reason, e.Code)
}

// Peer protocol violations, shared so that reporting one never allocates.
var (
	errBeyondWindow     = &Error{FlowControlError, "stream data beyond the advertised stream limit"}
	errOffsetTooLarge   = &Error{FlowControlError, "stream offset exceeds 2^62-1"}
	errFinalSizeChanged = &Error{FinalSizeError, "final size changed"}
	errBeyondFinalSize  = &Error{FinalSizeError, "stream data beyond the final size"}
	errFinalSizeBelow   = &Error{FinalSizeError, "final size below data already received"}
	errNoRecvPart       = &Error{StreamStateError, "frame for a send-only stream"}
	errNoSendPart       = &Error{StreamStateError, "frame for a receive-only stream"}
	errNotCreated       = &Error{StreamStateError, "frame for a locally initiated stream not yet created"}
	errStreamLimit      = &Error{StreamLimitError, "peer opened a stream beyond the advertised limit"}
	errMaxStreamsTooBig = &Error{FrameEncodingError, "MAX_STREAMS above 2^60"}
	errBlockedTooBig    = &Error{FrameEncodingError, "STREAMS_BLOCKED above 2^60"}
)

// Misuse errors returned to the application layer. A call that returns one of
// them changes nothing.
var (
	// ErrFinSent: data or another FIN queued after a FIN (a graceful send
	// shutdown) was queued.
	ErrFinSent = errors.New("quic: stream send direction already finished")
	// ErrReset: data queued after the send direction was reset, by the
	// application (Reset) or because the peer sent STOP_SENDING.
	ErrReset = errors.New("quic: stream send direction was reset")
	// ErrNoSend: the stream has no sending part (a unidirectional stream
	// opened by the peer).
	ErrNoSend = errors.New("quic: stream is receive-only")
	// ErrNoRecv: the stream has no receiving part (a unidirectional stream
	// we opened).
	ErrNoRecv = errors.New("quic: stream is send-only")
	// ErrTooLong: the data would take the stream past offset 2^62-1.
	ErrTooLong = errors.New("quic: stream data exceeds 2^62-1 bytes")
	// ErrConsumeTooMuch: Consume was asked to consume more than Readable
	// offered.
	ErrConsumeTooMuch = errors.New("quic: consumed more bytes than were delivered")
	// ErrRecvClosed: Consume after the receive direction was reset by the
	// peer or aborted locally, or after all data was read.
	ErrRecvClosed = errors.New("quic: stream receive direction is closed")
	// ErrStreamsExhausted: all 2^60 stream IDs of the type were used.
	ErrStreamsExhausted = errors.New("quic: stream IDs exhausted")
)
