package quicnet

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/hquic/quic"
)

// Stream is a QUIC stream. It is an io.Reader, io.Writer and io.Closer,
// and a net.Conn: Read, Write, Close and the deadlines behave as they do
// for a TCP connection, with QUIC's two independent directions on top
// (CloseWrite, CancelRead, CancelWrite). A unidirectional stream has only
// one direction; the other's operations fail.
//
// Memory is bounded: Write copies into the stream's send buffer
// (Config.SendBuffer) and blocks while it is full; received data waits in
// the library's buffer, and the peer may send more only as Read consumes
// it (flow control). One goroutine may read while another writes; Reads
// are serialized among themselves, and so are Writes.
type Stream struct {
	c    *Conn
	qs   *quic.Stream
	recv bool // the stream has a receiving direction
	send bool // the stream has a sending direction

	readMu  sync.Mutex // serializes Read and WriteTo
	writeMu sync.Mutex // serializes Write and ReadFrom
	rwake   chan struct{}
	wwake   chan struct{}

	mu       sync.Mutex
	opened   bool  // local stream: started and within the peer's limit
	openErr  error // local stream: the start failed
	finished bool  // the library's last event came
	closed   bool  // Close was called

	// Receiving direction (stream_read.go).
	rv      recvView
	rerr    error // what Read returns from now on
	reof    bool  // the end of the stream was read
	reading bool  // a Read is copying from rv outside mu
	rdl     deadline

	// Sending direction (stream_write.go).
	sb      sendBuf
	werr    error // what Write returns from now on
	wclosed bool  // CloseWrite (or Close) was called
	fin     bool  // the end of the stream is to be sent
	finSent bool
	wdl     deadline
}

var _ net.Conn = (*Stream)(nil)

// newStream makes the Stream for qs (nil for a local stream, set by the
// caller before it starts).
func newStream(c *Conn, qs *quic.Stream, bidi, peer bool) *Stream {
	s := &Stream{
		c:     c,
		qs:    qs,
		recv:  bidi || peer,
		send:  bidi || !peer,
		rwake: make(chan struct{}, 1),
		wwake: make(chan struct{}, 1),
	}
	s.sb.init(c.opts.sendBuffer)
	s.rdl.wake, s.wdl.wake = s.wakeReader, s.wakeWriter
	if peer {
		s.opened = true
	}
	return s
}

// handle is the stream's event handler. Like the connection's, it runs on
// the library's worker, never blocks and only records and wakes.
func (s *Stream) handle(qs *quic.Stream, ev quic.StreamEvent) error {
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		return s.onReceive(ev)
	case *quic.SendCompleteEvent:
		s.onSendComplete(ev.SendContext)
	case *quic.StartCompleteEvent:
		s.mu.Lock()
		switch {
		case ev.Status.Failed():
			s.openErr = ev.Status
		case ev.PeerAccepted:
			s.opened = true
		}
		s.mu.Unlock()
		signal(s.wwake)
		if ev.Status.Failed() {
			qs.Close() // no other event follows a failed start
		}
	case *quic.PeerSendShutdownEvent:
		// The peer's FIN, when it came after the last data was indicated:
		// every byte has been read (the library raises it once all were
		// handed back), so reads now end.
		s.mu.Lock()
		if s.rerr == nil && !s.rv.ready {
			s.reof = true
		}
		s.mu.Unlock()
		signal(s.rwake)
	case *quic.PeerAcceptedEvent:
		s.mu.Lock()
		s.opened = true
		s.mu.Unlock()
		signal(s.wwake)
	case *quic.PeerSendAbortedEvent:
		s.mu.Lock()
		if s.rerr == nil && !s.reof {
			s.rerr = &StreamError{StreamID: s.id(), Code: ev.ErrorCode, Remote: true}
		}
		s.mu.Unlock()
		signal(s.rwake)
	case *quic.PeerReceiveAbortedEvent:
		s.mu.Lock()
		if s.werr == nil {
			s.werr = &StreamError{StreamID: s.id(), Code: ev.ErrorCode, Remote: true}
		}
		s.mu.Unlock()
		signal(s.wwake)
	case *quic.IdealSendBufferSizeEvent:
		s.mu.Lock()
		s.sb.raiseLimit(ev.ByteCount)
		s.mu.Unlock()
		signal(s.wwake)
	case *quic.StreamShutdownCompleteEvent:
		s.onShutdownComplete(ev)
		if !ev.AppCloseInProgress {
			qs.Close()
		}
	}
	return nil
}

// onShutdownComplete ends both directions: operations that are still
// possible fail from now on, with the connection's error if the connection
// ended.
func (s *Stream) onShutdownComplete(ev *quic.StreamShutdownCompleteEvent) {
	err := error(ErrClosed)
	if ev.ConnectionShutdown {
		err = s.c.connErr()
		if err == nil {
			err = shutdownErr(ev)
		}
	}
	s.mu.Lock()
	s.finished = true
	if s.rerr == nil && !s.reof {
		s.rerr = err
	}
	if s.werr == nil {
		s.werr = err
	}
	if !s.opened && s.openErr == nil {
		s.openErr = err
	}
	s.rdl.stop()
	s.wdl.stop()
	s.mu.Unlock()
	signal(s.rwake)
	signal(s.wwake)
}

// shutdownErr is the connection's error as a stream's last event reports
// it, for a stream that ends before its connection's handler heard why.
func shutdownErr(ev *quic.StreamShutdownCompleteEvent) error {
	if ev.ConnectionShutdownByApp || ev.ConnectionCloseStatus == quic.StatusUserCanceled {
		return &quic.ApplicationError{Code: ev.ConnectionErrorCode, Remote: ev.ConnectionClosedRemotely}
	}
	return transportErr(ev.ConnectionCloseStatus, nil)
}

// waitOpen waits until a local stream may send.
func (s *Stream) waitOpen(ctx context.Context) error {
	for {
		s.mu.Lock()
		opened, err := s.opened, s.openErr
		s.mu.Unlock()
		switch {
		case err != nil:
			return err
		case opened:
			return nil
		}
		select {
		case <-s.wwake:
		case <-ctx.Done():
			s.qs.Shutdown(quic.StreamShutdownAbort|quic.StreamShutdownImmediate, 0)
			return ctx.Err()
		}
	}
}

// id returns the stream ID (0 before a local stream started).
func (s *Stream) id() uint64 {
	id, _ := s.qs.ID()
	return id
}

// StreamID returns the QUIC stream ID.
func (s *Stream) StreamID() uint64 { return s.id() }

// Close closes the stream like a TCP connection: the sending direction
// ends after the data written so far (as CloseWrite), and the receiving
// direction is abandoned if its end was not read (as CancelRead with code
// 0). Blocked and later Reads and Writes fail with ErrClosed. Close does
// not wait for the peer to acknowledge the data; the stream's resources
// are released when it has, or when the connection ends. Closing again
// does nothing.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	abortRecv := s.recv && s.rerr == nil && !s.reof
	if s.rerr == nil {
		s.rerr = ErrClosed
	}
	n, complete := s.releaseViewLocked()
	endSend := s.send && !s.wclosed && s.werr == nil
	if s.werr == nil {
		s.werr = ErrClosed
	}
	if endSend {
		s.wclosed, s.fin = true, true
		s.flushLocked()
	}
	s.rdl.stop()
	s.wdl.stop()
	s.mu.Unlock()
	if complete {
		s.qs.ReceiveComplete(n)
	}
	if abortRecv {
		s.qs.Shutdown(quic.StreamShutdownAbortReceive, 0)
	}
	signal(s.rwake)
	signal(s.wwake)
	return nil
}

// SetDeadline sets both the read and the write deadline (net.Conn).
func (s *Stream) SetDeadline(t time.Time) error {
	s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

// SetReadDeadline sets the time after which Read fails with
// os.ErrDeadlineExceeded (a net.Error whose Timeout reports true), also
// for a Read already blocked; a deadline already past fails it at once,
// even with data available. The zero time removes the deadline.
func (s *Stream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.rdl.set(t)
	s.mu.Unlock()
	signal(s.rwake)
	return nil
}

// SetWriteDeadline sets the time after which Write fails with
// os.ErrDeadlineExceeded, like SetReadDeadline. Data that Write already
// accepted is still sent.
func (s *Stream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.wdl.set(t)
	s.mu.Unlock()
	signal(s.wwake)
	return nil
}

func (s *Stream) wakeReader() { signal(s.rwake) }
func (s *Stream) wakeWriter() { signal(s.wwake) }

// LocalAddr returns the connection's local address (net.Conn).
func (s *Stream) LocalAddr() net.Addr { return s.c.LocalAddr() }

// RemoteAddr returns the connection's remote address (net.Conn).
func (s *Stream) RemoteAddr() net.Addr { return s.c.RemoteAddr() }

// Conn returns the stream's connection.
func (s *Stream) Conn() *Conn { return s.c }

// deadline is one direction's deadline and the timer that wakes a blocked
// call when it passes.
type deadline struct {
	t     time.Time
	timer *time.Timer
	wake  func() // the timer's function, kept so the timer is made once
}

// set arms the deadline: d.wake is called when it passes.
func (d *deadline) set(t time.Time) {
	d.t = t
	if d.timer != nil {
		d.timer.Stop()
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		return // exceeded already; the caller wakes the waiter
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(dur, d.wake)
		return
	}
	d.timer.Reset(dur)
}

// exceeded reports whether the deadline has passed.
func (d *deadline) exceeded() bool {
	return !d.t.IsZero() && !time.Now().Before(d.t)
}

func (d *deadline) stop() {
	if d.timer != nil {
		d.timer.Stop()
	}
}
