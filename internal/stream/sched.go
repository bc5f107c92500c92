package stream

// Scheme selects how streams of equal priority share the connection
// (MsQuic QUIC_STREAM_SCHEDULING_SCHEME).
type Scheme uint8

// Scheduling schemes, numbered as in MsQuic.
const (
	// SchemeFIFO serves streams of equal priority in the order they became
	// ready: a stream keeps its place until it has nothing left to send.
	// MsQuic's default.
	SchemeFIFO Scheme = 0
	// SchemeRoundRobin moves a stream behind the other streams of its
	// priority each time it is rotated (after each packet it fills).
	SchemeRoundRobin Scheme = 1
)

// DefaultPriority is MsQuic's default stream priority (STREAM_PRIORITY,
// 0 lowest .. 0xFFFF highest).
const DefaultPriority = 0x7FFF

// Entry is a stream in a Set: the caller's per-stream value plus the Set's
// bookkeeping (ID, priority, scheduler links). Entries are owned and recycled
// by their Set; do not keep one after Set.Remove.
type Entry[S any] struct {
	// Stream is the caller's value for the stream (typically a pointer to
	// the connection's stream struct holding SendState and RecvState). The
	// Set never reads it.
	Stream S

	id     ID
	prio   uint16
	queued bool
	prev   *Entry[S]
	next   *Entry[S]
}

// ID returns the stream ID.
func (e *Entry[S]) ID() ID { return e.id }

// Priority returns the send priority (higher goes first).
func (e *Entry[S]) Priority() uint16 { return e.prio }

// Scheduled reports whether the entry is in the send queue.
func (e *Entry[S]) Scheduled() bool { return e.queued }

// level is the circular list of scheduled entries of one priority.
type level[S any] struct {
	prio uint16
	head *Entry[S]
}

// scheduler orders the streams that have something to send: by priority,
// highest first, then FIFO or round-robin. levels holds one circular doubly
// linked list per priority in use, sorted by priority, highest first.
// Insertion, removal and rotation are O(log p) for p distinct priorities in
// use plus, when a priority appears or disappears, a copy of the p level
// headers; Front is O(1). Nothing allocates once levels has grown to the
// number of priorities in use.
type scheduler[S any] struct {
	levels []level[S]
	scheme Scheme
	n      int
}

// search returns the index of the first level whose priority is <= prio.
func (q *scheduler[S]) search(prio uint16) int {
	lo, hi := 0, len(q.levels)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if q.levels[m].prio > prio {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (q *scheduler[S]) push(e *Entry[S]) {
	if e.queued {
		return
	}
	e.queued = true
	q.n++
	i := q.search(e.prio)
	if i == len(q.levels) || q.levels[i].prio != e.prio {
		q.levels = append(q.levels, level[S]{})
		copy(q.levels[i+1:], q.levels[i:])
		q.levels[i] = level[S]{prio: e.prio, head: e}
		e.prev, e.next = e, e
		return
	}
	h := q.levels[i].head
	e.prev, e.next = h.prev, h
	h.prev.next = e
	h.prev = e
}

func (q *scheduler[S]) remove(e *Entry[S]) {
	if !e.queued {
		return
	}
	e.queued = false
	q.n--
	i := q.search(e.prio)
	if e.next == e {
		copy(q.levels[i:], q.levels[i+1:])
		q.levels[len(q.levels)-1] = level[S]{}
		q.levels = q.levels[:len(q.levels)-1]
	} else {
		e.prev.next = e.next
		e.next.prev = e.prev
		if q.levels[i].head == e {
			q.levels[i].head = e.next
		}
	}
	e.prev, e.next = nil, nil
}

func (q *scheduler[S]) front() *Entry[S] {
	if len(q.levels) == 0 {
		return nil
	}
	return q.levels[0].head
}

func (q *scheduler[S]) after(e *Entry[S]) *Entry[S] {
	if !e.queued {
		return nil
	}
	i := q.search(e.prio)
	if e.next != q.levels[i].head {
		return e.next
	}
	if i+1 < len(q.levels) {
		return q.levels[i+1].head
	}
	return nil
}

func (q *scheduler[S]) rotate(e *Entry[S]) {
	if !e.queued || q.scheme != SchemeRoundRobin {
		return
	}
	i := q.search(e.prio)
	if q.levels[i].head == e {
		q.levels[i].head = e.next
		return
	}
	q.remove(e)
	q.push(e)
}

// Schedule puts e in the send queue, behind the scheduled entries of its
// priority, if it is not already there. Call it whenever the stream gets
// something to send.
func (s *Set[S]) Schedule(e *Entry[S]) { s.sched.push(e) }

// Unschedule takes e out of the send queue. Call it when the stream has
// nothing it can send.
func (s *Set[S]) Unschedule(e *Entry[S]) { s.sched.remove(e) }

// Front returns the entry that should send next: the first of the highest
// priority, or nil when the queue is empty.
func (s *Set[S]) Front() *Entry[S] { return s.sched.front() }

// Next returns the scheduled entry after e in send order (to skip a stream
// that cannot send right now), or nil.
func (s *Set[S]) Next(e *Entry[S]) *Entry[S] { return s.sched.after(e) }

// Rotate is called after e filled a packet and still has data: with
// SchemeRoundRobin it moves behind the other entries of its priority; with
// SchemeFIFO it keeps its place.
func (s *Set[S]) Rotate(e *Entry[S]) { s.sched.rotate(e) }

// SetPriority changes e's priority (MsQuic STREAM_PRIORITY); a scheduled
// entry moves to the back of its new priority.
func (s *Set[S]) SetPriority(e *Entry[S], prio uint16) {
	if e.prio == prio {
		return
	}
	if e.queued {
		s.sched.remove(e)
		e.prio = prio
		s.sched.push(e)
		return
	}
	e.prio = prio
}

// SetScheme selects the scheduling scheme for equal priorities.
func (s *Set[S]) SetScheme(scheme Scheme) { s.sched.scheme = scheme }

// ScheduledLen returns the number of entries in the send queue.
func (s *Set[S]) ScheduledLen() int { return s.sched.n }
