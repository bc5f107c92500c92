package exec

import "github.com/hquic/quic/internal/mono"

// maxInlineRuns bounds the runs TryRun makes back to back: a task woken
// again while it runs inline (its own callbacks queued work) runs once more
// on the caller, which is cheaper than waking the worker for it, but the
// caller (a socket reader) must get back to its socket.
const maxInlineRuns = 4

// TryRun runs the task on the calling goroutine if it is idle, and reports
// whether it did. It is the Go rendering of MsQuic's low-latency datapath,
// which processes a datagram to completion on the thread that received it:
// a socket reader that queued a datagram for an idle connection runs the
// connection itself instead of waking the worker and waiting for it.
//
// The one-owner rule holds: TryRun claims the task with the same
// transition a worker makes (idle→running), so it fails while the task is
// queued or running elsewhere (the caller then calls Wake), and a Wake or
// a due timer during the inline run makes the task run again, inline up to
// maxInlineRuns times in all, then on its worker. Deadlines returned by the
// inline runs go to the worker's timer heap; the worker is woken only when
// the task becomes ready or its deadline is earlier than the one the
// worker sleeps for. Only LowLatency pools run tasks inline
// (Pool.RunsInline), and a closed pool runs nothing. TryRun never blocks
// on the worker; it takes the worker's lock once per run.
func (h *Handle) TryRun() bool {
	if !h.w.pool.RunsInline() {
		return false
	}
	select {
	case <-h.w.pool.closing:
		return false
	default:
	}
	if !h.state.CompareAndSwap(stateIdle, stateRunning) {
		return false
	}
	for i := 1; ; i++ {
		more, deadline := h.task.Run(mono.Now())
		if !h.w.finishInline(h, more, deadline, i < maxInlineRuns) {
			return true
		}
	}
}

// finishInline records the outcome of an inline run like finish does for
// a worker's. With again set, a task woken during the run (and not asking
// for more, which means it yielded to be fair) stays running and
// finishInline reports true: the caller runs it once more. Otherwise a
// task due to run again goes to the ready list and the worker is rung.
func (w *worker) finishInline(h *Handle, more bool, deadline mono.Time, again bool) bool {
	w.mu.Lock()
	for {
		s := h.state.Load()
		var next uint32
		switch s {
		case stateRunningWoken:
			next = stateQueued
			if again && !more {
				next = stateRunning
			}
		case stateRunning:
			next = stateIdle
			if more {
				next = stateQueued
			}
		default: // unregistered during the run: release the task
			h.task = nil
			w.mu.Unlock()
			return false
		}
		if !h.state.CompareAndSwap(s, next) {
			continue
		}
		if next == stateRunning {
			w.mu.Unlock()
			return true
		}
		ring := next == stateQueued
		if ring {
			h.queuedAt = mono.Now()
			w.ready.push(h)
		}
		if deadline == 0 {
			w.timers.remove(h)
		} else {
			w.timers.set(h, deadline)
			ring = ring || w.parked && (w.parkedUntil == 0 || deadline < w.parkedUntil)
		}
		w.mu.Unlock()
		if ring {
			w.ring()
		}
		return false
	}
}
