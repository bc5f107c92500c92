package endpoint

import (
	"crypto/rand"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/udp"
	"github.com/hquic/quic/internal/wire"
)

// StatelessLimits bound a library's stateless answers (MsQuic's settings
// of the same names, applied library-wide).
type StatelessLimits struct {
	// WorkerQueue is the most answers waiting on one stateless worker
	// (MaxStatelessOperations).
	WorkerQueue int
	// PerBinding is the most answers of one binding waiting or being
	// written (MaxBindingStatelessOperations).
	PerBinding int
	// Spacing is the least time between two answers to one peer address
	// and port (StatelessOperationExpiration); zero does not space them.
	Spacing time.Duration
}

// statelessBatch is the most answers a stateless worker builds before it
// writes them with one system call.
const statelessBatch = 32

// maxAnswer bounds one answer: a Version Negotiation packet echoing two
// 255-byte connection IDs, or a Retry with a token, is well under it.
const maxAnswer = 1024

// Stateless is a library's set of stateless workers, shared by all its
// bindings: readers queue answers (Version Negotiation, Retry, stateless
// reset) on the worker chosen by the peer's address, and the worker builds
// and writes them in batches, so a flood costs readers only a parse and a
// copy of a few header fields, and its answers cost CPU in proportion to
// the flood, never more than one small packet per triggering datagram.
//
// A worker is a goroutine only while it has answers queued: an idle
// library runs none.
type Stateless struct {
	limits  atomic.Pointer[StatelessLimits]
	recent  atomic.Pointer[recentPeers] // made on first use: 128 KiB a client library never needs
	seed    maphash.Seed
	workers []*statelessWorker
	running sync.WaitGroup
}

// NewStateless returns a set of n stateless workers (at least one) with
// the given limits.
func NewStateless(n int, l StatelessLimits) *Stateless {
	s := &Stateless{seed: maphash.MakeSeed()}
	s.SetLimits(l)
	for range max(n, 1) {
		s.workers = append(s.workers, &statelessWorker{s: s})
	}
	return s
}

// SetLimits replaces the limits; answers already queued stay.
func (s *Stateless) SetLimits(l StatelessLimits) { s.limits.Store(&l) }

// Limits returns the limits in effect.
func (s *Stateless) Limits() StatelessLimits { return *s.limits.Load() }

// recentPeers returns the table of recently answered peers.
func (s *Stateless) recentPeers() *recentPeers {
	if r := s.recent.Load(); r != nil {
		return r
	}
	s.recent.CompareAndSwap(nil, newRecentPeers())
	return s.recent.Load()
}

// Wait returns once no worker goroutine runs.
func (s *Stateless) Wait() { s.running.Wait() }

// push queues op on its peer's worker unless that worker already has
// limit answers waiting.
func (s *Stateless) push(op *statelessOp, limit int) bool {
	a := op.peer.Addr().As16()
	w := s.workers[maphash.Bytes(s.seed, a[:])%uint64(len(s.workers))]
	return w.push(op, limit)
}

// answerKind says what to send.
type answerKind uint8

const (
	answerVersionNegotiation answerKind = iota
	answerRetry
	answerReset
)

// statelessOp is one queued answer: what the reader copied out of the
// triggering datagram, which is released before the answer is built.
type statelessOp struct {
	kind        answerKind
	b           *Binding
	peer, local netip.AddrPort
	version     uint32
	size        int // of the triggering datagram: the answer must be smaller
	dlen, slen  uint8
	cids        [2 * 255]byte // the packet's DCID, then its SCID
}

func (op *statelessOp) setCIDs(dcid, scid []byte) {
	op.dlen = uint8(copy(op.cids[:], dcid))
	op.slen = uint8(copy(op.cids[op.dlen:], scid))
}

func (op *statelessOp) dcid() []byte { return op.cids[:op.dlen] }
func (op *statelessOp) scid() []byte { return op.cids[op.dlen : int(op.dlen)+int(op.slen)] }

// statelessWorker is one queue of answers and, while it is not empty, the
// goroutine draining it.
type statelessWorker struct {
	s *Stateless

	mu      sync.Mutex
	ring    []statelessOp
	head, n int
	running bool

	// Owned by the draining goroutine.
	batch []statelessOp
	out   []byte
	msgs  []udp.Msg
	kinds []answerKind
	ops   []*statelessOp
	scr   answerScratch
}

// answerScratch holds buffers reused while building answers.
type answerScratch struct {
	token, pseudo []byte
	versions      []uint32
}

// push appends op unless limit answers are waiting, and starts the
// draining goroutine if none runs.
func (w *statelessWorker) push(op *statelessOp, limit int) bool {
	w.mu.Lock()
	if w.n >= limit {
		w.mu.Unlock()
		return false
	}
	if w.n == len(w.ring) {
		grown := make([]statelessOp, min(max(2*len(w.ring), 16), limit))
		for i := range w.n {
			grown[i] = w.ring[(w.head+i)%len(w.ring)]
		}
		w.ring, w.head = grown, 0
	}
	w.ring[(w.head+w.n)%len(w.ring)] = *op
	w.n++
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		w.s.running.Add(1)
		go w.drain()
	}
	return true
}

// drain answers queued operations in batches until none is left.
func (w *statelessWorker) drain() {
	defer w.s.running.Done()
	if w.batch == nil {
		w.batch = make([]statelessOp, statelessBatch)
		w.out = make([]byte, 0, statelessBatch*maxAnswer)
	}
	for {
		w.mu.Lock()
		k := min(w.n, statelessBatch)
		if k == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		for i := range k {
			j := (w.head + i) % len(w.ring)
			w.batch[i] = w.ring[j]
			w.ring[j].b = nil // no reference to a closed binding lingers
		}
		w.head = (w.head + k) % len(w.ring)
		w.n -= k
		w.mu.Unlock()
		w.answer(w.batch[:k])
	}
}

// answer builds the answers to ops and writes them, one system call per
// run of answers from one binding.
func (w *statelessWorker) answer(ops []statelessOp) {
	w.out, w.msgs, w.kinds, w.ops = w.out[:0], w.msgs[:0], w.kinds[:0], w.ops[:0]
	for i := range ops {
		op := &ops[i]
		start := len(w.out)
		out := op.b.appendAnswer(w.out, op, &w.scr)
		if len(out)-start >= op.size || len(out)-start > maxAnswer {
			// Never answer with more than the datagram that asked
			// (RFC 9000 §8, §10.3); no answer is that large.
			out = out[:start]
		}
		w.out = out
		if len(out) == start {
			op.b.statelessInFlight.Add(-1)
			continue
		}
		m := udp.Msg{Buf: out[start:], Addr: op.peer}
		if op.local.Addr() != op.b.local.Addr() {
			m.Local = op.local.Addr()
		}
		w.msgs = append(w.msgs, m)
		w.kinds = append(w.kinds, op.kind)
		w.ops = append(w.ops, op)
	}
	for i := 0; i < len(w.msgs); {
		b := w.ops[i].b
		j := i + 1
		for j < len(w.msgs) && w.ops[j].b == b {
			j++
		}
		b.writeAnswers(w.msgs[i:j], w.kinds[i:j])
		for _, op := range w.ops[i:j] {
			op.b.statelessInFlight.Add(-1)
		}
		i = j
	}
	for i := range ops {
		ops[i].b = nil
	}
	clear(w.ops)
	for i := range w.msgs {
		w.msgs[i].Buf = nil
	}
}

// writeAnswers sends msgs, whose kinds are given, and counts what was sent.
func (b *Binding) writeAnswers(msgs []udp.Msg, kinds []answerKind) {
	n, err := b.sock.WriteBatch(msgs)
	if err != nil {
		b.writeFailed(err)
	}
	for _, k := range kinds[:max(n, 0)] {
		switch k {
		case answerVersionNegotiation:
			b.VNSent.Add(1)
		case answerRetry:
			b.RetriesSent.Add(1)
		case answerReset:
			b.Resets.Add(1)
		}
	}
}

// appendAnswer appends the answer to op to dst.
func (b *Binding) appendAnswer(dst []byte, op *statelessOp, scr *answerScratch) []byte {
	switch op.kind {
	case answerVersionNegotiation:
		return b.appendVersionNegotiation(dst, op, scr)
	case answerRetry:
		return b.appendRetry(dst, op, scr)
	case answerReset:
		return b.appendReset(dst, op)
	}
	return dst
}

// appendVersionNegotiation lists our versions, plus a reserved one to
// exercise the peer's handling (RFC 9000 §6.3, §15), echoing the client's
// connection IDs swapped (RFC 8999 §6).
func (b *Binding) appendVersionNegotiation(dst []byte, op *statelessOp, scr *answerScratch) []byte {
	var r [2]byte
	rand.Read(r[:])
	scr.versions = append(append(scr.versions[:0], b.cfg.Versions...), 0x0a0a0a0a|uint32(r[1]&0xf0)<<24)
	return wire.AppendVersionNegotiation(dst, 0x80|r[0], op.scid(), op.dcid(), scr.versions)
}

// appendReset appends a stateless reset for the connection ID in op: a
// short header with random bits, shorter than the packet that drew it,
// ending in the ID's reset token (RFC 9000 §10.3).
func (b *Binding) appendReset(dst []byte, op *statelessOp) []byte {
	tok := b.cfg.ResetKey.Token(op.dcid())
	size := min(op.size-1, 43)
	start := len(dst)
	dst = append(dst, make([]byte, size)...)
	pkt := dst[start:]
	rand.Read(pkt[:size-16])
	pkt[0] = 0x40 | pkt[0]&0x3f // a short header with the fixed bit (§10.3)
	copy(pkt[size-16:], tok[:])
	return dst
}
