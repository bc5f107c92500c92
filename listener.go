package quic

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/endpoint"
)

// Listener accepts incoming connections on a UDP address for a set of
// ALPNs (MsQuic's HQUIC listener). Each arriving connection is offered to
// its handler in a NewConnectionEvent, on the new connection's worker:
// handlers for different connections may run in parallel, so the handler
// must be safe for concurrent use. Listeners of one library share a UDP
// socket per address, so several may listen on one port with different
// ALPNs. Methods are safe for concurrent use.
type Listener struct {
	reg *Registration

	handler atomic.Pointer[ListenerHandler]
	context atomic.Pointer[any]

	mu        sync.Mutex
	preferred netip.AddrPort // offered to clients (SetPreferredAddress)
	alpns     []string
	sb        *sharedBinding
	local     netip.AddrPort
	started   bool
	closed    bool
	stopped   chan struct{} // closed when STOP_COMPLETE was delivered
	inflight  sync.WaitGroup

	accepted, rejected atomic.Uint64

	dosEvents atomic.Bool // SetDoSModeEvents
	dosMu     sync.Mutex  // serializes DoSModeChangedEvents
	dosSent   bool        // the mode the last DoSModeChangedEvent reported
}

// ListenerStatistics are a listener's counters (QUIC_LISTENER_STATISTICS).
type ListenerStatistics struct {
	TotalAcceptedConnections  uint64
	TotalRejectedConnections  uint64
	BindingRecvDroppedPackets uint64

	// hquic extensions: address validation and stateless packets on the
	// listener's socket.
	RetriesSent             uint64 // Retry packets sent
	TokensAccepted          uint64 // Initial packets with a valid Retry or NEW_TOKEN token
	TokensRejected          uint64 // Initial packets with an invalid token
	VersionNegotiationsSent uint64 // Version Negotiation packets sent
	StatelessResetsSent     uint64 // stateless resets sent
	// Dropped splits BindingRecvDroppedPackets by reason.
	Dropped DropStatistics
	// TokenRejections splits TokensRejected by reason.
	TokenRejections TokenRejectionStatistics
}

// DropStatistics count the datagrams a listener's socket dropped, by
// reason (hquic extension).
type DropStatistics struct {
	Malformed           uint64 // a long header that does not parse
	UnknownConnection   uint64 // not an Initial, and for no connection
	TooSmall            uint64 // an Initial, or an unknown version, under 1200 bytes
	NotAccepting        uint64 // an Initial while no listener was started
	ShortDCID           uint64 // a first Initial with a DCID under 8 bytes
	InvalidToken        uint64 // an Initial with an invalid Retry token
	Overloaded          uint64 // an Initial for a worker over MaxWorkerQueueDelay
	Refused             uint64 // an Initial no connection could be created for
	StatelessSpacing    uint64 // an answer within StatelessOperationExpiration of the last to that peer
	StatelessBindingCap uint64 // an answer beyond MaxBindingStatelessOperations in flight
	StatelessQueueFull  uint64 // an answer beyond MaxStatelessOperations queued
	NoReset             uint64 // a short-header packet for no connection, too small for a reset
	QueueFull           uint64 // a packet for a connection whose receive queue was full
}

// TokenRejectionStatistics count rejected Retry and NEW_TOKEN tokens, by
// reason (hquic extension).
type TokenRejectionStatistics struct {
	Malformed         uint64 // not sealed by our keys, or unreadable
	Expired           uint64 // past its lifetime, or issued in the future
	WrongAddress      uint64 // issued to another client address
	WrongVersion      uint64 // issued under another QUIC version
	WrongConnectionID uint64 // a Retry token with another connection ID
}

// NewListener creates a listener (ListenerOpen); nothing is bound until
// Start. The handler must not be nil.
func (r *Registration) NewListener(h ListenerHandler) (*Listener, error) {
	const op = "Registration.NewListener"
	if h == nil {
		return nil, opError(op, StatusInvalidParameter, "nil handler")
	}
	l := &Listener{reg: r}
	l.handler.Store(&h)
	if err := r.addChild(op, l); err != nil {
		return nil, err
	}
	return l, nil
}

// SetHandler replaces the listener's handler.
func (l *Listener) SetHandler(h ListenerHandler) {
	if h != nil {
		l.handler.Store(&h)
	}
}

// SetContext stores an application value with the listener.
func (l *Listener) SetContext(v any) { l.context.Store(&v) }

// Context returns the value stored with SetContext.
func (l *Listener) Context() any {
	if p := l.context.Load(); p != nil {
		return *p
	}
	return nil
}

// Start starts listening (ListenerStart) on local for the given ALPNs, in
// preference order. An invalid local (netip.AddrPort{}) listens on every
// address, IPv4 and IPv6, on a port the system picks; port 0 picks a port
// too (see LocalAddr). Events may arrive before Start returns. Errors, each
// distinct:
//
//   - ErrInvalidParameter: no ALPN, or one that is empty or longer than 255
//     bytes;
//   - ErrInvalidState: already started, or closed;
//   - ErrAddressInUse: another socket holds the address;
//   - ErrAddressNotAvailable: local is not an address of this host;
//   - ErrInvalidAddress: an address the system cannot listen on;
//   - ErrALPNInUse: a listener of this library already serves one of the
//     ALPNs on that address.
func (l *Listener) Start(alpns []string, local netip.AddrPort) error {
	const op = "Listener.Start"
	if err := validateALPNs(op, alpns); err != nil {
		return err
	}
	if err := l.reg.checkStart(op); err != nil {
		return err
	}
	local = unmapAddrPort(local)
	l.mu.Lock()
	if l.started || l.closed {
		l.mu.Unlock()
		return opError(op, StatusInvalidState, "listener already started or closed")
	}
	l.started = true
	l.alpns = slices.Clone(alpns)
	l.stopped = make(chan struct{})
	l.mu.Unlock()
	sb, err := l.reg.lib.listenerBinding(op, l, local)
	if err != nil {
		l.mu.Lock()
		// No stop will complete: Close must not wait for one.
		l.started, l.stopped = false, nil
		l.mu.Unlock()
		return err
	}
	l.mu.Lock()
	l.sb = sb
	l.local = sb.sh.Binding().LocalAddr()
	pref := l.preferred
	l.mu.Unlock()
	if pref.IsValid() {
		if err := sb.openPreferred(op, pref); err != nil {
			l.Stop()
			return err
		}
	}
	if l.dosEvents.Load() && l.reg.lib.DoSMode() {
		go l.notifyDoSMode(l.reg.lib.DoSMode())
	}
	return nil
}

// SetPreferredAddress makes the listener offer a preferred address to its
// clients (RFC 9000 §9.6): a second socket bound to addr, to which clients
// move after the handshake. It must be called before Start and applies to
// the listener's address (listeners sharing an address share the first
// preferred address set). This is an hquic extension: MsQuic has no
// server preferred address. Errors: ErrInvalidParameter for an
// unspecified address or port 0, ErrInvalidState once started.
func (l *Listener) SetPreferredAddress(addr netip.AddrPort) error {
	const op = "Listener.SetPreferredAddress"
	if !addr.IsValid() || addr.Addr().IsUnspecified() || addr.Port() == 0 {
		return opError(op, StatusInvalidParameter, "preferred address %v must be a specific address and port", addr)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.closed {
		return opError(op, StatusInvalidState, "listener already started or closed")
	}
	l.preferred = unmapAddrPort(addr)
	return nil
}

// LocalAddr returns the address the listener is bound to, including the
// port the system picked (QUIC_PARAM_LISTENER_LOCAL_ADDRESS). It fails with
// ErrInvalidState before Start.
func (l *Listener) LocalAddr() (netip.AddrPort, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sb == nil {
		return netip.AddrPort{}, opError("Listener.LocalAddr", StatusInvalidState, "listener not started")
	}
	return l.local, nil
}

// Statistics returns the listener's counters.
func (l *Listener) Statistics() ListenerStatistics {
	s := ListenerStatistics{TotalAcceptedConnections: l.accepted.Load(), TotalRejectedConnections: l.rejected.Load()}
	l.mu.Lock()
	if b := l.sb; b != nil {
		e := b.sh.Binding()
		s.BindingRecvDroppedPackets = e.Dropped.Load()
		s.RetriesSent = e.RetriesSent.Load()
		s.TokensAccepted = e.TokensAccepted.Load()
		s.TokensRejected = e.TokensRejected.Load()
		s.VersionNegotiationsSent = e.VNSent.Load()
		s.StatelessResetsSent = e.Resets.Load()
		d := func(r endpoint.DropReason) uint64 { return e.Drops[r].Load() }
		s.Dropped = DropStatistics{
			Malformed: d(endpoint.DropMalformed), UnknownConnection: d(endpoint.DropUnknownConnection),
			TooSmall: d(endpoint.DropTooSmall), NotAccepting: d(endpoint.DropNotAccepting),
			ShortDCID: d(endpoint.DropShortDCID), InvalidToken: d(endpoint.DropInvalidToken),
			Overloaded: d(endpoint.DropOverloaded), Refused: d(endpoint.DropRefused),
			StatelessSpacing: d(endpoint.DropStatelessSpacing), StatelessBindingCap: d(endpoint.DropStatelessBindingLimit),
			StatelessQueueFull: d(endpoint.DropStatelessQueueFull), NoReset: d(endpoint.DropNoReset),
			QueueFull: d(endpoint.DropQueueFull),
		}
		tr := func(r endpoint.TokenRejection) uint64 { return e.TokenRejections[r].Load() }
		s.TokenRejections = TokenRejectionStatistics{
			Malformed: tr(endpoint.TokenMalformed), Expired: tr(endpoint.TokenExpired),
			WrongAddress: tr(endpoint.TokenWrongAddress), WrongVersion: tr(endpoint.TokenWrongVersion),
			WrongConnectionID: tr(endpoint.TokenWrongConnectionID),
		}
	}
	l.mu.Unlock()
	return s
}

// SetDoSModeEvents turns DoSModeChangedEvents on or off
// (QUIC_PARAM_DOS_MODE_EVENTS). Turning them on while the library is in
// DoS mode raises an event at once (on another goroutine), as in MsQuic.
func (l *Listener) SetDoSModeEvents(on bool) {
	l.dosEvents.Store(on)
	if on && l.reg.lib.DoSMode() {
		go l.notifyDoSMode(l.reg.lib.DoSMode())
	}
}

// DoSModeEvents reports whether DoSModeChangedEvents are on.
func (l *Listener) DoSModeEvents() bool { return l.dosEvents.Load() }

// notifyDoSMode raises a DoSModeChangedEvent reporting on, unless events
// are off, the listener is not started, or the last event said the same.
func (l *Listener) notifyDoSMode(on bool) {
	l.dosMu.Lock()
	defer l.dosMu.Unlock()
	if !l.dosEvents.Load() || l.dosSent == on {
		return
	}
	l.mu.Lock()
	if !l.started {
		l.mu.Unlock()
		return
	}
	l.inflight.Add(1) // Stop delivers STOP_COMPLETE only after this event
	l.mu.Unlock()
	defer l.inflight.Done()
	l.dosSent = on
	l.dispatch(&DoSModeChangedEvent{Enabled: on})
}

// Stop stops accepting connections (ListenerStop). It does not block: the
// ListenerStopCompleteEvent follows once no NewConnectionEvent is running,
// and nothing after it. Connections already accepted are unaffected. The
// listener may be started again after the stop completes. Stopping a
// listener that is not started does nothing.
func (l *Listener) Stop() { l.stop(false) }

func (l *Listener) stop(appClose bool) {
	l.mu.Lock()
	if !l.started || l.sb == nil {
		l.mu.Unlock()
		return
	}
	sb, done := l.sb, l.stopped
	l.started, l.sb = false, nil
	l.mu.Unlock()
	l.dosMu.Lock()
	l.dosSent = false // a restarted listener hears the mode afresh
	l.dosMu.Unlock()
	sb.removeListener(l)
	go func() {
		l.inflight.Wait()
		ev := &ListenerStopCompleteEvent{AppCloseInProgress: appClose}
		l.dispatch(ev)
		close(done)
	}()
}

// Close stops the listener if needed and releases it (ListenerClose). It
// waits for the ListenerStopCompleteEvent, so it must not be called from
// a NewConnectionEvent handler. Closing twice does nothing.
func (l *Listener) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	done := l.stopped
	l.mu.Unlock()
	l.stop(true)
	if done != nil {
		<-done
	}
	l.reg.removeChild(l)
}

// regShutdown implements regChild: registration shutdown concerns
// connections; listeners keep running until stopped.
func (l *Listener) regShutdown(ConnectionShutdownFlags, uint64) {}

// accept raises NewConnectionEvent for a server connection whose
// ClientHello chose this listener. It runs on the connection's worker.
func (l *Listener) accept(c *Connection, info *conn.NewConnectionInfo, alpn string) (conn.Events, string, error) {
	l.mu.Lock()
	if !l.started {
		l.mu.Unlock()
		l.rejected.Add(1)
		return nil, "", errListenerStopped
	}
	l.inflight.Add(1)
	l.mu.Unlock()
	defer l.inflight.Done()
	if c.reg != l.reg {
		// Another registration's listener took it: move the connection.
		if err := l.reg.addChild("Listener.accept", c); err != nil {
			l.rejected.Add(1)
			return nil, "", err
		}
		c.reg.removeChild(c)
		c.reg = l.reg
	}
	ev := &NewConnectionEvent{
		Info: NewConnectionInfo{
			QUICVersion:    info.Version,
			LocalAddr:      info.Local,
			RemoteAddr:     info.Remote,
			ServerName:     info.ServerName,
			ClientALPNs:    info.ClientALPNs,
			NegotiatedALPN: alpn,
			ClientHello:    info.ClientHello,
		},
		Connection: c,
	}
	if err := l.dispatch(ev); err != nil {
		l.rejected.Add(1)
		c.mu.Lock()
		c.state |= connClosed
		c.mu.Unlock()
		return nil, "", err
	}
	l.accepted.Add(1)
	c.mu.Lock()
	c.state |= connAccepted
	c.mu.Unlock()
	if c.binding != nil {
		c.binding.sh.Accepted(c)
	}
	return (*connEvents)(c), alpn, nil
}

// errListenerStopped refuses a connection that arrived as its listener
// stopped.
var errListenerStopped = opError("Listener.accept", StatusConnectionRefused, "listener stopped")

func (l *Listener) dispatch(ev ListenerEvent) error {
	h := l.handler.Load()
	if h == nil {
		return nil
	}
	return (*h)(l, ev)
}
