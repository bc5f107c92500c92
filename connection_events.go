package quic

import (
	"math"
	"net/netip"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/endpoint"
)

// connEvents is the engine's view of a Connection: it implements
// conn.Events by filling the connection's reused event values and calling
// the application's handlers. Its methods run on the connection's worker.
type connEvents Connection

var (
	_ conn.Events   = (*connEvents)(nil)
	_ conn.RunHooks = (*connEvents)(nil)
)

func (e *connEvents) c() *Connection { return (*Connection)(e) }

// RunStarted implements conn.RunHooks: the engine is about to deliver
// events, so the connection borrows its event values.
func (e *connEvents) RunStarted() {
	e.ev = connEventPool.Get().(*connEventStructs)
}

// RunEnded implements conn.RunHooks: the values go back, cleared of what
// the events referenced.
func (e *connEvents) RunEnded() {
	ev := e.ev
	e.ev = nil
	*ev = connEventStructs{}
	connEventPool.Put(ev)
}

// Connected implements conn.Events.
func (e *connEvents) Connected(resumed bool, alpn string) {
	e.c().leaveHandshake()
	if resumed {
		e.c().noteResumption(true)
	}
	ev := &e.ev.connected
	*ev = ConnectedEvent{SessionResumed: resumed, NegotiatedALPN: alpn}
	e.c().dispatch(ev)
}

// ShutdownInitiatedByTransport implements conn.Events.
func (e *connEvents) ShutdownInitiatedByTransport(r conn.CloseReason) {
	ev := &e.ev.byTransport
	st, err := closeStatus(r)
	*ev = ShutdownInitiatedByTransportEvent{Status: st, ErrorCode: TransportErrorCode(r.TransportCode()), Err: err}
	e.c().dispatch(ev)
}

// ShutdownInitiatedByPeer implements conn.Events.
func (e *connEvents) ShutdownInitiatedByPeer(code uint64) {
	ev := &e.ev.byPeer
	*ev = ShutdownInitiatedByPeerEvent{ErrorCode: code}
	e.c().dispatch(ev)
}

// ShutdownComplete implements conn.Events.
func (e *connEvents) ShutdownComplete(handshakeCompleted, peerAcknowledged, appCloseInProgress bool) {
	ev := &e.ev.complete
	*ev = ConnectionShutdownCompleteEvent{HandshakeCompleted: handshakeCompleted,
		PeerAcknowledgedShutdown: peerAcknowledged, AppCloseInProgress: appCloseInProgress}
	e.c().dispatch(ev)
}

// PeerAddressChanged implements conn.Events.
func (e *connEvents) PeerAddressChanged(addr netip.AddrPort) {
	ev := &e.ev.peerAddr
	*ev = PeerAddressChangedEvent{Addr: addr}
	e.c().dispatch(ev)
}

// LocalAddressChanged implements conn.Events.
func (e *connEvents) LocalAddressChanged(addr netip.AddrPort) {
	c := e.c()
	c.mu.Lock()
	ch := c.client
	c.mu.Unlock()
	if ch != nil {
		endpoint.CloseAsync(ch.KeepOnly(addr)) // the old sockets are no longer used
	}
	ev := &e.ev.localAddr
	*ev = LocalAddressChangedEvent{Addr: addr}
	e.c().dispatch(ev)
}

// StreamsAvailable implements conn.Events.
func (e *connEvents) StreamsAvailable(bidi, uni uint64) {
	ev := &e.ev.streamsAvailable
	*ev = StreamsAvailableEvent{Bidirectional: clamp16(bidi), Unidirectional: clamp16(uni)}
	e.c().dispatch(ev)
}

func clamp16(v uint64) uint16 { return uint16(min(v, math.MaxUint16)) }

// PeerNeedsStreams implements conn.Events.
func (e *connEvents) PeerNeedsStreams(bidi bool) {
	ev := &e.ev.needsStreams
	*ev = PeerNeedsStreamsEvent{Bidirectional: bidi}
	e.c().dispatch(ev)
}

// DatagramStateChanged implements conn.Events.
func (e *connEvents) DatagramStateChanged(enabled bool, maxLen int) {
	ev := &e.ev.dgramState
	*ev = DatagramStateChangedEvent{SendEnabled: enabled, MaxSendLength: uint16(min(max(maxLen, 0), math.MaxUint16))}
	e.c().dispatch(ev)
}

// DatagramReceived implements conn.Events.
func (e *connEvents) DatagramReceived(data []byte, zeroRTT bool) {
	ev := &e.ev.dgramRecv
	*ev = DatagramReceivedEvent{Data: data}
	if zeroRTT {
		ev.Flags = Receive0RTT
	}
	e.c().dispatch(ev)
}

// DatagramSendStateChanged implements conn.Events.
func (e *connEvents) DatagramSendStateChanged(ctx any, st conn.DatagramState) any {
	ev := &e.ev.dgramSend
	*ev = DatagramSendStateChangedEvent{SendContext: ctx, State: DatagramSendState(st)}
	e.c().dispatch(ev)
	return ev.SendContext
}

// closeStatus maps a close reason to MsQuic's status and an error value.
func closeStatus(r conn.CloseReason) (Status, error) {
	if r.Local != conn.ReasonNone {
		st := localReasonStatus(r.Local)
		return st, st
	}
	if r.App {
		return StatusUserCanceled, &ApplicationError{Code: r.Code, Reason: r.Reason, Remote: r.Remote}
	}
	code := TransportErrorCode(r.Code)
	return StatusFromTransportError(code), &TransportError{Code: code, FrameType: r.FrameType, Reason: r.Reason, Remote: r.Remote}
}

// localReasonStatus maps the engine's local close reasons to statuses.
func localReasonStatus(r conn.LocalReason) Status {
	switch r {
	case conn.ReasonIdle:
		return StatusConnectionIdle
	case conn.ReasonDisconnect, conn.ReasonHandshakeRetries:
		return StatusConnectionTimeout
	case conn.ReasonAborted, conn.ReasonStatelessReset:
		return StatusAborted
	case conn.ReasonVersionNegotiation:
		return StatusVersionNegotiationError
	case conn.ReasonUnreachable:
		return StatusUnreachable
	case conn.ReasonRefused:
		return StatusConnectionRefused
	}
	return StatusInternalError
}

// Closing implements conn.Events.
func (e *connEvents) Closing() {
	c := e.c()
	c.mu.Lock()
	c.state |= connClosing
	c.mu.Unlock()
}

// StreamClosing implements conn.StreamEvents.
func (e *connEvents) StreamClosing(cs *conn.Stream) {
	s := handleOf(cs)
	c := e.c()
	c.mu.Lock()
	s.state |= streamFinal
	c.mu.Unlock()
}
