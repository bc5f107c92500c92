package udp

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	lo4 = netip.MustParseAddr("127.0.0.1")
	lo6 = netip.MustParseAddr("::1")
)

// listen opens a Conn closed at the end of the test; if the address family
// is not available it skips the test.
func listen(t testing.TB, network, addr string, opts Options) Conn {
	t.Helper()
	c, err := Listen(network, netip.MustParseAddrPort(addr), opts)
	if err != nil {
		if network == "udp6" || netip.MustParseAddrPort(addr).Addr().Is6() {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Fatalf("Listen(%s, %s): %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// watchdog closes c if the test is still waiting on it after a generous
// delay, so a lost datagram fails the test instead of hanging it.
func watchdog(t testing.TB, c Conn) {
	t.Helper()
	tm := time.AfterFunc(20*time.Second, func() { c.Close() })
	t.Cleanup(func() { tm.Stop() })
}

// target is where to send to reach c from a peer on loopback.
func target(c Conn, lo netip.Addr) netip.AddrPort {
	return netip.AddrPortFrom(lo, c.LocalAddr().Port())
}

// dgram is one received datagram, GRO batches split.
type dgram struct {
	data  []byte
	from  netip.AddrPort
	local netip.Addr
	ecn   uint8
	gro   bool // arrived inside a multi-segment GRO batch
}

func (d dgram) String() string {
	return fmt.Sprintf("%d bytes %q... from %v local %v ecn %d gro %v", len(d.data), d.data[:min(8, len(d.data))], d.from, d.local, d.ecn, d.gro)
}

// readN reads until n datagrams have arrived on c, into buffers of bufSize
// bytes. It also returns the number of Msgs they came in.
func readN(t testing.TB, c Conn, n, bufSize int) ([]dgram, int) {
	t.Helper()
	watchdog(t, c)
	msgs := make([]Msg, 64)
	for i := range msgs {
		msgs[i].Buf = make([]byte, bufSize)
	}
	var out []dgram
	nmsgs := 0
	for len(out) < n {
		k, err := c.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d datagrams: %v", len(out), n, err)
		}
		nmsgs += k
		for _, m := range msgs[:k] {
			seg := m.SegSize
			if seg == 0 {
				seg = max(len(m.Buf), 1)
			}
			for b := m.Buf; ; b = b[seg:] {
				p := b[:min(seg, len(b))]
				out = append(out, dgram{data: bytes.Clone(p), from: m.Addr, local: m.Local, ecn: m.ECN, gro: m.SegSize > 0})
				if len(b) <= seg {
					break
				}
			}
		}
	}
	if len(out) > n {
		t.Fatalf("got %d datagrams, want %d", len(out), n)
	}
	return out, nmsgs
}

// payload returns size bytes identifying datagram i.
func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	if size >= 4 {
		copy(b, fmt.Sprintf("%04d", i%10000))
	}
	return b
}

// segmented returns count datagrams of payload, each seg bytes except a last
// one of last bytes (if last > 0), as one GSO buffer and as the separate
// datagrams the receiver should see, numbered from first.
func segmented(first, count, seg, last int) ([]byte, [][]byte) {
	var buf []byte
	var want [][]byte
	for i := range count {
		p := payload(first+i, seg)
		buf = append(buf, p...)
		want = append(want, p)
	}
	if last > 0 {
		p := payload(first+count, last)
		buf = append(buf, p...)
		want = append(want, p)
	}
	return buf, want
}

// sendAll writes msgs with one WriteBatch and checks that all were sent.
func sendAll(t testing.TB, c Conn, msgs []Msg) {
	t.Helper()
	n, err := c.WriteBatch(msgs)
	if err != nil || n != len(msgs) {
		t.Fatalf("WriteBatch = %d, %v; want %d, nil", n, err, len(msgs))
	}
}

// wantData checks the payloads of got against want, in order.
func wantData(t testing.TB, got []dgram, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].data, want[i]) {
			t.Fatalf("datagram %d: got %v, want %d bytes %q...", i, got[i], len(want[i]), want[i][:min(8, len(want[i]))])
		}
	}
}

// notices records what a Conn tells Options.Notify.
type notices struct {
	mu    sync.Mutex
	local []netip.AddrPort
	got   []Notice
}

// opts returns o with Notify recording into n.
func (n *notices) opts(o Options) Options {
	o.Notify = func(local netip.AddrPort, k Notice) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.local = append(n.local, local)
		n.got = append(n.got, k)
	}
	return o
}

// want fails t unless the notices were exactly want, each from c.
func (n *notices) want(t testing.TB, c Conn, want ...Notice) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if !slices.Equal(n.got, want) {
		t.Errorf("notices %v, want %v", n.got, want)
	}
	for _, l := range n.local {
		if l != c.LocalAddr() {
			t.Errorf("notice from %v, the Conn is %v", l, c.LocalAddr())
		}
	}
}
