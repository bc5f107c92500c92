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
// (MsQuic's bindings; internal/endpoint's Sharing): one per listening
// address, kept open by the listeners and server connections that use it.
// Client connections get a socket of their own.
type bindingTable struct {
	sharing endpoint.Sharing[*Listener, *Connection, *sharedBinding]

	netMu sync.Mutex
	net   PacketNetwork // SetPacketNetwork; nil for the system's UDP (network.go)

	resetMu  sync.Mutex
	resetFor [StatelessResetKeyLength]byte
	reset    *token.ResetKey
}

// sharedBinding is a listening socket as the library sees it: the
// endpoint's shared socket, and what its new connections are made with.
type sharedBinding struct {
	lib *Library
	reg *Registration // of the listener that opened the socket
	sh  *endpoint.Shared[*Listener, *Connection, *sharedBinding]
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
		// A LowLatency registration's connections run on the reader
		// of a quiet socket.
		InlineReceive: r.pool.RunsInline(),
		Stateless:     l.defense.stateless,
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
	sh, err := l.bindings.sharing.Join(local, lis, lis.alpns, func(sh *endpoint.Shared[*Listener, *Connection, *sharedBinding]) (*endpoint.Binding, *sharedBinding, error) {
		sb := &sharedBinding{lib: l, reg: lis.reg, sh: sh}
		b, err := l.listen(network(local), local, l.endpointConfig(sb, lis.reg))
		return b, sb, err
	})
	var inUse *endpoint.ALPNInUseError
	switch {
	case errors.As(err, &inUse):
		return nil, opError(op, StatusALPNInUse, "%v", inUse)
	case err != nil:
		return nil, opErrorWrap(op, statusFromSocketError(err), err)
	}
	return sh.Data(), nil
}

// openPreferred opens the socket of a preferred address unless the binding
// already offers one.
func (sb *sharedBinding) openPreferred(op string, addr netip.AddrPort) error {
	err := sb.sh.OpenPreferred(func() (*endpoint.Binding, error) {
		return sb.lib.listen(network(addr), addr, sb.lib.endpointConfig(nil, sb.reg))
	})
	if err != nil {
		return opErrorWrap(op, statusFromSocketError(err), err)
	}
	return nil
}

// removeListener takes lis off the binding; connections still in their
// handshake have no listener left to accept them and are dropped
// silently. The socket closes when nothing uses it any more.
func (sb *sharedBinding) removeListener(lis *Listener) {
	sb.sh.Leave(lis, func(c *Connection) { c.regShutdown(ConnectionShutdownSilent, 0) })
}

// NewConnection implements endpoint.Handler: it creates the server
// connection for a client's first Initial on the worker pool of the first
// listener (the one that accepts it is known only once its ClientHello has
// been read).
func (sb *sharedBinding) NewConnection(b *endpoint.Binding, info *endpoint.InitialInfo) *conn.Conn {
	first, prefSock, ok := sb.sh.First()
	if !ok {
		return nil
	}
	qc := &Connection{lib: sb.lib, reg: first.reg, server: true, binding: sb, startTime: time.Now()}
	// The connection belongs to the registration whose workers run it, so
	// closing the registration waits for it.
	if first.reg.addChild("Listener.newConnection", qc) != nil {
		return nil
	}
	sb.sh.AddConn(qc)
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
	lis, alpn, ok := a.sb.sh.Match(info.ClientALPNs)
	if !ok {
		return nil, "", conn.ErrNoALPN
	}
	return lis.accept(a.c, info, alpn)
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
