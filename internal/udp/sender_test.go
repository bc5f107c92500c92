package udp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
)

// gateConn is a Conn whose writes record their payloads and, while the
// gate is shut, block until it opens or the conn is closed.
type gateConn struct {
	mu     sync.Mutex
	cond   sync.Cond
	shut   bool
	closed bool
	inside int // WriteBatch calls waiting at the gate
	calls  int
	got    [][]byte
}

func newGateConn(shut bool) *gateConn {
	g := &gateConn{shut: shut}
	g.cond.L = &g.mu
	return g
}

func (g *gateConn) WriteBatch(msgs []Msg) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	g.inside++
	g.cond.Broadcast()
	for g.shut && !g.closed {
		g.cond.Wait()
	}
	g.inside--
	if g.closed {
		return 0, net.ErrClosed
	}
	for i, m := range msgs {
		if !m.Addr.IsValid() {
			return i, errNoAddr
		}
		g.got = append(g.got, bytes.Clone(m.Buf))
	}
	return len(msgs), nil
}

// open lets blocked and future writes through.
func (g *gateConn) open() {
	g.mu.Lock()
	g.shut = false
	g.mu.Unlock()
	g.cond.Broadcast()
}

// waitInside waits until a write is blocked at the gate.
func (g *gateConn) waitInside() {
	g.mu.Lock()
	for g.inside == 0 {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func (g *gateConn) written() [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got
}

func (g *gateConn) ReadBatch([]Msg) (int, error) { return 0, net.ErrClosed }
func (g *gateConn) LocalAddr() netip.AddrPort    { return netip.AddrPort{} }
func (g *gateConn) Capabilities() Capabilities   { return Capabilities{MaxSegments: 1} }
func (g *gateConn) Stats() Stats                 { return Stats{} }
func (g *gateConn) Close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cond.Broadcast()
	return nil
}

var somewhere = netip.MustParseAddrPort("127.0.0.1:9")

// queue sends payload(i, size) through s in a buffer of p.
func queue(t testing.TB, s *Sender, p *Pool, i, size int, to netip.AddrPort) bool {
	t.Helper()
	buf := p.Get()
	buf.B = append(buf.B, payload(i, size)...)
	return s.Send(Msg{Buf: buf.B, Addr: to}, buf)
}

// waitBlocked waits until n producers are blocked in Send.
func waitBlocked(s *Sender, n int) {
	for {
		s.mu.Lock()
		b := s.blocked
		s.mu.Unlock()
		if b == n {
			return
		}
		runtime.Gosched()
	}
}

func TestSenderDeliversInOrderOverLoopback(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Options{})
	b := listen(t, "udp4", "127.0.0.1:0", Options{})
	p := NewPool(MTUClass)
	s := NewSender(a, 4, func(err error) { t.Errorf("write failed: %v", err) })
	const n = 48 // well below the receive buffer, so none is dropped
	var want [][]byte
	done := make(chan []dgram)
	go func() {
		got, _ := readN(t, b, n, MTUClass)
		done <- got
	}()
	for i := range n {
		want = append(want, payload(i, 100+i))
		if !queue(t, s, p, i, 100+i, target(b, lo4)) {
			t.Fatal("Send refused before Close")
		}
	}
	got := <-done
	s.Close()
	wantData(t, got, want)
	if n := p.Outstanding(); n != 0 {
		t.Fatalf("%d buffers not released", n)
	}
}

func TestSenderBlocksWhenFullAndLosesNothing(t *testing.T) {
	g := newGateConn(true)
	p := NewPool(MTUClass)
	s := NewSender(g, 2, nil)
	defer s.Close()
	queue(t, s, p, 0, 10, somewhere)
	g.waitInside() // the goroutine holds datagram 0 at the gate
	queue(t, s, p, 1, 10, somewhere)
	queue(t, s, p, 2, 10, somewhere) // the queue is full now
	s.mu.Lock()
	queued := s.n
	s.mu.Unlock()
	if queued != 2 {
		t.Fatalf("%d queued, want 2", queued)
	}
	sent := make(chan bool)
	go func() { sent <- queue(t, s, p, 3, 10, somewhere) }()
	waitBlocked(s, 1)
	select {
	case <-sent:
		t.Fatal("Send returned while the queue was full")
	default:
	}
	g.open()
	if !<-sent {
		t.Fatal("blocked Send was refused")
	}
	s.Close()
	var want [][]byte
	for i := range 4 {
		want = append(want, payload(i, 10))
	}
	if got := g.written(); len(got) != 4 || !bytes.Equal(bytes.Join(got, nil), bytes.Join(want, nil)) {
		t.Fatalf("written %q, want %q", got, want)
	}
	if n := p.Outstanding(); n != 0 {
		t.Fatalf("%d buffers not released", n)
	}
}

func TestSenderBatchesWhatQueuedMeanwhile(t *testing.T) {
	g := newGateConn(true)
	p := NewPool(MTUClass)
	s := NewSender(g, 8, nil)
	queue(t, s, p, 0, 10, somewhere)
	g.waitInside()
	for i := 1; i <= 5; i++ {
		queue(t, s, p, i, 10, somewhere)
	}
	g.open()
	s.Close()
	if len(g.written()) != 6 || g.calls != 2 {
		t.Fatalf("%d datagrams in %d writes, want 6 in 2", len(g.written()), g.calls)
	}
}

func TestSenderCloseWritesQueuedThenExits(t *testing.T) {
	g := newGateConn(true)
	p := NewPool(GSOClass)
	s := NewSender(g, 4, nil)
	for i := range 3 {
		queue(t, s, p, i, 1000, somewhere)
	}
	g.waitInside()
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	g.open()
	<-closed
	select {
	case <-s.done:
	default:
		t.Fatal("Close returned before the goroutine exited")
	}
	if n := len(g.written()); n != 3 {
		t.Fatalf("%d of 3 queued datagrams written", n)
	}
	if n := p.Outstanding(); n != 0 {
		t.Fatalf("%d buffers not released", n)
	}
	if queue(t, s, p, 9, 10, somewhere) {
		t.Fatal("Send accepted after Close")
	}
	if n := p.Outstanding(); n != 0 {
		t.Fatalf("Send after Close kept its buffer (%d outstanding)", n)
	}
	s.Close() // idempotent
}

func TestSenderReleasesQueuedWhenSocketClosed(t *testing.T) {
	g := newGateConn(true)
	p := NewPool(MTUClass)
	var mu sync.Mutex
	var errs []error
	s := NewSender(g, 2, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	queue(t, s, p, 0, 10, somewhere)
	g.waitInside()
	queue(t, s, p, 1, 10, somewhere)
	queue(t, s, p, 2, 10, somewhere)
	blocked := make(chan bool)
	go func() { blocked <- queue(t, s, p, 3, 10, somewhere) }()
	waitBlocked(s, 1)
	g.Close() // the socket goes first: nothing more can be written
	s.Close()
	// Datagram 3 either got room before Close (and failed like the
	// others) or was refused by Close; it was released either way.
	accepted := <-blocked
	want := 3
	if accepted {
		want = 4
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != want {
		t.Fatalf("%d write errors, want %d", len(errs), want)
	}
	for _, err := range errs {
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("error %v, want net.ErrClosed", err)
		}
	}
	if n := p.Outstanding(); n != 0 {
		t.Fatalf("%d buffers not released", n)
	}
}

func TestSenderSkipsFailedDatagram(t *testing.T) {
	g := newGateConn(true)
	p := NewPool(MTUClass)
	var failed int
	s := NewSender(g, 4, func(error) { failed++ })
	queue(t, s, p, 0, 10, somewhere)
	g.waitInside()
	queue(t, s, p, 1, 10, somewhere)
	queue(t, s, p, 2, 10, netip.AddrPort{}) // no destination
	queue(t, s, p, 3, 10, somewhere)
	g.open()
	s.Close()
	got := g.written()
	if failed != 1 || len(got) != 3 || !bytes.Equal(got[2], payload(3, 10)) {
		t.Fatalf("%d failed, written %q; want 1 failed and 0, 1, 3 written", failed, got)
	}
	if n := p.Outstanding(); n != 0 {
		t.Fatalf("%d buffers not released", n)
	}
}

func TestSenderSteadyStateDoesNotAllocate(t *testing.T) {
	p := NewPool(MTUClass)
	s := NewSender(discardConn{newGateConn(false)}, 16, nil)
	defer s.Close()
	data := payload(1, 1200)
	send := func() {
		buf := p.Get()
		buf.B = append(buf.B, data...)
		s.Send(Msg{Buf: buf.B, Addr: somewhere}, buf)
	}
	for range 100 {
		send()
	}
	if a := testing.AllocsPerRun(1000, send); a != 0 {
		t.Fatalf("Send: %v allocations per datagram, want 0", a)
	}
}

// discardConn writes nothing anywhere and keeps no record.
type discardConn struct{ *gateConn }

func (discardConn) WriteBatch(msgs []Msg) (int, error) { return len(msgs), nil }

// BenchmarkSenderSend measures the hand-off alone: a pooled copy of a
// 1,200-byte datagram queued to a Sender whose writes cost nothing.
func BenchmarkSenderSend(b *testing.B) {
	p := NewPool(MTUClass)
	s := NewSender(discardConn{newGateConn(false)}, 16, nil)
	defer s.Close()
	data := payload(1, 1200)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		buf := p.Get()
		buf.B = append(buf.B, data...)
		s.Send(Msg{Buf: buf.B, Addr: somewhere}, buf)
	}
}
