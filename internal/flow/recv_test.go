package flow

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

const ms = time.Millisecond

func TestRecvWindowRejectsDataBeyondLimit(t *testing.T) {
	var w RecvWindow
	w.Init(1000, 4000)
	if !w.OnReceived(1000) {
		t.Fatal("data up to the limit was rejected")
	}
	if w.OnReceived(1001) {
		t.Fatal("data beyond the limit was accepted (RFC 9000, 4.1: FLOW_CONTROL_ERROR)")
	}
	if w.Received() != 1000 {
		t.Fatalf("Received = %d after a rejected offset, want 1000", w.Received())
	}
	if !w.OnReceived(10) || w.Received() != 1000 {
		t.Fatal("a lower offset must be accepted and must not lower Received")
	}
}

func TestRecvWindowUpdateAtQuarterWindow(t *testing.T) {
	var w RecvWindow
	w.Init(1000, 1000) // no auto-tuning headroom
	now := mono.Time(1e9)
	w.OnReceived(1000)
	w.OnConsumed(now, 249, 10*ms)
	if w.NeedsUpdate() {
		t.Fatal("update due with 751 of 1000 bytes of credit left")
	}
	if _, ok := w.Update(now); ok {
		t.Fatal("Update returned a limit before the threshold")
	}
	w.OnConsumed(now, 1, 10*ms)
	if !w.NeedsUpdate() {
		t.Fatal("no update due with three quarters of the window left")
	}
	lim, ok := w.Update(now.Add(time.Second))
	if !ok || lim != 1250 {
		t.Fatalf("Update = %d, %v; want 1250, true", lim, ok)
	}
	if w.Limit() != 1250 || w.NeedsUpdate() {
		t.Fatalf("after update: Limit %d, NeedsUpdate %v", w.Limit(), w.NeedsUpdate())
	}
}

func TestRecvWindowResendsLostLimitOnly(t *testing.T) {
	var w RecvWindow
	w.Init(100, 100)
	now := mono.Time(1e9)
	w.OnReceived(100)
	w.OnConsumed(now, 60, 0)
	lim1, _ := w.Update(now)
	w.OnReceived(lim1)
	w.OnConsumed(now, 100, 0)
	lim2, _ := w.Update(now)
	if lim2 <= lim1 {
		t.Fatalf("limits %d then %d", lim1, lim2)
	}
	w.OnLimitLost(lim1)
	if w.NeedsUpdate() {
		t.Fatal("loss of a superseded limit triggered a resend")
	}
	w.OnLimitLost(lim2)
	if !w.NeedsUpdate() {
		t.Fatal("loss of the current limit did not trigger a resend")
	}
	if lim, ok := w.Update(now); !ok || lim != lim2 {
		t.Fatalf("resend Update = %d, %v; want %d, true", lim, ok, lim2)
	}
	if _, ok := w.Update(now); ok {
		t.Fatal("limit resent twice for one loss")
	}
}

// drain simulates an application that reads everything as soon as it is
// allowed, taking step per half window, and returns the final window.
func drain(w *RecvWindow, rtt, step time.Duration, rounds int) uint64 {
	now := mono.Time(1e9)
	for range rounds {
		half := w.Limit() - w.Consumed() - w.Window()/2
		if w.Limit()-w.Consumed() <= w.Window()/2 {
			half = 0
		}
		w.OnReceived(w.Limit())
		now = now.Add(step)
		w.OnConsumed(now, half+1, rtt)
		w.Update(now)
	}
	return w.Window()
}

func TestRecvWindowAutoTuneGrowsWhenConsumptionIsFast(t *testing.T) {
	var w RecvWindow
	w.Init(64<<10, 16<<20)
	// Half a window consumed every 5 ms with a 50 ms RTT: far faster than
	// two RTTs, so the window must double on every update until the cap.
	got := drain(&w, 50*ms, 5*ms, 100)
	if got != 16<<20 {
		t.Fatalf("window = %d, want the 16 MiB cap", got)
	}
	if w.Limit()-w.Consumed() > w.MaxWindow() {
		t.Fatalf("credit %d exceeds the max window", w.Limit()-w.Consumed())
	}
}

func TestRecvWindowAutoTuneStaysWhenConsumptionIsSlow(t *testing.T) {
	var w RecvWindow
	w.Init(64<<10, 16<<20)
	// Half a window every 200 ms with a 50 ms RTT: the window is ample.
	if got := drain(&w, 50*ms, 200*ms, 50); got != 64<<10 {
		t.Fatalf("window grew to %d for a slow reader", got)
	}
	// No RTT sample: never grows.
	w.Init(64<<10, 16<<20)
	if got := drain(&w, 0, time.Microsecond, 50); got != 64<<10 {
		t.Fatalf("window grew to %d without an RTT sample", got)
	}
}

func TestRecvWindowAutoTuneGrowsBehindLossRepairs(t *testing.T) {
	// A lossy path: the sender fills the window, a packet near its start
	// was lost, and nothing can be consumed until the retransmission
	// arrives 2.5 RTTs after the previous update; then the whole window is
	// consumed at once. The window limits the flow, so it must grow.
	var w RecvWindow
	w.Init(64<<10, 16<<20)
	rtt := 100 * ms
	now := mono.Time(1e9)
	w.OnConsumed(now, 1, rtt) // the first epoch starts
	for range 10 {
		w.OnReceived(w.Limit())
		now = now.Add(5 * rtt / 2)
		w.OnConsumed(now, w.Limit()-w.Consumed(), rtt)
		if _, ok := w.Update(now); !ok {
			t.Fatal("no update after the window was consumed")
		}
	}
	if w.Window() < 16<<20 {
		t.Fatalf("window %d after ten repaired windows, want the 16 MiB cap", w.Window())
	}
	// The same amounts consumed ten RTTs apart: a reader this slow has
	// the window it needs.
	w.Init(64<<10, 16<<20)
	w.OnConsumed(now, 1, rtt)
	for range 10 {
		w.OnReceived(w.Limit())
		now = now.Add(10 * rtt)
		w.OnConsumed(now, w.Limit()-w.Consumed(), rtt)
		w.Update(now)
	}
	if w.Window() != 64<<10 {
		t.Fatalf("window grew to %d for a reader taking ten RTTs per window", w.Window())
	}
}

func TestRecvWindowAutoTuneGrowsOnEachRepairStep(t *testing.T) {
	// Several gaps per window, repaired one after another: consumption
	// moves a quarter window every 0.6 RTT. Each step is an epoch that
	// doubles the window; updating only every half window doubled it on
	// every other step.
	var w RecvWindow
	w.Init(64<<10, 16<<20)
	rtt := 100 * ms
	now := mono.Time(1e9)
	w.OnConsumed(now, 1, rtt)
	for range 8 {
		w.OnReceived(w.Limit())
		now = now.Add(60 * ms)
		w.OnConsumed(now, w.Window()/4, rtt)
		w.Update(now)
	}
	if w.Window() < 8<<20 {
		t.Fatalf("window %d after eight quarter-window steps, want at least 8 MiB", w.Window())
	}
}

func TestRecvWindowAutoTuneStopsAtBDP(t *testing.T) {
	// A reader consuming at 10 MB/s with 20 ms RTT (BDP 200 kB): the window
	// must grow past the BDP but stop below four times it (plus one doubling).
	var w RecvWindow
	w.Init(16<<10, 64<<20)
	const rate = 10e6 // bytes per second
	rtt := 20 * ms
	now := mono.Time(1e9)
	for range 2000 {
		w.OnReceived(w.Limit())
		n := w.Limit() - w.Consumed() - w.Window()/2 + 1
		if w.Limit()-w.Consumed() <= w.Window()/2 {
			n = 1
		}
		now = now.Add(time.Duration(float64(n) / rate * float64(time.Second)))
		w.OnConsumed(now, n, rtt)
		w.Update(now)
	}
	bdp := uint64(rate * rtt.Seconds())
	if w.Window() < bdp || w.Window() > 8*bdp {
		t.Fatalf("window %d, BDP %d: want BDP <= window <= 8*BDP", w.Window(), bdp)
	}
}

func TestRecvWindowEnsureWindowBounded(t *testing.T) {
	var w RecvWindow
	w.Init(100, 1000)
	w.EnsureWindow(50)
	if w.Window() != 100 {
		t.Fatal("EnsureWindow lowered the window")
	}
	w.EnsureWindow(5000)
	if w.Window() != 1000 {
		t.Fatalf("EnsureWindow = %d, want capped at 1000", w.Window())
	}
}

func TestRecvWindowLimitNeverExceedsVarint(t *testing.T) {
	var w RecvWindow
	w.Init(MaxLimit, MaxLimit)
	w.OnReceived(MaxLimit)
	w.OnConsumed(1, MaxLimit, ms)
	if lim, ok := w.Update(2); ok || lim != MaxLimit {
		t.Fatalf("Update = %d, %v at the varint ceiling", lim, ok)
	}
}

func TestRecvWindowDoesNotAllocate(t *testing.T) {
	var w RecvWindow
	w.Init(1000, 1<<20)
	now := mono.Time(1)
	allocs := testing.AllocsPerRun(1000, func() {
		w.OnReceived(w.Limit())
		w.OnConsumed(now, 600, ms)
		w.Update(now)
		now += mono.Time(ms)
	})
	if allocs != 0 {
		t.Fatalf("RecvWindow allocated %v times per run", allocs)
	}
}

func BenchmarkRecvWindow(b *testing.B) {
	b.ReportAllocs()
	var w RecvWindow
	w.Init(64<<10, 16<<20)
	now := mono.Time(1)
	for b.Loop() {
		w.OnReceived(w.Consumed() + 1200)
		w.OnConsumed(now, 1200, ms)
		if w.NeedsUpdate() {
			w.Update(now)
		}
		now += 1000
	}
}
