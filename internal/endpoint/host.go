package endpoint

import (
	"net/netip"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/udp"
)

// Host is a connection's handle on its binding; it implements conn.Host.
// Send is called on the connection's goroutine; the routing methods may be
// called on it or, before the connection runs, by its creator.
type Host struct {
	b       *Binding
	c       *conn.Conn
	msg     [1]udp.Msg
	pending [][]byte // IDs added before Attach

	// OnClosed, if set, runs when the connection terminates (on the
	// connection goroutine), after its routes are removed.
	OnClosed func()
}

// NewHost returns a Host for a connection about to be created on b.
func (b *Binding) NewHost() *Host { return &Host{b: b} }

// Binding returns the host's binding.
func (h *Host) Binding() *Binding { return h.b }

// Attach binds the host to its connection and routes the connection IDs
// given to it (a server routes the client's original DCID).
func (h *Host) Attach(c *conn.Conn, cids ...[]byte) {
	h.c = c
	for _, cid := range cids {
		h.b.routes.add(cid, c)
	}
	for _, cid := range h.pending {
		h.b.routes.add(cid, c)
	}
	h.pending = nil
}

// Send implements conn.Host.
func (h *Host) Send(o *conn.OutBatch) {
	m := &h.msg[0]
	*m = udp.Msg{Buf: o.Buf, SegSize: o.SegSize, Addr: o.Addr, ECN: o.ECN}
	if a := o.Local.Addr(); a.IsValid() && !a.IsUnspecified() {
		m.Local = a // answer from the address the peer used (pktinfo)
	}
	if _, err := h.b.sock.WriteBatch(h.msg[:]); err != nil {
		h.b.WriteErr.Add(1)
	}
	m.Buf = nil
}

// AddCID implements conn.Host.
func (h *Host) AddCID(cid []byte) {
	if h.c == nil {
		h.pending = append(h.pending, append([]byte(nil), cid...))
		return
	}
	h.b.routes.add(cid, h.c)
}

// RemoveCID implements conn.Host.
func (h *Host) RemoveCID(cid []byte) {
	if h.c != nil {
		h.b.routes.remove(cid, h.c)
	}
}

// AddResetToken implements conn.Host.
func (h *Host) AddResetToken(t [16]byte) { h.b.routes.addToken(t, h.c) }

// RemoveResetToken implements conn.Host.
func (h *Host) RemoveResetToken(t [16]byte) { h.b.routes.removeToken(t, h.c) }

// Closed implements conn.Host.
func (h *Host) Closed() {
	if h.OnClosed != nil {
		h.OnClosed()
	}
}

// LocalAddr returns the binding's address.
func (h *Host) LocalAddr() netip.AddrPort { return h.b.local }
