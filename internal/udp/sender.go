package udp

import (
	"errors"
	"net"
	"sync"
)

// Sender writes datagrams on a goroutine of its own, so that whoever
// produces them (a connection's worker building and encrypting its next
// batch) does not wait for the system call of the previous one. It is the
// send half of MsQuic's MaxThroughput datapath.
//
// Producers queue messages with Send, which takes ownership of the pooled
// buffer behind each one; the goroutine takes everything queued at once,
// writes it with one WriteBatch (so batches of several producers share a
// sendmmsg) and releases the buffers. The queue is bounded: Send blocks
// while it is full, so nothing is dropped for lack of room. Messages of one
// producer go out in the order it queued them.
//
// Steady-state Send and the writes do not allocate: the queue is a ring
// allocated once and the buffers come from a Pool.
type Sender struct {
	c       Conn
	onError func(error)

	mu      sync.Mutex
	ring    []sendItem // queued messages, ring[head] first
	head    int
	n       int
	closed  bool
	idle    bool      // the goroutine waits on ready
	blocked int       // producers waiting on room
	ready   sync.Cond // signalled when a message is queued or Close is called
	room    sync.Cond // broadcast when the goroutine empties the ring

	out  []Msg  // the goroutine's write scratch
	bufs []*Buf // buffers of out, released after the write
	done chan struct{}
}

// sendItem is one queued message and the buffer it owns.
type sendItem struct {
	m   Msg
	buf *Buf
}

// NewSender starts a Sender writing to c with room for queue messages
// (at least 1). onError, if set, is called on the Sender's goroutine once
// for every message that could not be written, with the error; the
// message is dropped as a network loss would drop it. The Sender does not
// close c.
func NewSender(c Conn, queue int, onError func(error)) *Sender {
	queue = max(queue, 1)
	s := &Sender{
		c:       c,
		onError: onError,
		ring:    make([]sendItem, queue),
		out:     make([]Msg, queue),
		bufs:    make([]*Buf, queue),
		done:    make(chan struct{}),
	}
	s.ready.L = &s.mu
	s.room.L = &s.mu
	go s.loop()
	return s
}

// Send queues m and takes ownership of buf, the pooled buffer m.Buf points
// into (nil if m.Buf is not pooled); buf is released once m has been
// written. Send blocks while the queue is full. After Close it releases
// buf at once and returns false.
func (s *Sender) Send(m Msg, buf *Buf) bool {
	s.mu.Lock()
	for s.n == len(s.ring) && !s.closed {
		s.blocked++
		s.room.Wait()
		s.blocked--
	}
	if s.closed {
		s.mu.Unlock()
		if buf != nil {
			buf.Release()
		}
		return false
	}
	s.ring[(s.head+s.n)%len(s.ring)] = sendItem{m: m, buf: buf}
	s.n++
	wake := s.idle
	s.idle = false
	s.mu.Unlock()
	if wake {
		s.ready.Signal()
	}
	return true
}

// Close stops accepting messages, lets the goroutine write what is queued
// and waits for it to exit. Producers blocked in Send return false. Close
// is idempotent. If c is closed first, what is still queued is released
// unwritten (and reported to onError).
func (s *Sender) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.ready.Broadcast()
	s.room.Broadcast()
	<-s.done
}

// loop is the Sender's goroutine: it takes the whole queue, writes it and
// releases the buffers, until Close and the queue is empty.
func (s *Sender) loop() {
	defer close(s.done)
	for {
		s.mu.Lock()
		for s.n == 0 && !s.closed {
			s.idle = true
			s.ready.Wait()
		}
		s.idle = false
		k := s.n
		if k == 0 {
			s.mu.Unlock()
			return
		}
		for i := range k {
			it := &s.ring[(s.head+i)%len(s.ring)]
			s.out[i], s.bufs[i] = it.m, it.buf
			*it = sendItem{}
		}
		s.head, s.n = 0, 0
		wake := s.blocked > 0
		s.mu.Unlock()
		if wake {
			s.room.Broadcast()
		}
		s.write(s.out[:k])
		for i := range k {
			if s.bufs[i] != nil {
				s.bufs[i].Release()
			}
			s.out[i], s.bufs[i] = Msg{}, nil
		}
	}
}

// write sends msgs, skipping a message that fails so that one bad
// destination does not hold back the others; once the socket is closed
// the rest are dropped.
func (s *Sender) write(msgs []Msg) {
	for len(msgs) > 0 {
		n, err := s.c.WriteBatch(msgs)
		if err == nil {
			return
		}
		n = min(n, len(msgs)-1)
		failed := 1
		if errors.Is(err, net.ErrClosed) {
			failed = len(msgs) - n
		}
		if s.onError != nil {
			for range failed {
				s.onError(err)
			}
		}
		msgs = msgs[n+failed:]
	}
}
