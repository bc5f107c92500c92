package exec

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// funcTask adapts a function to Task.
type funcTask func(now mono.Time) (bool, mono.Time)

func (f funcTask) Run(now mono.Time) (bool, mono.Time) { return f(now) }

// counter is a task that counts its runs and fails the test if two runs
// overlap.
type counter struct {
	t      *testing.T
	inRun  atomic.Int32
	runs   atomic.Int64
	onRun  func(n int64)
	result func() (bool, mono.Time)
}

func (c *counter) Run(now mono.Time) (bool, mono.Time) {
	if c.inRun.Add(1) != 1 {
		c.t.Error("Run called concurrently for one task")
	}
	n := c.runs.Add(1)
	if c.onRun != nil {
		c.onRun(n)
	}
	c.inRun.Add(-1)
	if c.result != nil {
		return c.result()
	}
	return false, 0
}

func TestProfileWorkerCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			p       Profile
			n, want int
		}{
			{LowLatency, 3, 3},
			{MaxThroughput, 2, 2},
			{Scavenger, 8, 1},
			{RealTime, 2, 2},
			{LowLatency, 100000, maxWorkers},
		} {
			p := NewPool(tc.p, tc.n)
			if got := p.Workers(); got != tc.want {
				t.Errorf("%v with %d workers: Workers() = %d, want %d", tc.p, tc.n, got, tc.want)
			}
			if p.Profile() != tc.p {
				t.Errorf("Profile() = %v, want %v", p.Profile(), tc.p)
			}
			p.Close()
		}
	})
}

func TestDefaultWorkerCountIsGOMAXPROCS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 0)
		defer p.Close()
		if p.Workers() < 1 {
			t.Fatalf("Workers() = %d", p.Workers())
		}
	})
}

func TestSendOnWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			p    Profile
			send bool
		}{
			{LowLatency, true},
			{MaxThroughput, false},
			{Scavenger, true},
			{RealTime, true},
		} {
			p := NewPool(tc.p, 1)
			if p.SendOnWorker() != tc.send {
				t.Errorf("%v: SendOnWorker() = %v", tc.p, p.SendOnWorker())
			}
			p.Close()
		}
	})
}

func TestProfileString(t *testing.T) {
	for p, want := range map[Profile]string{
		LowLatency: "LowLatency", MaxThroughput: "MaxThroughput",
		Scavenger: "Scavenger", RealTime: "RealTime", 9: "Profile(9)",
	} {
		if p.String() != want {
			t.Errorf("%d.String() = %q, want %q", p, p.String(), want)
		}
	}
}

func TestEveryProfileRunsTasks(t *testing.T) {
	for _, prof := range []Profile{LowLatency, MaxThroughput, Scavenger, RealTime} {
		t.Run(prof.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := NewPool(prof, 2)
				done := make(chan struct{}, 8)
				var hs []*Handle
				for i := range 8 {
					h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
						done <- struct{}{}
						return false, 0
					}), uint32(i))
					hs = append(hs, h)
					h.Wake()
				}
				for range 8 {
					<-done
				}
				for _, h := range hs {
					h.Unregister()
				}
				p.Close()
			})
		})
	}
}

func TestAffinityPicksWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 3)
		defer p.Close()
		for aff := uint32(0); aff < 7; aff++ {
			h := p.Register(&counter{t: t}, aff)
			if got := h.WorkerIndex(); got != int(aff%3) {
				t.Errorf("affinity %d: WorkerIndex() = %d, want %d", aff, got, aff%3)
			}
			h.Unregister()
		}
	})
}

// TestConcurrentWakesCoalesce hammers one task with wakes from many
// goroutines. Runs never overlap, and after the last Wake there is a Run that
// observes all of them.
func TestConcurrentWakesCoalesce(t *testing.T) {
	const goroutines, perG = 16, 500
	p := NewPool(LowLatency, 4)
	defer p.Close()

	var posted atomic.Int64 // work items "enqueued" before each Wake
	var seen atomic.Int64   // items observed by some Run
	allSeen := make(chan struct{})
	var once sync.Once
	c := &counter{t: t}
	c.onRun = func(int64) {
		n := posted.Load()
		seen.Store(n)
		if n == goroutines*perG {
			once.Do(func() { close(allSeen) })
		}
	}
	h := p.Register(c, 0)
	defer h.Unregister()

	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range perG {
				posted.Add(1)
				h.Wake()
			}
		})
	}
	wg.Wait()
	select {
	case <-allSeen:
	case <-time.After(time.Minute):
		t.Fatalf("last wake never led to a Run: seen %d of %d", seen.Load(), goroutines*perG)
	}
	if runs := c.runs.Load(); runs > goroutines*perG {
		t.Errorf("%d runs for %d wakes: wakes not coalesced", runs, goroutines*perG)
	}
}

func TestWakeFromInsideRunRunsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		var h *Handle
		c := &counter{t: t}
		c.onRun = func(n int64) {
			if n < 3 {
				h.Wake()
			}
		}
		h = p.Register(c, 0)
		h.Wake()
		synctest.Wait()
		if got := c.runs.Load(); got != 3 {
			t.Fatalf("runs = %d, want 3 (each Wake inside Run causes one more Run)", got)
		}
		h.Unregister()
	})
}

func TestWakeWhileQueuedCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		release := make(chan struct{})
		blocker := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			<-release
			return false, 0
		}), 0)
		c := &counter{t: t}
		h := p.Register(c, 0)
		blocker.Wake() // occupies the only worker
		synctest.Wait()
		for range 10 {
			h.Wake() // h is queued behind the blocker: one Run for all
		}
		close(release)
		synctest.Wait()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs = %d, want 1", got)
		}
		blocker.Unregister()
		h.Unregister()
	})
}

func TestFairnessMoreDoesNotStarveOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		var bRan atomic.Bool
		var aRunsAfterB atomic.Int64
		hog := &counter{t: t}
		hog.result = func() (bool, mono.Time) {
			if bRan.Load() {
				return aRunsAfterB.Add(1) < 2, 0
			}
			return true, 0 // always more work
		}
		a := p.Register(hog, 0)
		b := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			bRan.Store(true)
			return false, 0
		}), 0)
		a.Wake()
		b.Wake()
		synctest.Wait()
		if !bRan.Load() {
			t.Fatal("task B never ran while A kept returning more")
		}
		if n := hog.runs.Load(); n > 4 {
			t.Errorf("A ran %d times: B waited behind it", n)
		}
		a.Unregister()
		b.Unregister()
	})
}

func TestTimersFireInDeadlineOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		start := mono.Now()
		delays := []time.Duration{50, 10, 40, 20, 30, 10, 60}
		var mu sync.Mutex
		var fired []int
		var handles []*Handle
		for i, d := range delays {
			deadline := start.Add(d * time.Millisecond)
			first := true
			h := p.Register(funcTask(func(now mono.Time) (bool, mono.Time) {
				if first {
					first = false
					return false, deadline
				}
				if now < deadline {
					t.Errorf("task %d ran at %v, before its deadline %v", i, now.Sub(start), d*time.Millisecond)
				}
				mu.Lock()
				fired = append(fired, i)
				mu.Unlock()
				return false, 0
			}), 0)
			handles = append(handles, h)
			h.Wake()
		}
		time.Sleep(time.Second) // fake clock: returns once every timer has fired
		synctest.Wait()
		want := []int{1, 5, 3, 4, 2, 0, 6}
		if !slices.Equal(fired, want) {
			t.Fatalf("fired order %v, want %v (by deadline)", fired, want)
		}
		for _, h := range handles {
			h.Unregister()
		}
	})
}

func TestTimerMovesWithReturnedDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		start := mono.Now()
		deadlines := []mono.Time{start.Add(10 * time.Millisecond), start.Add(30 * time.Millisecond), 0}
		var runsAt []time.Duration
		h := p.Register(funcTask(func(now mono.Time) (bool, mono.Time) {
			d := deadlines[len(runsAt)]
			runsAt = append(runsAt, now.Sub(start))
			return false, d
		}), 0)
		h.Wake() // run at 0, arms 10ms
		synctest.Wait()
		time.Sleep(5 * time.Millisecond)
		h.Wake() // run at 5ms, moves the timer to 30ms
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		h.Unregister()
		want := []time.Duration{0, 5 * time.Millisecond, 30 * time.Millisecond}
		if !slices.Equal(runsAt, want) {
			t.Fatalf("runs at %v, want %v (the 10ms timer was replaced)", runsAt, want)
		}
	})
}

func TestZeroDeadlineCancelsTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		start := mono.Now()
		c := &counter{t: t}
		c.result = func() (bool, mono.Time) {
			if c.runs.Load() == 1 {
				return false, start.Add(10 * time.Millisecond)
			}
			return false, 0
		}
		h := p.Register(c, 0)
		h.Wake()
		synctest.Wait()
		h.Wake() // second run returns no deadline: the 10ms timer is gone
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		if got := c.runs.Load(); got != 2 {
			t.Fatalf("runs = %d, want 2", got)
		}
		h.Unregister()
	})
}

func TestUnregisterStopsRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 2)
		defer p.Close()
		start := mono.Now()
		c := &counter{t: t}
		c.result = func() (bool, mono.Time) { return false, start.Add(time.Millisecond) }
		h := p.Register(c, 0)
		h.Wake()
		synctest.Wait()
		h.Unregister()
		h.Unregister() // idempotent
		h.Wake()
		time.Sleep(time.Second) // the armed timer must not fire either
		synctest.Wait()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs = %d after Unregister, want 1", got)
		}
	})
}

func TestUnregisterWhileQueuedSkipsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		release := make(chan struct{})
		blocker := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			<-release
			return false, 0
		}), 0)
		c := &counter{t: t}
		h := p.Register(c, 0)
		blocker.Wake()
		synctest.Wait()
		h.Wake()
		h.Unregister()
		close(release)
		synctest.Wait()
		if got := c.runs.Load(); got != 0 {
			t.Fatalf("runs = %d, want 0", got)
		}
		blocker.Unregister()
	})
}

func TestUnregisterFromInsideRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		var h *Handle
		c := &counter{t: t}
		c.onRun = func(int64) { h.Unregister() }
		c.result = func() (bool, mono.Time) { return true, mono.Now() }
		h = p.Register(c, 0)
		h.Wake()
		synctest.Wait()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs = %d, want 1 (more=true after Unregister must not requeue)", got)
		}
	})
}

// TestCloseJoinsWorkers relies on synctest: the bubble only ends cleanly if
// every goroutine started inside it has exited, so a worker left behind by
// Close fails the test with a deadlock report.
func TestCloseJoinsWorkers(t *testing.T) {
	for _, prof := range []Profile{LowLatency, MaxThroughput, Scavenger, RealTime} {
		synctest.Test(t, func(t *testing.T) {
			p := NewPool(prof, 4)
			start := mono.Now()
			h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
				return false, start.Add(time.Hour) // a pending timer must not keep a worker alive
			}), 0)
			h.Wake()
			synctest.Wait()
			p.Close()
			p.Close() // idempotent
			h.Wake()  // harmless after Close
			if h2 := p.Register(&counter{t: t}, 0); h2.state.Load() != stateDead {
				t.Error("Register after Close returned a live handle")
			}
		})
	}
}

func TestQueueDelayAveragesWaitsAndResetsWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		seen := make(chan time.Duration, 1)
		slow := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			time.Sleep(80 * time.Millisecond) // fake clock: the next task waits this long
			return false, 0
		}), 0)
		waiting := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			seen <- p.QueueDelay(0)
			return false, 0
		}), 0)
		defer slow.Unregister()
		defer waiting.Unregister()
		slow.Wake()
		waiting.Wake()
		// The first task waited nothing, the second 80ms: the average
		// weights the new wait 1/8.
		if got := <-seen; got != 10*time.Millisecond {
			t.Errorf("QueueDelay while the delayed task runs = %v, want 10ms", got)
		}
		synctest.Wait()
		if got := p.QueueDelay(0); got != 0 {
			t.Errorf("QueueDelay of an idle worker = %v, want 0", got)
		}
	})
}

func TestQueueDelayCountsLateTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		seen := make(chan time.Duration, 1)
		runs := 0
		timed := p.Register(funcTask(func(now mono.Time) (bool, mono.Time) {
			runs++
			if runs == 1 {
				return false, now.Add(80 * time.Millisecond)
			}
			seen <- p.QueueDelay(0)
			return false, 0
		}), 0)
		defer timed.Unregister()
		busy := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			time.Sleep(160 * time.Millisecond) // holds the worker past the timer
			return false, 0
		}), 0)
		defer busy.Unregister()
		timed.Wake()
		synctest.Wait()
		busy.Wake()
		// The timer fell due at 80ms and ran at 160ms.
		if got := <-seen; got != 10*time.Millisecond {
			t.Errorf("QueueDelay as a timer 80ms late runs = %v, want 10ms", got)
		}
	})
}

func TestUnregisterDuringRunReturnsAtOnceAndReleasesAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		entered := make(chan struct{})
		release := make(chan struct{})
		var runs atomic.Int32
		h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			runs.Add(1)
			close(entered)
			<-release
			return true, 0 // more work: must not run again
		}), 0)
		h.Wake()
		<-entered
		h.Unregister() // returns while the Run is still executing
		p.workers[0].mu.Lock()
		held := h.task != nil
		p.workers[0].mu.Unlock()
		if !held {
			t.Fatal("the task was released while its Run was executing")
		}
		h.Wake()
		close(release)
		synctest.Wait()
		if n := runs.Load(); n != 1 {
			t.Fatalf("runs = %d after Unregister, want 1", n)
		}
		p.workers[0].mu.Lock()
		held = h.task != nil
		p.workers[0].mu.Unlock()
		if held {
			t.Fatal("the worker kept the task after its last Run")
		}
	})
}

func TestUnregisterReleasesAnIdleTaskAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		h := p.Register(&counter{t: t}, 0)
		h.Unregister()
		if h.task != nil {
			t.Fatal("an idle task is still held after Unregister")
		}
	})
}

func TestCloseFromInsideRunDoesNotWaitForItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 2)
		closed := make(chan struct{})
		var after atomic.Bool
		h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			p.Close() // waits for the other worker, not for this one
			after.Store(true)
			close(closed)
			return false, 0
		}), 1)
		h.Wake()
		<-closed
		if !after.Load() {
			t.Fatal("Close inside Run did not return")
		}
		h.Unregister()
		synctest.Wait()
		select {
		case <-p.workers[1].exited:
		default:
			t.Fatal("the worker that closed its pool did not exit after its Run")
		}
		select {
		case <-p.workers[0].exited:
		default:
			t.Fatal("Close returned before the idle worker exited")
		}
	})
}

func TestCloseDoesNotWaitForARunInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		entered := make(chan struct{})
		release := make(chan struct{})
		h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
			close(entered)
			<-release
			return false, 0
		}), 0)
		h.Wake()
		<-entered
		p.Close()
		select {
		case <-p.workers[0].exited:
			t.Fatal("the worker exited during its Run")
		default:
		}
		close(release)
		synctest.Wait()
		select {
		case <-p.workers[0].exited:
		default:
			t.Fatal("the worker did not exit after its Run")
		}
		h.Unregister()
	})
}
