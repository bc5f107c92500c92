package quic

import (
	"bytes"

	"github.com/hquic/quic/internal/conn"
)

// Session resumption and 0-RTT (MsQuic's lifecycle, API reference §9.7).
//
// Server: set Settings.ServerResumptionLevel to ServerResumeOnly or
// ServerResumeAndZeroRTT, call SendResumptionTicket in or after
// ConnectedEvent; a later connection that resumes raises ResumedEvent with
// the ticket's application data. Client: keep the Ticket of
// ResumptionTicketReceivedEvent; on a later connection to the same server
// call SetResumptionTicket before Start, and queue data with SendAllow0RTT
// (before Start, to go in the first flight). ConnectedEvent.SessionResumed
// reports the resumption; 0-RTT data the server rejects is sent again in
// 1-RTT packets transparently. The server sees 0-RTT data with Receive0RTT
// and streams opened by it with StreamOpen0RTT.

// SetResumptionTicket gives a client connection, before Start, a ticket from
// an earlier connection's ResumptionTicketReceivedEvent
// (QUIC_PARAM_CONN_RESUMPTION_TICKET): the TLS session is resumed and, if
// the ticket allows it, data sent with SendAllow0RTT goes in 0-RTT packets,
// within the limits the server had when it issued the ticket. When the
// ticket's QUIC version is one the configuration offers, the connection
// starts with it. Errors: ErrInvalidParameter on a server connection or for
// a ticket that does not decode; ErrInvalidState once started or closed.
func (c *Connection) SetResumptionTicket(ticket []byte) error {
	const op = "Connection.SetResumptionTicket"
	if c.server {
		return opError(op, StatusInvalidParameter, "resumption tickets are for client connections")
	}
	t, err := conn.ParseResumptionTicket(ticket)
	if err != nil {
		return opErrorWrap(op, StatusInvalidParameter, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.has(connStarted | connClosed) {
		return opError(op, StatusInvalidState, "connection already started or closed")
	}
	c.resumeTicket = bytes.Clone(ticket)
	c.resumeVersion = t.Version
	return nil
}

// SendResumptionTicket makes a server connection issue a resumption ticket
// (ConnectionSendResumptionTicket) carrying appData, at most
// MaxResumptionAppDataLength bytes, which comes back in ResumedEvent when
// a later connection resumes with the ticket. The ticket allows 0-RTT when
// the connection's ServerResumptionLevel is ServerResumeAndZeroRTT; it
// remembers the connection's current limits, and 0-RTT is declined on a
// later connection whose limits are lower. Call it in or after
// ConnectedEvent. crypto/tls issues one ticket per connection, so unlike
// MsQuic a second call fails, and SendResumptionFinal changes nothing.
// Errors: ErrInvalidParameter on a client connection, for unknown flags or
// too much data; ErrInvalidState before the handshake completed, without
// resumption (ServerNoResume), after a ticket was sent or on a closed
// connection.
func (c *Connection) SendResumptionTicket(flags SendResumptionFlags, appData []byte) error {
	const op = "Connection.SendResumptionTicket"
	switch {
	case !c.server:
		return opError(op, StatusInvalidParameter, "resumption tickets are sent by servers")
	case flags > SendResumptionFinal:
		return opError(op, StatusInvalidParameter, "unknown flags %v", flags)
	case len(appData) > MaxResumptionAppDataLength:
		return opError(op, StatusInvalidParameter, "%d bytes of app data, at most %d are allowed", len(appData), MaxResumptionAppDataLength)
	}
	snap, ok := c.snapshot()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.state.has(connClosed) || !ok || snap.Closed:
		return opError(op, StatusInvalidState, "connection closed")
	case c.resumeLevel == ServerNoResume:
		return opError(op, StatusInvalidState, "ServerResumptionLevel is ServerNoResume")
	case !snap.HandshakeDone:
		return opError(op, StatusInvalidState, "handshake not complete")
	case c.state.has(connTicketSent):
		return opError(op, StatusInvalidState, "a ticket was already sent (crypto/tls sends one per connection)")
	}
	c.state |= connTicketSent
	c.eng.SendResumptionTicket(bytes.Clone(appData))
	return nil
}

// ResumptionTicketReceived implements conn.ResumptionEvents.
func (e *connEvents) ResumptionTicketReceived(ticket []byte) {
	e.c().dispatch(&ResumptionTicketReceivedEvent{Ticket: ticket})
}

// Resumed implements conn.ResumptionEvents.
func (e *connEvents) Resumed(appData []byte) error {
	e.c().noteResumption(false)
	return e.c().dispatch(&ResumedEvent{ResumptionState: appData})
}

// noteResumption records for Statistics that the connection tried to
// resume a session and, if succeeded, did.
func (c *Connection) noteResumption(succeeded bool) {
	c.mu.Lock()
	c.resumeAttempted = true
	c.resumeSucceeded = c.resumeSucceeded || succeeded
	c.mu.Unlock()
}

// resumptionLevel maps the public level to the engine's.
func resumptionLevel(l ServerResumptionLevel) conn.ResumptionLevel {
	switch l {
	case ServerResumeOnly:
		return conn.ResumeOnly
	case ServerResumeAndZeroRTT:
		return conn.ResumeZeroRTT
	}
	return conn.ResumeNone
}

// ServerResumptionLevel controls session resumption on servers
// (QUIC_SERVER_RESUMPTION_LEVEL).
type ServerResumptionLevel uint8

const (
	// ServerNoResume issues no tickets.
	ServerNoResume ServerResumptionLevel = 0
	// ServerResumeOnly issues and accepts tickets, without 0-RTT.
	ServerResumeOnly ServerResumptionLevel = 1
	// ServerResumeAndZeroRTT issues tickets and accepts 0-RTT data.
	ServerResumeAndZeroRTT ServerResumptionLevel = 2
)

// String returns the level name.
func (l ServerResumptionLevel) String() string {
	return enumString("ServerResumptionLevel", uint64(l), map[uint64]string{
		0: "NoResume", 1: "ResumeOnly", 2: "ResumeAndZeroRTT",
	})
}

// SendResumptionFlags modify SendResumptionTicket
// (QUIC_SEND_RESUMPTION_FLAGS).
type SendResumptionFlags uint32

const (
	// SendResumptionNone sends a ticket; more may follow.
	SendResumptionNone SendResumptionFlags = 0x0000
	// SendResumptionFinal marks the last ticket of the connection.
	SendResumptionFinal SendResumptionFlags = 0x0001
)

// String returns the flag names.
func (f SendResumptionFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{{0x1, "Final"}})
}
