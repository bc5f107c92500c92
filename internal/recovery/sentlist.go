package recovery

// sentEntry is one slot of a sentList. p is nil once the packet was
// acknowledged (or dropped); the slot stays until it reaches the front so that
// every packet number from the front to the largest sent keeps a slot.
type sentEntry struct {
	pn int64
	p  *Sent
}

// sentList holds the records of one packet-number space in packet-number
// order. Records leave it from the front; acknowledged records in the middle
// become empty slots. Because every sent packet number gets a slot, a packet
// number between the front and the largest sent that has no slot was never
// sent (it was skipped).
type sentList struct {
	e    []sentEntry
	head int
}

// push appends a record. The caller guarantees p.PN is larger than every
// packet number already in the list.
func (s *sentList) push(p *Sent) {
	if len(s.e) == cap(s.e) && s.head > 0 && s.head >= len(s.e)/4 {
		n := copy(s.e, s.e[s.head:])
		clear(s.e[n:])
		s.e = s.e[:n]
		s.head = 0
	}
	s.e = append(s.e, sentEntry{pn: p.PN, p: p})
}

// live returns the occupied part of the list.
func (s *sentList) live() []sentEntry { return s.e[s.head:] }

// search returns the index (relative to live) of the first slot whose
// packet number is ≥ pn.
func (s *sentList) search(pn int64) int {
	e := s.live()
	lo, hi := 0, len(e)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e[m].pn < pn {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// firstPN returns the packet number of the front slot and whether there is
// one.
func (s *sentList) firstPN() (int64, bool) {
	if s.head == len(s.e) {
		return 0, false
	}
	return s.e[s.head].pn, true
}

// front returns the record at the front (nil for an empty slot) and whether
// the list is non-empty.
func (s *sentList) front() (*Sent, bool) {
	if s.head == len(s.e) {
		return nil, false
	}
	return s.e[s.head].p, true
}

// popFront removes the front slot.
func (s *sentList) popFront() {
	s.e[s.head] = sentEntry{}
	s.head++
	if s.head == len(s.e) {
		s.e = s.e[:0]
		s.head = 0
	}
}

// reset empties the list, keeping its storage.
func (s *sentList) reset() {
	clear(s.e)
	s.e = s.e[:0]
	s.head = 0
}

// maxPooled bounds the free list so that a burst does not pin memory forever.
const maxPooled = 4096

// pool recycles Sent records so that steady-state sending does not allocate.
type pool struct {
	free []*Sent
}

func (pl *pool) get() *Sent {
	n := len(pl.free)
	if n == 0 {
		return &Sent{}
	}
	p := pl.free[n-1]
	pl.free[n-1] = nil
	pl.free = pl.free[:n-1]
	return p
}

func (pl *pool) put(p *Sent) {
	if len(pl.free) >= maxPooled {
		return
	}
	frames := p.Frames[:0]
	*p = Sent{Frames: frames}
	pl.free = append(pl.free, p)
}
