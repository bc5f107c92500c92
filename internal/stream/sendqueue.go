package stream

// sendReq is one queued send (one StreamSend call): the stream bytes
// [start, end), held either by reference to the application's buffers or as a
// copy in the stream's send-buffer ring.
type sendReq struct {
	start, end uint64
	bufs       [][]byte // application buffers; nil when copied (own)
	ctx        any
	ownPos     uint64 // ring position of start when own
	own        bool   // data copied into the ring
	fin        bool   // the send carries the FIN
	reported   bool   // completion already reported (buffered sends)
	bi         int    // cursor: index in bufs of the buffer holding bo
	bo         uint64 // cursor: stream offset of bufs[bi]
}

// completion is a finished send waiting for PopCompleted.
type completion struct {
	ctx      any
	canceled bool
}

// sendQueue holds the queued sends in offset order, finished sends waiting to
// be reported, and the ring of buffered (copied) send data. Slices are used as
// FIFO queues whose storage is reused, so steady-state operation does not
// allocate.
type sendQueue struct {
	reqs     []sendReq
	head     int
	done     []completion
	doneHead int
	ring     *chunk // buffered data; logical positions [ringHead, ringTail)
	ringHead uint64
	ringTail uint64
}

// push appends r.
func (q *sendQueue) push(r sendReq) {
	q.reqs = append(q.reqs, r)
}

// front returns the oldest request, or nil.
func (q *sendQueue) front() *sendReq {
	if q.head == len(q.reqs) {
		return nil
	}
	return &q.reqs[q.head]
}

// pop removes the oldest request, releasing its ring bytes.
func (q *sendQueue) pop() {
	r := &q.reqs[q.head]
	if r.own {
		q.ringHead = r.ownPos + (r.end - r.start)
	}
	*r = sendReq{}
	q.head++
	switch {
	case q.head == len(q.reqs):
		q.reqs = q.reqs[:0]
		q.head = 0
	case q.head >= 32 && 2*q.head >= len(q.reqs):
		n := copy(q.reqs, q.reqs[q.head:])
		clear(q.reqs[n:])
		q.reqs = q.reqs[:n]
		q.head = 0
	}
}

// complete queues a completion report.
func (q *sendQueue) complete(ctx any, canceled bool) {
	q.done = append(q.done, completion{ctx, canceled})
}

// popDone returns the oldest completion report.
func (q *sendQueue) popDone() (c completion, ok bool) {
	if q.doneHead == len(q.done) {
		return completion{}, false
	}
	c = q.done[q.doneHead]
	q.done[q.doneHead] = completion{}
	q.doneHead++
	if q.doneHead == len(q.done) {
		q.done = q.done[:0]
		q.doneHead = 0
	}
	return c, true
}

// cancelAll reports every request not yet reported as canceled and drops all
// requests and buffered data.
func (q *sendQueue) cancelAll() {
	for q.front() != nil {
		if r := q.front(); !r.reported {
			q.complete(r.ctx, true)
		}
		q.pop()
	}
	putChunk(q.ring)
	q.ring = nil
	q.ringHead, q.ringTail = 0, 0
}

// buffered returns the number of bytes held in the ring.
func (q *sendQueue) buffered() uint64 { return q.ringTail - q.ringHead }

// copyToRing appends the bytes of bufs (total bytes) to the ring and returns
// the ring position of the first.
func (q *sendQueue) copyToRing(bufs [][]byte, total uint64) uint64 {
	if need := q.buffered() + total; q.ring == nil || need > uint64(len(q.ring.b)) {
		q.growRing(int(need))
	}
	pos := q.ringTail
	for _, b := range bufs {
		ringWrite(q.ring, q.ringTail, b)
		q.ringTail += uint64(len(b))
	}
	return pos
}

// growRing replaces the ring by one of at least need bytes holding the same
// bytes at the same logical positions. The ring is only ever read by
// WriteData, so the old one can go straight back to the pool.
func (q *sendQueue) growRing(need int) {
	old := q.ring
	size := need
	if old != nil {
		size = max(size, 2*len(old.b))
	}
	q.ring = getChunk(size)
	if old == nil {
		return
	}
	for pos := q.ringHead; pos < q.ringTail; {
		i := int(pos & uint64(len(old.b)-1))
		piece := old.b[i:min(len(old.b), i+int(q.ringTail-pos))]
		ringWrite(q.ring, pos, piece)
		pos += uint64(len(piece))
	}
	putChunk(old)
}

// ringWrite copies p into ring c at logical position pos.
func ringWrite(c *chunk, pos uint64, p []byte) {
	i := int(pos & uint64(len(c.b)-1))
	n := copy(c.b[i:], p)
	copy(c.b, p[n:])
}

// ringRead copies from ring c at logical position pos into dst.
func ringRead(c *chunk, pos uint64, dst []byte) {
	i := int(pos & uint64(len(c.b)-1))
	n := copy(dst, c.b[i:])
	copy(dst[n:], c.b)
}

// find returns the index in reqs of the request holding stream offset off, or
// -1.
func (q *sendQueue) find(off uint64) int {
	lo, hi := q.head, len(q.reqs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if q.reqs[m].end <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(q.reqs) || q.reqs[lo].start > off {
		return -1
	}
	return lo
}

// read copies the stream bytes starting at off into dst, crossing request
// boundaries (requests cover contiguous offsets), and returns the number of
// bytes copied.
func (q *sendQueue) read(dst []byte, off uint64) int {
	i := q.find(off)
	if i < 0 {
		return 0
	}
	n := 0
	for ; n < len(dst) && i < len(q.reqs); i++ {
		r := &q.reqs[i]
		if r.start == r.end {
			continue
		}
		n += q.readReq(r, dst[n:], off+uint64(n))
	}
	return n
}

// readReq copies bytes of r starting at stream offset off (inside r) into dst.
func (q *sendQueue) readReq(r *sendReq, dst []byte, off uint64) int {
	n := int(min(uint64(len(dst)), r.end-off))
	dst = dst[:n]
	if r.own {
		ringRead(q.ring, r.ownPos+(off-r.start), dst)
		return n
	}
	if off < r.bo {
		r.bi, r.bo = 0, r.start
	}
	for r.bo+uint64(len(r.bufs[r.bi])) <= off {
		r.bo += uint64(len(r.bufs[r.bi]))
		r.bi++
	}
	bi, bo := r.bi, r.bo
	for c := 0; c < n; {
		c += copy(dst[c:], r.bufs[bi][off+uint64(c)-bo:])
		if c < n {
			bo += uint64(len(r.bufs[bi]))
			bi++
		}
	}
	return n
}
