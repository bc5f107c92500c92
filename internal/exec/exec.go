// Package exec runs connections on worker goroutines, the Go rendering of
// MsQuic's worker threads.
//
// A Pool owns a fixed set of workers. Work is scheduled per Task (in hquic a
// Task is one connection): whoever enqueues an operation for the task calls
// Handle.Wake, which puts the task on its worker's ready list only on the
// idle→queued transition, so a burst of enqueues costs one wake-up. A worker
// alternates between firing expired timers, running one ready task, and
// parking. In a LowLatency pool another goroutine (a socket reader) may run
// an idle task itself with Handle.TryRun, claiming it as a worker would. A
// task is never run by two goroutines at once, and every Wake that happens
// after a Run started is followed by another Run.
//
// Each worker keeps the tasks' next deadlines in a 4-ary min-heap and sleeps
// on a single time.Timer; there is no timer per task. This package is the only
// engine layer that reads the clock (mono.Now); it passes the reading to
// Task.Run.
package exec

import (
	"fmt"
	"runtime"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// Task is a unit of scheduled work (in hquic, a connection).
//
// Run is called on a worker goroutine, never concurrently for one task. It
// returns more=true if it stopped early with work left (the task is requeued
// behind the other ready tasks, which keeps workers fair), and the task's next
// timer deadline (zero means no timer). A deadline at or before now makes the
// task run again as soon as its worker gets to it. Run must not block: a slow
// Run stalls every task on the same worker.
type Task interface {
	Run(now mono.Time) (more bool, deadline mono.Time)
}

// Profile selects how a Pool's workers behave. The values and names follow
// MsQuic's QUIC_EXECUTION_PROFILE.
type Profile uint8

const (
	// LowLatency runs one worker per CPU (GOMAXPROCS); the datapath sends
	// from the worker itself. MsQuic's default.
	LowLatency Profile = iota
	// MaxThroughput runs one worker per CPU, like LowLatency; the datapath
	// hands datagrams to a sender goroutine per socket (SendOnWorker
	// reports false) so that crypto and system calls overlap.
	MaxThroughput
	// Scavenger runs a single worker that yields the processor between
	// tasks, for background work.
	Scavenger
	// RealTime runs one worker per CPU, each locked to an OS thread, and
	// busy-polls briefly before parking to cut wake-up latency.
	RealTime
)

// String returns the profile's name.
func (p Profile) String() string {
	switch p {
	case LowLatency:
		return "LowLatency"
	case MaxThroughput:
		return "MaxThroughput"
	case Scavenger:
		return "Scavenger"
	case RealTime:
		return "RealTime"
	}
	return fmt.Sprintf("Profile(%d)", uint8(p))
}

// maxWorkers caps the worker count like MsQuic's QUIC_MAX_PARTITION_COUNT.
const maxWorkers = 512

// Pool is a set of worker goroutines. Create it with NewPool; it is safe for
// concurrent use.
type Pool struct {
	profile Profile
	workers []*worker
	quit    chan struct{}
	closing chan struct{} // closed by the first Close
}

// NewPool starts a pool of workers for profile p. workers is the worker
// count; 0 means runtime.GOMAXPROCS(0), and counts are capped at 512.
// Scavenger always uses a single worker. NewPool returns after every worker
// goroutine has started.
func NewPool(p Profile, workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > maxWorkers {
		workers = maxWorkers
	}
	if p == Scavenger {
		workers = 1
	}
	pool := &Pool{
		profile: p,
		workers: make([]*worker, workers),
		quit:    make(chan struct{}),
		closing: make(chan struct{}),
	}
	started := make(chan struct{}, workers)
	for i := range pool.workers {
		w := newWorker(pool, i)
		pool.workers[i] = w
		go w.loop(started)
	}
	for range workers {
		<-started
	}
	return pool
}

// Profile returns the profile the pool was created with.
func (p *Pool) Profile() Profile { return p.profile }

// Workers returns the number of worker goroutines.
func (p *Pool) Workers() int { return len(p.workers) }

// SendOnWorker reports whether the datapath should write datagrams from the
// worker goroutine that built them (true) or hand them to a dedicated sender
// goroutine (false, MaxThroughput). The public package gives each socket a
// MaxThroughput registration opens a sender goroutine
// (endpoint.Config.SendQueue) when this is false.
func (p *Pool) SendOnWorker() bool { return p.profile != MaxThroughput }

// RunsInline reports whether Handle.TryRun may run tasks on the caller's
// goroutine: only LowLatency pools do (MsQuic's low-latency profile
// processes a datagram on the thread that received it).
func (p *Pool) RunsInline() bool { return p.profile == LowLatency }

// Register adds t to the pool on worker affinity % Workers(). The task starts
// idle: it runs after the first Wake. Registering on a closed pool returns a
// handle that never runs.
func (p *Pool) Register(t Task, affinity uint32) *Handle {
	w := p.workers[int(affinity%uint32(len(p.workers)))]
	h := &Handle{task: t, w: w, heapIdx: -1}
	select {
	case <-p.closing:
		h.state.Store(stateDead)
	default:
	}
	return h
}

// QueueDelay returns the average time tasks on worker affinity % Workers()
// (the worker Register would pick) have waited on its ready list before
// running, weighting recent waits most; zero while the worker is idle. A
// delay above MsQuic's MaxWorkerQueueDelay means the worker is overloaded.
func (p *Pool) QueueDelay(affinity uint32) time.Duration {
	w := p.workers[int(affinity%uint32(len(p.workers)))]
	return time.Duration(w.avgDelay.Load())
}

// Close stops the workers. Tasks still registered never run again, so
// callers normally Unregister every task first. Close returns once every
// worker has exited, except a worker inside a Run when Close looks at it:
// that worker exits as soon as the Run returns. So Close never waits for a
// Run in progress, which may be its own caller (a task closing its pool).
// Close is idempotent.
func (p *Pool) Close() {
	select {
	case <-p.closing:
	default:
		close(p.closing)
		close(p.quit)
	}
	for _, w := range p.workers {
		w.mu.Lock()
		busy := w.running != nil
		w.mu.Unlock()
		if !busy {
			<-w.exited
		}
	}
}
