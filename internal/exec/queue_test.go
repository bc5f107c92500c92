package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/hquic/quic/internal/mono"
)

func checkHeap(t *testing.T, th *timerHeap) {
	t.Helper()
	for i, h := range th.h {
		if h.heapIdx != i {
			t.Fatalf("handle at %d records index %d", i, h.heapIdx)
		}
		if i > 0 && th.h[(i-1)/4].deadline > h.deadline {
			t.Fatalf("heap order violated at %d", i)
		}
	}
}

func TestTimerHeapRandomOperations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var th timerHeap
	hs := make([]*Handle, 200)
	for i := range hs {
		hs[i] = &Handle{heapIdx: -1}
	}
	for range 20000 {
		h := hs[rng.IntN(len(hs))]
		switch rng.IntN(4) {
		case 0, 1:
			th.set(h, mono.Time(1+rng.IntN(1000)))
		case 2:
			th.remove(h)
			if h.heapIdx != -1 || h.deadline != 0 {
				t.Fatal("removed handle keeps heap state")
			}
		case 3:
			if th.len() > 0 {
				want := th.min().deadline
				got := th.popMin()
				if got.deadline != 0 || got.heapIdx != -1 {
					t.Fatal("popped handle keeps heap state")
				}
				for _, o := range th.h {
					if o.deadline < want {
						t.Fatalf("popMin returned %d but %d remains", want, o.deadline)
					}
				}
			}
		}
		checkHeap(t, &th)
	}
}

func TestRingFIFOAcrossGrowth(t *testing.T) {
	var r ring
	hs := make([]*Handle, 100)
	for i := range hs {
		hs[i] = &Handle{}
	}
	next := 0
	for i := range 40 { // interleave to wrap the ring before it grows
		r.push(hs[i])
		if i%3 == 0 {
			if got := r.pop(); got != hs[next] {
				t.Fatalf("pop %d out of order", next)
			}
			next++
		}
	}
	for i := 40; i < 100; i++ {
		r.push(hs[i])
	}
	for ; next < 100; next++ {
		if got := r.pop(); got != hs[next] {
			t.Fatalf("pop %d out of order", next)
		}
	}
	if r.pop() != nil {
		t.Fatal("pop on empty ring returned a handle")
	}
}

func TestRingPushPopDoesNotAllocate(t *testing.T) {
	var r ring
	h := &Handle{}
	r.push(h)
	r.pop()
	if n := testing.AllocsPerRun(100, func() {
		r.push(h)
		r.pop()
	}); n != 0 {
		t.Fatalf("push+pop allocates %v times", n)
	}
}
