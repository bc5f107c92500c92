package quicnet

import (
	"io"
	"os"
	"sync"

	"github.com/hquic/quic"
)

// The sending direction. Write copies into the stream's send buffer, a
// queue of pooled 64 KiB chunks, and hands the new bytes to the library
// with Stream.Send, referencing the chunks (no second copy). A chunk goes
// back to the pool when the sends covering it complete, that is when the
// peer acknowledged them, so the buffer holds at most SendBuffer bytes of
// written, unacknowledged data, and Write blocks while it is full. At most
// maxSends sends are outstanding; bytes written meanwhile are sent
// together when one completes, so small writes coalesce under load. A
// Write blocked on the full buffer is woken once a quarter of it is free,
// not at every completed send, so it refills the buffer in a run of copies
// instead of sleeping and waking once per acknowledgement.

const (
	chunkSize = 64 << 10  // send buffer piece
	maxSend   = 256 << 10 // bytes per Stream.Send
	maxSends  = 32        // outstanding Stream.Send calls per stream
)

// chunk is a piece of a send buffer.
type chunk [chunkSize]byte

// chunkPool shares send buffer pieces between streams.
var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

// sendRec is one outstanding Stream.Send: its buffers (kept by the library
// until it completes) and its length. Its address is the send's context.
type sendRec struct {
	bufs [][]byte
	n    uint64
}

// sendBuf is a stream's send buffer. Offsets count the stream's bytes:
// acked <= sent <= written; chunks[0] holds offset base.
type sendBuf struct {
	chunks  []*chunk
	base    uint64
	acked   uint64 // completed: acknowledged, or canceled
	sent    uint64 // handed to Stream.Send
	written uint64 // copied in by Write
	limit   uint64
	filling bool // a Write is copying into the tail outside the lock
	recs    [maxSends]sendRec
	rhead   int // oldest outstanding record
	rn      int // outstanding records
}

func (b *sendBuf) init(limit int) { b.limit = uint64(limit) }

// raiseLimit follows the library's ideal send buffer size, up to
// maxSendBuffer; it never lowers the limit.
func (b *sendBuf) raiseLimit(n uint64) { b.limit = max(b.limit, min(n, maxSendBuffer)) }

// room returns the bytes Write may add now.
func (b *sendBuf) room() uint64 {
	used := b.written - b.acked
	if used >= b.limit {
		return 0
	}
	return b.limit - used
}

// refill reports whether a Write blocked on the full buffer is worth
// waking: once a quarter of the buffer is free, so that it copies in a
// run instead of once per completed send. Room only grows from there until
// everything is acknowledged, so a blocked Write is always woken.
func (b *sendBuf) refill() bool { return b.room() >= max(b.limit/4, 1) }

// tail returns the free space after the written bytes, at most max bytes
// and within one chunk, taking a chunk from the pool when needed. The
// caller checked room.
func (b *sendBuf) tail(max int) []byte {
	off := b.written - b.base
	i := int(off / chunkSize)
	if i == len(b.chunks) {
		b.chunks = append(b.chunks, chunkPool.Get().(*chunk))
	}
	j := int(off % chunkSize)
	n := min(chunkSize-j, max, int(b.room()))
	return b.chunks[i][j : j+n]
}

// take fills the next record with up to maxSend unsent bytes; fin allows a
// record with no bytes (to carry the end of the stream). It returns nil
// when every record is outstanding or there is nothing to send.
func (b *sendBuf) take(fin bool) *sendRec {
	if b.rn == maxSends || b.sent == b.written && !fin {
		return nil
	}
	r := &b.recs[(b.rhead+b.rn)%maxSends]
	b.rn++
	end := min(b.written, b.sent+maxSend)
	r.bufs = r.bufs[:0]
	for off := b.sent; off < end; {
		rel := off - b.base
		c := b.chunks[rel/chunkSize]
		j := rel % chunkSize
		e := min(end-off, chunkSize-j)
		r.bufs = append(r.bufs, c[j:j+e])
		off += e
	}
	r.n = end - b.sent
	b.sent = end
	return r
}

// untake returns the newest record after a failed Stream.Send.
func (b *sendBuf) untake(r *sendRec) {
	b.rn--
	b.sent -= r.n
	clear(r.bufs)
}

// complete releases the oldest record (sends complete in order) and the
// chunks no send references any more.
func (b *sendBuf) complete(r *sendRec) {
	if b.rn == 0 || r != &b.recs[b.rhead] {
		return
	}
	b.acked += r.n
	clear(r.bufs)
	b.rhead = (b.rhead + 1) % maxSends
	b.rn--
	for len(b.chunks) > 0 && b.base+chunkSize <= b.acked {
		b.dropFirstChunk()
	}
	if b.acked == b.written && !b.filling {
		// Nothing is held: an idle stream keeps no memory.
		for len(b.chunks) > 0 {
			b.dropFirstChunk()
		}
		b.base = b.written
	}
}

func (b *sendBuf) dropFirstChunk() {
	chunkPool.Put(b.chunks[0])
	n := copy(b.chunks, b.chunks[1:])
	b.chunks[n] = nil
	b.chunks = b.chunks[:n]
	b.base += chunkSize
}

// flushLocked hands unsent bytes, and the end of the stream once everything
// before it is sent, to the library. It is called with s.mu held, so sends
// are issued in stream order.
func (s *Stream) flushLocked() {
	for !s.finSent {
		fin := s.fin && s.sb.written-s.sb.sent <= maxSend
		r := s.sb.take(fin)
		if r == nil {
			return
		}
		flags := quic.SendNone
		if fin && s.sb.sent == s.sb.written {
			flags = quic.SendFIN
			s.finSent = true
		}
		if err := s.qs.Send(r.bufs, flags, r); err != nil {
			s.sb.untake(r)
			s.finSent = false
			if s.werr == nil {
				s.werr = err
			}
			return
		}
	}
}

// onSendComplete frees the send's buffer space and sends what waited for a
// record.
func (s *Stream) onSendComplete(ctx any) {
	r, _ := ctx.(*sendRec)
	s.mu.Lock()
	if r != nil {
		s.sb.complete(r)
	}
	if s.werr == nil || s.werr == ErrClosed {
		s.flushLocked()
	}
	wake := s.werr != nil || s.sb.refill()
	s.mu.Unlock()
	if wake {
		signal(s.wwake)
	}
}

// waitRoom blocks until the send buffer has room, and returns the space to
// fill (at most max bytes) with filling set, or the error Write must
// return. The caller holds writeMu.
func (s *Stream) waitRoom(max int) ([]byte, error) {
	if !s.send {
		return nil, errNoSend
	}
	for {
		s.mu.Lock()
		switch {
		case s.werr != nil:
			err := s.werr
			s.mu.Unlock()
			return nil, err
		case s.wclosed:
			s.mu.Unlock()
			return nil, errWriteClosed
		case s.wdl.exceeded():
			s.mu.Unlock()
			return nil, os.ErrDeadlineExceeded
		case s.sb.room() > 0:
			s.sb.filling = true
			b := s.sb.tail(max)
			s.mu.Unlock()
			return b, nil
		}
		s.mu.Unlock()
		<-s.wwake
	}
}

// commit adds n bytes copied into the tail and sends them.
func (s *Stream) commit(n int) {
	s.mu.Lock()
	s.sb.filling = false
	s.sb.written += uint64(n)
	if s.werr == nil {
		s.flushLocked()
	}
	s.mu.Unlock()
}

// Write writes p to the stream (io.Writer). It returns once all of p is
// in the send buffer, blocking while the buffer is full; the bytes are
// sent as flow and congestion control allow. It fails, with the count of
// bytes accepted, when the write deadline passes (os.ErrDeadlineExceeded),
// after CloseWrite, with a *StreamError when the peer asked us to stop
// sending (or CancelWrite was called), with ErrClosed after Close, and with
// the connection's error when it ended.
func (s *Stream) Write(p []byte) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n := 0
	for n < len(p) {
		b, err := s.waitRoom(len(p) - n)
		if err != nil {
			return n, err
		}
		m := copy(b, p[n:])
		s.commit(m)
		n += m
	}
	return n, nil
}

// ReadFrom writes everything r yields to the stream until r returns io.EOF
// (io.ReaderFrom, which io.Copy uses): r reads straight into the send
// buffer, without an intermediate copy. It returns the bytes written and
// the first error other than io.EOF.
func (s *Stream) ReadFrom(r io.Reader) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var total int64
	for {
		b, err := s.waitRoom(chunkSize)
		if err != nil {
			return total, err
		}
		m, rerr := r.Read(b)
		s.commit(m)
		total += int64(m)
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// CloseWrite ends the sending direction: the peer reads io.EOF after the
// data written so far. It does not wait for the data to be acknowledged.
// Later Writes fail. Calling it again does nothing.
func (s *Stream) CloseWrite() error {
	if !s.send {
		return errNoSend
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wclosed || s.werr != nil {
		return nil
	}
	s.wclosed, s.fin = true, true
	s.flushLocked()
	return nil
}

// CancelWrite abandons the sending direction: the stream is reset
// (RESET_STREAM with code, at most quic.MaxVarInt) and data not yet
// acknowledged is dropped. Blocked and later Writes fail with a
// *StreamError (Remote false). After the peer acknowledged the end of the
// stream it does nothing.
func (s *Stream) CancelWrite(code uint64) error {
	if !s.send {
		return errNoSend
	}
	if code > quic.MaxVarInt {
		return &quic.OpError{Op: "quicnet.Stream.CancelWrite", Status: quic.StatusInvalidParameter}
	}
	s.mu.Lock()
	if s.werr != nil && s.werr != ErrClosed {
		s.mu.Unlock()
		return nil
	}
	s.werr = &StreamError{StreamID: s.id(), Code: code}
	s.mu.Unlock()
	signal(s.wwake)
	return s.qs.Shutdown(quic.StreamShutdownAbortSend, code)
}
