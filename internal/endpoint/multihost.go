package endpoint

import (
	"net/netip"
	"sync"

	"github.com/hquic/quic/internal/conn"
)

// MultiHost is the conn.Host of a connection with several sockets: a
// client's, one per local address it has used (a migration adds one), or a
// server connection's listener socket plus the socket of its preferred
// address. Writes go out on the socket of the packet's local address;
// connection IDs and reset tokens are routed on every socket, so the
// connection hears the peer on any of them.
type MultiHost struct {
	// OnClosed, if set, runs when the connection releases its host.
	OnClosed func()

	mu    sync.Mutex
	eng   *conn.Conn
	hosts []*Host
}

// Add starts using the binding b.
func (h *MultiHost) Add(b *Binding) *Host {
	eh := b.NewHost()
	h.mu.Lock()
	h.hosts = append(h.hosts, eh)
	eng := h.eng
	var cids [][]byte
	if eng != nil && len(h.hosts) > 1 {
		cids = h.hosts[0].RoutedCIDs()
	}
	h.mu.Unlock()
	if eng != nil {
		eh.Attach(eng, cids...)
	}
	return eh
}

// Attach binds the hosts to the connection and routes cids on each.
func (h *MultiHost) Attach(eng *conn.Conn, cids ...[]byte) {
	h.mu.Lock()
	h.eng = eng
	hosts := append([]*Host(nil), h.hosts...)
	h.mu.Unlock()
	for _, eh := range hosts {
		eh.Attach(eng, cids...)
	}
}

// each runs f on every host.
func (h *MultiHost) each(f func(*Host)) {
	h.mu.Lock()
	hosts := append([]*Host(nil), h.hosts...)
	h.mu.Unlock()
	for _, eh := range hosts {
		f(eh)
	}
}

// Send implements conn.Host: it writes on the socket bound to the
// packet's local address.
func (h *MultiHost) Send(o *conn.OutBatch) {
	h.mu.Lock()
	var target *Host
	for _, eh := range h.hosts {
		la := eh.LocalAddr()
		if la == o.Local || target == nil && la.Port() == o.Local.Port() {
			target = eh
		}
	}
	if target == nil && len(h.hosts) > 0 {
		target = h.hosts[0]
	}
	h.mu.Unlock()
	if target != nil {
		target.Send(o)
	}
}

// AddCID implements conn.Host.
func (h *MultiHost) AddCID(cid []byte) { h.each(func(eh *Host) { eh.AddCID(cid) }) }

// RemoveCID implements conn.Host.
func (h *MultiHost) RemoveCID(cid []byte) { h.each(func(eh *Host) { eh.RemoveCID(cid) }) }

// AddResetToken implements conn.Host.
func (h *MultiHost) AddResetToken(t [16]byte) {
	h.each(func(eh *Host) { eh.AddResetToken(t) })
}

// RemoveResetToken implements conn.Host.
func (h *MultiHost) RemoveResetToken(t [16]byte) {
	h.each(func(eh *Host) { eh.RemoveResetToken(t) })
}

// Closed implements conn.Host.
func (h *MultiHost) Closed() {
	if h.OnClosed != nil {
		h.OnClosed()
	}
}

// Bindings returns the sockets in use.
func (h *MultiHost) Bindings() []*Binding {
	h.mu.Lock()
	defer h.mu.Unlock()
	bs := make([]*Binding, len(h.hosts))
	for i, eh := range h.hosts {
		bs[i] = eh.Binding()
	}
	return bs
}

// KeepOnly stops using every socket but the one bound to local and
// returns the others for closing.
func (h *MultiHost) KeepOnly(local netip.AddrPort) []*Binding {
	h.mu.Lock()
	defer h.mu.Unlock()
	var kept []*Host
	var drop []*Binding
	for _, eh := range h.hosts {
		if eh.LocalAddr() == local || eh.LocalAddr().Port() == local.Port() {
			kept = append(kept, eh)
		} else {
			drop = append(drop, eh.Binding())
		}
	}
	if len(kept) > 0 {
		h.hosts = kept
	}
	return drop
}
