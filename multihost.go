package quic

import (
	"net/netip"
	"sync"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/endpoint"
)

// multiHost is the conn.Host of a connection with several sockets: a
// client's, one per local address it has used (a migration adds one), or a
// server connection's listener socket plus the socket of its preferred
// address. Writes go out on the socket of the packet's local address;
// connection IDs and reset tokens are routed on every socket, so the
// connection hears the peer on any of them.
type multiHost struct {
	onClosed func()

	mu    sync.Mutex
	eng   *conn.Conn
	hosts []*endpoint.Host
}

// add starts using the binding b.
func (h *multiHost) add(b *endpoint.Binding) *endpoint.Host {
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

// attach binds the hosts to the connection and routes cids on each.
func (h *multiHost) attach(eng *conn.Conn, cids ...[]byte) {
	h.mu.Lock()
	h.eng = eng
	hosts := append([]*endpoint.Host(nil), h.hosts...)
	h.mu.Unlock()
	for _, eh := range hosts {
		eh.Attach(eng, cids...)
	}
}

// each runs f on every host.
func (h *multiHost) each(f func(*endpoint.Host)) {
	h.mu.Lock()
	hosts := append([]*endpoint.Host(nil), h.hosts...)
	h.mu.Unlock()
	for _, eh := range hosts {
		f(eh)
	}
}

// Send implements conn.Host: it writes on the socket bound to the
// packet's local address.
func (h *multiHost) Send(o *conn.OutBatch) {
	h.mu.Lock()
	var target *endpoint.Host
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
func (h *multiHost) AddCID(cid []byte) { h.each(func(eh *endpoint.Host) { eh.AddCID(cid) }) }

// RemoveCID implements conn.Host.
func (h *multiHost) RemoveCID(cid []byte) { h.each(func(eh *endpoint.Host) { eh.RemoveCID(cid) }) }

// AddResetToken implements conn.Host.
func (h *multiHost) AddResetToken(t [16]byte) {
	h.each(func(eh *endpoint.Host) { eh.AddResetToken(t) })
}

// RemoveResetToken implements conn.Host.
func (h *multiHost) RemoveResetToken(t [16]byte) {
	h.each(func(eh *endpoint.Host) { eh.RemoveResetToken(t) })
}

// Closed implements conn.Host.
func (h *multiHost) Closed() {
	if h.onClosed != nil {
		h.onClosed()
	}
}

// bindings returns the sockets in use.
func (h *multiHost) bindings() []*endpoint.Binding {
	h.mu.Lock()
	defer h.mu.Unlock()
	bs := make([]*endpoint.Binding, len(h.hosts))
	for i, eh := range h.hosts {
		bs[i] = eh.Binding()
	}
	return bs
}

// keepOnly stops using every socket but the one bound to local and
// returns the others for closing.
func (h *multiHost) keepOnly(local netip.AddrPort) []*endpoint.Binding {
	h.mu.Lock()
	defer h.mu.Unlock()
	var kept []*endpoint.Host
	var drop []*endpoint.Binding
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
