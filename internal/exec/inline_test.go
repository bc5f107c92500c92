package exec

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/mono"
)

func TestTryRunRunsAnIdleTaskOnTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		c := &counter{t: t}
		h := p.Register(c, 0)
		if !h.TryRun() {
			t.Fatal("TryRun of an idle task reported false")
		}
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs when TryRun returned = %d, want 1 (the run happens on the caller)", got)
		}
		synctest.Wait()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs = %d, want 1 (nothing woke the worker)", got)
		}
		h.Unregister()
	})
}

func TestTryRunFailsWhileTheWorkerHasTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		entered, release := make(chan struct{}), make(chan struct{})
		c := &counter{t: t}
		var h *Handle
		c.onRun = func(n int64) {
			if n == 1 {
				entered <- struct{}{}
				<-release
			}
		}
		h = p.Register(c, 0)
		h.Wake()
		<-entered
		if h.TryRun() {
			t.Fatal("TryRun succeeded while the worker runs the task")
		}
		close(release)
		synctest.Wait()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs = %d, want 1", got)
		}

		// Queued behind a busy worker: TryRun fails too, the worker runs it.
		block := make(chan struct{})
		blocker := p.Register(funcTask(func(mono.Time) (bool, mono.Time) { <-block; return false, 0 }), 0)
		blocker.Wake()
		synctest.Wait()
		h.Wake()
		if h.TryRun() {
			t.Fatal("TryRun succeeded on a queued task")
		}
		close(block)
		synctest.Wait()
		if got := c.runs.Load(); got != 2 {
			t.Fatalf("runs = %d, want 2", got)
		}
		blocker.Unregister()
		h.Unregister()
	})
}

func TestTryRunOnlyInLowLatencyPools(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, prof := range []Profile{MaxThroughput, Scavenger, RealTime} {
			p := NewPool(prof, 1)
			if p.RunsInline() {
				t.Errorf("%v pool runs inline", prof)
			}
			c := &counter{t: t}
			h := p.Register(c, 0)
			if h.TryRun() || c.runs.Load() != 0 {
				t.Errorf("%v: TryRun ran the task", prof)
			}
			h.Unregister()
			p.Close()
		}
		p := NewPool(LowLatency, 1)
		h := p.Register(&counter{t: t}, 0)
		p.Close()
		if h.TryRun() {
			t.Error("TryRun ran a task of a closed pool")
		}
	})
}

func TestWakeDuringInlineRunRunsAgainInlineThenOnTheWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		var h *Handle
		c := &counter{t: t}
		c.onRun = func(n int64) {
			if n <= maxInlineRuns {
				h.Wake() // the task's callbacks queued more work
			}
		}
		h = p.Register(c, 0)
		if !h.TryRun() {
			t.Fatal("TryRun reported false")
		}
		if got := c.runs.Load(); got != maxInlineRuns {
			t.Fatalf("runs on the caller = %d, want %d", got, maxInlineRuns)
		}
		synctest.Wait()
		if got := c.runs.Load(); got != maxInlineRuns+1 {
			t.Fatalf("runs = %d, want %d (the last wake goes to the worker)", got, maxInlineRuns+1)
		}
		h.Unregister()
	})
}

func TestMoreAfterInlineRunGoesToTheWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		c := &counter{t: t}
		c.result = func() (bool, mono.Time) { return c.runs.Load() == 1, 0 }
		h := p.Register(c, 0)
		h.TryRun()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs on the caller = %d, want 1 (a task asking for more yields)", got)
		}
		synctest.Wait()
		if got := c.runs.Load(); got != 2 {
			t.Fatalf("runs = %d, want 2", got)
		}
		h.Unregister()
	})
}

func TestInlineRunDeadlineWakesAParkedWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		start := mono.Now()
		var runsAt []time.Duration
		// The worker sleeps for a 50ms timer of another task.
		other := p.Register(funcTask(func(now mono.Time) (bool, mono.Time) {
			if now.Sub(start) < 50*time.Millisecond {
				return false, start.Add(50 * time.Millisecond)
			}
			return false, 0
		}), 0)
		other.Wake()
		synctest.Wait()
		h := p.Register(funcTask(func(now mono.Time) (bool, mono.Time) {
			runsAt = append(runsAt, now.Sub(start))
			if len(runsAt) == 1 {
				return false, start.Add(10 * time.Millisecond)
			}
			return false, 0
		}), 0)
		h.TryRun()
		time.Sleep(time.Second)
		synctest.Wait()
		want := []time.Duration{0, 10 * time.Millisecond}
		if len(runsAt) != 2 || runsAt[0] != want[0] || runsAt[1] != want[1] {
			t.Fatalf("runs at %v, want %v (the worker woke for the earlier deadline)", runsAt, want)
		}
		h.Unregister()
		other.Unregister()
	})
}

func TestTimerDueDuringInlineRunRunsTheTaskAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		start := mono.Now()
		entered, release := make(chan struct{}), make(chan struct{})
		c := &counter{t: t}
		c.onRun = func(n int64) {
			if n == 2 {
				entered <- struct{}{}
				<-release
			}
		}
		c.result = func() (bool, mono.Time) {
			if c.runs.Load() == 1 {
				return false, start.Add(10 * time.Millisecond)
			}
			return false, 0
		}
		h := p.Register(c, 0)
		h.Wake() // run 1 on the worker arms 10ms
		synctest.Wait()
		go h.TryRun() // run 2 inline, still running at 10ms
		<-entered
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		close(release)
		synctest.Wait()
		if got := c.runs.Load(); got != 3 {
			t.Fatalf("runs = %d, want 3 (the timer that fell due during the inline run is not lost)", got)
		}
		h.Unregister()
	})
}

func TestUnregisterDuringInlineRunIsTheLastRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(LowLatency, 1)
		defer p.Close()
		var h *Handle
		c := &counter{t: t}
		c.onRun = func(int64) {
			h.Wake()
			h.Unregister()
		}
		h = p.Register(c, 0)
		h.TryRun()
		synctest.Wait()
		if got := c.runs.Load(); got != 1 {
			t.Fatalf("runs = %d, want 1", got)
		}
		if h.task != nil {
			t.Fatal("the task was not released after its last run")
		}
	})
}
