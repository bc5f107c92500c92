package exec

import (
	"sync/atomic"

	"github.com/hquic/quic/internal/mono"
)

// Scheduling states of a Handle. Only the transitions below exist:
//
//	idle ──Wake──▶ queued ──worker pops──▶ running ──Run returns──▶ idle
//	                 ▲                        │ Wake                  │ more or woken
//	                 │                        ▼                       │
//	                 └──────Run returns── runningWoken ◀──────────────┘
//
// and any state ──Unregister──▶ dead.
const (
	stateIdle uint32 = iota
	stateQueued
	stateRunning
	stateRunningWoken
	stateDead
)

// A Handle is a task's registration with a Pool.
type Handle struct {
	task  Task
	w     *worker
	state atomic.Uint32

	// Guarded by w.mu.
	heapIdx  int       // index in w.timers, -1 when absent
	deadline mono.Time // key in w.timers
	queuedAt mono.Time // when the task last joined the ready list
}

// WorkerIndex returns the index of the worker the task is pinned to.
func (h *Handle) WorkerIndex() int { return h.w.idx }

// Wake schedules a Run of the task. Call it from any goroutine after
// enqueuing work for the task. Only the idle→queued transition touches the
// worker's ready list, so concurrent and repeated wakes coalesce into one Run;
// a Wake during a Run (including from inside Run) makes the task run once
// more after the current Run returns. Wake never blocks on the task; it takes
// the worker's lock only for the push.
func (h *Handle) Wake() {
	for {
		switch h.state.Load() {
		case stateIdle:
			if h.state.CompareAndSwap(stateIdle, stateQueued) {
				h.w.push(h)
				return
			}
		case stateRunning:
			if h.state.CompareAndSwap(stateRunning, stateRunningWoken) {
				return
			}
		default: // queued, runningWoken or dead: a Run is already due, or never will be.
			return
		}
	}
}

// ClearWake is called by a task inside its Run right before it takes the
// work queued for it: the Wakes that came before it (the task's own
// callbacks queuing work while it runs, typically) are answered by that
// take, so they cause no further Run; a Wake after it still does. Work
// that is not queued, such as a due timer, must be covered by the
// deadline the Run returns.
func (h *Handle) ClearWake() { h.state.CompareAndSwap(stateRunningWoken, stateRunning) }

// Unregister removes the task from its worker. It never blocks: no Run
// starts after it returns, and a Run in progress, on the worker or inline
// on another goroutine (possibly the caller's, from inside the Run), is the
// last one; whoever runs it releases the task when it returns. A task not
// running is released at once. Unregister is idempotent.
func (h *Handle) Unregister() {
	w := h.w
	w.mu.Lock()
	prev := h.state.Swap(stateDead)
	w.timers.remove(h)
	if prev != stateRunning && prev != stateRunningWoken {
		h.task = nil
	}
	w.mu.Unlock()
}
