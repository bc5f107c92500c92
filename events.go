package quic

import "net/netip"

// Handlers receive a handle's events. Events of one connection and its
// streams are delivered one at a time, in protocol order, on the
// connection's worker goroutine. A handler may call any API of the library
// (calls are queued and run right after the handler returns), but it must
// not block: a slow handler stalls every connection on its worker.
//
// An event value is owned by the library and reused: a handler must not
// keep the pointer, or slices inside it, after it returns (unless an
// event's documentation says otherwise). Fields marked in-out may be
// written by the handler.
type (
	// ListenerHandler receives a Listener's events.
	ListenerHandler func(l *Listener, ev ListenerEvent) error
	// ConnectionHandler receives a Connection's events. The return value is
	// ignored except where an event's documentation says otherwise.
	ConnectionHandler func(c *Connection, ev ConnectionEvent) error
	// StreamHandler receives a Stream's events. The return value is ignored
	// except for ReceiveEvent.
	StreamHandler func(s *Stream, ev StreamEvent) error
)

// ListenerEvent is one of *NewConnectionEvent, *ListenerStopCompleteEvent
// and *DoSModeChangedEvent.
type ListenerEvent interface{ listenerEvent() }

// ConnectionEvent is one of the *...Event types whose documentation says
// it is a connection event.
type ConnectionEvent interface{ connectionEvent() }

// StreamEvent is one of the *...Event types whose documentation says it is
// a stream event.
type StreamEvent interface{ streamEvent() }

// NewConnectionInfo describes an incoming connection
// (QUIC_NEW_CONNECTION_INFO).
type NewConnectionInfo struct {
	// QUICVersion is the connection's QUIC version.
	QUICVersion uint32
	// LocalAddr and RemoteAddr are the connection's addresses.
	LocalAddr, RemoteAddr netip.AddrPort
	// ServerName is the TLS server name (SNI) the client asked for, empty
	// if none.
	ServerName string
	// ClientALPNs is the client's ALPN list, in its order of preference.
	ClientALPNs []string
	// NegotiatedALPN is the ALPN chosen by matching the listener's list
	// against the client's (the listener's preference wins).
	NegotiatedALPN string
	// ClientHello is the client's TLS ClientHello message.
	ClientHello []byte
}

// NewConnectionEvent is a listener event (QUIC_LISTENER_EVENT_NEW_CONNECTION):
// a client is connecting. To accept, the handler sets the connection's
// handler (Connection.SetHandler) and its configuration
// (Connection.SetConfiguration, now or later) and returns nil. Returning an
// error refuses the connection: the client sees CONNECTION_REFUSED and the
// application must not use the Connection.
type NewConnectionEvent struct {
	Info       NewConnectionInfo
	Connection *Connection
}

// ListenerStopCompleteEvent is a listener event
// (QUIC_LISTENER_EVENT_STOP_COMPLETE): the listener stopped; no
// NewConnectionEvent follows until it is started again.
type ListenerStopCompleteEvent struct {
	// AppCloseInProgress is set when the stop came from Listener.Close.
	AppCloseInProgress bool
}

// DoSModeChangedEvent is a listener event
// (QUIC_LISTENER_EVENT_DOS_MODE_CHANGED), delivered only to listeners that
// asked with SetDoSModeEvents: the library switched into (Enabled) or out
// of DoS mode, in which every new client without a valid token is sent a
// Retry before any state is kept for it (see Library.DoSMode and
// GlobalSettings.RetryMemoryLimit). It arrives on a goroutine of its own,
// possibly while a NewConnectionEvent handler runs, never after the
// listener's ListenerStopCompleteEvent.
type DoSModeChangedEvent struct {
	Enabled bool
}

// ConnectedEvent is a connection event (QUIC_CONNECTION_EVENT_CONNECTED):
// the handshake completed.
type ConnectedEvent struct {
	// SessionResumed reports that the TLS session was resumed from a
	// ticket (SetResumptionTicket on a client).
	SessionResumed bool
	NegotiatedALPN string
}

// ShutdownInitiatedByTransportEvent is a connection event
// (QUIC_CONNECTION_EVENT_SHUTDOWN_INITIATED_BY_TRANSPORT): the QUIC layer
// is closing the connection.
type ShutdownInitiatedByTransportEvent struct {
	// Status is the reason as a status (e.g. ErrConnectionIdle's
	// StatusConnectionIdle, or the status for the peer's transport error).
	Status Status
	// ErrorCode is the transport error code on the wire
	// (ErrCodeInternal for local reasons without one).
	ErrorCode TransportErrorCode
	// Err describes the close: a *TransportError (with Remote set when the
	// peer sent it) or the Status.
	Err error
}

// ShutdownInitiatedByPeerEvent is a connection event
// (QUIC_CONNECTION_EVENT_SHUTDOWN_INITIATED_BY_PEER): the peer's
// application closed with ErrorCode.
type ShutdownInitiatedByPeerEvent struct {
	ErrorCode uint64
}

// ConnectionShutdownCompleteEvent is a connection event
// (QUIC_CONNECTION_EVENT_SHUTDOWN_COMPLETE), always the last one. The
// application should Close the connection now unless AppCloseInProgress.
type ConnectionShutdownCompleteEvent struct {
	HandshakeCompleted       bool
	PeerAcknowledgedShutdown bool
	AppCloseInProgress       bool
}

// LocalAddressChangedEvent is a connection event: our address on the
// active path changed.
type LocalAddressChangedEvent struct{ Addr netip.AddrPort }

// PeerAddressChangedEvent is a connection event: the peer moved to Addr.
type PeerAddressChangedEvent struct{ Addr netip.AddrPort }

// PeerStreamStartedEvent is a connection event
// (QUIC_CONNECTION_EVENT_PEER_STREAM_STARTED): the peer opened Stream. The
// handler must give it a handler (Stream.SetHandler) before returning, or
// return an error to reject it (both directions are then aborted). Flags
// is in-out: StreamOpenUnidirectional and StreamOpen0RTT describe the
// stream; the handler may add StreamOpenDelayIDFCUpdates, so that the peer
// may open another stream in its place only once the application closed
// this one (Stream.Close), not as soon as both directions end.
type PeerStreamStartedEvent struct {
	Stream *Stream
	Flags  StreamOpenFlags
}

// StreamsAvailableEvent is a connection event: how many streams of each
// type may be opened now.
type StreamsAvailableEvent struct {
	Bidirectional, Unidirectional uint16
}

// PeerNeedsStreamsEvent is a connection event: the peer is blocked by our
// stream limit (raise PeerBidiStreamCount / PeerUnidiStreamCount).
type PeerNeedsStreamsEvent struct{ Bidirectional bool }

// DatagramStateChangedEvent is a connection event: whether datagrams may be
// sent and the largest one.
type DatagramStateChangedEvent struct {
	SendEnabled   bool
	MaxSendLength uint16
}

// DatagramReceivedEvent is a connection event: a datagram arrived. Data is
// valid only during the handler.
type DatagramReceivedEvent struct {
	Data  []byte
	Flags ReceiveFlags
}

// DatagramSendStateChangedEvent is a connection event: progress of a
// datagram sent with SendDatagram. Its buffers may be reused from state
// DatagramSendSent on. SendContext is in-out: a value the handler stores is
// reported with the datagram's next state.
type DatagramSendStateChangedEvent struct {
	SendContext any
	State       DatagramSendState
}

// ResumedEvent is a connection event (QUIC_CONNECTION_EVENT_RESUMED) on a
// server: the client is resuming a session with a ticket this server's
// configuration issued, before ConnectedEvent. ResumptionState is the
// application data given to SendResumptionTicket (empty if none), valid
// only during the handler. Returning an error declines 0-RTT: the client's
// 0-RTT data is discarded and arrives again in 1-RTT packets. Unlike
// MsQuic, the session is still resumed (crypto/tls has decided on the
// session when it reports it), and an asynchronous decision
// (ConnectionResumptionTicketValidationComplete) is not available.
type ResumedEvent struct {
	ResumptionState []byte
}

// ResumptionTicketReceivedEvent is a connection event
// (QUIC_CONNECTION_EVENT_RESUMPTION_TICKET_RECEIVED) on a client: the
// server issued a resumption ticket. Ticket is opaque and self-contained
// (QUIC version, TLS ticket, the server's transport parameters); it belongs
// to the application, which gives it to SetResumptionTicket on a later
// connection to the same server name.
type ResumptionTicketReceivedEvent struct {
	Ticket []byte
}

// StartCompleteEvent is a stream event (QUIC_STREAM_EVENT_START_COMPLETE):
// the outcome of Stream.Start. After a failure no other event follows
// (unless StreamStartShutdownOnFail was given).
type StartCompleteEvent struct {
	Status       Status
	ID           uint64
	PeerAccepted bool
}

// ReceiveEvent is a stream event (QUIC_STREAM_EVENT_RECEIVE): data arrived
// in order. Buffers alias library memory: they stay valid and unchanged
// until the bytes are consumed, and the slice of slices only during the
// handler. TotalBufferLength is in-out: set it to the number of bytes
// consumed (default: all). The handler's return value decides what
// follows:
//
//   - nil: the bytes set in TotalBufferLength are consumed; if fewer than
//     offered, receive events pause until Stream.SetReceiveEnabled(true).
//   - Continue: the bytes are consumed and the rest is indicated again now.
//   - Pending: the handler keeps the buffers; no receive event follows until
//     Stream.ReceiveComplete reports how many bytes were consumed.
type ReceiveEvent struct {
	AbsoluteOffset    uint64
	TotalBufferLength uint64
	Buffers           [][]byte
	Flags             ReceiveFlags
}

// SendCompleteEvent is a stream event (QUIC_STREAM_EVENT_SEND_COMPLETE):
// the buffers of the send with SendContext are the application's again.
// Every successful Stream.Send gets exactly one.
type SendCompleteEvent struct {
	Canceled    bool
	SendContext any
}

// PeerSendShutdownEvent is a stream event: the peer finished sending and
// every byte was consumed.
type PeerSendShutdownEvent struct{}

// PeerSendAbortedEvent is a stream event: the peer reset its sending
// direction with ErrorCode.
type PeerSendAbortedEvent struct{ ErrorCode uint64 }

// PeerReceiveAbortedEvent is a stream event: the peer asked us to stop
// sending (STOP_SENDING) with ErrorCode; our sending direction is reset.
type PeerReceiveAbortedEvent struct{ ErrorCode uint64 }

// SendShutdownCompleteEvent is a stream event: our sending direction is
// closed, gracefully (all data acknowledged) or not.
type SendShutdownCompleteEvent struct{ Graceful bool }

// StreamShutdownCompleteEvent is a stream event, always the stream's last.
// The application should Close the stream now unless AppCloseInProgress.
type StreamShutdownCompleteEvent struct {
	ConnectionShutdown       bool
	AppCloseInProgress       bool
	ConnectionShutdownByApp  bool
	ConnectionClosedRemotely bool
	ConnectionErrorCode      uint64
	ConnectionCloseStatus    Status
}

// IdealSendBufferSizeEvent is a stream event
// (QUIC_STREAM_EVENT_IDEAL_SEND_BUFFER_SIZE): keep about ByteCount bytes
// outstanding in Send calls to fill the path. The size starts at 128 KiB
// without an event; it is raised when the most bytes the connection ever
// had in flight grows past it (to the next power-of-two multiple of
// 128 KiB, at most 128 MiB; it never shrinks) and when the peer's
// MAX_STREAM_DATA changes the bound the stream's flow-control window puts
// on it, and only on streams still sending.
type IdealSendBufferSizeEvent struct{ ByteCount uint64 }

// PeerAcceptedEvent is a stream event: the peer's stream limit now covers a
// stream started with StreamStartIndicatePeerAccept.
type PeerAcceptedEvent struct{}

// CancelOnLossEvent is a stream event (QUIC_STREAM_EVENT_CANCEL_ON_LOSS)
// on a stream switched to cancel-on-loss by a send with SendCancelOnLoss:
// some of its data was lost. Instead of sending it again, the stream is
// aborted in both directions (RESET_STREAM and STOP_SENDING) with
// ErrorCode, which the handler may set (in-out, default 0, at most
// MaxVarInt); the usual shutdown events follow.
type CancelOnLossEvent struct{ ErrorCode uint64 }

func (*NewConnectionEvent) listenerEvent()        {}
func (*ListenerStopCompleteEvent) listenerEvent() {}
func (*DoSModeChangedEvent) listenerEvent()       {}

func (*ConnectedEvent) connectionEvent()                    {}
func (*ShutdownInitiatedByTransportEvent) connectionEvent() {}
func (*ShutdownInitiatedByPeerEvent) connectionEvent()      {}
func (*ConnectionShutdownCompleteEvent) connectionEvent()   {}
func (*LocalAddressChangedEvent) connectionEvent()          {}
func (*PeerAddressChangedEvent) connectionEvent()           {}
func (*PeerStreamStartedEvent) connectionEvent()            {}
func (*StreamsAvailableEvent) connectionEvent()             {}
func (*PeerNeedsStreamsEvent) connectionEvent()             {}
func (*DatagramStateChangedEvent) connectionEvent()         {}
func (*DatagramReceivedEvent) connectionEvent()             {}
func (*DatagramSendStateChangedEvent) connectionEvent()     {}
func (*ResumedEvent) connectionEvent()                      {}
func (*ResumptionTicketReceivedEvent) connectionEvent()     {}

func (*StartCompleteEvent) streamEvent()          {}
func (*ReceiveEvent) streamEvent()                {}
func (*SendCompleteEvent) streamEvent()           {}
func (*PeerSendShutdownEvent) streamEvent()       {}
func (*PeerSendAbortedEvent) streamEvent()        {}
func (*PeerReceiveAbortedEvent) streamEvent()     {}
func (*SendShutdownCompleteEvent) streamEvent()   {}
func (*StreamShutdownCompleteEvent) streamEvent() {}
func (*IdealSendBufferSizeEvent) streamEvent()    {}
func (*PeerAcceptedEvent) streamEvent()           {}
func (*CancelOnLossEvent) streamEvent()           {}
