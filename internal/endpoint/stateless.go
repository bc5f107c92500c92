package endpoint

import (
	"bytes"
	"net/netip"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// This file makes every decision about a datagram no connection owns:
// drop it (counting why), queue a stateless answer (Version Negotiation,
// Retry, stateless reset; answer.go sends them), or hand a client's first
// Initial to the Handler. Everything here runs on the reader goroutine and
// is cheap: no decryption and no allocation before a connection is
// created.

// minInitialSize is the smallest datagram that may start a connection or
// draw a Version Negotiation packet (RFC 9000 §14.1, §6).
const minInitialSize = 1200

// minResetTrigger is the smallest packet we answer with a stateless reset:
// the reset must be smaller than what triggered it (RFC 9000 §10.3.3) and
// at least 21 bytes (§10.3).
const minResetTrigger = 22

// DropReason says why a binding dropped a datagram.
type DropReason uint8

// Reasons for dropping a datagram.
const (
	// DropMalformed: a long header that does not parse.
	DropMalformed DropReason = iota
	// DropUnknownConnection: a packet other than an Initial (or a Version
	// Negotiation packet) for no connection of ours.
	DropUnknownConnection
	// DropTooSmall: an Initial, or a packet of an unsupported version, in
	// a datagram under 1200 bytes (RFC 9000 §14.1).
	DropTooSmall
	// DropNotAccepting: an Initial while no listener accepts connections.
	DropNotAccepting
	// DropShortDCID: a client's first Initial with a Destination
	// Connection ID under 8 bytes (RFC 9000 §7.2).
	DropShortDCID
	// DropInvalidToken: an Initial with an invalid Retry token, which
	// cannot be sent another Retry (RFC 9000 §17.2.5.2).
	DropInvalidToken
	// DropOverloaded: an Initial that would start a connection on a worker
	// whose queue delay exceeds MaxWorkerQueueDelay.
	DropOverloaded
	// DropRefused: an Initial the Handler created no connection for.
	DropRefused
	// DropStatelessSpacing: a stateless answer to a peer answered less
	// than StatelessOperationExpiration ago.
	DropStatelessSpacing
	// DropStatelessBindingLimit: a stateless answer beyond
	// MaxBindingStatelessOperations in flight on the binding.
	DropStatelessBindingLimit
	// DropStatelessQueueFull: a stateless answer beyond
	// MaxStatelessOperations queued on its stateless worker.
	DropStatelessQueueFull
	// DropNoReset: a short-header packet for no connection that draws no
	// stateless reset (too small, or the binding has no reset key).
	DropNoReset
	// DropQueueFull: a packet for a connection whose receive queue is
	// full.
	DropQueueFull
	// NumDropReasons is the number of drop reasons.
	NumDropReasons
)

// String returns the reason's name.
func (r DropReason) String() string {
	switch r {
	case DropMalformed:
		return "malformed"
	case DropUnknownConnection:
		return "unknown connection"
	case DropTooSmall:
		return "too small"
	case DropNotAccepting:
		return "not accepting"
	case DropShortDCID:
		return "short DCID"
	case DropInvalidToken:
		return "invalid token"
	case DropOverloaded:
		return "overloaded"
	case DropRefused:
		return "refused"
	case DropStatelessSpacing:
		return "stateless spacing"
	case DropStatelessBindingLimit:
		return "stateless binding limit"
	case DropStatelessQueueFull:
		return "stateless queue full"
	case DropNoReset:
		return "no reset"
	case DropQueueFull:
		return "queue full"
	}
	return "unknown"
}

// drop counts a dropped datagram.
func (b *Binding) drop(r DropReason) {
	b.Dropped.Add(1)
	b.Drops[r].Add(1)
	if b.cfg.OnDrop != nil {
		b.cfg.OnDrop(b.local, r)
	}
}

// handleUnknown deals with a datagram that no connection owns. It takes
// ownership of rel.
func (b *Binding) handleUnknown(data []byte, peer, local netip.AddrPort, ecn uint8, rel conn.Releaser) {
	defer rel.Release()
	if len(data) == 0 {
		return
	}
	now := mono.Now()
	if !wire.IsLongHeader(data[0]) {
		b.handleUnknownShort(data, peer, local, now)
		return
	}
	version, dcid, scid, ok := wire.ParseInvariantHeader(data)
	if !ok {
		b.drop(DropMalformed)
		return
	}
	if version == 0 {
		b.drop(DropUnknownConnection) // a Version Negotiation packet for no connection
		return
	}
	if !b.supported(version) {
		if len(data) < minInitialSize {
			b.drop(DropTooSmall)
			return
		}
		op := statelessOp{kind: answerVersionNegotiation, b: b, peer: peer, local: local, size: len(data)}
		op.setCIDs(dcid, scid)
		b.queueStateless(&op, now)
		return
	}
	h, ok := wire.ParseLongHeader(data)
	switch {
	case !ok:
		b.drop(DropMalformed)
		return
	case h.Type != wire.PacketInitial:
		b.drop(DropUnknownConnection)
		return
	case len(data) < minInitialSize:
		b.drop(DropTooSmall)
		return
	case b.cfg.Handler == nil || !b.accepting.Load():
		b.drop(DropNotAccepting)
		return
	}
	info := InitialInfo{Version: version, DCID: h.DCID, SCID: h.SCID, Peer: peer, Local: local}
	if !b.checkToken(&info, h.Token) {
		b.drop(DropInvalidToken)
		return
	}
	if len(info.DCID) < 8 && info.RetryODCID == nil {
		b.drop(DropShortDCID) // RFC 9000 §7.2: a client's first DCID is at least 8 bytes
		return
	}
	if !info.AddressValidated && b.cfg.Tokens != nil && b.cfg.Guard != nil && b.cfg.Guard.RetryRequired(now) {
		op := statelessOp{kind: answerRetry, b: b, peer: peer, local: local, version: version, size: len(data)}
		op.setCIDs(h.DCID, h.SCID)
		b.queueStateless(&op, now)
		return
	}
	if b.cfg.Overloaded != nil && b.cfg.Overloaded(peer) {
		b.drop(DropOverloaded)
		return
	}
	// Only now does the Initial cost an allocation: info escapes to the
	// Handler.
	heapInfo := new(InitialInfo)
	*heapInfo = info
	heapInfo.RetryODCID = bytes.Clone(info.RetryODCID) // it pointed into b.tokenBuf
	c := b.cfg.Handler.NewConnection(b, heapInfo)
	if c == nil {
		b.drop(DropRefused)
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
func (b *Binding) handleUnknownShort(data []byte, peer, local netip.AddrPort, now mono.Time) {
	if len(data) >= 21 {
		var tail [16]byte
		copy(tail[:], data[len(data)-16:])
		if c := b.routes.byToken(tail); c != nil {
			d := conn.Datagram{Data: append([]byte(nil), data...), Peer: peer, Local: local}
			if !c.QueueDatagram(d) {
				b.drop(DropQueueFull)
			}
			return
		}
	}
	if b.cfg.ResetKey == nil || len(data) < minResetTrigger || len(data) < 1+b.cfg.CIDLen {
		b.drop(DropNoReset)
		return
	}
	op := statelessOp{kind: answerReset, b: b, peer: peer, local: local, size: len(data)}
	op.setCIDs(data[1:1+b.cfg.CIDLen], nil)
	b.queueStateless(&op, now)
}

// queueStateless hands op to the library's stateless workers unless a
// limit refuses it: the spacing per peer, the operations in flight on the
// binding, or the worker's queue.
func (b *Binding) queueStateless(op *statelessOp, now mono.Time) {
	s := b.stateless
	lim := s.Limits()
	if !s.recentPeers().allow(op.peer, now, lim.Spacing) {
		b.drop(DropStatelessSpacing)
		return
	}
	if b.statelessInFlight.Add(1) > int64(lim.PerBinding) {
		b.statelessInFlight.Add(-1)
		b.drop(DropStatelessBindingLimit)
		return
	}
	if !s.push(op, lim.WorkerQueue) {
		b.statelessInFlight.Add(-1)
		b.drop(DropStatelessQueueFull)
	}
}
