package conn

import (
	"github.com/hquic/quic/internal/mono"
)

// The methods in this file may be called from any goroutine, including the
// connection's own callbacks. They queue an operation and return; the
// outcome is reported through Events.

func (c *Conn) enqueue(lane int, o op) {
	c.ops.push(lane, o)
	c.wake()
}

// Start begins a client's handshake.
func (c *Conn) Start() {
	c.enqueue(laneNormal, op{kind: opFunc, fn: (*Conn).start})
}

// SetConfiguration gives a server connection its TLS configuration and
// settings; the handshake proceeds once it runs.
func (c *Conn) SetConfiguration(sc *ServerConfig) {
	c.enqueue(laneNormal, op{kind: opFunc, fn: func(c *Conn, now mono.Time) { c.setConfiguration(now, sc) }})
}

// Shutdown starts the application's shutdown: a CONNECTION_CLOSE carrying
// code, or with silent, an immediate silent close.
func (c *Conn) Shutdown(silent bool, code uint64) {
	var flags uint32
	if silent {
		flags = 1
	}
	c.enqueue(laneHigh, op{kind: opShutdown, flags: flags, code: code})
}

// CloseHandle reports that the application closed its handle. A connection
// not yet shut down is closed silently (MsQuic semantics); the final
// ShutdownComplete then has appCloseInProgress set.
func (c *Conn) CloseHandle() {
	c.enqueue(laneHigh, op{kind: opClose})
}

// Do runs fn on the connection's goroutine; now is the time of the
// processing pass that runs it.
func (c *Conn) Do(fn func(c *Conn, now mono.Time)) {
	c.enqueue(laneNormal, op{kind: opFunc, fn: fn})
}

// DoPriority runs fn ahead of normally queued operations (MsQuic's
// PRIORITY_WORK flags).
func (c *Conn) DoPriority(fn func(c *Conn, now mono.Time)) {
	c.enqueue(lanePriority, op{kind: opFunc, fn: fn})
}

// SendDatagram queues an unreliable datagram of size bytes made of bufs.
// front puts it ahead of queued datagrams.
func (c *Conn) SendDatagram(bufs [][]byte, size int, ctx any, flags DatagramFlags) {
	lane := laneNormal
	if flags&DatagramPriorityWork != 0 {
		lane = lanePriority
	}
	c.enqueue(lane, op{kind: opDatagramSend, bufs: bufs, n: uint64(size), ctx: ctx, flags: uint32(flags)})
}

// runOp executes one queued operation on the connection goroutine.
func (c *Conn) runOp(now mono.Time, o *op) {
	switch o.kind {
	case opFunc:
		o.fn(c, now)
	case opShutdown:
		c.appShutdown(now, o.flags&1 != 0, o.code)
	case opClose:
		c.life.appCloseInProgress = true
		if !c.life.closing() {
			c.startClose(now, CloseReason{Local: ReasonAborted}, closeSilent)
		}
	case opDatagramSend:
		if c.life.closing() || !c.datagrams.sendEnabled && c.life.handshakeComplete {
			c.datagrams.finish(c, outDatagram{ctx: o.ctx}, DatagramCanceled)
			return
		}
		c.datagrams.send(c, o.bufs, int(o.n), o.ctx, DatagramFlags(o.flags))
	default:
		c.streams.runOp(c, now, o)
	}
}

// start runs a client's Start.
func (c *Conn) start(now mono.Time) {
	if c.life.state != stateIdle || c.side != Client {
		return
	}
	c.life.state = stateHandshake
	c.restartIdleTimer(now)
	if err := c.hs.Start(); err != nil {
		c.closeWithError(now, err)
	}
}

// ForceKeyUpdate asks the connection to start a 1-RTT key update now
// (MsQuic's private FORCE_KEY_UPDATE parameter), if one is allowed.
func (c *Conn) ForceKeyUpdate() {
	c.Do(func(c *Conn, now mono.Time) { c.forceKeyUpdate(now) })
}
