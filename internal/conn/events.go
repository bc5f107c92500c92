package conn

import (
	"net/netip"

	"github.com/hquic/quic/internal/wire"
)

// RunHooks may be implemented by an Events value that wants to know when
// the connection runs: every event is delivered between RunStarted and
// RunEnded of one Run, on the connection's goroutine, so storage the
// events need (reused event values) can be borrowed for the run only and
// an idle connection holds none.
type RunHooks interface {
	RunStarted()
	RunEnded()
}

// setEvents installs the events sink. Within a run, RunHooks learn of the
// run that is under way.
func (c *Conn) setEvents(ev Events) {
	c.events = ev
	if h, ok := ev.(RunHooks); ok && h != c.hooks {
		c.endHooks()
		c.hooks = h
		if c.running {
			c.startHooks()
		}
	}
}

// startHooks and endHooks tell RunHooks that a run starts and ends.
func (c *Conn) startHooks() {
	if c.hooks != nil && !c.hooked {
		c.hooked = true
		c.hooks.RunStarted()
	}
}

func (c *Conn) endHooks() {
	if c.hooked {
		c.hooked = false
		c.hooks.RunEnded()
	}
}

// Events receives what a connection reports to the application. The
// public package implements it and turns each call into a typed event for
// the application's handler. Calls happen on the connection's goroutine,
// one at a time and in protocol order; slices passed in are valid only
// during the call. A handler may call the connection's API, which queues
// operations that run after the call returns.
type Events interface {
	// Connected reports handshake completion (MsQuic CONNECTED).
	Connected(resumed bool, alpn string)
	// ShutdownInitiatedByTransport reports that the transport decided to
	// close: a protocol error, a timeout, or a transport close from the peer.
	ShutdownInitiatedByTransport(r CloseReason)
	// ShutdownInitiatedByPeer reports the peer application's close code.
	ShutdownInitiatedByPeer(code uint64)
	// ShutdownComplete is always the last connection event.
	ShutdownComplete(handshakeCompleted, peerAcknowledged, appCloseInProgress bool)
	// PeerAddressChanged reports that the peer migrated to addr.
	PeerAddressChanged(addr netip.AddrPort)
	// LocalAddressChanged reports that our address on the active path is
	// now addr.
	LocalAddressChanged(addr netip.AddrPort)
	// StreamsAvailable reports how many streams of each type we may open.
	StreamsAvailable(bidi, uni uint64)
	// PeerNeedsStreams reports that the peer is blocked by our stream limit.
	PeerNeedsStreams(bidi bool)
	// DatagramStateChanged reports whether DATAGRAM frames may be sent and
	// the largest payload.
	DatagramStateChanged(sendEnabled bool, maxLen int)
	// DatagramReceived delivers an unreliable datagram.
	DatagramReceived(data []byte, zeroRTT bool)
	// DatagramSendStateChanged reports progress of a datagram sent with
	// SendDatagram; the returned value replaces its context.
	DatagramSendStateChanged(ctx any, state DatagramState) any
	// Closing is called once when the connection starts to close, before
	// its streams' final events: from then on the application's new
	// operations must be refused synchronously, since no event could
	// report their outcome.
	Closing()

	StreamEvents
}

// CloseReason says why a connection is closing.
type CloseReason struct {
	// Local is set when the connection closed for a local reason that is
	// not a protocol error (idle timeout, abort, ...).
	Local LocalReason
	// App is true for an application close (CONNECTION_CLOSE 0x1d).
	App bool
	// Code is the transport error code or, with App, the application's.
	Code uint64
	// FrameType is the frame that triggered a transport error.
	FrameType uint64
	// Reason is the reason phrase.
	Reason string
	// Remote is true if the peer sent the close.
	Remote bool
}

// TransportCode returns the wire error code to report for the close.
func (r CloseReason) TransportCode() wire.ErrorCode {
	if r.Local != 0 || r.App {
		return wire.InternalError
	}
	return wire.ErrorCode(r.Code)
}

// LocalReason is a non-protocol reason for a connection to close.
type LocalReason uint8

// Local close reasons; the public package maps each to a status.
const (
	ReasonNone               LocalReason = iota
	ReasonIdle                           // idle timeout (MsQuic CONNECTION_IDLE)
	ReasonDisconnect                     // no acknowledgment within the disconnect timeout (CONNECTION_TIMEOUT)
	ReasonAborted                        // handle closed without shutdown (ABORTED)
	ReasonStatelessReset                 // the peer sent a stateless reset (ABORTED)
	ReasonVersionNegotiation             // no common version (VER_NEG_ERROR)
	ReasonUnreachable                    // ICMP or socket error (UNREACHABLE)
	ReasonHandshakeRetries               // the hquic MaxPacketRetryCount was exceeded (CONNECTION_TIMEOUT)
	ReasonRefused                        // no listener accepted the connection (CONNECTION_REFUSED)
	ReasonInternal                       // internal failure (INTERNAL_ERROR)
)

// DatagramState is the progress of a sent DATAGRAM frame (MsQuic
// QUIC_DATAGRAM_SEND_STATE values).
type DatagramState uint8

// Datagram send states.
const (
	DatagramUnknown DatagramState = iota
	DatagramSent
	DatagramLostSuspect
	DatagramLostDiscarded
	DatagramAcknowledged
	DatagramAcknowledgedSpurious
	DatagramCanceled
)
