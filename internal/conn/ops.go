package conn

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/hquic/quic/internal/lend"
	"github.com/hquic/quic/internal/mono"
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
	opStreamSetPriority
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
	fn    func(c *Conn, now mono.Time)
}

// Lanes of the operation queue, drained in this order (MsQuic's highest,
// priority and normal operation lanes).
const (
	laneHigh = iota
	lanePriority
	laneNormal
	numLanes
)

// opBuf is storage for queued operations. Lanes and runs borrow it from
// opBufs while they hold operations, so an idle connection holds none and
// a busy one reuses the same few without allocating.
type opBuf struct{ s []op }

var opBufs = lend.Lender[opBuf]{Max: maxLentBufs, New: func() *opBuf { return &opBuf{s: make([]op, 0, 8)} }}

// maxLentBufs bounds the operation and datagram buffers kept free: enough
// for as many connections with queued work at once as a busy server has.
const maxLentBufs = 1024

// putOpBuf returns b, whose operations were all cleared, to the pool.
func putOpBuf(b *opBuf) {
	b.s = b.s[:0]
	opBufs.Put(b)
}

// opQueue is a FIFO per lane; a lane without operations holds no storage.
type opQueue struct {
	mu    sync.Mutex
	lanes [numLanes]*opBuf
}

// len returns the number of queued operations; q.mu is held.
func (q *opQueue) len() int {
	n := 0
	for _, b := range q.lanes {
		if b != nil {
			n += len(b.s)
		}
	}
	return n
}

// push appends o to a lane and reports whether the queue was empty before.
func (q *opQueue) push(lane int, o op) (wasEmpty bool) {
	q.mu.Lock()
	wasEmpty = q.len() == 0
	b := q.lanes[lane]
	if b == nil {
		b = opBufs.Get()
		q.lanes[lane] = b
	}
	b.s = append(b.s, o)
	q.mu.Unlock()
	return wasEmpty
}

// settle returns the storage of lane l to the pool if the lane is empty;
// q.mu is held.
func (q *opQueue) settle(l int) {
	if b := q.lanes[l]; b != nil && len(b.s) == 0 {
		putOpBuf(b)
		q.lanes[l] = nil
	}
}

// take removes up to max operations, highest lane first, appending them to
// dst.
func (q *opQueue) take(dst []op, max int) []op {
	q.mu.Lock()
	for l := 0; l < numLanes && max > 0; l++ {
		b := q.lanes[l]
		if b == nil {
			continue
		}
		n := min(len(b.s), max)
		dst = append(dst, b.s[:n]...)
		rest := copy(b.s, b.s[n:])
		clear(b.s[rest:])
		b.s = b.s[:rest]
		q.settle(l)
		max -= n
	}
	q.mu.Unlock()
	return dst
}

// takeSends removes the queued sends of s, or with s nil those of every
// started stream, and appends them to dst.
func (q *opQueue) takeSends(dst []op, s *Stream) []op {
	q.mu.Lock()
	for l, b := range q.lanes {
		if b == nil {
			continue
		}
		kept := b.s[:0]
		for _, o := range b.s {
			if o.kind == opStreamSend && (o.s == s || s == nil && o.s.started) {
				dst = append(dst, o)
				continue
			}
			kept = append(kept, o)
		}
		clear(b.s[len(kept):])
		b.s = kept
		q.settle(l)
	}
	q.mu.Unlock()
	return dst
}

// pending reports whether any operation is queued.
func (q *opQueue) pending() bool {
	q.mu.Lock()
	n := q.len()
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

// datagramBuf is storage for received datagrams. Receive queues and runs
// borrow it from datagramBufs while they hold datagrams, so an idle
// connection holds none and a busy one reuses the same few without
// allocating.
type datagramBuf struct{ s []Datagram }

var datagramBufs = lend.Lender[datagramBuf]{Max: maxLentBufs, New: func() *datagramBuf { return &datagramBuf{s: make([]Datagram, 0, 8)} }}

// putDatagramBuf returns b, whose datagrams were all cleared, to the pool.
func putDatagramBuf(b *datagramBuf) {
	b.s = b.s[:0]
	datagramBufs.Put(b)
}

// recvQueue holds datagrams waiting for the connection goroutine. It drops
// on overflow rather than blocking a socket reader. Queued datagrams are
// buf.s[head:]; taking advances head, so its storage is reused without
// moving the datagrams still queued on every take. An empty queue holds
// no storage.
type recvQueue struct {
	// dropped counts datagrams refused because the queue was full
	// (RecvDroppedPackets); it is read without the lock.
	dropped atomic.Uint64
	mu      sync.Mutex
	buf     *datagramBuf
	head    int
	limit   int
	closed  bool
}

// queued returns the number of queued datagrams; r.mu is held.
func (r *recvQueue) queued() int {
	if r.buf == nil {
		return 0
	}
	return len(r.buf.s) - r.head
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
	queued := r.queued()
	if r.closed {
		return 0, false
	}
	n = max(min(len(ds), max(r.limit, minRecvQueue)-queued), 0)
	if n < len(ds) {
		r.dropped.Add(uint64(len(ds) - n))
	}
	if n == 0 {
		return 0, false
	}
	if r.buf == nil {
		r.buf = datagramBufs.Get()
	}
	b := r.buf
	if r.head > 0 && len(b.s)+n > cap(b.s) {
		copy(b.s, b.s[r.head:])
		clear(b.s[queued:])
		b.s = b.s[:queued]
		r.head = 0
	}
	b.s = append(b.s, ds[:n]...)
	return n, queued == 0
}

// take moves up to max datagrams into dst.
func (r *recvQueue) take(dst []Datagram, max int) []Datagram {
	r.mu.Lock()
	if b := r.buf; b != nil {
		n := min(len(b.s)-r.head, max)
		dst = append(dst, b.s[r.head:r.head+n]...)
		clear(b.s[r.head : r.head+n])
		r.head += n
		if r.head == len(b.s) {
			putDatagramBuf(b)
			r.buf = nil
			r.head = 0
		}
	}
	r.mu.Unlock()
	return dst
}

func (r *recvQueue) pending() bool {
	r.mu.Lock()
	n := r.queued()
	r.mu.Unlock()
	return n > 0
}

// drain releases every queued datagram (connection terminated).
func (r *recvQueue) drain() {
	r.mu.Lock()
	var q []Datagram
	if r.buf != nil {
		q = r.buf.s[r.head:]
	}
	r.buf = nil
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
	// TLS is the handshake's outcome, nil until it completes.
	TLS           *TLSInfo
	HandshakeDone bool
	Closed        bool
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

// droppedCount returns how many datagrams the full queue refused.
func (r *recvQueue) droppedCount() uint64 { return r.dropped.Load() }

func (r *recvQueue) setLimit(n int) {
	r.mu.Lock()
	r.limit = n
	r.mu.Unlock()
}
