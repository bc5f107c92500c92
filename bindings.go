package quic

import (
	"errors"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/udp"
)

// bindingTable holds a library's UDP bindings shared by listeners
// (MsQuic's bindings): one per listening address, reference-counted by the
// listeners and server connections that use it. Client connections get a
// socket of their own.
type bindingTable struct {
	mu     sync.Mutex
	shared map[netip.AddrPort]*sharedBinding

	netMu sync.Mutex
	net   PacketNetwork // SetPacketNetwork; nil for the system's UDP (network.go)

	resetMu  sync.Mutex
	resetFor [StatelessResetKeyLength]byte
	reset    *token.ResetKey
}

// sharedBinding is a listening binding and who uses it.
type sharedBinding struct {
	lib *Library
	reg *Registration  // of the listener that opened the socket
	key netip.AddrPort // the address listeners asked for
	b   *endpoint.Binding

	// preferred is the socket of the preferred address offered to clients
	// (RFC 9000 §9.6), if a listener set one.
	preferred *endpoint.Binding

	mu        sync.Mutex
	listeners []*Listener
	conns     int                      // server connections still using the socket
	pending   map[*Connection]struct{} // server connections no listener accepted yet
}

// resetTokens returns the stateless reset key derived from the library's
// current secret.
func (l *Library) resetTokens() *token.ResetKey {
	key := l.statelessResetKey()
	t := &l.bindings
	t.resetMu.Lock()
	defer t.resetMu.Unlock()
	if t.reset == nil || t.resetFor != key {
		t.reset, t.resetFor = token.NewResetKey(key), key
	}
	return t.reset
}

// udpOptions returns the socket options from the environment.
func (l *Library) udpOptions() udp.Options {
	return udp.Options{DisableGSO: l.env.disableGSO, DisableGRO: l.env.disableGRO, DisableECN: l.env.disableECN,
		Notify: l.socketNotice}
}

// endpointConfig returns the configuration of a binding opened by
// registration r; sb is nil for sockets that accept no connections
// (clients', and a preferred address's).
//
// A binding writes the way the registration that opened it asks
// (sendQueue): a client connection's sockets follow the connection's
// registration; a listening socket, and the socket of its preferred
// address, follow the registration of the listener that opened it, even
// when listeners of other registrations share it later or that listener
// stops first: one socket has one datapath.
func (l *Library) endpointConfig(sb *sharedBinding, r *Registration) endpoint.Config {
	accept, _ := serverVersions(l)
	cfg := endpoint.Config{
		CIDLen:    l.cidLen(),
		ResetKey:  l.resetTokens(),
		Versions:  accept,
		UDP:       l.udpOptions(),
		SendQueue: r.sendQueue(),
		Stateless: l.defense.stateless,
		// Problems are counted and traced (sockets.go).
		OnDrop:       l.socketDrop,
		OnWriteError: l.socketWriteError,
	}
	if sb != nil {
		cfg.Handler = sb
		cfg.Tokens = l.tokenSealer()
		cfg.Guard = l.defense.guard
		cfg.Overloaded = sb.overloaded
		cfg.ServerCIDPrefix = l.serverCIDPrefix
	}
	return cfg
}

// network picks the socket family for a local address: an unspecified
// address listens dual-stack.
func network(a netip.AddrPort) string {
	switch {
	case !a.Addr().IsValid() || a.Addr().IsUnspecified() && a.Addr().Is6():
		return "udp"
	case a.Addr().Is4():
		return "udp4"
	}
	return "udp6"
}

// clientBinding opens the own socket of a client connection of
// registration r, of the family of remote, on local if it is set.
func (l *Library) clientBinding(r *Registration, remote, local netip.AddrPort) (*endpoint.Binding, error) {
	if !local.IsValid() {
		if remote.Addr().Is4() {
			local = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		} else {
			local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
	}
	netw := "udp4"
	if local.Addr().Is6() {
		netw = "udp6"
	}
	return l.listen(netw, local, l.endpointConfig(nil, r))
}

// listenerBinding finds or opens the binding for a listener on local and
// adds the listener to it. Listeners share a binding per address; two with
// a common ALPN on the same address fail with ErrALPNInUse.
func (l *Library) listenerBinding(op string, lis *Listener, local netip.AddrPort) (*sharedBinding, error) {
	t := &l.bindings
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shared == nil {
		t.shared = make(map[netip.AddrPort]*sharedBinding)
	}
	if local.Port() != 0 {
		if sb := t.shared[local]; sb != nil {
			if err := sb.addListener(op, lis); err != nil {
				return nil, err
			}
			return sb, nil
		}
	}
	sb := &sharedBinding{lib: l, reg: lis.reg}
	b, err := l.listen(network(local), local, l.endpointConfig(sb, lis.reg))
	if err != nil {
		return nil, opErrorWrap(op, statusFromSocketError(err), err)
	}
	sb.b = b
	sb.key = b.LocalAddr()
	if local.Port() != 0 {
		sb.key = local
	}
	sb.listeners = []*Listener{lis}
	t.shared[sb.key] = sb
	b.SetAccepting(true)
	return sb, nil
}

// openPreferred opens the socket of a preferred address unless the binding
// already offers one.
func (sb *sharedBinding) openPreferred(op string, addr netip.AddrPort) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.preferred != nil {
		return nil
	}
	b, err := sb.lib.listen(network(addr), addr, sb.lib.endpointConfig(nil, sb.reg))
	if err != nil {
		return opErrorWrap(op, statusFromSocketError(err), err)
	}
	sb.preferred = b
	return nil
}

// addListener adds lis unless a listener with a common ALPN is there.
func (sb *sharedBinding) addListener(op string, lis *Listener) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for _, o := range sb.listeners {
		for _, a := range o.alpns {
			for _, b := range lis.alpns {
				if a == b {
					return opError(op, StatusALPNInUse, "ALPN %q already has a listener on %v", a, sb.key)
				}
			}
		}
	}
	sb.listeners = append(sb.listeners, lis)
	sb.b.SetAccepting(true)
	return nil
}

// removeListener takes lis off the binding and closes the socket when
// nothing uses it any more.
func (sb *sharedBinding) removeListener(lis *Listener) {
	sb.mu.Lock()
	for i, o := range sb.listeners {
		if o == lis {
			sb.listeners = append(sb.listeners[:i], sb.listeners[i+1:]...)
			break
		}
	}
	var orphans []*Connection
	if len(sb.listeners) == 0 {
		sb.b.SetAccepting(false)
		for c := range sb.pending {
			orphans = append(orphans, c)
		}
	}
	sb.mu.Unlock()
	// Connections still in their handshake have no listener left to accept
	// them: drop them silently.
	for _, c := range orphans {
		c.regShutdown(ConnectionShutdownSilent, 0)
	}
	sb.maybeClose()
}

// accepted takes c off the binding's list of unaccepted connections.
func (sb *sharedBinding) accepted(c *Connection) {
	sb.mu.Lock()
	delete(sb.pending, c)
	sb.mu.Unlock()
}

// releaseConn drops a server connection's use of the binding.
func (sb *sharedBinding) releaseConn(c *Connection) {
	sb.mu.Lock()
	sb.conns--
	delete(sb.pending, c)
	sb.mu.Unlock()
	sb.maybeClose()
}

// maybeClose closes the socket once no listener or connection uses it.
func (sb *sharedBinding) maybeClose() {
	t := &sb.lib.bindings
	t.mu.Lock()
	sb.mu.Lock()
	unused := len(sb.listeners) == 0 && sb.conns == 0
	if unused && t.shared[sb.key] == sb {
		delete(t.shared, sb.key)
	}
	sb.mu.Unlock()
	t.mu.Unlock()
	if unused {
		bs := []*endpoint.Binding{sb.b}
		sb.mu.Lock()
		if sb.preferred != nil {
			bs = append(bs, sb.preferred)
		}
		sb.mu.Unlock()
		closeBindings(bs)
	}
}

// NewConnection implements endpoint.Handler: it creates the server
// connection for a client's first Initial on the worker pool of the first
// listener (the one that accepts it is known only once its ClientHello has
// been read).
func (sb *sharedBinding) NewConnection(b *endpoint.Binding, info *endpoint.InitialInfo) *conn.Conn {
	sb.mu.Lock()
	if len(sb.listeners) == 0 {
		sb.mu.Unlock()
		return nil
	}
	first := sb.listeners[0]
	prefSock := sb.preferred
	sb.mu.Unlock()
	qc := &Connection{lib: sb.lib, reg: first.reg, server: true, binding: sb, startTime: time.Now()}
	// The connection belongs to the registration whose workers run it, so
	// closing the registration waits for it.
	if first.reg.addChild("Listener.newConnection", qc) != nil {
		return nil
	}
	sb.mu.Lock()
	sb.conns++
	if sb.pending == nil {
		sb.pending = make(map[*Connection]struct{})
	}
	sb.pending[qc] = struct{}{}
	sb.mu.Unlock()
	var host conn.Host
	var attach func(*conn.Conn)
	var pref conn.PreferredAddress
	if prefSock != nil {
		mh := &endpoint.MultiHost{OnClosed: qc.onTerminated}
		mh.Add(b)
		mh.Add(prefSock)
		host, attach = mh, func(e *conn.Conn) { mh.Attach(e, info.DCID) }
		if a := prefSock.LocalAddr(); a.Addr().Is4() {
			pref.IPv4 = a
		} else {
			pref.IPv6 = a
		}
	} else {
		eh := b.NewHost()
		eh.OnClosed = qc.onTerminated
		host, attach = eh, func(e *conn.Conn) { eh.Attach(e, info.DCID) }
	}
	lib := sb.lib
	_, preferred := serverVersions(lib)
	settings := lib.connectionSettings()
	cfg := conn.Config{
		Side:             conn.Server,
		Version:          info.Version,
		Versions:         preferred,
		Settings:         engineSettings(&settings),
		OpenTrace:        lib.traceOpener(qc, &settings),
		ResetKey:         lib.resetTokens().Token,
		CIDLen:           lib.cidLen(),
		CIDPrefix:        lib.serverCIDPrefix(info.Local.Addr()),
		Peer:             info.Peer,
		Local:            info.Local,
		RetryODCID:       info.RetryODCID,
		AddressValidated: info.AddressValidated,
		IssueToken:       func(peer netip.AddrPort) []byte { return lib.issueToken(info.Version, peer) },
		PreferredAddress: pref,
	}
	lib.defense.guard.Opened()
	eng := conn.NewServer(cfg, host, &serverAcceptor{sb: sb, c: qc}, info.DCID, info.SCID)
	attach(eng)
	task := first.reg.pool.Register(eng, peerAffinity(info.Peer))
	qc.mu.Lock()
	qc.eng, qc.task = eng, task
	qc.state |= connLive | connInHandshake
	qc.mu.Unlock()
	eng.SetScheduler(task)
	return eng
}

// serverAcceptor implements conn.Acceptor for one server connection.
type serverAcceptor struct {
	sb *sharedBinding
	c  *Connection
}

// Accept picks the listener by ALPN (the listener's preference wins) and
// raises its NewConnectionEvent on the connection's worker.
func (a *serverAcceptor) Accept(ec *conn.Conn, info *conn.NewConnectionInfo) (conn.Events, string, error) {
	lis, alpn := a.sb.match(info.ClientALPNs)
	if lis == nil {
		return nil, "", conn.ErrNoALPN
	}
	return lis.accept(a.c, info, alpn)
}

// match finds the listener whose ALPN list shares a protocol with the
// client's.
func (sb *sharedBinding) match(client []string) (*Listener, string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for _, l := range sb.listeners {
		for _, a := range l.alpns {
			for _, c := range client {
				if a == c {
					return l, a
				}
			}
		}
	}
	return nil, ""
}

// statusFromSocketError maps a socket error to a status.
func statusFromSocketError(err error) Status {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return StatusAddressInUse
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return StatusAddressNotAvailable
	case errors.Is(err, syscall.EAFNOSUPPORT), errors.Is(err, syscall.EINVAL):
		return StatusInvalidAddress
	}
	return StatusInternalError
}

// opErrorWrap builds an *OpError around err.
func opErrorWrap(op string, s Status, err error) *OpError {
	return &OpError{Op: op, Status: s, Err: err}
}

// checkStart fails, for op, once the registration was shut down: MsQuic
// fails connections started after RegistrationShutdown.
func (r *Registration) checkStart(op string) error {
	if down, _, _ := r.shutdownState(); down {
		return opError(op, StatusInvalidState, "registration is shut down")
	}
	return nil
}
