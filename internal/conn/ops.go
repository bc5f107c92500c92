package conn

import (
	"net/netip"
	"sync"
)

// This file holds the only state of a Conn that other goroutines touch: the
// operation queue (API calls), the receive queue (datagrams from the
// binding's readers) and the published snapshot (getters). Each is guarded
// by its own small mutex; the connection state machine itself has none.

// opKind says what an operation does.
type opKind uint8

const (
	opFunc opKind = iota + 1 // run fn on the connection goroutine
	opShutdown
	opClose
	opStreamStart
	opStreamSend
	opStreamShutdown
	opStreamReceiveComplete
	opStreamReceiveEnabled
	opStreamClose
	opDatagramSend
)

// op is one queued API call. Fields are used according to kind.
type op struct {
	kind  opKind
	s     *Stream
	bufs  [][]byte
	flags uint32
	code  uint64
	n     uint64
	ctx   any
	fn    func(*Conn)
}

// Lanes of the operation queue, drained in this order (MsQuic's highest,
// priority and normal operation lanes).
const (
	laneHigh = iota
	lanePriority
	laneNormal
	numLanes
)

// opQueue is a FIFO per lane. Draining moves the rest of a lane to the
// front of its storage, so a steady stream of operations does not
// allocate.
type opQueue struct {
	mu    sync.Mutex
	lanes [numLanes][]op
}

// push appends o to a lane and reports whether the queue was empty before.
func (q *opQueue) push(lane int, o op) (wasEmpty bool) {
	q.mu.Lock()
	wasEmpty = len(q.lanes[laneHigh])+len(q.lanes[lanePriority])+len(q.lanes[laneNormal]) == 0
	q.lanes[lane] = append(q.lanes[lane], o)
	q.mu.Unlock()
	return wasEmpty
}

// take removes up to max operations, highest lane first, appending them to
// dst.
func (q *opQueue) take(dst []op, max int) []op {
	q.mu.Lock()
	for l := 0; l < numLanes && max > 0; l++ {
		lane := q.lanes[l]
		n := min(len(lane), max)
		dst = append(dst, lane[:n]...)
		clear(lane[:n])
		q.lanes[l] = append(lane[:0], lane[n:]...)
		max -= n
	}
	q.mu.Unlock()
	return dst
}

// takeSends removes the queued sends of s, or with s nil those of every
// started stream, and appends them to dst.
func (q *opQueue) takeSends(dst []op, s *Stream) []op {
	q.mu.Lock()
	for l := range q.lanes {
		kept := q.lanes[l][:0]
		for _, o := range q.lanes[l] {
			if o.kind == opStreamSend && (o.s == s || s == nil && o.s.started) {
				dst = append(dst, o)
				continue
			}
			kept = append(kept, o)
		}
		clear(q.lanes[l][len(kept):])
		q.lanes[l] = kept
	}
	q.mu.Unlock()
	return dst
}

// pending reports whether any operation is queued.
func (q *opQueue) pending() bool {
	q.mu.Lock()
	n := len(q.lanes[laneHigh]) + len(q.lanes[lanePriority]) + len(q.lanes[laneNormal])
	q.mu.Unlock()
	return n > 0
}

// Releaser is the owner of a received datagram's memory.
type Releaser interface{ Release() }

// Datagram is one received UDP datagram handed to the connection.
type Datagram struct {
	Data  []byte
	Peer  netip.AddrPort
	Local netip.AddrPort // the local socket address it arrived on
	ECN   uint8
	// Buf is released once the datagram has been processed; it may be nil.
	Buf Releaser
}

// minRecvQueue is the smallest receive-queue bound (MsQuic).
const minRecvQueue = 10

// recvQueue holds datagrams waiting for the connection goroutine. It drops
// on overflow rather than blocking a socket reader. Queued datagrams are
// q[head:]; taking advances head, so its storage is reused without moving
// the datagrams still queued on every take.
type recvQueue struct {
	mu     sync.Mutex
	q      []Datagram
	head   int
	limit  int
	closed bool
}

// push queues d. It returns false if the queue is full; the caller keeps
// ownership of d.Buf then.
func (r *recvQueue) push(d Datagram) (ok, wasEmpty bool) {
	n, wasEmpty := r.pushBatch([]Datagram{d})
	return n == 1, wasEmpty
}

// pushBatch queues a prefix of ds, as much as the bound allows, and returns
// its length; the caller keeps ownership of the Bufs of the rest.
func (r *recvQueue) pushBatch(ds []Datagram) (n int, wasEmpty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	queued := len(r.q) - r.head
	if r.closed {
		return 0, false
	}
	n = max(min(len(ds), max(r.limit, minRecvQueue)-queued), 0)
	if n == 0 {
		return 0, false
	}
	if r.head > 0 && len(r.q)+n > cap(r.q) {
		copy(r.q, r.q[r.head:])
		clear(r.q[queued:])
		r.q = r.q[:queued]
		r.head = 0
	}
	r.q = append(r.q, ds[:n]...)
	return n, queued == 0
}

// take moves up to max datagrams into dst.
func (r *recvQueue) take(dst []Datagram, max int) []Datagram {
	r.mu.Lock()
	n := min(len(r.q)-r.head, max)
	dst = append(dst, r.q[r.head:r.head+n]...)
	clear(r.q[r.head : r.head+n])
	r.head += n
	if r.head == len(r.q) {
		r.q = r.q[:0]
		r.head = 0
	}
	r.mu.Unlock()
	return dst
}

func (r *recvQueue) pending() bool {
	r.mu.Lock()
	n := len(r.q) - r.head
	r.mu.Unlock()
	return n > 0
}

// drain releases every queued datagram (connection terminated).
func (r *recvQueue) drain() {
	r.mu.Lock()
	q := r.q[r.head:]
	r.q = nil
	r.head = 0
	r.closed = true
	r.mu.Unlock()
	for _, d := range q {
		if d.Buf != nil {
			d.Buf.Release()
		}
	}
}

// snapshot is the published copy of values that getters read.
type snapshot struct {
	mu sync.Mutex
	v  Snapshot
}

// Snapshot is a consistent copy of a connection's observable values.
type Snapshot struct {
	Stats          Stats
	PeerAddr       netip.AddrPort
	LocalAddr      netip.AddrPort
	Version        uint32
	NegotiatedALPN string
	HandshakeDone  bool
	Closed         bool
	// Peer stream limits: how many more streams we may open now.
	AvailableBidi, AvailableUni uint64
	// CanMigrate reports whether a client may start an active migration.
	CanMigrate bool
	// DatagramPeerKnown is set once the peer's transport parameters
	// arrived; DatagramSendEnabled and DatagramMaxSend then say whether and
	// how large DATAGRAM frames may be sent (RFC 9221).
	DatagramPeerKnown   bool
	DatagramSendEnabled bool
	DatagramMaxSend     int
}

// Snapshot returns the values published at the end of the connection's last
// run. It may be called from any goroutine.
func (c *Conn) Snapshot() Snapshot {
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	return c.snap.v
}

func (c *Conn) publish(v Snapshot) {
	c.snap.mu.Lock()
	c.snap.v = v
	c.snap.mu.Unlock()
}

func (r *recvQueue) setLimit(n int) {
	r.mu.Lock()
	r.limit = n
	r.mu.Unlock()
}
