package exec

import (
	"github.com/hquic/quic/internal/mono"
)

// ring is a growable FIFO of handles. Pushing and popping do not allocate
// once the ring has grown to the worker's peak ready-list length.
type ring struct {
	buf  []*Handle
	head int
	n    int
}

func (r *ring) push(h *Handle) {
	if r.n == len(r.buf) {
		nb := make([]*Handle, max(2*len(r.buf), 16))
		for i := range r.n {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = h
	r.n++
}

// pop removes and returns the oldest handle, or nil if the ring is empty.
func (r *ring) pop() *Handle {
	if r.n == 0 {
		return nil
	}
	h := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return h
}

// timerHeap is a 4-ary min-heap of handles keyed on Handle.deadline. Each
// handle stores its index, so moving or removing one is O(log n). A 4-ary
// heap is shallower than a binary one and its children share cache lines.
type timerHeap struct {
	h []*Handle
}

func (t *timerHeap) len() int { return len(t.h) }

// min returns the handle with the earliest deadline; the heap must not be
// empty.
func (t *timerHeap) min() *Handle { return t.h[0] }

// set inserts h with deadline d, or moves it there if present.
func (t *timerHeap) set(h *Handle, d mono.Time) {
	if h.heapIdx < 0 {
		h.deadline = d
		h.heapIdx = len(t.h)
		t.h = append(t.h, h)
		t.up(h.heapIdx)
		return
	}
	old := h.deadline
	h.deadline = d
	if d < old {
		t.up(h.heapIdx)
	} else {
		t.down(h.heapIdx)
	}
}

// remove takes h out of the heap if present.
func (t *timerHeap) remove(h *Handle) {
	i := h.heapIdx
	if i < 0 {
		return
	}
	last := len(t.h) - 1
	if i != last {
		t.swap(i, last)
	}
	t.h[last] = nil
	t.h = t.h[:last]
	h.heapIdx = -1
	h.deadline = 0
	if i != last {
		t.down(i)
		t.up(i)
	}
}

// popMin removes and returns the earliest handle; the heap must not be empty.
func (t *timerHeap) popMin() *Handle {
	h := t.h[0]
	t.remove(h)
	return h
}

func (t *timerHeap) swap(i, j int) {
	t.h[i], t.h[j] = t.h[j], t.h[i]
	t.h[i].heapIdx = i
	t.h[j].heapIdx = j
}

func (t *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 4
		if t.h[p].deadline <= t.h[i].deadline {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *timerHeap) down(i int) {
	n := len(t.h)
	for {
		least := i
		first := 4*i + 1
		for c := first; c < first+4 && c < n; c++ {
			if t.h[c].deadline < t.h[least].deadline {
				least = c
			}
		}
		if least == i {
			return
		}
		t.swap(i, least)
		i = least
	}
}
