package conn

import (
	"math"
	"net/netip"

	"github.com/hquic/quic/internal/wire"
)

// path is the network path the connection uses: addresses,
// anti-amplification accounting (RFC 9000 §8.1) and the datagram size.
type path struct {
	peer  netip.AddrPort
	local netip.AddrPort

	// validated is set once the peer's address is validated; until then a
	// server sends at most three times what it received (RFC 9000 §8.1).
	validated bool
	bytesRecv uint64
	bytesSent uint64

	mtu               int // UDP payload size we send (DPLPMTUD raises it)
	peerMaxUDPPayload int

	// responses are PATH_CHALLENGE payloads to echo, each on the path it
	// arrived on (RFC 9000 §8.2.2); their storage is allocated with the
	// first challenge.
	responses []pathResponse

	// probe is the path being validated, nil if none (migration.go).
	probe *pathProbe
}

// pathResponse is a PATH_RESPONSE to send on the path its challenge came
// from; recvd is the size of the datagram that carried the challenge.
type pathResponse struct {
	data        [8]byte
	peer, local netip.AddrPort
	recvd       int
}

// maxPathResponses bounds queued PATH_RESPONSE frames; a peer flooding
// challenges only gets answers to the latest ones.
const maxPathResponses = 4

// amplificationFactor is the anti-amplification limit (RFC 9000 §8.1).
const amplificationFactor = 3

func (p *path) init(peer, local netip.AddrPort, minMTU int) {
	p.peer = peer
	p.local = local
	p.mtu = max(minMTU-udpOverhead, minInitialDatagram)
	p.peerMaxUDPPayload = 65527
}

// maxDatagramSize returns the largest datagram to send on the path.
func (p *path) maxDatagramSize() int {
	return min(p.mtu, p.peerMaxUDPPayload)
}

// amplificationBudget returns how many more bytes may be sent before the
// peer's address is validated.
func (p *path) amplificationBudget(side Side) int {
	if side == Client || p.validated {
		return math.MaxInt
	}
	limit := amplificationFactor * p.bytesRecv
	if p.bytesSent >= limit {
		return 0
	}
	return int(min(limit-p.bytesSent, math.MaxInt32))
}

func (p *path) onReceived(n int) { p.bytesRecv += uint64(n) }
func (p *path) onSent(n int)     { p.bytesSent += uint64(n) }

// onChallenge queues the PATH_RESPONSE for a PATH_CHALLENGE that arrived
// from peer on our local address in a datagram of recvd bytes.
func (p *path) onChallenge(c *Conn, data [8]byte, peer, local netip.AddrPort, recvd int) {
	if len(p.responses) == maxPathResponses {
		p.responses = p.responses[:copy(p.responses, p.responses[1:])]
	}
	if p.responses == nil {
		p.responses = make([]pathResponse, 0, maxPathResponses)
	}
	p.responses = append(p.responses, pathResponse{data: data, peer: peer, local: local, recvd: recvd})
	c.flags |= flagPathResponse
}

// is reports whether peer and local are the path's addresses. A local
// address is the socket's: the same port, and the same address unless
// either side is the wildcard a socket was bound to.
func (p *path) is(peer, local netip.AddrPort) bool {
	return peer == p.peer && sameLocal(local, p.local)
}

func sameLocal(a, b netip.AddrPort) bool {
	if a.Port() != b.Port() {
		return false
	}
	aa, ba := a.Addr(), b.Addr()
	return aa == ba || !aa.IsValid() || !ba.IsValid() || aa.IsUnspecified() || ba.IsUnspecified()
}

// appendFrames writes the queued PATH_RESPONSE frames whose challenge
// arrived on the current path; the others go out in probe datagrams on
// their own paths (migration.go).
func (p *path) appendFrames(w *frameWriter) {
	if w.c.flags&flagPathResponse == 0 {
		return
	}
	p.writeResponses(w, p.peer, p.local)
	if len(p.responses) == 0 {
		w.c.flags &^= flagPathResponse
	}
}

// responseBytes returns the size of the datagrams that carried the
// challenges queued for the path (peer, local).
func (p *path) responseBytes(peer, local netip.AddrPort) int {
	n := 0
	for _, r := range p.responses {
		if r.peer == peer && sameLocal(r.local, local) {
			n += r.recvd
		}
	}
	return n
}

// writeResponses writes the PATH_RESPONSE frames for the path (peer,
// local) that fit and removes them from the queue.
func (p *path) writeResponses(w *frameWriter, peer, local netip.AddrPort) {
	kept := 0
	for _, r := range p.responses {
		if r.peer == peer && sameLocal(r.local, local) && w.fits(9) {
			w.b.Buf = wire.AppendPathResponse(w.b.Buf, r.data)
			w.ackEliciting = true
			w.c.tx.pathResponse = true
			continue
		}
		p.responses[kept] = r
		kept++
	}
	clear(p.responses[kept:])
	p.responses = p.responses[:kept]
}
