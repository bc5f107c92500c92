package conn

import (
	"errors"
	"math"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// Connection shutdown (RFC 9000 §10) with MsQuic's event semantics: the
// side that decides to close gets SHUTDOWN_INITIATED_BY_TRANSPORT (or, if
// its application asked, no initiation event); the other side gets
// SHUTDOWN_INITIATED_BY_PEER or _BY_TRANSPORT; every started stream gets
// its SHUTDOWN_COMPLETE; the connection's SHUTDOWN_COMPLETE comes last,
// after the closing or draining period.

type lifeState uint8

const (
	stateIdle        lifeState = iota // client not started; server before its configuration
	stateHandshake                    // handshake in progress
	stateEstablished                  // handshake complete
	stateClosing                      // we sent CONNECTION_CLOSE (RFC 9000 §10.2.1)
	stateDraining                     // the peer closed (RFC 9000 §10.2.2)
	stateDone                         // SHUTDOWN_COMPLETE delivered
)

type lifetime struct {
	state              lifeState
	handshakeComplete  bool
	handshakeConfirmed bool
	everHandshake      bool // handshake completed at some point, for SHUTDOWN_COMPLETE
	handshakeDoneAcked bool // server: the client acknowledged HANDSHAKE_DONE

	reason             CloseReason
	appCloseInProgress bool // the handle was closed
	peerAcknowledged   bool // the peer answered our CONNECTION_CLOSE
	closeFrame         bool // a CONNECTION_CLOSE must go out
	closeSent          int  // CONNECTION_CLOSE packets sent in the closing state
	packetsWhileClosed int  // packets received in the closing state
	finalPending       bool // SHUTDOWN_COMPLETE is due at the end of the run
}

func (l *lifetime) closing() bool { return l.state >= stateClosing }

// closeWithError closes the connection because of a locally detected
// error. A *wire.Error becomes a transport CONNECTION_CLOSE; anything else
// an INTERNAL_ERROR.
func (c *Conn) closeWithError(now mono.Time, err error) {
	if c.life.closing() {
		return
	}
	r := CloseReason{Code: uint64(wire.InternalError), Reason: err.Error()}
	var we *wire.Error
	if errors.As(err, &we) {
		r = CloseReason{Code: uint64(we.Code), FrameType: we.FrameType, Reason: we.Reason}
	}
	c.startClose(now, r, closeNotify)
}

// closeLocal closes the connection for a local, non-protocol reason.
// Idle and disconnect timeouts are silent (RFC 9000 §10.1).
func (c *Conn) closeLocal(now mono.Time, reason LocalReason, silent bool) {
	if c.life.closing() {
		return
	}
	c.startClose(now, CloseReason{Local: reason, Code: uint64(wire.InternalError)}, closeNotify|silentIf(silent))
}

// appShutdown is the application's ConnectionShutdown: an application
// CONNECTION_CLOSE with code, or a silent close. The initiator gets no
// SHUTDOWN_INITIATED event (MsQuic semantics).
func (c *Conn) appShutdown(now mono.Time, silent bool, code uint64) {
	if c.life.closing() {
		return
	}
	if c.life.state == stateIdle && c.side == Client {
		silent = true // a client never started has nobody to tell
	}
	c.startClose(now, CloseReason{App: true, Code: code}, silentIf(silent))
}

// peerClosed handles a CONNECTION_CLOSE from the peer (RFC 9000 §10.2.2).
func (c *Conn) peerClosed(now mono.Time, app bool, code, frameType uint64, reason []byte) {
	if c.life.state == stateClosing {
		// Our close was answered: nothing more to wait for.
		c.life.peerAcknowledged = true
		c.completeShutdown()
		return
	}
	if c.life.closing() {
		return
	}
	r := CloseReason{App: app, Code: code, FrameType: frameType, Reason: string(reason), Remote: true}
	c.life.reason = r
	c.notifyShutdownInitiated(r)
	c.enterClosed(now, stateDraining)
	// Answer once so the peer can finish its closing period early.
	c.life.closeFrame = true
	c.life.reason = CloseReason{Code: uint64(wire.NoError)}
}

// closeMode says how startClose ends a connection.
type closeMode uint8

const (
	// closeNotify raises SHUTDOWN_INITIATED for the application.
	closeNotify closeMode = 1 << iota
	// closeSilent ends the connection without a CONNECTION_CLOSE.
	closeSilent
)

// silentIf returns closeSilent if silent is set.
func silentIf(silent bool) closeMode {
	if silent {
		return closeSilent
	}
	return 0
}

// startClose begins shutdown.
func (c *Conn) startClose(now mono.Time, r CloseReason, mode closeMode) {
	c.life.reason = r
	if mode&closeNotify != 0 {
		c.notifyShutdownInitiated(r)
	}
	if mode&closeSilent != 0 {
		c.enterClosed(now, stateClosing)
		c.completeShutdown()
		return
	}
	c.enterClosed(now, stateClosing)
	c.life.closeFrame = true
}

func (c *Conn) notifyShutdownInitiated(r CloseReason) {
	if c.events == nil {
		return
	}
	if r.App && r.Remote {
		c.events.ShutdownInitiatedByPeer(r.Code)
		return
	}
	c.events.ShutdownInitiatedByTransport(r)
}

// enterClosed moves to the closing or draining state: streams end, timers
// other than the close timer stop, and the close timer runs for three PTOs
// (RFC 9000 §10.2).
func (c *Conn) enterClosed(now mono.Time, st lifeState) {
	c.traceClosing(now)
	c.life.everHandshake = c.life.handshakeComplete
	c.life.state = st
	if c.events != nil {
		c.events.Closing()
	}
	c.streams.shutdownAll(c)
	c.datagrams.cancelAll(c)
	for i := range c.timers {
		c.timers[i] = 0
	}
	c.timers[timerClose] = now.Add(3 * c.loss.PTO())
}

// onCloseTimer ends the closing or draining period.
func (c *Conn) onCloseTimer() {
	c.completeShutdown()
}

// completeShutdown terminates the connection and releases routing;
// finishShutdown delivers SHUTDOWN_COMPLETE at the end of the run.
func (c *Conn) completeShutdown() {
	if c.life.state == stateDone {
		return
	}
	c.life.state = stateDone
	c.life.finalPending = true
	c.timers = [numTimers]mono.Time{}
	c.cids.removeAll(c)
	if c.hs != nil {
		c.hs.Close()
	}
}

// finishShutdown delivers SHUTDOWN_COMPLETE, always the last connection
// event: operations the application queued before it run first, so what
// they report (canceled sends, failed starts) comes before it, even when
// the shutdown overtook them in the priority lane. Afterwards the
// connection reports nothing; the public package rejects later calls.
func (c *Conn) finishShutdown(now mono.Time) {
	if !c.life.finalPending {
		return
	}
	c.life.finalPending = false
	c.opScratch = c.ops.take(c.opScratch[:0], math.MaxInt)
	c.runOps(now)
	if c.events != nil {
		c.events.ShutdownComplete(c.life.everHandshake, c.life.peerAcknowledged, c.life.appCloseInProgress)
		c.events = nil
	}
	c.host.Closed()
}

// onPacketWhileClosing answers packets received in the closing state with
// CONNECTION_CLOSE, backing off exponentially (RFC 9000 §10.2.1).
func (c *Conn) onPacketWhileClosing() {
	if c.life.state != stateClosing {
		return
	}
	c.life.packetsWhileClosed++
	if n := c.life.packetsWhileClosed; n&(n-1) == 0 {
		c.life.closeFrame = true
	}
}

// maxCloseReason bounds the reason phrase we send; maxCloseHeader is the
// most a CONNECTION_CLOSE frame takes besides its reason (type, error code,
// frame type and a two-byte reason length).
const (
	maxCloseReason = 256
	maxCloseHeader = 1 + 8 + 8 + 2
)

// appendClose writes the CONNECTION_CLOSE frame for the current reason into
// a packet of the given type (RFC 9000 §10.2.3: an application close in an
// Initial or Handshake packet becomes APPLICATION_ERROR without a reason).
// The reason is cut to what room leaves: a packet with little room (under
// the anti-amplification limit) still closes.
func (c *Conn) appendClose(b []byte, pt wire.PacketType, room int) []byte {
	r := &c.life.reason
	if r.App && pt != wire.Packet1RTT {
		return wire.AppendConnectionClose(b, false, uint64(wire.ApplicationError), 0, nil)
	}
	code := r.Code
	if r.Local != 0 {
		code = uint64(wire.InternalError)
	}
	reason := r.Reason
	if n := min(maxCloseReason, room-maxCloseHeader); len(reason) > n {
		reason = reason[:max(n, 0)]
	}
	return wire.AppendConnectionClose(b, r.App, code, r.FrameType, []byte(reason))
}
