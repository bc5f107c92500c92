package endpoint

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// guardAt is a Guard driven by explicit times.
type guardAt struct {
	*Guard
	changes []bool
	now     mono.Time
}

func newGuardAt(perConn, limit int64) *guardAt {
	g := &guardAt{now: mono.Time(time.Hour)}
	g.Guard = NewGuard(perConn, limit, func(on bool) { g.changes = append(g.changes, on) })
	g.clock = func() mono.Time { return g.now }
	return g
}

// arrive records n unvalidated Initials spread over d and reports whether
// the last required a Retry.
func (g *guardAt) arrive(n int, d time.Duration) bool {
	on := false
	for i := range n {
		on = g.RetryRequired(g.now.Add(d * time.Duration(i) / time.Duration(n)))
	}
	g.now = g.now.Add(d)
	return on
}

func TestGuardTurnsOnAtTheLimit(t *testing.T) {
	g := newGuardAt(1000, 10_000)
	for range 9 {
		g.Opened()
	}
	if g.arrive(1, time.Millisecond) {
		t.Fatal("DoS mode on with 9 of 10 half-open connections")
	}
	g.Opened()
	if !g.On() || !g.arrive(1, time.Millisecond) {
		t.Fatal("DoS mode off with the limit reached")
	}
	if len(g.changes) != 1 || !g.changes[0] {
		t.Fatalf("changes reported: %v, want [true]", g.changes)
	}
}

func TestGuardStaysOnWhileTheFloodLasts(t *testing.T) {
	g := newGuardAt(1000, 10_000)
	for range 10 {
		g.Opened()
	}
	g.arrive(100, time.Second)
	// The half-open connections time out, but Initials keep arriving at a
	// rate that would refill the limit within a second.
	for range 10 {
		g.Closed()
	}
	for s := range 5 {
		if !g.arrive(100, time.Second) {
			t.Fatalf("DoS mode ended %ds into a flood of 100 Initials/s with no state left", s)
		}
	}
	// The first quiet second still sees the last full second's arrivals;
	// the second quiet second ends DoS mode.
	if g.arrive(2, time.Second); !g.On() {
		t.Fatal("DoS mode ended while the last full second held 100 arrivals")
	}
	if g.arrive(2, time.Second) {
		t.Fatal("DoS mode still on after a quiet second")
	}
	if len(g.changes) != 2 || !g.changes[0] || g.changes[1] {
		t.Fatalf("changes reported: %v, want [true false]", g.changes)
	}
}

func TestGuardHysteresisNeedsHalfTheLimit(t *testing.T) {
	g := newGuardAt(100, 2000)
	for range 20 {
		g.Opened()
	}
	g.Closed() // 19 of 20: below the limit but above half
	g.now = g.now.Add(5 * time.Second)
	if !g.arrive(1, time.Millisecond) {
		t.Fatal("DoS mode ended with 19 of 20 half-open connections")
	}
	for range 10 {
		g.Closed()
	}
	if !g.On() {
		t.Fatal("DoS mode ended with 9 of 20 half-open connections and an arrival: 1000 bytes, not under half the limit")
	}
	g.Closed()
	if g.On() {
		t.Fatal("DoS mode still on with 8 of 20 half-open connections and one arrival")
	}
}

func TestGuardZeroLimitOrAlwaysKeepsDoSModeOn(t *testing.T) {
	g := newGuardAt(1000, 0)
	if !g.On() || !g.arrive(1, time.Millisecond) {
		t.Fatal("a zero limit does not require Retry")
	}
	g.SetLimit(1<<40, true)
	g.now = g.now.Add(10 * time.Second)
	if !g.arrive(1, time.Millisecond) {
		t.Fatal("Always does not require Retry")
	}
	g.SetLimit(1<<40, false)
	if g.On() {
		t.Fatal("DoS mode on with a large limit, no state and no flood")
	}
	if len(g.changes) != 2 || !g.changes[0] || g.changes[1] {
		t.Fatalf("changes reported: %v, want [true false]", g.changes)
	}
}
