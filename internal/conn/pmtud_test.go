package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// pmtudPath runs the search against a path that carries datagrams up to
// carry bytes: every probe at most that size is acknowledged, every larger
// one lost. It returns the final size, the sizes probed in order and the
// raise timer left armed.
func pmtudPath(t *testing.T, l pmtudLimits, carry int) (size int, probes []int, raiseAt mono.Time) {
	t.Helper()
	var m pmtud
	now := mono.Time(1)
	size = l.base
	m.wanted = true
	for range 100 {
		p := m.due(now, size, l)
		if p == 0 {
			return size, probes, m.raiseAt
		}
		probes = append(probes, p)
		m.onProbeSent()
		if p <= carry {
			size = m.onProbeAcked(now, size, p, m.gen, l)
		} else {
			m.onProbeLost(now, size, p, m.gen, l)
		}
	}
	t.Fatalf("the search did not end: probes %v", probes)
	return
}

func TestPMTUDSearch(t *testing.T) {
	l := pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 3, raiseAfter: 600 * time.Second}
	for _, tc := range []struct {
		name       string
		limits     pmtudLimits
		carry      int
		wantSize   [2]int // inclusive range
		wantProbes int
		wantRaise  bool
	}{
		// RFC 8899 §5.1: the first probe tries the ceiling, which most
		// paths carry, so one probe ends the search.
		{"path carries the ceiling", l, 1472, [2]int{1472, 1472}, 1, false},
		// A lower path MTU: three losses of each failing size (MAX_PROBES),
		// then halving until the interval is at most mtuSearchGranularity:
		// 1472 ×3 lost, 1366 ×3 lost, 1313 and 1339 carried, 1352 ×3 lost.
		{"path carries 1350", l, 1350, [2]int{1350 - mtuSearchGranularity, 1350}, 3 + 3 + 1 + 1 + 3, true},
		// 1472, 1366, 1313, 1286, 1273 each lost three times.
		{"path carries only the base", l, 1260, [2]int{1260, 1260}, 5 * 3, true},
		// 1472, 1366, 1313 lost, 1286 carried, 1299 lost.
		{"one loss is enough to fail", pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 1, raiseAfter: time.Second}, 1300, [2]int{1300 - mtuSearchGranularity, 1300}, 5, true},
		{"no room above the base", pmtudLimits{base: 1372, ceiling: 1372, maxProbes: 3, raiseAfter: time.Second}, 1472, [2]int{1372, 1372}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, probes, raiseAt := pmtudPath(t, tc.limits, tc.carry)
			if size < tc.wantSize[0] || size > tc.wantSize[1] {
				t.Errorf("size %d, want %d..%d (probes %v)", size, tc.wantSize[0], tc.wantSize[1], probes)
			}
			if len(probes) != tc.wantProbes {
				t.Errorf("%d probes %v, want %d", len(probes), probes, tc.wantProbes)
			}
			if got := !raiseAt.IsZero(); got != tc.wantRaise {
				t.Errorf("raise timer armed %v, want %v", got, tc.wantRaise)
			}
			for _, p := range probes {
				if p <= tc.limits.base || p > tc.limits.ceiling {
					t.Errorf("probe of %d bytes outside (%d, %d]", p, tc.limits.base, tc.limits.ceiling)
				}
			}
		})
	}
}

func TestPMTUDNotWantedNeverProbes(t *testing.T) {
	var m pmtud
	l := pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 3, raiseAfter: time.Second}
	if p := m.due(1, 1260, l); p != 0 || m.started {
		t.Fatalf("due = %d, started %v before a full-size datagram was sent", p, m.started)
	}
}

func TestPMTUDOneProbeAtATime(t *testing.T) {
	m := pmtud{wanted: true}
	l := pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 3, raiseAfter: time.Second}
	if p := m.due(1, 1260, l); p != 1472 {
		t.Fatalf("first probe %d, want the ceiling 1472", p)
	}
	m.onProbeSent()
	if p := m.due(1, 1260, l); p != 0 {
		t.Fatalf("second probe %d while one is in flight", p)
	}
}

func TestPMTUDRaiseTimerRestartsTheSearch(t *testing.T) {
	l := pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 1, raiseAfter: 600 * time.Second}
	size, _, raiseAt := pmtudPath(t, l, 1300)
	if want := mono.Time(1).Add(600 * time.Second); raiseAt != want {
		t.Fatalf("raise timer %v, want %v", raiseAt, want)
	}
	var m pmtud
	m.wanted, m.started, m.done, m.raiseAt, m.ceiling = true, true, true, raiseAt, l.ceiling
	m.onRaiseTimer(raiseAt, size, l)
	if m.raiseAt != 0 || m.done {
		t.Fatalf("after the raise timer: raiseAt %v, done %v", m.raiseAt, m.done)
	}
	if p := m.due(raiseAt, size, l); p != l.ceiling {
		t.Fatalf("restarted search probes %d, want the ceiling %d", p, l.ceiling)
	}
}

func TestPMTUDStaleGenerationIgnored(t *testing.T) {
	m := pmtud{wanted: true}
	l := pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 3, raiseAfter: time.Second}
	p := m.due(1, 1260, l)
	m.onProbeSent()
	old := m.gen
	m.reset()
	if got := m.onProbeAcked(1, 1260, p, old, l); got != 1260 {
		t.Fatalf("a probe acknowledged from the old path raised the size to %d", got)
	}
	m.onProbeLost(1, 1260, p, old, l)
	if m.failed != 0 || m.missing != 0 {
		t.Fatalf("a probe lost on the old path counted: failed %d, missing %d", m.failed, m.missing)
	}
	if m.probesSent != 1 || m.probesAcked != 1 || m.probesLost != 1 {
		t.Fatalf("counters %d/%d/%d did not survive the reset", m.probesSent, m.probesAcked, m.probesLost)
	}
}

func TestPMTUDBlackHole(t *testing.T) {
	l := pmtudLimits{base: 1260, ceiling: 1472, maxProbes: 3, raiseAfter: time.Second}
	for _, tc := range []struct {
		name     string
		cur      int
		events   []int // packet sizes: positive lost, negative acknowledged
		wantSize int
	}{
		{"six large losses in a row fall back", 1472, []int{1472, 1472, 1472, 1472, 1472, 1472}, 1260},
		{"an acknowledgment in between resets the count", 1472, []int{1472, 1472, 1472, -1472, 1472, 1472, 1472, 1472, 1472}, 1472},
		{"small packets do not count", 1472, []int{1260, 1260, 1260, 1260, 1260, 1260, 1260}, 1472},
		{"nothing to fall back from at the base", 1260, []int{1472, 1472, 1472, 1472, 1472, 1472}, 1260},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := pmtud{wanted: true, started: true, done: true, ceiling: l.ceiling}
			cur := tc.cur
			for _, e := range tc.events {
				if e < 0 {
					m.onLargeAcked(-e, l)
				} else {
					cur = m.onLargeLost(1, cur, e, l)
				}
			}
			if cur != tc.wantSize {
				t.Fatalf("size %d, want %d", cur, tc.wantSize)
			}
			if cur == l.base && tc.cur > l.base && (m.done || m.probeSize != l.ceiling) {
				t.Fatalf("after falling back the search did not restart: done %v, next probe %d", m.done, m.probeSize)
			}
		})
	}
}
