package quicnet

import (
	"io"
	"os"

	"github.com/hquic/quic"
)

// The receiving direction. The handler keeps each ReceiveEvent's buffers
// (returning quic.Pending, so the library holds the bytes in place) and
// Read copies straight out of them; when all of an indication is read,
// ReceiveComplete hands it back, which returns flow-control credit to the
// peer and lets the library indicate what arrived meanwhile. Only the
// reader's pace opens the window, so received data in memory never
// exceeds the stream's receive window.

// recvView is the indication the reader is consuming.
type recvView struct {
	bufs  [][]byte // the event's buffers (their headers copied)
	i     int      // current buffer
	off   int      // offset in bufs[i]
	total uint64   // bytes indicated
	left  uint64   // bytes not yet read
	fin   bool     // the indication ends the stream
	ready bool     // an indication is held
}

// onReceive keeps an indication for the reader. Once the receiving
// direction is abandoned, data is consumed at once.
func (s *Stream) onReceive(ev *quic.ReceiveEvent) error {
	s.mu.Lock()
	if s.rerr != nil {
		s.mu.Unlock()
		return nil
	}
	v := &s.rv
	v.bufs = append(v.bufs[:0], ev.Buffers...)
	v.i, v.off = 0, 0
	v.total, v.left = ev.TotalBufferLength, ev.TotalBufferLength
	v.fin = ev.Flags&quic.ReceiveFIN != 0
	v.ready = true
	s.mu.Unlock()
	signal(s.rwake)
	return quic.Pending
}

// copyOut copies from the view into p and returns the count; it advances
// i, off and left.
func (v *recvView) copyOut(p []byte) int {
	n := 0
	for n < len(p) && v.left > 0 {
		b := v.bufs[v.i][v.off:]
		m := copy(p[n:], b)
		n += m
		v.off += m
		v.left -= uint64(m)
		if v.off == len(v.bufs[v.i]) {
			v.i++
			v.off = 0
		}
	}
	return n
}

// waitView blocks until an indication is held, and returns it (a copy of
// the view) with s.reading set, or the error Read must return. The caller
// holds readMu.
func (s *Stream) waitView() (recvView, error) {
	if !s.recv {
		return recvView{}, errNoRecv
	}
	for {
		s.mu.Lock()
		switch {
		case s.rerr != nil:
			err := s.rerr
			s.mu.Unlock()
			return recvView{}, err
		case s.reof:
			s.mu.Unlock()
			return recvView{}, io.EOF
		case s.rdl.exceeded():
			s.mu.Unlock()
			return recvView{}, os.ErrDeadlineExceeded
		case s.rv.ready:
			s.reading = true
			v := s.rv
			s.mu.Unlock()
			return v, nil
		}
		s.mu.Unlock()
		<-s.rwake
	}
}

// doneReading stores the reader's progress in the view. When the view is
// used up, or the direction was abandoned meanwhile, it is handed back to
// the library. It returns the error to report with the bytes read: io.EOF
// at the end of the stream, the direction's error if it was abandoned.
func (s *Stream) doneReading(v *recvView) error {
	s.mu.Lock()
	s.reading = false
	s.rv.i, s.rv.off, s.rv.left = v.i, v.off, v.left
	var err error
	switch {
	case s.rerr != nil:
		err = s.rerr
	case v.left == 0 && v.fin:
		s.reof = true
		err = io.EOF
	}
	var n uint64
	var ok bool
	if v.left == 0 || s.rerr != nil {
		n, ok = s.releaseViewLocked()
	}
	s.mu.Unlock()
	if ok {
		s.qs.ReceiveComplete(n)
	}
	return err
}

// releaseViewLocked gives up the held indication, unless a Read is copying
// from it (that Read gives it back when it is done). When ok, the caller
// must call ReceiveComplete(n) after unlocking s.mu.
func (s *Stream) releaseViewLocked() (n uint64, ok bool) {
	if !s.rv.ready || s.reading {
		return 0, false
	}
	s.rv.ready = false
	clear(s.rv.bufs)
	return s.rv.total, true
}

// Read reads received data into p (io.Reader). It blocks until data
// arrives, the read deadline passes (os.ErrDeadlineExceeded), or the
// direction ends: io.EOF after the last byte, a *StreamError when the peer
// reset the stream (or CancelRead was called), ErrClosed after Close, and
// the connection's error when it ended.
func (s *Stream) Read(p []byte) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	v, err := s.waitView()
	if err != nil {
		return 0, err
	}
	n := v.copyOut(p)
	err = s.doneReading(&v)
	if err == io.EOF && n == 0 {
		return 0, io.EOF
	}
	if err != nil && err != io.EOF {
		return 0, err
	}
	return n, err
}

// WriteTo writes everything the stream receives to w until the end of the
// stream (io.WriterTo, which io.Copy uses): received bytes go from the
// library's buffer straight to w, without an intermediate copy. It
// returns the bytes written and the first error other than io.EOF.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	var total int64
	for {
		v, err := s.waitView()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		var werr error
		for v.left > 0 {
			b := v.bufs[v.i][v.off:]
			m, err := w.Write(b)
			total += int64(m)
			v.off += m
			v.left -= uint64(m)
			if v.off == len(v.bufs[v.i]) {
				v.i++
				v.off = 0
			}
			if err != nil {
				werr = err
				break
			}
		}
		err = s.doneReading(&v)
		switch {
		case werr != nil:
			return total, werr
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// CancelRead abandons the receiving direction: the peer is asked to stop
// sending (STOP_SENDING with code, at most quic.MaxVarInt) and data not
// yet read is dropped. Blocked and later Reads fail with a *StreamError
// (Remote false). After the end of the stream was read it does nothing.
func (s *Stream) CancelRead(code uint64) error {
	if !s.recv {
		return errNoRecv
	}
	if code > quic.MaxVarInt {
		return &quic.OpError{Op: "quicnet.Stream.CancelRead", Status: quic.StatusInvalidParameter}
	}
	s.mu.Lock()
	if s.rerr != nil || s.reof {
		s.mu.Unlock()
		return nil
	}
	s.rerr = &StreamError{StreamID: s.id(), Code: code}
	n, ok := s.releaseViewLocked()
	s.mu.Unlock()
	if ok {
		s.qs.ReceiveComplete(n)
	}
	signal(s.rwake)
	return s.qs.Shutdown(quic.StreamShutdownAbortReceive, code)
}
