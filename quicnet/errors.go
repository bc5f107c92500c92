package quicnet

import (
	"errors"
	"net"
	"strconv"

	"github.com/hquic/quic"
)

// StreamError reports that one direction of a stream was abandoned with an
// application error code: the peer reset its sending direction
// (RESET_STREAM, seen by Read) or asked us to stop sending (STOP_SENDING,
// seen by Write), or this side did so itself with CancelRead or
// CancelWrite (Remote false).
type StreamError struct {
	// StreamID is the stream's QUIC stream ID.
	StreamID uint64
	// Code is the application error code.
	Code uint64
	// Remote reports whether the peer abandoned the direction.
	Remote bool
}

// Error describes the error, e.g. "quicnet: stream 4 reset by the peer with
// code 0x10".
func (e *StreamError) Error() string {
	s := "quicnet: stream " + strconv.FormatUint(e.StreamID, 10)
	if e.Remote {
		s += " abandoned by the peer"
	} else {
		s += " canceled locally"
	}
	return s + " with code 0x" + strconv.FormatUint(e.Code, 16)
}

// Is reports whether target is a *StreamError with the same Code and Remote;
// its StreamID is ignored, so errors.Is(err, &StreamError{Code: 7, Remote:
// true}) matches any stream.
func (e *StreamError) Is(target error) bool {
	t, ok := target.(*StreamError)
	return ok && t.Code == e.Code && t.Remote == e.Remote
}

// ErrClosed is returned by operations on a stream or connection this side
// closed, and by Accept on a closed listener. It is net.ErrClosed, so
// errors.Is(err, net.ErrClosed) matches it.
var ErrClosed = net.ErrClosed

// errReadOnly and errWriteOnly are returned for the direction a
// unidirectional stream does not have.
var (
	errNoSend = errors.New("quicnet: the stream is receive-only")
	errNoRecv = errors.New("quicnet: the stream is send-only")
)

// errWriteClosed is returned by Write after CloseWrite or Close.
var errWriteClosed = errors.New("quicnet: write after CloseWrite or Close")

// timeoutError marks a connection that ended because nothing was heard from
// the peer (idle or handshake timeout, or unacknowledged data): a net.Error
// whose Timeout reports true, unwrapping to the library's Status so that
// errors.Is(err, quic.ErrConnectionIdle) still matches.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return e.err.Error() }
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return false }

var _ net.Error = (*timeoutError)(nil)

// transportErr returns the error a connection closed by the transport
// reports: err (a *quic.TransportError or a quic.Status), marked as a
// timeout when the close was one.
func transportErr(st quic.Status, err error) error {
	if err == nil {
		err = st
	}
	switch st {
	case quic.StatusConnectionIdle, quic.StatusConnectionTimeout:
		return &timeoutError{err: err}
	}
	return err
}
