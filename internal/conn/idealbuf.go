package conn

import "github.com/hquic/quic/internal/stream"

// The ideal send buffer size (MsQuic's IDEAL_SEND_BUFFER_SIZE): how many
// bytes an application should keep queued on a stream so the connection
// is not application-limited. The connection's value starts at
// stream.DefaultIdealSendBuffer and grows, never shrinks, past the most
// bytes ever in flight (MsQuic's BytesInFlightMax); a stream's is the
// smaller of the connection's and the one its peer flow-control window
// allows (limit minus acknowledged bytes). A stream's change raises the
// event; it also bounds send buffering (stream.SendState).

// onBytesInFlight runs after each send pass: when more bytes than ever
// are in flight and that raises the connection's ideal size, every stream
// still sending is adjusted.
func (st *streamState) onBytesInFlight(c *Conn) {
	// idealBuf is the smallest size above every count seen so far, so
	// only a count that reaches it raises it.
	bif := uint64(c.loss.BytesInFlight())
	if bif < st.idealBuf || st.idealBuf >= stream.MaxIdealSendBuffer {
		return
	}
	st.idealBuf = stream.IdealSendBufferSize(bif)
	for e := range st.set.All() {
		st.adjustIdealSendBuffer(c, e.Stream)
	}
}

// adjustIdealSendBuffer recomputes s's ideal send buffer size and raises
// the event when it changed.
func (st *streamState) adjustIdealSendBuffer(c *Conn, s *Stream) {
	switch s.send.Phase() {
	case stream.SendReady, stream.SendSending:
	default:
		return
	}
	n := st.idealBuf
	if limit, acked := s.send.Limit(), s.send.Acked(); limit-acked < n {
		n = min(n, stream.IdealSendBufferSize(limit-acked))
	}
	if s.send.SetIdealSendBuffer(n) && c.events != nil && !s.appClosed {
		c.events.StreamIdealSendBufferSize(s, n)
	}
}
