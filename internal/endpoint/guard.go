package endpoint

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// guardWindow is the period over which a Guard counts the Initials that
// arrive without a valid token.
const guardWindow = time.Second

// Guard is a library's flood detector (MsQuic's SendRetryEnabled state, or
// "DoS mode"): it decides when a client without a valid token must be sent
// a Retry before the server keeps any state for it (RFC 9000 §8.1.2). It is
// safe for concurrent use; every binding of a library shares one.
//
// DoS mode turns on when the memory held by server connections in their
// handshake (half-open connections, each counted at PerConnection bytes)
// reaches the limit, and off only when that memory plus what the last
// second's unvalidated Initials would have added is below half the limit:
// a flood keeps Retry on even while the half-open connections it created
// before time out, and a server leaves DoS mode only once a second of
// new clients would fit twice over. A limit of zero, or Always, keeps DoS
// mode on.
type Guard struct {
	limit    atomic.Int64 // bytes of half-open state allowed
	always   atomic.Bool
	perConn  int64
	halfOpen atomic.Int64 // server connections in their handshake
	on       atomic.Bool

	clock func() mono.Time // mono.Now; tests replace it

	mu          sync.Mutex
	windowStart mono.Time
	count, prev int64 // unvalidated Initials in this window and the last full one
	onChange    func(on bool)
}

// NewGuard returns a Guard that counts each half-open connection at
// perConn bytes, allows limit bytes of them, and calls onChange (if set)
// on every change of DoS mode, outside its locks, from whichever goroutine
// caused the change.
func NewGuard(perConn, limit int64, onChange func(on bool)) *Guard {
	g := &Guard{perConn: perConn, onChange: onChange, clock: mono.Now}
	g.limit.Store(limit)
	g.evaluate(g.clock(), false)
	return g
}

// SetLimit changes the limit and whether DoS mode is always on, and
// re-evaluates the mode at once.
func (g *Guard) SetLimit(limit int64, always bool) {
	g.limit.Store(limit)
	g.always.Store(always)
	g.evaluate(g.clock(), false)
}

// On reports whether DoS mode is on.
func (g *Guard) On() bool { return g.on.Load() }

// HalfOpen returns the number of server connections in their handshake.
func (g *Guard) HalfOpen() int64 { return g.halfOpen.Load() }

// Opened counts a new server connection in its handshake; DoS mode may
// begin.
func (g *Guard) Opened() {
	g.halfOpen.Add(1)
	if !g.on.Load() {
		g.evaluate(g.clock(), false)
	}
}

// Closed counts a server connection that finished or abandoned its
// handshake; DoS mode may end.
func (g *Guard) Closed() {
	g.halfOpen.Add(-1)
	if g.on.Load() {
		g.evaluate(g.clock(), false)
	}
}

// RetryRequired records an Initial without a valid token, arriving at
// now, and reports whether it must be answered with a Retry.
func (g *Guard) RetryRequired(now mono.Time) bool {
	return g.evaluate(now, true)
}

// evaluate rolls the arrival window, counts one unvalidated Initial if
// arrival is set, updates the mode and reports it.
func (g *Guard) evaluate(now mono.Time, arrival bool) bool {
	g.mu.Lock()
	switch elapsed := now.Sub(g.windowStart); {
	case g.windowStart == 0 || elapsed >= 2*guardWindow || elapsed < 0:
		g.prev, g.count, g.windowStart = 0, 0, now
	case elapsed >= guardWindow:
		g.prev, g.count, g.windowStart = g.count, 0, g.windowStart.Add(guardWindow)
	}
	if arrival {
		g.count++
	}
	limit := g.limit.Load()
	held := max(g.halfOpen.Load(), 0) * g.perConn
	was := g.on.Load()
	on := was
	switch {
	case g.always.Load() || limit <= 0 || held >= limit:
		on = true
	case was && held+max(g.prev, g.count)*g.perConn < limit/2:
		on = false
	}
	g.on.Store(on)
	g.mu.Unlock()
	if on != was && g.onChange != nil {
		g.onChange(on)
	}
	return on
}
