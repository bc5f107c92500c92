package udp

import "testing"

func TestPoolOutstandingReturnsToZero(t *testing.T) {
	for _, size := range []int{MTUClass, GSOClass} {
		p := NewPool(size)
		bufs := make([]*Buf, 100)
		for i := range bufs {
			bufs[i] = p.Get()
			if len(bufs[i].B) != 0 || cap(bufs[i].B) != size {
				t.Fatalf("Get: len %d cap %d, want 0 and %d", len(bufs[i].B), cap(bufs[i].B), size)
			}
			bufs[i].B = append(bufs[i].B, "data"...)
		}
		if got := p.Outstanding(); got != 100 {
			t.Fatalf("Outstanding = %d after 100 Gets, want 100", got)
		}
		for _, b := range bufs {
			b.Release()
		}
		if got := p.Outstanding(); got != 0 {
			t.Fatalf("Outstanding = %d after releasing all, want 0", got)
		}
	}
}

func TestPoolBufferResetsAfterReslice(t *testing.T) {
	p := NewPool(MTUClass)
	b := p.Get()
	b.B = b.B[:cap(b.B)][100:200] // the owner may reslice freely
	b.Release()
	b = p.Get()
	if len(b.B) != 0 || cap(b.B) != MTUClass {
		t.Fatalf("recycled buffer: len %d cap %d, want 0 and %d", len(b.B), cap(b.B), MTUClass)
	}
	b.Release()
}

func TestPoolDoubleReleasePanics(t *testing.T) {
	p := NewPool(MTUClass)
	b := p.Get()
	b.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("second Release did not panic")
		}
		if got := p.Outstanding(); got != 0 {
			t.Fatalf("Outstanding = %d, want 0", got)
		}
	}()
	b.Release()
}

func TestPoolSteadyStateDoesNotAllocate(t *testing.T) {
	p := NewPool(GSOClass)
	p.Get().Release()
	if n := testing.AllocsPerRun(1000, func() { p.Get().Release() }); n != 0 {
		t.Fatalf("Get+Release allocates %.1f times", n)
	}
}

func TestPoolsOfOneClassCountSeparately(t *testing.T) {
	p1, p2 := NewPool(MTUClass), NewPool(MTUClass)
	a := p1.Get()
	a.Release()
	b := p2.Get()
	c := p1.Get()
	if p1.Outstanding() != 1 || p2.Outstanding() != 1 {
		t.Fatalf("outstanding %d and %d, want 1 and 1", p1.Outstanding(), p2.Outstanding())
	}
	b.Release()
	c.Release()
	if p1.Outstanding() != 0 || p2.Outstanding() != 0 {
		t.Fatalf("outstanding %d and %d after release, want 0 and 0", p1.Outstanding(), p2.Outstanding())
	}
}
