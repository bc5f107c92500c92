package conn

import "sync"

// A lender keeps storage that connections borrow only while they use it:
// send scratch for one flush, operation and datagram buffers while a queue
// or a run holds entries. An idle connection therefore holds none.
//
// It replaces sync.Pool here because sync.Pool does not make reuse
// certain: an item put back on one processor's private slot cannot be got
// from another, so a goroutine that the scheduler moves to another
// processor allocates afresh, and every garbage collection empties the
// pool. Either made a steady transfer allocate (up to a 66 KiB send
// buffer each time) whenever the machine was busy enough to move its
// goroutines. A lender reuses an item whenever one is free, whatever the
// processor or the collector did.
//
// At most max items are kept; what a burst returns beyond that is left to
// the collector, so the storage kept stays bounded by the largest number
// lent at once or by max, whichever is smaller.
type lender[T any] struct {
	mu   sync.Mutex
	free []*T
	max  int
	new  func() *T
}

// get returns a free item, or a new one if none is free.
func (l *lender[T]) get() *T {
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		x := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return x
	}
	l.mu.Unlock()
	return l.new()
}

// put makes x free again. The caller must hold no reference to it.
func (l *lender[T]) put(x *T) {
	l.mu.Lock()
	if len(l.free) < l.max {
		l.free = append(l.free, x)
	}
	l.mu.Unlock()
}
