package quic

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/endpoint"
)

// This file holds a library's defenses against floods of new connections:
// the stateless workers that answer what no connection owns, the flood
// detector that turns address validation (Retry) on and off ("DoS mode"),
// and the worker overload check of MaxWorkerQueueDelay. The decisions
// themselves are made in internal/endpoint (stateless.go there).

// handshakeMemoryEstimate is the memory a server connection holds during
// its handshake, for the RetryMemoryLimit accounting. TestHalfOpenConnectionMemory
// measures the live heap and stack of one that answered a ClientHello
// (connection and TLS state, the crypto/tls handshake goroutine's stack,
// the server's first flight kept for retransmission) at about 30 KiB; with
// the garbage collector's headroom a flood of them costs about 45 KiB of
// RSS each.
const handshakeMemoryEstimate = 48 << 10

// defenseState is a library's flood defenses.
type defenseState struct {
	stateless *endpoint.Stateless
	guard     *endpoint.Guard
	// maxQueueDelay is MaxWorkerQueueDelay in nanoseconds.
	maxQueueDelay atomic.Int64
}

// initDefenses sets up l's defenses from its settings; no goroutine runs
// until a stateless packet is to be sent.
func (l *Library) initDefenses() {
	d := &l.defense
	d.stateless = endpoint.NewStateless(runtime.GOMAXPROCS(0), statelessLimits(&l.settings))
	d.maxQueueDelay.Store(int64(l.settings.MaxWorkerQueueDelay.Value))
	limit, always := retryLimit(&l.global)
	d.guard = endpoint.NewGuard(handshakeMemoryEstimate, limit, l.dosModeChanged)
	d.guard.SetLimit(limit, always)
}

// statelessLimits returns the stateless limits of library settings s.
func statelessLimits(s *Settings) endpoint.StatelessLimits {
	return endpoint.StatelessLimits{
		WorkerQueue: int(min(s.MaxStatelessOperations.Value, 1<<20)),
		PerBinding:  int(s.MaxBindingStatelessOperations.Value),
		Spacing:     s.StatelessOperationExpiration.Value,
	}
}

// retryLimit returns the bytes of half-open connections global settings g
// allow (RetryMemoryLimit/65535 of the system's memory, MsQuic semantics)
// and whether every new client must be validated (StatelessRetryEnabled).
func retryLimit(g *GlobalSettings) (int64, bool) {
	return int64(uint64(g.RetryMemoryLimit.Value) * endpoint.SystemMemory() / 65535), g.StatelessRetryEnabled.Value
}

// defenseSettingsChanged applies new library settings to the defenses. Called
// with l.mu held.
func (l *Library) defenseSettingsChanged() {
	l.defense.stateless.SetLimits(statelessLimits(&l.settings))
	l.defense.maxQueueDelay.Store(int64(l.settings.MaxWorkerQueueDelay.Value))
	limit, always := retryLimit(&l.global)
	l.defense.guard.SetLimit(limit, always)
}

// DoSMode reports whether the library's listeners currently require
// address validation (a Retry) from every new client without a valid token
// (MsQuic's SendRetryEnabled state; hquic extension). See
// Listener.SetDoSModeEvents.
func (l *Library) DoSMode() bool { return l.defense.guard.On() }

// HalfOpenConnections returns the number of server connections still in
// their handshake, the connections RetryMemoryLimit counts (hquic
// extension). Each is released when its handshake completes or fails, at
// the latest at the HandshakeIdleTimeout.
func (l *Library) HalfOpenConnections() int64 { return l.defense.guard.HalfOpen() }

// dosModeChanged tells every listener of the library that asked for DoS
// mode events about the current mode. It runs on whichever goroutine
// changed the mode (a socket reader, a worker), so it hands the delivery
// to a goroutine of its own; each listener delivers the current mode
// only if it differs from the last it delivered, so concurrent changes
// never arrive out of order.
func (l *Library) dosModeChanged(bool) {
	go func() {
		for _, lis := range l.listeners() {
			lis.notifyDoSMode(l.defense.guard.On())
		}
	}()
}

// listeners returns the listeners on the library's shared bindings.
func (l *Library) listeners() []*Listener { return l.bindings.sharing.Listeners() }

// overloaded reports whether the worker a new connection from peer would
// run on has an average queue delay above MaxWorkerQueueDelay (MsQuic's
// QuicWorkerIsOverloaded): the client's Initial is then dropped before any
// state exists, and the client retransmits it later.
func (sb *sharedBinding) overloaded(peer netip.AddrPort) bool {
	first, _, ok := sb.sh.First()
	if !ok {
		return false
	}
	return first.reg.pool.QueueDelay(peerAffinity(peer)) > time.Duration(sb.lib.defense.maxQueueDelay.Load())
}

// peerAffinity spreads new server connections over the workers by the
// client's address and port, so clients behind one port (or one address)
// do not all land on one worker.
func peerAffinity(peer netip.AddrPort) uint32 {
	a := peer.Addr().Unmap().As16()
	h := uint64(peer.Port())
	for i := 0; i < 16; i += 8 {
		h = mix64(h ^ binary.LittleEndian.Uint64(a[i:]))
	}
	return uint32(h)
}

// mix64 is SplitMix64's finalizer: every input bit affects every output
// bit.
func mix64(h uint64) uint64 {
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	return h ^ h>>31
}
