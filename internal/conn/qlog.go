package conn

import (
	"crypto/tls"
	"math"
	"net/netip"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Tracing glue: what the connection tells its qlog trace (internal/qlog).
// c.qlog is nil unless the connection is traced; hooks on hot paths test
// it where they are, the others here. Events whose moment does not matter
// within a run (connection state, path, MTU, recovery metrics) are found by
// comparing with what was last logged, at the end of the run and after
// each ACK frame, so they need no hook where the state changes.

// tracing is a traced connection's trace and what the glue remembers
// between events.
type tracing struct {
	*qlog.Trace
	started   bool
	state     string         // the connection state last logged
	mtu       int            // the datagram size last logged
	peer      netip.AddrPort // the path last logged
	local     netip.AddrPort
	probe     netip.AddrPort // the peer address of the probe last logged
	tuples    int            // tuple IDs assigned
	closed    bool           // connection_closed was logged
	first1RTT int64          // the first 1-RTT packet sent, -1 before
}

// openTrace asks for the connection's trace, once its original
// Destination Connection ID is known.
func (c *Conn) openTrace(open func(odcid []byte, server bool) *qlog.Trace) {
	if open == nil {
		return
	}
	if t := open(c.cids.originalDCID, c.side == Server); t != nil {
		c.qlog = &tracing{Trace: t, first1RTT: -1}
	}
}

// traceRunStart logs the connection's start in its first run.
func (c *Conn) traceRunStart(now mono.Time) {
	t := c.qlog
	if c.qlog.started {
		return
	}
	c.qlog.started = true
	t.Started(now, c.path.local, c.path.peer, c.cids.scid(), c.cids.dcid())
	if c.side == Client {
		t.Versions(now, nil, c.versions(), c.version)
		t.ALPN(now, nil, c.tlsConfig.NextProtos, "")
		c.traceParams(now, c.localTransportParameters(), true)
	} else {
		t.Versions(now, c.versions(), nil, c.version)
	}
	c.traceInitialKeys(now, "")
	t.RecoveryParameters(now, &qlog.Recovery{
		InitialRTT:      c.set.InitialRTT,
		MaxDatagramSize: c.path.maxDatagramSize(),
		InitialWindow:   c.loss.InitialWindow(),
		MinimumWindow:   c.loss.MinimumWindow(),
		LossReduction:   lossReduction(c.set.Congestion),
	})
	c.qlog.mtu, c.qlog.peer, c.qlog.local = c.path.maxDatagramSize(), c.path.peer, c.path.local
}

func lossReduction(a recovery.Algorithm) float64 {
	if a == recovery.NewReno {
		return 0.5
	}
	return 0.7
}

// traceRunEnd logs what changed during the run and hands the trace to its
// writer; a terminated connection's trace is closed.
func (c *Conn) traceRunEnd(now mono.Time) {
	t := c.qlog
	if c.life.state != stateDone {
		c.traceRecovery(now)
		c.tracePath(now)
	}
	if st := c.qlogState(); st != c.qlog.state {
		t.State(now, c.qlog.state, st)
		c.qlog.state = st
	}
	if c.life.state == stateDone {
		t.Close()
		return
	}
	t.Flush()
}

// qlogState names the connection's state (quic-events §4.5).
func (c *Conn) qlogState() string {
	switch {
	case c.life.state == stateDone:
		return "closed"
	case c.life.state == stateDraining:
		return "draining"
	case c.life.state == stateClosing:
		return "closing"
	case c.life.handshakeConfirmed:
		return "handshake_confirmed"
	case c.life.handshakeComplete:
		return "handshake_complete"
	case c.spaces[recovery.SpaceHandshake].read != nil:
		return "handshake_started"
	}
	return "attempted"
}

// traceRecovery logs the recovery metrics, congestion and ECN states and
// the loss detection timer that changed since they were last logged.
func (c *Conn) traceRecovery(now mono.Time) {
	t := c.qlog
	s := c.loss.Stats()
	m := qlog.Metrics{
		MinRTT:           s.MinRTT,
		SmoothedRTT:      s.SmoothedRTT,
		LatestRTT:        s.LatestRTT,
		RTTVariance:      s.RTTVariance,
		PTOCount:         uint64(c.loss.PTOCount()),
		CongestionWindow: uint64(s.CongestionWindow),
		BytesInFlight:    uint64(s.BytesInFlight),
		SSThresh:         math.MaxUint64,
		PacketsInFlight:  uint64(c.loss.PacketsInFlight()),
	}
	if r := c.loss.PacingRate(); r > 0 {
		m.PacingRate = uint64(r * 8)
	}
	if s.SlowStartThreshold != math.MaxInt {
		m.SSThresh = uint64(s.SlowStartThreshold)
	}
	cc := c.loss.CongestionState()
	if c.loss.InRecovery() {
		cc = "recovery"
	}
	t.CongestionState(now, cc, "")
	t.RecoveryMetrics(now, &m)
	t.ECNState(now, c.loss.ECNState())
	deadline := c.loss.LossDetectionDeadline()
	kind, sp := "pto", recovery.SpaceInitial
	if deadline != 0 {
		kind, sp = c.loss.LossTimerKind()
	}
	t.LossTimer(now, deadline, kind, int(sp))
}

// traceLossTimerExpired logs the expiry of the loss detection timer.
func (c *Conn) traceLossTimerExpired(now mono.Time) {
	if c.qlog != nil {
		kind, sp := c.loss.LossTimerKind()
		c.qlog.LossTimerExpired(now, kind, int(sp))
	}
}

// tracePath logs path changes: a probe of a new path starting or being
// abandoned, a migration, and DPLPMTUD raising the datagram size.
func (c *Conn) tracePath(now mono.Time) {
	t := c.qlog
	if pr := c.path.probe; pr != nil && pr.peer != c.qlog.probe {
		c.qlog.probe = pr.peer
		t.Migration(now, "probing_started", c.tupleID(c.qlog.tuples+1), pr.local, pr.peer)
	} else if pr == nil && c.qlog.probe.IsValid() && c.path.peer != c.qlog.probe {
		t.Migration(now, "probing_abandoned", c.tupleID(c.qlog.tuples+1), c.path.local, c.qlog.probe)
		c.qlog.probe = netip.AddrPort{}
	}
	if c.path.peer != c.qlog.peer || c.path.local != c.qlog.local {
		c.qlog.tuples++
		id := c.tupleID(c.qlog.tuples)
		t.Tuple(now, id, c.path.local, c.path.peer, c.cids.dcid())
		t.Migration(now, "migration_complete", id, c.path.local, c.path.peer)
		c.qlog.peer, c.qlog.local, c.qlog.probe = c.path.peer, c.path.local, netip.AddrPort{}
	}
	if size := c.path.maxDatagramSize(); size != c.qlog.mtu {
		t.MTU(now, c.qlog.mtu, size, c.mtu.done)
		c.qlog.mtu = size
	}
}

// tupleID names the n-th path after the first, which is "".
func (c *Conn) tupleID(n int) string {
	var b [8]byte
	i := len(b)
	for ; n > 0 || i == len(b); n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return "path" + string(b[i:])
}

// traceClosing logs connection_closed when the connection starts to close
// or drain.
func (c *Conn) traceClosing(now mono.Time) {
	if c.qlog == nil || c.qlog.closed {
		return
	}
	c.qlog.closed = true
	r := &c.life.reason
	cl := qlog.Close{Remote: r.Remote, App: r.App, Code: r.Code, Reason: r.Reason, Trigger: "error"}
	switch {
	case r.App:
		cl.Trigger = "application"
	case r.Local == ReasonIdle:
		cl.Trigger, cl.Reason = "idle_timeout", "idle timeout"
	case r.Local == ReasonStatelessReset:
		cl.Trigger, cl.Remote = "stateless_reset", true
	case r.Local == ReasonVersionNegotiation:
		cl.Trigger, cl.Reason = "version_mismatch", "no version in common"
	case r.Local == ReasonAborted:
		cl.Trigger, cl.Reason = "aborted", "connection handle closed"
	case r.Local == ReasonDisconnect:
		cl.Reason = "no acknowledgment within the disconnect timeout"
	case r.Local == ReasonHandshakeRetries:
		cl.Reason = "handshake retransmitted too often"
	case r.Local == ReasonUnreachable:
		cl.Reason = "peer unreachable"
	case r.Local == ReasonRefused:
		cl.Reason = "no listener accepted the connection"
	}
	c.qlog.Closed(now, &cl)
}

// traceParams logs encoded transport parameters as parameters_set.
func (c *Conn) traceParams(now mono.Time, b []byte, local bool) {
	// Our own parameters are parsed as the peer would.
	fromServer := c.side == Server
	if !local {
		fromServer = !fromServer
	}
	if p, err := wire.ParseTransportParameters(b, fromServer); err == nil {
		c.qlog.Parameters(now, &p, local)
	}
}

// traceServerConfigured logs a server's own parameters and ALPNs once it
// has its configuration.
func (c *Conn) traceServerConfigured(now mono.Time, alpn string) {
	if c.qlog != nil {
		c.traceParams(now, c.localTransportParameters(), true)
		c.qlog.ALPN(now, []string{alpn}, nil, alpn)
	}
}

// tracePeerParams logs the peer's transport parameters.
func (c *Conn) tracePeerParams(b []byte) {
	if c.qlog != nil {
		c.traceParams(c.now, b, false)
	}
}

// traceConnected logs what TLS negotiated.
func (c *Conn) traceConnected(cs *tls.ConnectionState) {
	if c.qlog == nil {
		return
	}
	if c.side == Client {
		c.qlog.ALPN(c.now, nil, nil, cs.NegotiatedProtocol)
	}
	c.qlog.TLSParameters(c.now, tls.CipherSuiteName(cs.CipherSuite), cs.DidResume)
}

// keyTypes are qlog's key types by encryption level and sender.
var keyTypes = [4][2]string{
	{"client_initial_secret", "server_initial_secret"},
	{"client_0rtt_secret", "server_0rtt_secret"},
	{"client_handshake_secret", "server_handshake_secret"},
	{"client_1rtt_secret", "server_1rtt_secret"},
}

// Encryption levels for keyTypes.
const (
	qlInitial = iota
	qlEarly
	qlHandshake
	qlApp
)

// keyType names the key of level that write (our keys) or read (the
// peer's) protects.
func (c *Conn) keyType(level int, write bool) string {
	sender := 0 // client
	if (c.side == Server) == write {
		sender = 1
	}
	return keyTypes[level][sender]
}

// keyEvent says which keys a key event is about and what became of them.
type keyEvent uint8

const (
	// keyWrite marks our keys; without it the event is about the peer's.
	keyWrite keyEvent = 1 << iota
	// keyDiscarded marks keys discarded; without it they were installed.
	keyDiscarded
)

// traceKey logs keys installed or discarded for level; phase is the 1-RTT
// key phase, negative for other levels.
func (c *Conn) traceKey(level int, ev keyEvent, phase int64, trigger string) {
	if c.qlog == nil {
		return
	}
	if level == qlApp && phase < 0 {
		phase = 0 // the first 1-RTT keys
	}
	c.qlog.Key(c.now, ev&keyDiscarded != 0, c.keyType(level, ev&keyWrite != 0), phase, trigger)
}

// traceInitialKeys logs the derivation of both Initial keys.
func (c *Conn) traceInitialKeys(now mono.Time, trigger string) {
	for _, w := range [2]bool{true, false} {
		c.qlog.Key(now, false, c.keyType(qlInitial, w), -1, trigger)
	}
}

// traceSpaceDiscarded logs the discarding of a space's keys.
func (c *Conn) traceSpaceDiscarded(sp recovery.Space) {
	if c.qlog == nil {
		return
	}
	level := qlInitial
	if sp == recovery.SpaceHandshake {
		level = qlHandshake
	}
	for _, w := range [2]bool{true, false} {
		c.qlog.Key(c.now, true, c.keyType(level, w), -1, "tls")
	}
}

// traceKeyUpdate logs a 1-RTT key update, which just made generation
// c.app.updates current in both directions.
func (c *Conn) traceKeyUpdate(remote bool) {
	if c.qlog == nil {
		return
	}
	trigger := "local_update"
	if remote {
		trigger = "remote_update"
	}
	phase := int64(c.app.updates)
	for _, w := range [2]bool{true, false} {
		c.qlog.Key(c.now, false, c.keyType(qlApp, w), phase, trigger)
	}
	c.qlog.Key(c.now, true, c.keyType(qlApp, true), phase-1, trigger)
}

// traceStream logs the stream's send and receive states that changed.
func (c *Conn) traceStream(s *Stream) {
	if s.partsReady {
		if p := s.send.Phase(); uint8(p) != s.traced[0] {
			c.qlog.Stream(c.now, uint64(s.id), "sending", sendStates[s.traced[0]], sendStates[p], "")
			s.traced[0] = uint8(p)
		}
		if p := s.recv.Phase(); uint8(p) != s.traced[1] {
			c.qlog.Stream(c.now, uint64(s.id), "receiving", recvStates[s.traced[1]], recvStates[p], "")
			s.traced[1] = uint8(p)
		}
	}
}

// The qlog names of stream.SendPhase and stream.RecvPhase values
// (quic-events §5.15); "" for none.
var (
	sendStates = [...]string{"", "ready", "send", "data_sent", "data_received", "reset_sent", "reset_received"}
	recvStates = [...]string{"", "receive", "size_known", "data_received", "reset_received", "data_read", "reset_read"}
)

// traceDatagram logs DATAGRAM payload moving between the application and
// the transport.
func (c *Conn) traceDatagram(sent bool, n int) {
	if c.qlog == nil {
		return
	}
	if sent {
		c.qlog.DatagramMoved(c.now, "application", "transport", n)
	} else {
		c.qlog.DatagramMoved(c.now, "transport", "application", n)
	}
}
