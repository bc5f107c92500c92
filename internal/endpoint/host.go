package endpoint

import (
	"net/netip"
	"sync"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/udp"
)

// Host is a connection's handle on its binding; it implements conn.Host.
// Send is called on the connection's goroutine; the routing methods may be
// called on it or, before the connection runs, by its creator.
//
// Send writes on the calling goroutine, or, when the binding has a sender
// goroutine (Config.SendQueue), copies the batch into a pooled buffer and
// queues it: conn.Host lets the connection reuse its buffer as soon as Send
// returns.
type Host struct {
	b   *Binding
	msg [1]udp.Msg

	mu      sync.Mutex
	c       *conn.Conn
	pending [][]byte // IDs added before Attach
	routed  [][]byte // IDs currently routed

	// OnClosed, if set, runs when the connection terminates (on the
	// connection goroutine), after its routes are removed.
	OnClosed func()
}

// NewHost returns a Host for a connection about to be created on b.
func (b *Binding) NewHost() *Host { return &Host{b: b} }

// Binding returns the host's binding.
func (h *Host) Binding() *Binding { return h.b }

// Attach binds the host to its connection and routes the connection IDs
// given to it (a server routes the client's original DCID). It keeps
// copies: an ID may point into a receive buffer that is reused.
func (h *Host) Attach(c *conn.Conn, cids ...[]byte) {
	h.mu.Lock()
	h.c = c
	pending := h.pending
	h.pending = nil
	for _, cid := range cids {
		h.routed = append(h.routed, append([]byte(nil), cid...))
	}
	h.mu.Unlock()
	for _, cid := range cids {
		h.b.routes.add(cid, c)
	}
	for _, cid := range pending {
		h.b.routes.add(cid, c)
	}
}

// Send implements conn.Host.
func (h *Host) Send(o *conn.OutBatch) {
	m := udp.Msg{Buf: o.Buf, SegSize: o.SegSize, Addr: o.Addr, ECN: o.ECN}
	if a := o.Local.Addr(); a.IsValid() && !a.IsUnspecified() {
		m.Local = a // answer from the address the peer used (pktinfo)
	}
	if h.b.sender != nil {
		h.b.queueSend(m)
		return
	}
	h.msg[0] = m
	if _, err := h.b.sock.WriteBatch(h.msg[:]); err != nil {
		h.b.writeFailed(err)
	}
	h.msg[0].Buf = nil
}

// AddCID implements conn.Host.
func (h *Host) AddCID(cid []byte) {
	h.mu.Lock()
	h.routed = append(h.routed, append([]byte(nil), cid...))
	c := h.c
	if c == nil {
		h.pending = append(h.pending, append([]byte(nil), cid...))
	}
	h.mu.Unlock()
	if c != nil {
		h.b.routes.add(cid, c)
	}
}

// RemoveCID implements conn.Host.
func (h *Host) RemoveCID(cid []byte) {
	h.mu.Lock()
	for i, r := range h.routed {
		if string(r) == string(cid) {
			h.routed = append(h.routed[:i], h.routed[i+1:]...)
			break
		}
	}
	c := h.c
	h.mu.Unlock()
	if c != nil {
		h.b.routes.remove(cid, c)
	}
}

// RoutedCIDs returns the connection IDs routed through this host, so a
// second socket of the same connection can route them too.
func (h *Host) RoutedCIDs() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([][]byte, len(h.routed))
	for i, r := range h.routed {
		out[i] = append([]byte(nil), r...)
	}
	return out
}

// AddResetToken implements conn.Host.
func (h *Host) AddResetToken(t [16]byte) { h.b.routes.addToken(t, h.conn()) }

// RemoveResetToken implements conn.Host.
func (h *Host) RemoveResetToken(t [16]byte) { h.b.routes.removeToken(t, h.conn()) }

func (h *Host) conn() *conn.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.c
}

// Closed implements conn.Host.
func (h *Host) Closed() {
	if h.OnClosed != nil {
		h.OnClosed()
	}
}

// LocalAddr returns the binding's address.
func (h *Host) LocalAddr() netip.AddrPort { return h.b.local }
