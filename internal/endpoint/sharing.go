package endpoint

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Sharing is the table of listening sockets a library's listeners share
// (MsQuic's bindings): one Shared per local address, used by listeners
// whose ALPN lists are disjoint, and open while a listener or a server
// connection that arrived on it uses it. L and C are the listener and
// connection handles of the layer above, and D what that layer keeps with
// each socket; the table only stores and compares them, so it never
// reaches into them.
//
// Locking: Sharing's lock is taken before a Shared's; neither is held
// while a function of the layer above runs or a socket closes.
type Sharing[L, C comparable, D any] struct {
	mu     sync.Mutex
	shared map[netip.AddrPort]*Shared[L, C, D]
}

// Shared is one listening socket and who uses it.
type Shared[L, C comparable, D any] struct {
	table *Sharing[L, C, D]
	key   netip.AddrPort // the address listeners asked for
	b     *Binding
	data  D

	mu sync.Mutex
	// preferred is the socket of the preferred address offered to clients
	// (RFC 9000 §9.6), if a listener set one.
	preferred *Binding
	listeners []sharedListener[L]
	conns     int            // server connections still using the socket
	pending   map[C]struct{} // server connections no listener accepted yet
}

// sharedListener is a listener and the ALPNs it accepts, in its order of
// preference.
type sharedListener[L any] struct {
	l     L
	alpns []string
}

// ALPNInUseError is Join's error when a listener on the address already
// accepts one of the ALPNs of the one joining.
type ALPNInUseError struct {
	ALPN string
	Addr netip.AddrPort
}

func (e *ALPNInUseError) Error() string {
	return fmt.Sprintf("ALPN %q already has a listener on %v", e.ALPN, e.Addr)
}

// Join adds listener l, accepting alpns, to the socket on local. Listeners
// share a socket per address; local with port 0 always gets a new socket,
// as does an address no listener uses, which open opens and gives the
// data to keep with it (open may keep sh, for the socket's Handler: the
// socket accepts nothing before Join returns). Join fails with
// *ALPNInUseError when an ALPN is taken on local, or with open's error.
func (t *Sharing[L, C, D]) Join(local netip.AddrPort, l L, alpns []string, open func(sh *Shared[L, C, D]) (*Binding, D, error)) (*Shared[L, C, D], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if local.Port() != 0 {
		if sh := t.shared[local]; sh != nil {
			return sh, sh.add(l, alpns)
		}
	}
	sh := &Shared[L, C, D]{table: t, listeners: []sharedListener[L]{{l, slices.Clone(alpns)}}}
	b, data, err := open(sh)
	if err != nil {
		return nil, err
	}
	sh.b, sh.data, sh.key = b, data, b.LocalAddr()
	if local.Port() != 0 {
		sh.key = local
	}
	if t.shared == nil {
		t.shared = make(map[netip.AddrPort]*Shared[L, C, D])
	}
	t.shared[sh.key] = sh
	b.SetAccepting(true)
	return sh, nil
}

// add adds l unless a listener with a common ALPN is there.
func (sh *Shared[L, C, D]) add(l L, alpns []string) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, o := range sh.listeners {
		for _, a := range o.alpns {
			if slices.Contains(alpns, a) {
				return &ALPNInUseError{ALPN: a, Addr: sh.key}
			}
		}
	}
	sh.listeners = append(sh.listeners, sharedListener[L]{l, slices.Clone(alpns)})
	sh.b.SetAccepting(true)
	return nil
}

// Listeners returns the listeners on every socket of the table.
func (t *Sharing[L, C, D]) Listeners() []L {
	t.mu.Lock()
	shs := make([]*Shared[L, C, D], 0, len(t.shared))
	for _, sh := range t.shared {
		shs = append(shs, sh)
	}
	t.mu.Unlock()
	var out []L
	for _, sh := range shs {
		sh.mu.Lock()
		for _, o := range sh.listeners {
			out = append(out, o.l)
		}
		sh.mu.Unlock()
	}
	return out
}

// Binding returns the listening socket.
func (sh *Shared[L, C, D]) Binding() *Binding { return sh.b }

// Data returns what Join's open gave to keep with the socket.
func (sh *Shared[L, C, D]) Data() D { return sh.data }

// OpenPreferred opens, with open, the socket of a preferred address
// unless the socket already offers one.
func (sh *Shared[L, C, D]) OpenPreferred(open func() (*Binding, error)) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.preferred != nil {
		return nil
	}
	b, err := open()
	if err != nil {
		return err
	}
	sh.preferred = b
	return nil
}

// First returns the listener that joined first of those still there, and
// the preferred address's socket (nil if none); ok is false when no
// listener is left.
func (sh *Shared[L, C, D]) First() (l L, preferred *Binding, ok bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.listeners) == 0 {
		return l, nil, false
	}
	return sh.listeners[0].l, sh.preferred, true
}

// Match returns the first listener, in joining order, that accepts one of
// the client's ALPNs, and the ALPN: the listener's preference wins over
// the client's. ok is false when none does.
func (sh *Shared[L, C, D]) Match(client []string) (l L, alpn string, ok bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, o := range sh.listeners {
		for _, a := range o.alpns {
			if slices.Contains(client, a) {
				return o.l, a, true
			}
		}
	}
	return l, "", false
}

// AddConn counts server connection c as using the socket, not yet
// accepted by a listener.
func (sh *Shared[L, C, D]) AddConn(c C) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.conns++
	if sh.pending == nil {
		sh.pending = make(map[C]struct{})
	}
	sh.pending[c] = struct{}{}
}

// Accepted records that a listener accepted c.
func (sh *Shared[L, C, D]) Accepted(c C) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.pending, c)
}

// ReleaseConn drops c's use of the socket, closing it if nothing else
// uses it.
func (sh *Shared[L, C, D]) ReleaseConn(c C) {
	sh.mu.Lock()
	sh.conns--
	delete(sh.pending, c)
	sh.mu.Unlock()
	sh.closeIfUnused()
}

// Leave takes l off the socket. When it was the last listener, orphaned
// runs for each connection no listener accepted (it has nobody left to
// accept it) and the socket closes once no connection uses it.
func (sh *Shared[L, C, D]) Leave(l L, orphaned func(C)) {
	sh.mu.Lock()
	sh.listeners = slices.DeleteFunc(sh.listeners, func(o sharedListener[L]) bool { return o.l == l })
	var orphans []C
	if len(sh.listeners) == 0 {
		sh.b.SetAccepting(false)
		for c := range sh.pending {
			orphans = append(orphans, c)
		}
	}
	sh.mu.Unlock()
	for _, c := range orphans {
		orphaned(c)
	}
	sh.closeIfUnused()
}

// closeIfUnused takes the socket out of the table and closes it, with the
// preferred address's, once no listener or connection uses it.
func (sh *Shared[L, C, D]) closeIfUnused() {
	t := sh.table
	t.mu.Lock()
	sh.mu.Lock()
	unused := len(sh.listeners) == 0 && sh.conns == 0
	if unused && t.shared[sh.key] == sh {
		delete(t.shared, sh.key)
	}
	var bs []*Binding
	if unused {
		bs = append(bs, sh.b)
		if sh.preferred != nil {
			bs = append(bs, sh.preferred)
		}
	}
	sh.mu.Unlock()
	t.mu.Unlock()
	CloseAsync(bs)
}

// CloseAsync closes sockets off the calling goroutine: Close waits for
// each socket's reader goroutine, which must not happen on a worker or in
// an event handler.
func CloseAsync(bs []*Binding) {
	if len(bs) > 0 {
		go func() {
			for _, b := range bs {
				b.Close()
			}
		}()
	}
}
