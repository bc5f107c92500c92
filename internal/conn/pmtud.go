package conn

import (
	"time"

	"github.com/hquic/quic/internal/mono"
)

// pmtud is the DPLPMTUD search of one path (RFC 8899 applied to QUIC by
// RFC 9000 §14.3) as a pure state machine: it reads nothing of the
// connection. Its caller passes in what it needs (the time, the path's
// current datagram size cur, the limits, the fate of probes and of large
// packets) and applies what it decides: the new datagram size its methods
// return and raiseAt, the deadline of the raise timer. mtu.go holds the
// connection's side.
type pmtud struct {
	// raiseAt restarts a search that ended below the ceiling
	// (PMTU_RAISE_TIMER, RFC 8899 §5.1.1); zero if not armed.
	raiseAt mono.Time

	wanted  bool // a full-size datagram was sent: larger ones would help
	started bool // the search has begun
	done    bool // search complete; the raise timer may restart it

	ceiling   int // largest UDP payload size the search may reach
	failed    int // smallest size that failed, 0 if none
	probeSize int // size of the current or next probe, 0 if none
	inFlight  bool
	missing   int // probes of probeSize declared lost

	building bool // the frame writer is filling a probe packet
	gen      int  // path generation: acknowledgments of older probes are ignored
	bigLost  int  // packets above the minimum size lost in a row

	// Counters for tests and statistics.
	probesSent, probesAcked, probesLost int
}

// pmtudLimits are the bounds and knobs of a search, from the settings and
// the peer's transport parameters.
type pmtudLimits struct {
	base       int           // the size every path carries (BASE_PLPMTU)
	ceiling    int           // the largest size the search may probe
	maxProbes  int           // losses of one size before it fails (MAX_PROBES)
	raiseAfter time.Duration // PMTU_RAISE_TIMER
}

// start begins (or restarts) the search from the current size cur.
func (m *pmtud) start(now mono.Time, cur int, l pmtudLimits) {
	m.started = true
	m.done = false
	m.failed = 0
	m.missing = 0
	m.inFlight = false
	m.raiseAt = 0
	m.ceiling = l.ceiling
	m.next(now, cur, l)
}

// next chooses the next probe size, or ends the search: the first probe
// tries the ceiling, which most paths carry; after a failure the search
// halves the interval between the largest size acknowledged and the
// smallest that failed until it is at most mtuSearchGranularity wide.
func (m *pmtud) next(now mono.Time, cur int, l pmtudLimits) {
	lo := cur
	hi := m.ceiling + 1
	if m.failed > 0 {
		hi = min(hi, m.failed)
	}
	switch {
	case hi-1 <= lo || m.failed > 0 && hi-lo <= mtuSearchGranularity:
		m.probeSize = 0
		m.done = true
		if lo < m.ceiling {
			m.raiseAt = now.Add(l.raiseAfter)
		}
	case m.failed == 0:
		m.probeSize = m.ceiling
	default:
		m.probeSize = lo + (hi-lo)/2
	}
}

// due returns the size of the probe to send now, 0 if none is due: the
// search must be wanted and not complete, with no probe outstanding.
func (m *pmtud) due(now mono.Time, cur int, l pmtudLimits) int {
	if !m.wanted {
		return 0
	}
	if !m.started {
		m.start(now, cur, l)
	}
	if m.done || m.inFlight || m.probeSize <= cur {
		return 0
	}
	return m.probeSize
}

// onProbeSent records that the probe of probeSize went out.
func (m *pmtud) onProbeSent() {
	m.inFlight = true
	m.probesSent++
}

// onProbeAcked records that the path carried a probe of size bytes sent
// in path generation gen, and returns the new datagram size.
func (m *pmtud) onProbeAcked(now mono.Time, cur, size, gen int, l pmtudLimits) int {
	m.probesAcked++
	if gen != m.gen {
		return cur
	}
	cur = max(cur, size)
	if m.probeSize == size && m.inFlight {
		m.inFlight = false
		m.missing = 0
		m.next(now, cur, l)
	}
	return cur
}

// onProbeLost records the loss of a probe of size bytes sent in path
// generation gen; after maxProbes losses of the current size it has
// failed (RFC 8899 §5.1.2, MAX_PROBES).
func (m *pmtud) onProbeLost(now mono.Time, cur, size, gen int, l pmtudLimits) {
	m.probesLost++
	if gen != m.gen || m.probeSize != size || !m.inFlight {
		return
	}
	m.inFlight = false
	m.missing++
	if m.missing < l.maxProbes {
		return
	}
	m.missing = 0
	if m.failed == 0 || size < m.failed {
		m.failed = size
	}
	m.next(now, cur, l)
}

// onLargeAcked and onLargeLost watch packets larger than the base size
// (probes aside): blackHoleLosses of them lost in a row, none acknowledged
// in between, while the size is above the base mean the path no longer
// carries them (RFC 8899 §4.3). The size falls back to the base and the
// search starts again: onLargeLost returns the new datagram size.
func (m *pmtud) onLargeAcked(size int, l pmtudLimits) {
	if size > l.base {
		m.bigLost = 0
	}
}

func (m *pmtud) onLargeLost(now mono.Time, cur, size int, l pmtudLimits) int {
	if size <= l.base || cur <= l.base {
		return cur
	}
	if m.bigLost++; m.bigLost < blackHoleLosses {
		return cur
	}
	m.bigLost = 0
	if m.started {
		m.start(now, l.base, l)
	}
	return l.base
}

// reset forgets the search, for a path whose datagram size is back at the
// base: the connection moved to a new path, whose MTU is unknown (RFC 9000
// §14.2, RFC 8899 §5.2). Probes sent on the old path no longer count; a
// new search starts with the next full-size datagram.
func (m *pmtud) reset() {
	*m = pmtud{gen: m.gen + 1, probesSent: m.probesSent, probesAcked: m.probesAcked, probesLost: m.probesLost}
}

// onRaiseTimer restarts a search that ended below the ceiling.
func (m *pmtud) onRaiseTimer(now mono.Time, cur int, l pmtudLimits) {
	m.raiseAt = 0
	if m.done {
		m.start(now, cur, l)
	}
}
