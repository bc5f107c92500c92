package conn

import (
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/recovery"
)

// Timer slots. The ACK-delay and loss-detection deadlines live in their
// own state (AckTracker, recovery.State) and are folded in by deadline.
const (
	timerIdle        = iota // idle / handshake-idle timeout (RFC 9000 §10.1)
	timerKeepAlive          // KeepAliveIntervalMs: send a PING
	timerClose              // end of the closing or draining period
	timerKeyDiscard         // drop the previous 1-RTT read keys (RFC 9001 §6.5)
	timerPacing             // the pacer allows the next packet
	timerDisconnect         // DisconnectTimeoutMs without acknowledgment
	timerPath               // path validation (migration.go)
	timerMTURaise           // restart a DPLPMTUD search that ended low (mtu.go)
	timerCertificate        // a pending certificate decision is due (cert.go)
	numTimers
)

// deadline returns the earliest time the connection needs to run again,
// zero if none.
func (c *Conn) deadline() mono.Time {
	if c.life.closing() {
		// onTimers handles only the end of the closing or draining
		// period now: another timer a late packet armed (path
		// validation, ...) would make the executor spin.
		return c.timers[timerClose]
	}
	var d mono.Time
	for _, t := range c.timers {
		d = mono.Min(d, t)
	}
	if c.life.state == stateIdle {
		// Before a server has its configuration flush sends only the ACK
		// idleAckDeadline allows: another ACK deadline here would make
		// the executor spin.
		return mono.Min(d, c.idleAckDeadline())
	}
	d = mono.Min(d, c.loss.LossDetectionDeadline())
	if c.path.amplificationBudget(c.side) < minPacketRoom {
		// A server the anti-amplification limit keeps silent sends its
		// pending ACKs when the client's next datagram raises the limit;
		// their deadlines would make the executor spin until then.
		return d
	}
	for sp := range c.spaces {
		s := c.spaces[sp]
		if s.write != nil || sp == int(recovery.SpaceApp) && c.app.write != nil {
			d = mono.Min(d, s.acks.AckDeadline())
		}
	}
	return d
}

// onTimers handles every timer that is due.
func (c *Conn) onTimers(now mono.Time) {
	if c.life.state == stateDone {
		return
	}
	if t := c.timers[timerClose]; !t.IsZero() && now >= t {
		c.onCloseTimer()
		return
	}
	if c.life.closing() {
		return
	}
	if t := c.timers[timerCertificate]; !t.IsZero() && now >= t {
		// Before the idle timer, which is often due at the same time (the
		// decision is asked on the packet that restarted it): the peer is
		// told why the handshake failed, not left to time out.
		c.onCertificateTimer(now)
		return
	}
	if t := c.timers[timerIdle]; !t.IsZero() && now >= t {
		c.closeLocal(now, ReasonIdle, true)
		return
	}
	if t := c.timers[timerDisconnect]; !t.IsZero() && now >= t {
		c.closeLocal(now, ReasonDisconnect, true)
		return
	}
	if t := c.loss.LossDetectionDeadline(); !t.IsZero() && now >= t {
		c.traceLossTimerExpired(now)
		c.loss.OnLossDetectionTimeout(now, c)
		if c.loss.PTOCountExceeded() {
			c.closeLocal(now, ReasonHandshakeRetries, true)
			return
		}
		c.onProbeTimeout()
	}
	if t := c.timers[timerKeepAlive]; !t.IsZero() && now >= t {
		c.flags |= flagPing
		c.timers[timerKeepAlive] = 0
	}
	if t := c.timers[timerKeyDiscard]; !t.IsZero() && now >= t {
		c.app.discardPrev(now)
		c.traceKey(qlApp, keyDiscarded, int64(c.app.updates)-1, "")
		c.timers[timerKeyDiscard] = 0
	}
	if t := c.timers[timerPath]; !t.IsZero() && now >= t {
		c.onPathTimer(now)
	}
	if t := c.timers[timerPacing]; !t.IsZero() && now >= t {
		c.timers[timerPacing] = 0
	}
	if t := c.timers[timerMTURaise]; !t.IsZero() && now >= t {
		c.onMTURaiseTimer(now)
	}
}

// idleTimeout returns the idle timeout in force: before the handshake
// completes MsQuic's HandshakeIdleTimeoutMs, afterwards the smaller of both
// sides' max_idle_timeout (RFC 9000 §10.1), never less than three PTOs.
func (c *Conn) idleTimeout() time.Duration {
	if !c.life.handshakeComplete {
		return c.set.HandshakeIdleTimeout
	}
	t := c.set.IdleTimeout
	if pt := c.peerTP.maxIdleTimeout; pt > 0 && (t == 0 || pt < t) {
		t = pt
	}
	if t == 0 {
		return 0
	}
	return max(t, 3*c.loss.PTO())
}

// restartIdleTimer is called when a packet is processed and when the first
// ack-eliciting packet after a receipt is sent (RFC 9000 §10.1).
func (c *Conn) restartIdleTimer(now mono.Time) {
	if t := c.idleTimeout(); t > 0 {
		c.timers[timerIdle] = now.Add(t)
	} else {
		c.timers[timerIdle] = 0
	}
	if ka := c.set.KeepAliveInterval; ka > 0 && c.life.handshakeComplete {
		c.timers[timerKeepAlive] = now.Add(ka)
	}
}

// onAckProgress restarts the disconnect timer when the peer acknowledges
// something, or stops it when nothing is outstanding.
func (c *Conn) onAckProgress(now mono.Time) {
	if c.loss.Stats().BytesInFlight > 0 {
		c.timers[timerDisconnect] = now.Add(c.set.DisconnectTimeout)
	} else {
		c.timers[timerDisconnect] = 0
	}
}

// onAckElicitingSent arms the disconnect timer when an ack-eliciting packet
// goes out with nothing else outstanding.
func (c *Conn) onAckElicitingSent(now mono.Time) {
	if c.timers[timerDisconnect].IsZero() && c.set.DisconnectTimeout > 0 {
		c.timers[timerDisconnect] = now.Add(c.set.DisconnectTimeout)
	}
	if c.sentSinceReceive {
		return
	}
	c.sentSinceReceive = true
	c.restartIdleTimer(now)
}
