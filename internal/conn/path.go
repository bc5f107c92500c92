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

	// responses are PATH_CHALLENGE payloads to echo (RFC 9000 §8.2.2).
	responses [maxPathResponses][8]byte
	nresp     int
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

// onChallenge queues the PATH_RESPONSE for a PATH_CHALLENGE.
func (p *path) onChallenge(c *Conn, data [8]byte) {
	if p.nresp == maxPathResponses {
		copy(p.responses[:], p.responses[1:])
		p.nresp--
	}
	p.responses[p.nresp] = data
	p.nresp++
	c.flags |= flagPathResponse
}

// appendFrames writes queued PATH_RESPONSE frames.
func (p *path) appendFrames(w *frameWriter) {
	if w.c.flags&flagPathResponse == 0 {
		return
	}
	for p.nresp > 0 && w.fits(9) {
		w.b.Buf = wire.AppendPathResponse(w.b.Buf, p.responses[0])
		copy(p.responses[:], p.responses[1:p.nresp])
		p.nresp--
		w.ackEliciting = true
	}
	if p.nresp == 0 {
		w.c.flags &^= flagPathResponse
	}
}
