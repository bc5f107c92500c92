// Package lend keeps storage that goroutines borrow only while they use it
// and share between them: internal/conn lends send scratch for one flush,
// and operation and datagram buffers while a queue or a run holds entries,
// so an idle connection holds none. The lender's lock guards only its free
// list, shared by every connection; no connection state is behind it.
package lend

import "sync"

// A Lender lends items of type T. The zero value is not usable: set Max and
// New.
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
// At most Max items are kept; what a burst returns beyond that is left to
// the collector, so the storage kept stays bounded by the largest number
// lent at once or by Max, whichever is smaller.
type Lender[T any] struct {
	Max int       // most free items kept
	New func() *T // makes an item when none is free

	mu   sync.Mutex
	free []*T
}

// Get returns a free item, or a new one if none is free.
func (l *Lender[T]) Get() *T {
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		x := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		l.mu.Unlock()
		return x
	}
	l.mu.Unlock()
	return l.New()
}

// Put makes x free again. The caller must hold no reference to it.
func (l *Lender[T]) Put(x *T) {
	l.mu.Lock()
	if len(l.free) < l.Max {
		l.free = append(l.free, x)
	}
	l.mu.Unlock()
}
