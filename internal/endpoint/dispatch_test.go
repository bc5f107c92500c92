package endpoint

import (
	"bytes"
	"crypto/tls"
	"net/netip"
	"testing"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/udp"
	"github.com/hquic/quic/internal/wire"
)

// nopHost is a conn.Host that routes and sends nothing.
type nopHost struct{}

func (nopHost) Send(*conn.OutBatch)       {}
func (nopHost) AddCID([]byte)             {}
func (nopHost) RemoveCID([]byte)          {}
func (nopHost) AddResetToken([16]byte)    {}
func (nopHost) RemoveResetToken([16]byte) {}
func (nopHost) Closed()                   {}

// countingWake counts the wake-ups a connection asks for.
type countingWake struct{ n int }

func (w *countingWake) Wake() { w.n++ }

func TestGROSegmentsQueuedPerConnection(t *testing.T) {
	b := &Binding{cfg: Config{CIDLen: 8}, local: netip.MustParseAddrPort("127.0.0.1:443"),
		pool: udp.NewPool(udp.GSOClass), small: udp.NewPool(udp.MTUClass)}
	b.refs.New = func() any { return &sharedBuf{} }
	b.routes.init()
	cidA, cidB := []byte{1, 1, 1, 1, 1, 1, 1, 1}, []byte{2, 2, 2, 2, 2, 2, 2, 2}
	newConn := func(cid []byte) (*conn.Conn, *countingWake) {
		c := conn.NewClient(conn.Config{Side: conn.Client, Version: wire.Version1, CIDLen: 8,
			TLS: &tls.Config{ServerName: "x"}, ResetKey: token.NewResetKey([32]byte{1}).Token}, nopHost{}, nil)
		w := &countingWake{}
		c.SetScheduler(w)
		b.routes.add(cid, c)
		return c, w
	}
	a, wakeA := newConn(cidA)
	c, wakeB := newConn(cidB)

	const seg = 100
	short := func(cid []byte, n int) []byte {
		p := make([]byte, n)
		p[0] = 0x40
		copy(p[1:], cid)
		return p
	}
	orphan := make([]byte, seg) // a long header of version 0: dropped
	orphan[0] = 0xc0
	buf := b.pool.Get()
	m := udp.Msg{SegSize: seg, Addr: netip.MustParseAddrPort("127.0.0.1:5000")}
	for _, p := range [][]byte{short(cidA, seg), short(cidA, seg), short(cidB, seg), orphan, short(cidA, seg), short(cidA, 40)} {
		buf.B = append(buf.B, p...)
	}
	m.Buf = buf.B
	b.dispatchMsg(&m, buf)
	if wakeA.n != 0 || wakeB.n != 0 {
		t.Errorf("wake-ups before the read was queued: %d and %d", wakeA.n, wakeB.n)
	}
	b.kickAll(false)

	if wakeA.n != 1 || wakeB.n != 1 {
		t.Errorf("wake-ups: %d and %d, want one per connection", wakeA.n, wakeB.n)
	}
	if got := b.Dropped.Load(); got != 1 {
		t.Errorf("dropped %d datagrams, want the orphan only", got)
	}
	if b.pool.Outstanding() != 1 {
		t.Fatalf("%d buffers outstanding before the connections ran, want 1", b.pool.Outstanding())
	}
	now := mono.Time(1)
	a.Run(now)
	c.Run(now)
	if got := a.Snapshot().Stats.RecvTotalBytes; got != 3*seg+40 {
		t.Errorf("connection A received %d bytes, want %d", got, 3*seg+40)
	}
	if got := c.Snapshot().Stats.RecvTotalBytes; got != seg {
		t.Errorf("connection B received %d bytes, want %d", got, seg)
	}
	if n := b.pool.Outstanding(); n != 0 {
		t.Errorf("%d buffers outstanding after every segment was processed", n)
	}
}

func TestShortReadsMoveToSmallBuffers(t *testing.T) {
	b := &Binding{cfg: Config{CIDLen: 8}, local: netip.MustParseAddrPort("127.0.0.1:443"),
		pool: udp.NewPool(udp.GSOClass), small: udp.NewPool(udp.MTUClass)}
	b.refs.New = func() any { return &sharedBuf{} }
	b.routes.init()
	cid := []byte{3, 3, 3, 3, 3, 3, 3, 3}
	c := conn.NewClient(conn.Config{Side: conn.Client, Version: wire.Version1, CIDLen: 8,
		TLS: &tls.Config{ServerName: "x"}, ResetKey: token.NewResetKey([32]byte{1}).Token}, nopHost{}, nil)
	c.SetScheduler(&countingWake{})
	b.routes.add(cid, c)
	dgram := func(n int) []byte {
		p := make([]byte, n)
		p[0] = 0x40
		copy(p[1:], cid)
		return p
	}
	for _, tc := range []struct {
		name   string
		seg    int
		data   []byte
		copied bool
	}{
		{"lone datagram", 0, dgram(1200), true},
		{"two-segment GRO read", 1200, append(dgram(1200), dgram(700)...), true},
		{"long GRO read", 1200, bytes.Repeat(dgram(1200), 8), false},
		{"datagram larger than a small buffer", 0, dgram(3000), false},
	} {
		m := udp.Msg{Buf: tc.data, SegSize: tc.seg, Addr: netip.MustParseAddrPort("127.0.0.1:5000")}
		if got := b.copyable(&m); got != tc.copied {
			t.Errorf("%s: copyable %v, want %v", tc.name, got, tc.copied)
		}
		if !tc.copied {
			continue
		}
		before := c.Snapshot().Stats.RecvTotalBytes
		b.dispatchCopies(&m)
		if b.pool.Outstanding() != 0 {
			t.Errorf("%s: a GSO-class buffer is held", tc.name)
		}
		c.Run(mono.Time(1))
		if got := c.Snapshot().Stats.RecvTotalBytes - before; got != uint64(len(tc.data)) {
			t.Errorf("%s: connection received %d bytes, want %d", tc.name, got, len(tc.data))
		}
		if n := b.Outstanding(); n != 0 {
			t.Errorf("%s: %d buffers outstanding after processing", tc.name, n)
		}
	}
}
