package udp

import (
	"sync"
	"sync/atomic"
)

// Buffer size classes. A Pool hands out buffers of exactly one class so that
// a pooled buffer is never resized.
const (
	// MTUClass holds any datagram of a path up to a 1,500-byte MTU, with
	// room to spare for larger probes.
	MTUClass = 2048
	// GSOClass holds a whole GSO send or GRO receive (a UDP payload is at
	// most 65,527 bytes).
	GSOClass = 64 << 10
)

// Pool recycles datagram buffers of one size class. It is safe for
// concurrent use. Pools of the standard classes draw from storage shared by
// the whole process, so a short-lived socket (a client connection's) reuses
// buffers instead of allocating and zeroing new ones; each Pool still
// counts its own outstanding buffers.
type Pool struct {
	size        int
	p           *sync.Pool
	outstanding atomic.Int64
}

// classPools hold the buffers of MTUClass and GSOClass for every Pool.
var classPools = [2]sync.Pool{
	{New: func() any { return &Buf{arr: make([]byte, MTUClass)} }},
	{New: func() any { return &Buf{arr: make([]byte, GSOClass)} }},
}

// Buf is a pooled buffer. It has exactly one owner at a time: whoever holds
// the *Buf. Ownership moves with the pointer (reader → connection → Release
// after the datagram is processed; builder → sender → Release after the
// send), and every function that accepts a *Buf says whether it takes
// ownership. The owner calls Release exactly once and drops the pointer.
type Buf struct {
	// B has length 0 and capacity Pool.Size when handed out. The owner may
	// reslice it freely; the pool keeps the whole array aside.
	B    []byte
	arr  []byte
	pool *Pool
	live bool
}

// NewPool returns a pool of buffers of size bytes, normally MTUClass or
// GSOClass.
func NewPool(size int) *Pool {
	p := &Pool{size: size}
	switch size {
	case MTUClass:
		p.p = &classPools[0]
	case GSOClass:
		p.p = &classPools[1]
	default:
		p.p = &sync.Pool{New: func() any { return &Buf{arr: make([]byte, size)} }}
	}
	return p
}

// Size returns the capacity of the pool's buffers.
func (p *Pool) Size() int { return p.size }

// Get returns an empty buffer owned by the caller.
func (p *Pool) Get() *Buf {
	b := p.p.Get().(*Buf)
	b.pool = p
	b.live = true
	b.B = b.arr[:0]
	p.outstanding.Add(1)
	return b
}

// Outstanding returns the number of buffers handed out by Get and not yet
// released. Tests use it to detect leaks.
func (p *Pool) Outstanding() int64 { return p.outstanding.Load() }

// Release returns the buffer to its pool. The caller gives up ownership and
// must not touch b or b.B afterwards. Releasing a buffer twice is a
// programming error and panics when detected.
func (b *Buf) Release() {
	if !b.live {
		panic("udp: buffer released twice")
	}
	b.live = false
	b.B = nil
	b.pool.outstanding.Add(-1)
	b.pool.p.Put(b)
}
