package quic

import "github.com/hquic/quic/internal/conn"

// DatagramSendState is the state of a sent datagram
// (QUIC_DATAGRAM_SEND_STATE).
type DatagramSendState uint32

const (
	// DatagramSendUnknown: not sent yet.
	DatagramSendUnknown DatagramSendState = 0
	// DatagramSendSent: sent, awaiting acknowledgement; the buffers may be
	// reused from here on.
	DatagramSendSent DatagramSendState = 1
	// DatagramSendLostSuspect: suspected lost, still tracked.
	DatagramSendLostSuspect DatagramSendState = 2
	// DatagramSendLostDiscarded: declared lost (final).
	DatagramSendLostDiscarded DatagramSendState = 3
	// DatagramSendAcknowledged: acknowledged (final).
	DatagramSendAcknowledged DatagramSendState = 4
	// DatagramSendAcknowledgedSpurious: acknowledged after being suspected
	// lost (final).
	DatagramSendAcknowledgedSpurious DatagramSendState = 5
	// DatagramSendCanceled: never sent (final).
	DatagramSendCanceled DatagramSendState = 6
)

// IsFinal reports whether no further state change follows
// (QUIC_DATAGRAM_SEND_STATE_IS_FINAL).
func (s DatagramSendState) IsFinal() bool { return s >= DatagramSendLostDiscarded }

// String returns the state name.
func (s DatagramSendState) String() string {
	return enumString("DatagramSendState", uint64(s), map[uint64]string{
		0: "Unknown", 1: "Sent", 2: "LostSuspect", 3: "LostDiscarded",
		4: "Acknowledged", 5: "AcknowledgedSpurious", 6: "Canceled",
	})
}

// SendDatagram sends an unreliable datagram (DatagramSend, RFC 9221) made
// of bufs. The buffers belong to the library until the first
// DatagramSendStateChangedEvent for sendCtx with a state of
// DatagramSendSent or a final state; every accepted datagram reaches
// exactly one final state. Before the peer's transport parameters are
// known the datagram is queued, and canceled if the peer turns out not to
// accept it. Flags:
//
//   - SendDatagramPriority puts it ahead of queued datagrams;
//   - SendAllow0RTT lets it go in a 0-RTT packet of a resumed client
//     connection, within the limit the server gave before; otherwise it
//     waits for 1-RTT;
//   - SendCancelOnBlocked cancels it (DatagramSendCanceled) if the send
//     pass that follows the call does not send it (congestion, pacing, no
//     keys yet);
//   - SendPriorityWork queues the call ahead of the connection's other
//     queued operations.
//
// Errors: ErrInvalidParameter for no data, more than 65535 bytes, more
// than the peer accepts (DatagramStateChangedEvent.MaxSendLength), or a
// stream-only flag (SendStart, SendFIN, SendDelay, SendCancelOnLoss);
// ErrInvalidState when the peer does not accept datagrams, or the
// connection is closing or not started.
func (c *Connection) SendDatagram(bufs [][]byte, flags SendFlags, sendCtx any) error {
	const op = "Connection.SendDatagram"
	if f := flags &^ (SendDatagramPriority | SendAllow0RTT | SendCancelOnBlocked | SendPriorityWork); f != 0 {
		return opError(op, StatusInvalidParameter, "flags %v are for streams", f)
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if total == 0 || total > 65535 {
		return opError(op, StatusInvalidParameter, "datagram of %d bytes (1 to 65535)", total)
	}
	snap, ok := c.snapshot()
	switch {
	case !ok || snap.Closed:
		return opError(op, StatusInvalidState, "connection not running")
	case snap.DatagramPeerKnown && !snap.DatagramSendEnabled:
		return opError(op, StatusInvalidState, "the peer does not accept datagrams")
	case snap.DatagramPeerKnown && total > snap.DatagramMaxSend:
		return opError(op, StatusInvalidParameter, "datagram of %d bytes exceeds the peer's limit of %d", total, snap.DatagramMaxSend)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.has(connClosing) {
		return opError(op, StatusInvalidState, "connection is closing")
	}
	c.eng.SendDatagram(bufs, total, sendCtx, datagramFlags(flags))
	return nil
}

// datagramFlags maps SendDatagram's flags to the engine's.
func datagramFlags(f SendFlags) conn.DatagramFlags {
	var d conn.DatagramFlags
	for _, m := range []struct {
		s SendFlags
		d conn.DatagramFlags
	}{
		{SendDatagramPriority, conn.DatagramFront}, {SendAllow0RTT, conn.DatagramAllow0RTT},
		{SendCancelOnBlocked, conn.DatagramCancelOnBlocked}, {SendPriorityWork, conn.DatagramPriorityWork},
	} {
		if f&m.s != 0 {
			d |= m.d
		}
	}
	return d
}
