package quicnet

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/hquic/quic"
)

// Listener accepts QUIC connections on a UDP address. Its methods are
// safe for concurrent use.
type Listener struct {
	ql   *quic.Listener
	cfg  *quic.Configuration
	own  *owner // Listen's configuration and registration; nil otherwise
	opts options
	addr *net.UDPAddr

	wake chan struct{}
	done chan struct{} // closed by Close

	mu      sync.Mutex
	waiting map[*Conn]bool // not yet accepted: handshaking (false) or ready (true)
	queue   []*Conn
	closed  bool
}

// Listen listens for QUIC connections on the UDP address addr ("host:port";
// port 0 picks one, see Addr). tlsConf must have the certificates and the
// application protocols (NextProtos) to serve; ClientAuth and ClientCAs
// ask for client certificates. Fields QUIC cannot honour here are refused
// with an error naming them. conf may be nil.
func Listen(addr string, tlsConf *tls.Config, conf *Config) (*Listener, error) {
	o, err := conf.resolve()
	if err != nil {
		return nil, listenErr(addr, err)
	}
	cc, err := serverCredential(tlsConf)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	local, err := listenAddr(addr)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	own, err := newOwner(o.network, tlsConf.NextProtos, configurationSettings(), cc)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	l, err := listen(own.reg.reg, own.cfg, tlsConf.NextProtos, local, o, own)
	if err != nil {
		own.release()
		return nil, listenErr(addr, err)
	}
	return l, nil
}

// ListenConfiguration is Listen with the application's own Registration
// and Configuration (server credentials loaded) and ALPN list. The
// configuration's settings apply, with Config.Settings over them: set its
// PeerBidiStreamCount, which is 0 by default, for clients to open streams.
func ListenConfiguration(reg *quic.Registration, cfg *quic.Configuration, alpns []string, addr string, conf *Config) (*Listener, error) {
	o, err := conf.resolve()
	if err != nil {
		return nil, listenErr(addr, err)
	}
	if reg == nil || cfg == nil {
		return nil, listenErr(addr, errors.New("quicnet: ListenConfiguration needs a Registration and a Configuration"))
	}
	if o.network != nil {
		return nil, listenErr(addr, errors.New("quicnet: Config.Network is for Listen; ListenConfiguration uses its Library's network"))
	}
	local, err := listenAddr(addr)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	l, err := listen(reg, cfg, alpns, local, o, nil)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	return l, nil
}

func listen(reg *quic.Registration, cfg *quic.Configuration, alpns []string, local netip.AddrPort, o options, own *owner) (*Listener, error) {
	l := &Listener{
		cfg:     cfg,
		own:     own,
		opts:    o,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		waiting: make(map[*Conn]bool),
	}
	ql, err := reg.NewListener(l.handle)
	if err != nil {
		return nil, err
	}
	if err := ql.Start(alpns, local); err != nil {
		ql.Close()
		return nil, err
	}
	l.ql = ql
	bound, _ := ql.LocalAddr()
	l.addr = udpAddr(bound)
	return l, nil
}

// errBacklogFull refuses a connection while AcceptBacklog handshaken
// connections wait for Accept.
var errBacklogFull = errors.New("quicnet: accept backlog full")

// handle is the listener's event handler; it runs on the new connection's
// worker, for several connections at once.
func (l *Listener) handle(_ *quic.Listener, ev quic.ListenerEvent) error {
	nc, ok := ev.(*quic.NewConnectionEvent)
	if !ok {
		return nil
	}
	var own *owner
	if l.own != nil {
		own = &owner{reg: l.own.reg.acquire()}
	}
	c := newConn(l.opts, own, l)
	c.qc = nc.Connection
	l.mu.Lock()
	if l.closed || len(l.queue) >= l.opts.acceptBacklog {
		l.mu.Unlock()
		own.release()
		return errBacklogFull
	}
	l.waiting[c] = false
	l.mu.Unlock()
	nc.Connection.SetHandler(c.handle)
	err := l.opts.applySettings(nc.Connection)
	if err == nil {
		err = nc.Connection.SetConfiguration(l.cfg)
	}
	if err != nil {
		l.mu.Lock()
		delete(l.waiting, c)
		l.mu.Unlock()
		own.release()
		return err
	}
	return nil
}

// ready queues a connection whose handshake completed for Accept.
func (l *Listener) ready(c *Conn) {
	l.mu.Lock()
	if _, ok := l.waiting[c]; !ok || l.closed {
		l.mu.Unlock()
		return
	}
	l.waiting[c] = true
	l.queue = append(l.queue, c)
	l.mu.Unlock()
	signal(l.wake)
}

// forget drops a connection that ended before it was accepted.
func (l *Listener) forget(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ready, ok := l.waiting[c]; ok {
		delete(l.waiting, c)
		if ready {
			for i, r := range l.queue {
				if r == c {
					l.queue = append(l.queue[:i], l.queue[i+1:]...)
					break
				}
			}
		}
	}
}

// Accept returns the next connection whose handshake completed, blocking
// until there is one, ctx is done or the listener is closed (ErrClosed).
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, ErrClosed
		}
		if len(l.queue) > 0 {
			c := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			delete(l.waiting, c)
			more := len(l.queue) > 0
			l.mu.Unlock()
			if more {
				signal(l.wake)
			}
			return c, nil
		}
		l.mu.Unlock()
		select {
		case <-l.wake:
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Addr returns the address the listener is bound to, a *net.UDPAddr.
func (l *Listener) Addr() net.Addr { return l.addr }

// Close stops accepting connections and closes those not yet accepted.
// Connections already accepted stay open. Blocked Accepts fail with
// ErrClosed. Closing again does nothing.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	pending := make([]*Conn, 0, len(l.waiting))
	for c := range l.waiting {
		pending = append(pending, c)
	}
	l.queue = nil
	l.mu.Unlock()
	close(l.done)
	for _, c := range pending {
		c.Close()
	}
	l.ql.Close()
	l.own.release()
	return nil
}

// listenAddr parses a listening address; an empty host listens on every
// address.
func listenAddr(addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return netip.ParseAddrPort(net.JoinHostPort(host, port))
}

// listenErr wraps a failed listen as net.Listen does.
func listenErr(addr string, err error) error {
	return &net.OpError{Op: "listen", Net: "quic", Addr: stringAddr(addr), Err: err}
}
