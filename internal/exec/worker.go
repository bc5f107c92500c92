package exec

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// Real-time workers busy-poll for up to spinWindow (and at most spinRounds
// yields, which bounds the spin when the clock does not advance, as inside a
// testing/synctest bubble) before parking.
const (
	spinWindow = 50 * time.Microsecond
	spinRounds = 1000
)

// worker is one goroutine with its ready list and timer heap.
type worker struct {
	pool *Pool
	idx  int

	wake   chan struct{} // 1-slot doorbell, rung by push
	exited chan struct{} // closed when the worker's goroutine returns

	// avgDelay is the moving average, in nanoseconds, of the time tasks
	// wait on the ready list before they run (MsQuic's AverageQueueDelay);
	// written by the worker, read by anyone through Pool.QueueDelay.
	avgDelay atomic.Int64

	mu     sync.Mutex
	ready  ring // tasks in state queued (or dead, skipped when popped)
	timers timerHeap
	// running is the task inside a Run on this worker, nil between runs:
	// set around dispatch, it tells Pool.Close not to wait for a worker
	// whose Run may be the caller.
	running *Handle
	// parked is set while the worker waits in park, until parkedUntil
	// (zero: until rung): an inline run (TryRun) that arms an earlier
	// deadline must ring it.
	parked      bool
	parkedUntil mono.Time
}

func newWorker(p *Pool, idx int) *worker {
	return &worker{pool: p, idx: idx, wake: make(chan struct{}, 1), exited: make(chan struct{})}
}

// push appends h to the ready list and rings the doorbell.
func (w *worker) push(h *Handle) {
	queued := mono.Now()
	w.mu.Lock()
	h.queuedAt = queued
	w.ready.push(h)
	w.mu.Unlock()
	w.ring()
}

// ring rings the doorbell; a worker that is not parked finds it rung when
// it next looks for work.
func (w *worker) ring() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) loop(started chan<- struct{}) {
	defer close(w.exited)
	if w.pool.profile == RealTime {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	started <- struct{}{}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		h, now := w.next(timer)
		if h == nil {
			return
		}
		more, deadline := h.task.Run(now)
		w.finish(h, more, deadline)
		if w.pool.profile == Scavenger {
			runtime.Gosched()
		}
	}
}

// next fires due timers and returns the next task to run, parking while
// there is none. It returns nil when the pool is closing.
func (w *worker) next(timer *time.Timer) (*Handle, mono.Time) {
	for {
		select {
		case <-w.pool.quit:
			return nil, 0
		default:
		}
		now := mono.Now()
		w.mu.Lock()
		w.parked = false
		w.fireTimers(now)
		for {
			h := w.ready.pop()
			if h == nil {
				break
			}
			if h.state.CompareAndSwap(stateQueued, stateRunning) {
				w.running = h
				w.noteDelay(now.Sub(h.queuedAt))
				w.mu.Unlock()
				return h, now
			}
			// Unregistered while queued: drop it.
		}
		// Nothing waits: an idle worker is not overloaded, however long
		// its last tasks waited.
		w.avgDelay.Store(0)
		var next mono.Time
		if w.timers.len() > 0 {
			next = w.timers.min().deadline
		}
		w.parked, w.parkedUntil = true, next
		w.mu.Unlock()
		if !w.park(timer, now, next) {
			return nil, 0
		}
	}
}

// fireTimers makes every task whose deadline is at or before now runnable, in
// deadline order. Called with w.mu held.
func (w *worker) fireTimers(now mono.Time) {
	for w.timers.len() > 0 && w.timers.min().deadline <= now {
		due := w.timers.min().deadline
		h := w.timers.popMin()
		// The worker is between runs, so h is idle, queued, dead (dead
		// handles are never in the heap) or running inline (TryRun),
		// which then runs again.
		for {
			s := h.state.Load()
			if s == stateIdle && h.state.CompareAndSwap(stateIdle, stateQueued) {
				h.queuedAt = due // a late timer counts as queue delay
				w.ready.push(h)
				break
			}
			if s != stateRunning || h.state.CompareAndSwap(stateRunning, stateRunningWoken) {
				break
			}
		}
	}
}

// noteDelay folds one task's wait on the ready list into the worker's
// average, weighting the new sample 1/8 (MsQuic's QuicWorkerUpdateQueueDelay).
// Called by the worker with w.mu held.
func (w *worker) noteDelay(d time.Duration) {
	old := w.avgDelay.Load()
	w.avgDelay.Store(old + (max(int64(d), 0)-old)/8)
}

// finish records the outcome of a Run. A task that asked for more, or was
// woken while it ran, goes to the back of the ready list; otherwise it turns
// idle. Its timer is moved to the deadline it returned.
func (w *worker) finish(h *Handle, more bool, deadline mono.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = nil
	for {
		s := h.state.Load()
		var next uint32
		switch s {
		case stateRunningWoken:
			next = stateQueued
		case stateRunning:
			next = stateIdle
			if more {
				next = stateQueued
			}
		default: // unregistered during Run: release the task
			h.task = nil
			return
		}
		if h.state.CompareAndSwap(s, next) {
			if next == stateQueued {
				h.queuedAt = mono.Now()
				w.ready.push(h)
			}
			break
		}
	}
	if deadline == 0 {
		w.timers.remove(h)
	} else {
		w.timers.set(h, deadline)
	}
}

// park waits for the doorbell, the next deadline or the pool's quit signal.
// It reports false on quit.
func (w *worker) park(timer *time.Timer, now, next mono.Time) bool {
	if w.pool.profile == RealTime {
		for i := 0; i < spinRounds && mono.Now().Sub(now) < spinWindow; i++ {
			select {
			case <-w.wake:
				return true
			case <-w.pool.quit:
				return false
			default:
			}
			runtime.Gosched()
		}
	}
	if next == 0 {
		select {
		case <-w.wake:
			return true
		case <-w.pool.quit:
			return false
		}
	}
	timer.Reset(next.Sub(now))
	defer timer.Stop()
	select {
	case <-w.wake:
	case <-timer.C:
	case <-w.pool.quit:
		return false
	}
	return true
}
