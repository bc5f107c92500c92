package conn

import (
	"github.com/hquic/quic/internal/wire"
)

// appendFrames writes stream-related frames: connection flow control
// (MAX_DATA, DATA_BLOCKED), stream limits (MAX_STREAMS, STREAMS_BLOCKED),
// per-stream control frames, then STREAM data in scheduler order.
func (st *streamState) appendFrames(w *frameWriter) {
	if w.pt == wire.Packet1RTT {
		st.appendConnFlow(w)
		st.appendControl(w)
	}
	st.appendData(w)
}

func (st *streamState) appendConnFlow(w *frameWriter) {
	if st.connRecv.NeedsUpdate() && w.fits(9) {
		if v, ok := st.connRecv.Update(w.now); ok {
			w.b.Buf = wire.AppendMaxData(w.b.Buf, v)
			w.ackEliciting = true
			w.log = logEntry1(w.log, logMaxData, v)
		}
	}
	for _, bidi := range [2]bool{true, false} {
		tag, b := logMaxStreamsUni, uint64(0)
		if bidi {
			tag, b = logMaxStreamsBidi, 1
		}
		if st.set.NeedsMaxStreams(bidi) && w.fits(9) {
			if v, ok := st.set.MaxStreams(bidi); ok {
				w.b.Buf = wire.AppendMaxStreams(w.b.Buf, bidi, v)
				w.ackEliciting = true
				w.log = logEntry1(w.log, tag, v)
			}
		}
		if w.fits(9) {
			if v, ok := st.set.StreamsBlocked(bidi); ok {
				w.b.Buf = wire.AppendStreamsBlocked(w.b.Buf, bidi, v)
				w.ackEliciting = true
				w.log = logEntry(w.log, logStreamsBlocked, b, v)
			}
		}
	}
}

// appendControl writes RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA and
// STREAM_DATA_BLOCKED frames for streams that queued them.
func (st *streamState) appendControl(w *frameWriter) {
	kept := st.ctrl[:0]
	for _, s := range st.ctrl {
		if !st.writeControl(w, s) {
			kept = append(kept, s)
			continue
		}
		s.ctrlQueued = false
	}
	clear(st.ctrl[len(kept):])
	st.ctrl = kept
}

// writeControl writes the control frames of s; it returns false if some did
// not fit, or must wait: a local stream beyond the peer's stream limit may
// send nothing, RESET_STREAM included, until the peer raises the limit
// (RFC 9000, Section 4.6: the peer treats any frame for it as a
// STREAM_LIMIT_ERROR).
func (st *streamState) writeControl(w *frameWriter, s *Stream) bool {
	if !st.set.Accepted(s.id) {
		return false
	}
	id := uint64(s.id)
	const maxCtrl = 1 + 8 + 8 + 8
	if code, size, ok := s.send.ResetPending(); ok {
		if !w.fits(maxCtrl) {
			return false
		}
		w.b.Buf = wire.AppendResetStream(w.b.Buf, id, code, size)
		s.send.OnResetSent()
		w.ackEliciting = true
		w.log = logEntry1(w.log, logResetStream, id)
	}
	if code, ok := s.recv.StopSendingPending(); ok {
		if !w.fits(maxCtrl) {
			return false
		}
		w.b.Buf = wire.AppendStopSending(w.b.Buf, id, code)
		s.recv.OnStopSendingSent()
		w.ackEliciting = true
		w.log = logEntry1(w.log, logStopSending, id)
	}
	if s.recv.NeedsMaxStreamData() {
		if !w.fits(maxCtrl) {
			return false
		}
		if v, ok := s.recv.MaxStreamData(w.now); ok {
			w.b.Buf = wire.AppendMaxStreamData(w.b.Buf, id, v)
			w.ackEliciting = true
			w.log = logEntry(w.log, logMaxStreamData, id, v)
		}
	}
	return true
}

// appendData writes STREAM frames from the scheduled streams.
func (st *streamState) appendData(w *frameWriter) {
	c := w.c
	e := st.set.Front()
	for e != nil && w.room() > 24 {
		s := e.Stream
		next := st.set.Next(e)
		// A stream beyond the peer's limit announces nothing, not even
		// START_IMMEDIATE's empty frame (RFC 9000 §4.6): it is scheduled
		// again when MAX_STREAMS covers it.
		if !st.set.Accepted(s.id) {
			st.set.Unschedule(e)
			e = next
			continue
		}
		if st.holdDelayed(c, s) {
			e = next // stays scheduled for the next pass
			continue
		}
		if s.announce && w.fits(wire.SizeStreamHeader(uint64(s.id), 0, 0, true)) {
			w.b.Buf = wire.AppendStreamHeader(w.b.Buf, uint64(s.id), 0, 0, false, true)
			s.send.OnSent(0, 0, false)
			w.ackEliciting = true
			w.log = logEntry(w.log, logStream, uint64(s.id), 0, 0, 0)
			s.announce = false
		}
		credit := st.connSend.Available(st.sentNew)
		off, n, fin, ok := s.send.Pending(credit)
		if ok && w.pt == wire.Packet0RTT {
			if n, fin = s.clamp0RTT(off, n, fin); n == 0 && !fin {
				e = next // the rest waits for 1-RTT; the stream stays scheduled
				continue
			}
		}
		if !ok {
			if limit, report := s.send.DataBlocked(); report && w.fits(17) {
				w.b.Buf = wire.AppendStreamDataBlocked(w.b.Buf, uint64(s.id), limit)
				w.ackEliciting = true
				w.log = logEntry(w.log, logStreamDataBlocked, uint64(s.id), limit)
			}
			if credit == 0 && s.send.Queued() > s.send.Sent() {
				st.appendDataBlocked(w)
			}
			st.set.Unschedule(e)
			e = next
			continue
		}
		if !st.writeStreamFrame(w, s, off, int(n), fin) {
			return
		}
		st.afterStateChange(c, s)
		if w.room() <= 24 {
			st.set.Rotate(e)
			return
		}
	}
}

// clamp0RTT limits a range Pending offered to what the application let go
// in 0-RTT packets (SendFlagAllow0RTT).
func (s *Stream) clamp0RTT(off, n uint64, fin bool) (uint64, bool) {
	if end := s.zeroRTTSendEnd; off+n > end {
		n = end - min(off, end)
		fin = false
	}
	return n, fin && s.zeroRTTFin
}

// writeStreamFrame writes one STREAM frame with as much of [off, off+n) as
// fits. It returns false if nothing fit.
//
// A frame that reaches the end of the packet omits its length field. One
// that fits only without it (its data would leave less room than the field
// takes) is preceded by PADDING so that it still ends the packet exactly:
// the packet never outgrows the datagram, and the frame keeps its FIN.
func (st *streamState) writeStreamFrame(w *frameWriter, s *Stream, off uint64, n int, fin bool) bool {
	id := uint64(s.id)
	room := w.room()
	withLen, pad := false, 0
	hdr := wire.SizeStreamHeader(id, off, n, false)
	switch {
	case hdr+n > room:
		n, fin = room-hdr, false
	case hdr+n == room:
	case wire.SizeStreamHeader(id, off, n, true)+n <= room:
		withLen = true
	default:
		pad = room - hdr - n
	}
	if n < 0 || (n == 0 && !fin) {
		return false
	}
	w.b.Buf = wire.AppendPadding(w.b.Buf, pad)
	w.b.Buf = wire.AppendStreamHeader(w.b.Buf, id, off, n, fin, withLen)
	start := len(w.b.Buf)
	w.b.Buf = w.b.Buf[:start+n]
	s.send.WriteData(w.b.Buf[start:], off)
	newBytes := s.send.OnSent(off, n, fin)
	st.sentNew += newBytes
	w.c.stats.SendTotalStreamBytes += uint64(n)
	w.ackEliciting = true
	f := uint64(0)
	if fin {
		f = 1
	}
	w.log = logEntry(w.log, logStream, id, off, uint64(n), f)
	return true
}

// appendDataBlocked reports that connection flow control blocks us.
func (st *streamState) appendDataBlocked(w *frameWriter) {
	if limit, report := st.connSend.Blocked(st.sentNew); report && w.fits(9) {
		w.b.Buf = wire.AppendDataBlocked(w.b.Buf, limit)
		w.ackEliciting = true
		w.log = logEntry1(w.log, logDataBlocked, limit)
	}
}

// Acknowledgment and loss of stream frames, replayed from the frame log.

func (st *streamState) onStreamAcked(c *Conn, id, off uint64, n int, fin bool) {
	if s := st.lookup(id); s != nil {
		s.send.OnAcked(off, n, fin)
		st.afterStateChange(c, s)
	}
}

func (st *streamState) onStreamLost(c *Conn, id, off uint64, n int, fin bool) {
	s := st.lookup(id)
	if s == nil || !s.send.OnLost(off, n, fin) {
		return
	}
	if s.cancelOnLoss {
		st.queueLossCancel(s)
		return
	}
	st.schedule(s)
}

func (st *streamState) onResetAcked(c *Conn, id uint64) {
	if s := st.lookup(id); s != nil {
		s.send.OnResetAcked()
		st.afterStateChange(c, s)
	}
}

func (st *streamState) onResetLost(c *Conn, id uint64) {
	if s := st.lookup(id); s != nil {
		s.send.OnResetLost()
		st.queueCtrl(s)
	}
}

func (st *streamState) onStopSendingAcked(c *Conn, id uint64) {
	if s := st.lookup(id); s != nil {
		s.recv.OnStopSendingAcked()
		st.afterStateChange(c, s)
	}
}

func (st *streamState) onStopSendingLost(c *Conn, id uint64) {
	if s := st.lookup(id); s != nil {
		s.recv.OnStopSendingLost()
		st.queueCtrl(s)
	}
}

func (st *streamState) onMaxStreamDataLost(c *Conn, id, v uint64) {
	if s := st.lookup(id); s != nil {
		s.recv.OnMaxStreamDataLost(v)
		st.queueCtrl(s)
	}
}

func (st *streamState) onDataBlockedLost(c *Conn, id, limit uint64) {
	if s := st.lookup(id); s != nil {
		s.send.OnDataBlockedLost(limit)
		st.schedule(s)
	}
}
