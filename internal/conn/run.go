package conn

import (
	"github.com/hquic/quic/internal/mono"
)

// maxDatagramsPerRun bounds receive processing in one run. It holds a whole
// GRO batch of full-size datagrams (up to 45), so a batch is acknowledged
// with one ACK, sent right after the batch is processed.
const maxDatagramsPerRun = 64

// defaultOpsPerRun is used when MaxOperationsPerDrain is unset.
const defaultOpsPerRun = 16

// SetScheduler gives the connection the means to ask for a run. It is
// called once, before the connection is started or receives datagrams;
// operations queued before it wait for the next wake-up.
func (c *Conn) SetScheduler(s Scheduler) {
	c.sched = s
	c.schedSet.Store(true)
}

// wake asks for a run, once the connection has a scheduler.
func (c *Conn) wake() {
	if c.schedSet.Load() {
		c.sched.Wake()
	}
}

// Run processes queued operations, received datagrams and due timers, then
// sends what it can. It returns whether more work is already waiting and
// the next time it must run (zero for none). It implements the executor's
// task interface; it must never run concurrently with itself.
func (c *Conn) Run(now mono.Time) (more bool, deadline mono.Time) {
	c.now = now
	if c.stats.start.IsZero() {
		c.stats.start = now // the statistics' TimingStart
	}
	ob, rb := opBufs.Get(), datagramBufs.Get()
	c.opScratch, c.rxScratch = ob.s, rb.s
	c.running = true
	c.startHooks()
	defer func() {
		// The scratch goes back to the pool: an idle connection holds
		// none. Its entries were cleared as they were used.
		ob.s, rb.s = c.opScratch, c.rxScratch
		c.opScratch, c.rxScratch = nil, nil
		putOpBuf(ob)
		putDatagramBuf(rb)
		c.running = false
		c.endHooks()
	}()
	if c.qlog != nil {
		c.traceRunStart(now)
	}
	budget := c.set.MaxOperationsPerDrain
	if budget <= 0 {
		budget = defaultOpsPerRun
	}
	c.opScratch = c.ops.take(c.opScratch[:0], budget)
	budget -= len(c.opScratch)
	c.onlyDelayedSends = allDelayedSends(c.opScratch)
	c.runOps(now)
	c.rxScratch = c.rx.take(c.rxScratch[:0], maxDatagramsPerRun)
	if len(c.rxScratch) > 0 {
		c.onlyDelayedSends = false
	}
	for i := range c.rxScratch {
		d := &c.rxScratch[i]
		c.processDatagram(now, d)
		if d.Buf != nil {
			d.Buf.Release()
		}
		*d = Datagram{}
		c.replayBuffered(now)
	}
	c.streams.cancelLost(c)
	c.streams.deliverReceives(c)
	if budget > 0 && c.life.state != stateDone {
		// What the application queued from the events above (a request
		// sent once connected, a reply to what arrived) runs now, so it
		// leaves in the same flush as the acknowledgment. The wake-ups
		// their queuing caused are answered here.
		if wc, ok := c.sched.(WakeClearer); ok {
			wc.ClearWake()
		}
		c.opScratch = c.ops.take(c.opScratch[:0], budget)
		if len(c.opScratch) > 0 && !allDelayedSends(c.opScratch) {
			c.onlyDelayedSends = false
		}
		c.runOps(now)
	}
	c.maybeReleaseTLS()
	if c.onlyDelayedSends {
		if t := c.deadline(); !t.IsZero() && now >= t {
			c.onlyDelayedSends = false // a timer has its own reason to send
		}
	}
	c.onTimers(now)
	c.streams.cancelLost(c)
	if c.life.state != stateDone {
		c.maybeStartKeyUpdate(now)
		c.flush(now)
		c.flushProbes(now)
		c.streams.onBytesInFlight(c)
		c.datagrams.cancelBlocked(c)
	}
	c.finishShutdown(now)
	if c.qlog != nil {
		c.traceRunEnd(now)
	}
	c.publishSnapshot()
	if c.life.state == stateDone {
		c.rx.drain()
		return c.ops.pending(), 0
	}
	return c.ops.pending() || c.rx.pending() || c.sendLimited, c.deadline()
}

// allDelayedSends reports whether ops, the operations of a run, give no
// reason to send: none, or only stream sends with SendFlagDelay and
// stream starts without StreamStartImmediate (senddelay.go).
func allDelayedSends(ops []op) bool {
	for i := range ops {
		switch o := &ops[i]; {
		case o.kind == opStreamSend && o.flags&SendFlagDelay != 0:
		case o.kind == opStreamStart && o.flags&StreamStartImmediate == 0:
		default:
			return false
		}
	}
	return true
}

// runOps runs the operations in opScratch. opNext is the next one to run,
// so that a stream or connection shutdown can cancel the sends still
// waiting behind it (cancelQueuedSends).
func (c *Conn) runOps(now mono.Time) {
	for c.opNext = 0; c.opNext < len(c.opScratch); {
		o := &c.opScratch[c.opNext]
		c.opNext++
		c.runOp(now, o)
		*o = op{}
	}
}

// publishSnapshot copies the observable values for getters.
func (c *Conn) publishSnapshot() {
	v := Snapshot{
		Stats:         c.statistics(),
		PeerAddr:      c.path.peer,
		LocalAddr:     c.path.local,
		Version:       c.version,
		HandshakeDone: c.life.handshakeComplete,
		Closed:        c.life.state == stateDone,
	}
	if c.hs != nil && c.life.handshakeComplete {
		v.NegotiatedALPN = c.alpn
		v.TLS = c.tlsInfo
	}
	v.AvailableBidi, v.AvailableUni = c.streams.available()
	v.CanMigrate = c.canMigrate()
	v.DatagramPeerKnown = c.hasPeerTP
	v.DatagramSendEnabled, v.DatagramMaxSend = c.datagrams.sendEnabled, c.datagrams.maxSend
	c.publish(v)
}
