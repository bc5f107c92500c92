package endpoint

import (
	"crypto/rand"
	"net/netip"
	"sync"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/udp"
	"github.com/hquic/quic/internal/wire"
)

// minInitialSize is the smallest datagram that may start a connection or
// draw a Version Negotiation packet (RFC 9000 §14.1, §6).
const minInitialSize = 1200

// minResetTrigger is the smallest packet we answer with a stateless reset:
// the reset must be smaller than what triggered it (RFC 9000 §10.3.3) and
// at least 21 bytes (§10.3).
const minResetTrigger = 22

// maxStatelessPerSecond bounds VN and stateless reset packets (MsQuic
// limits stateless operations per binding).
const maxStatelessPerSecond = 200

// handleUnknown deals with a datagram that no connection owns. It takes
// ownership of rel.
func (b *Binding) handleUnknown(data []byte, peer, local netip.AddrPort, ecn uint8, rel conn.Releaser) {
	defer rel.Release()
	if len(data) == 0 {
		return
	}
	if !wire.IsLongHeader(data[0]) {
		b.handleUnknownShort(data, peer, local)
		return
	}
	version, dcid, scid, ok := wire.ParseInvariantHeader(data)
	if !ok {
		b.Dropped.Add(1)
		return
	}
	if version == 0 {
		b.Dropped.Add(1) // a Version Negotiation packet for no connection
		return
	}
	if !b.supported(version) {
		if len(data) >= minInitialSize {
			b.sendVersionNegotiation(dcid, scid, peer, local)
		}
		return
	}
	h, ok := wire.ParseLongHeader(data)
	if !ok || h.Type != wire.PacketInitial || len(data) < minInitialSize || b.cfg.Handler == nil || !b.accepting.Load() {
		b.Dropped.Add(1)
		return
	}
	info := InitialInfo{Version: version, DCID: h.DCID, SCID: h.SCID, Peer: peer, Local: local}
	if !b.checkToken(&info, h.Token) {
		return
	}
	if len(info.DCID) < 8 && info.RetryODCID == nil {
		b.Dropped.Add(1) // RFC 9000 §7.2: a client's first DCID is at least 8 bytes
		return
	}
	if !info.AddressValidated && b.cfg.Tokens != nil && b.cfg.RetryRequired != nil && b.cfg.RetryRequired() {
		b.sendRetry(&info)
		return
	}
	c := b.cfg.Handler.NewConnection(b, &info)
	if c == nil {
		b.Dropped.Add(1)
		return
	}
	// The connection's routes exist now; hand it its first datagram. It
	// gets its own copy: the receive buffer is released on return.
	d := conn.Datagram{Data: append([]byte(nil), data...), Peer: peer, Local: local, ECN: ecn}
	c.QueueDatagram(d)
}

func (b *Binding) supported(v uint32) bool {
	for _, s := range b.cfg.Versions {
		if s == v {
			return true
		}
	}
	return false
}

// handleUnknownShort checks a short-header packet for a stateless reset
// from a peer, and otherwise answers it with one (RFC 9000 §10.3).
func (b *Binding) handleUnknownShort(data []byte, peer, local netip.AddrPort) {
	if len(data) >= 21 {
		var tail [16]byte
		copy(tail[:], data[len(data)-16:])
		if c := b.routes.byToken(tail); c != nil {
			d := conn.Datagram{Data: append([]byte(nil), data...), Peer: peer, Local: local}
			c.QueueDatagram(d)
			return
		}
	}
	b.Dropped.Add(1)
	if b.cfg.ResetKey == nil || len(data) < minResetTrigger || len(data) < 1+b.cfg.CIDLen || !b.stateless.allow() {
		return
	}
	tok := b.cfg.ResetKey.Token(data[1 : 1+b.cfg.CIDLen])
	size := min(len(data)-1, 43)
	pkt := make([]byte, size)
	rand.Read(pkt[:size-16])
	pkt[0] = 0x40 | pkt[0]&0x3f // a short header with the fixed bit (§10.3)
	copy(pkt[size-16:], tok[:])
	b.write(pkt, peer, local)
	b.Resets.Add(1)
}

// sendVersionNegotiation lists our versions, plus a reserved one to
// exercise the peer's handling (RFC 9000 §6.3, §15).
func (b *Binding) sendVersionNegotiation(dcid, scid []byte, peer, local netip.AddrPort) {
	if !b.stateless.allow() {
		return
	}
	var r [2]byte
	rand.Read(r[:])
	versions := append(append([]uint32(nil), b.cfg.Versions...), 0x0a0a0a0a|uint32(r[1]&0xf0)<<24)
	pkt := wire.AppendVersionNegotiation(nil, 0x80|r[0], scid, dcid, versions)
	b.write(pkt, peer, local)
	b.VNSent.Add(1)
}

// write sends one stateless datagram from the reader goroutine.
func (b *Binding) write(pkt []byte, peer, local netip.AddrPort) {
	m := [1]udp.Msg{{Buf: pkt, Addr: peer}}
	if local.Addr() != b.local.Addr() {
		m[0].Local = local.Addr()
	}
	if _, err := b.sock.WriteBatch(m[:]); err != nil {
		b.WriteErr.Add(1)
	}
}

// statelessLimiter is a token bucket for stateless responses.
type statelessLimiter struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (l *statelessLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.last.IsZero() {
		l.tokens = maxStatelessPerSecond
	} else {
		l.tokens = min(maxStatelessPerSecond, l.tokens+now.Sub(l.last).Seconds()*maxStatelessPerSecond)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
