package endpoint

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/udp"
)

// queuedBinding opens a binding with a sender goroutine and a plain UDP
// peer to send to. Cleanup closes both and checks that no buffer leaked.
func queuedBinding(t *testing.T, queue int) (*Binding, *net.UDPConn) {
	t.Helper()
	b, err := Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"), Config{CIDLen: 8, SendQueue: queue})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	if err := peer.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		peer.Close()
		b.Close()
		if n := b.Outstanding(); n != 0 {
			t.Errorf("%d buffers leaked", n)
		}
	})
	if !b.SendQueued() {
		t.Fatal("binding has no sender goroutine")
	}
	return b, peer
}

// readAll reads n datagrams from peer, failing after a generous delay.
func readAll(t *testing.T, peer *net.UDPConn, n int) [][]byte {
	t.Helper()
	peer.SetReadDeadline(time.Now().Add(20 * time.Second))
	var got [][]byte
	buf := make([]byte, 1<<16)
	for len(got) < n {
		k, _, err := peer.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
		got = append(got, bytes.Clone(buf[:k]))
	}
	return got
}

// numbered fills p with datagram number i of a connection.
func numbered(p []byte, conn, i int) {
	for j := range p {
		p[j] = byte(i + j)
	}
	copy(p, fmt.Sprintf("c%d %05d", conn, i))
}

// TestSendQueueDeliversInOrderPerConnection: two connections' hosts send
// through one sender goroutine, each reusing its buffer as soon as Send
// returns (conn.Host's contract); the peer gets every datagram of each
// connection, intact and in order, whatever the interleaving.
func TestSendQueueDeliversInOrderPerConnection(t *testing.T) {
	b, peer := queuedBinding(t, 2)
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	const perConn, size, seg = 60, 1200, 4 // datagrams, bytes, per GSO batch
	done := make(chan struct{})
	for c := range 2 {
		h := b.NewHost()
		go func() {
			defer func() { done <- struct{}{} }()
			out := make([]byte, seg*size)
			for i := 0; i < perConn; i += seg {
				for k := range seg {
					numbered(out[k*size:(k+1)*size], c, i+k)
				}
				h.Send(&conn.OutBatch{Buf: out, SegSize: size, Addr: to})
			}
		}()
	}
	got := readAll(t, peer, 2*perConn)
	<-done
	<-done
	next := [2]int{}
	want := make([]byte, size)
	for _, d := range got {
		var c, i int
		if _, err := fmt.Sscanf(string(d[:8]), "c%d %05d", &c, &i); err != nil || c < 0 || c > 1 {
			t.Fatalf("unexpected datagram %q", d[:8])
		}
		numbered(want, c, next[c])
		if !bytes.Equal(d, want) {
			t.Fatalf("connection %d: got datagram %q, want %q", c, d[:8], want[:8])
		}
		next[c]++
	}
	if b.WriteErr.Load() != 0 {
		t.Fatalf("%d write errors", b.WriteErr.Load())
	}
}

// TestSendQueueSplitsOversizeBatch: a GSO batch larger than the largest
// buffer class goes out in several buffers of whole segments.
func TestSendQueueSplitsOversizeBatch(t *testing.T) {
	b, peer := queuedBinding(t, 4)
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	const n, size = 70, 1000 // 70,000 bytes
	out := make([]byte, n*size)
	for i := range n {
		numbered(out[i*size:(i+1)*size], 0, i)
	}
	b.NewHost().Send(&conn.OutBatch{Buf: out, SegSize: size, Addr: to})
	got := readAll(t, peer, n)
	for i, d := range got {
		if !bytes.Equal(d, out[i*size:(i+1)*size]) {
			t.Fatalf("datagram %d: got %q", i, d[:8])
		}
	}
	var told []error
	b.cfg.OnWriteError = func(local netip.AddrPort, err error) {
		if local != b.LocalAddr() {
			t.Errorf("write error reported for %v, the binding is on %v", local, b.LocalAddr())
		}
		told = append(told, err)
	}
	b.NewHost().Send(&conn.OutBatch{Buf: make([]byte, udp.GSOClass+1), Addr: to})
	if b.WriteErr.Load() != 1 {
		t.Fatalf("%d write errors after a datagram larger than UDP allows, want 1", b.WriteErr.Load())
	}
	if len(told) != 1 || told[0] != errTooLarge {
		t.Fatalf("OnWriteError told %v, want the oversize datagram", told)
	}
}

// TestSendQueueCloseReleasesAndRefuses: closing the binding writes or
// releases every queued buffer (udp.Sender.Close, whose tests check that
// the goroutine has exited when it returns); a send after Close is a
// counted failure that keeps no buffer.
func TestSendQueueCloseReleasesAndRefuses(t *testing.T) {
	b, peer := queuedBinding(t, 8)
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	h := b.NewHost()
	out := make([]byte, 20*1200)
	for range 50 {
		h.Send(&conn.OutBatch{Buf: out, SegSize: 1200, Addr: to})
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := b.Outstanding(); n != 0 {
		t.Fatalf("%d buffers outstanding after Close", n)
	}
	errs := b.WriteErr.Load()
	h.Send(&conn.OutBatch{Buf: out[:1200], Addr: to})
	if b.WriteErr.Load() != errs+1 || b.Outstanding() != 0 {
		t.Fatalf("send after Close: %d write errors (was %d), %d buffers outstanding", b.WriteErr.Load(), errs, b.Outstanding())
	}
}

// TestSendQueueDoesNotAllocate: in steady state a queued send copies into
// a pooled buffer and allocates nothing.
func TestSendQueueDoesNotAllocate(t *testing.T) {
	b, peer := queuedBinding(t, 16)
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	h := b.NewHost()
	o := &conn.OutBatch{Buf: make([]byte, 10*1200), SegSize: 1200, Addr: to}
	for range 100 {
		h.Send(o)
	}
	if a := testing.AllocsPerRun(200, func() { h.Send(o) }); a != 0 {
		t.Fatalf("Host.Send: %v allocations per batch, want 0", a)
	}
}

// TestSendOnCallerWithoutQueue: without SendQueue the binding has no
// sender goroutine (the LowLatency datapath).
func TestSendOnCallerWithoutQueue(t *testing.T) {
	tb := newTestBinding(t, false)
	if tb.b.SendQueued() || tb.b.sender != nil {
		t.Fatal("binding without SendQueue has a sender goroutine")
	}
}
