package relay

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"
)

const waitLimit = time.Minute

// echoServer answers every datagram with itself and reports the sender.
func echoServer(t *testing.T, network, addr string) (netip.AddrPort, <-chan netip.AddrPort) {
	t.Helper()
	c, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	from := make(chan netip.AddrPort, 100)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, a, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			ap := a.(*net.UDPAddr).AddrPort()
			from <- netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			c.WriteTo(buf[:n], a)
		}
	}()
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), from
}

func startRelay(t *testing.T, cfg Config) *Relay {
	t.Helper()
	r, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// roundTrip sends p through the relay and waits for its echo.
func roundTrip(t *testing.T, c *net.UDPConn, to netip.AddrPort, p []byte) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(p, to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(waitLimit))
	buf := make([]byte, 2048)
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != string(p) {
		t.Fatalf("echo %q, want %q", buf[:n], p)
	}
}

func client(t *testing.T, network string) *net.UDPConn {
	c, err := net.ListenUDP(network, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRelayDelayAndRecords(t *testing.T) {
	srv, _ := echoServer(t, "udp4", "127.0.0.1:0")
	const delay = 30 * time.Millisecond
	r := startRelay(t, Config{
		Listen:   netip.MustParseAddrPort("127.0.0.1:0"),
		Server:   srv,
		ToServer: Impairment{Delay: delay},
		ToClient: Impairment{Delay: delay},
	})
	c := client(t, "udp4")
	start := time.Now()
	roundTrip(t, c, r.Addr(), []byte("ping"))
	if rtt := time.Since(start); rtt < 2*delay {
		t.Errorf("round trip took %v, less than twice the %v one-way delay", rtt, delay)
	}
	recs := r.Records()
	if len(recs) != 2 || recs[0].Dir != ToServer || recs[1].Dir != ToClient ||
		recs[0].Fate != Delivered || recs[1].Fate != Delivered || recs[0].Size != 4 {
		t.Errorf("records: %+v", recs)
	}
}

func TestRelayDropIndex(t *testing.T) {
	srv, from := echoServer(t, "udp4", "127.0.0.1:0")
	r := startRelay(t, Config{
		Listen:   netip.MustParseAddrPort("127.0.0.1:0"),
		Server:   srv,
		ToServer: Impairment{Drop: []int{2}},
	})
	c := client(t, "udp4")
	roundTrip(t, c, r.Addr(), []byte("one"))
	if _, err := c.WriteToUDPAddrPort([]byte("two"), r.Addr()); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, r.Addr(), []byte("three"))
	if n := len(from); n != 2 {
		t.Errorf("the server received %d datagrams, want 2", n)
	}
	var fates []Fate
	for _, rec := range r.Records() {
		if rec.Dir == ToServer {
			fates = append(fates, rec.Fate)
		}
	}
	if len(fates) != 3 || fates[1] != DroppedIndex {
		t.Errorf("client datagram fates %v, want the second dropped", fates)
	}
}

func TestRelayRebind(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr bool
	}{{"port", false}, {"addr", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, from := echoServer(t, "udp4", "127.0.0.1:0")
			r := startRelay(t, Config{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Server: srv, RebindAddr: tc.addr})
			c := client(t, "udp4")
			roundTrip(t, c, r.Addr(), []byte("before"))
			before := <-from
			r.Rebind()
			roundTrip(t, c, r.Addr(), []byte("after"))
			after := <-from
			if before == after {
				t.Fatalf("the server saw %v before and after rebinding", before)
			}
			if tc.addr && before.Addr() == after.Addr() {
				t.Errorf("address rebinding kept %v", before.Addr())
			}
			if !tc.addr && before.Addr() != after.Addr() {
				t.Errorf("port rebinding changed the address %v to %v", before.Addr(), after.Addr())
			}
		})
	}
}

// TestRebindCountsFromFirstClientDatagram: the schedule starts with the
// client, so a client that starts late is not moved at once (nor, when
// the only rebind falls before it starts, never).
func TestRebindCountsFromFirstClientDatagram(t *testing.T) {
	srv, from := echoServer(t, "udp4", "127.0.0.1:0")
	r := startRelay(t, Config{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Server: srv, RebindFirst: 50 * time.Millisecond})
	time.Sleep(150 * time.Millisecond) // the client starts after RebindFirst
	c := client(t, "udp4")
	roundTrip(t, c, r.Addr(), []byte("first"))
	first := <-from
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		roundTrip(t, c, r.Addr(), []byte("again"))
		if a := <-from; a != first {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the client was never rebound")
}

func TestRelayIPv6(t *testing.T) {
	srv, from := echoServer(t, "udp6", "[::1]:0")
	r := startRelay(t, Config{Listen: netip.MustParseAddrPort("[::1]:0"), Server: srv})
	c := client(t, "udp6")
	roundTrip(t, c, r.Addr(), []byte("v6"))
	if a := <-from; !a.Addr().Is6() {
		t.Errorf("the server saw %v", a)
	}
}

func TestBurstLossRate(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{0.02, 3}, {0.3, 3}, {0.1, 1}} {
		l := newLink(Impairment{}, 1)
		const n = 200000
		lost, runs, longest, cur := 0, 0, 0, 0
		for range n {
			if l.burst(&l.lossLeft, tc.rate, tc.burst) {
				lost++
				if cur++; cur == 1 {
					runs++
				}
				longest = max(longest, cur)
			} else {
				cur = 0
			}
		}
		got := float64(lost) / n
		if math.Abs(got-tc.rate) > tc.rate/10 {
			t.Errorf("rate %v burst %d: long-run loss %.4f", tc.rate, tc.burst, got)
		}
		// Adjacent bursts can merge into longer runs, rarely.
		if tc.burst == 1 && runs < lost*8/10 {
			t.Errorf("rate %v: %d losses in only %d runs", tc.rate, lost, runs)
		}
	}
}

// TestCappedRuns: the runner's model hits datagrams independently at the
// rate but never more than the cap in a row.
func TestCappedRuns(t *testing.T) {
	l := newLink(Impairment{}, 1)
	const n = 200000
	lost, cur, longest, runs3 := 0, 0, 0, 0
	for range n {
		if l.hit(&l.lossLeft, &l.lossRun, 0.3, 0, 3) {
			lost++
			cur++
			longest = max(longest, cur)
			if cur == 3 {
				runs3++
			}
		} else {
			cur = 0
		}
	}
	if longest != 3 {
		t.Errorf("longest run %d, want 3", longest)
	}
	// Independent hits at 0.3 with every fourth of a run of three forced
	// through: a long-run rate a little under 0.3.
	if got := float64(lost) / n; got < 0.27 || got > 0.3 {
		t.Errorf("long-run loss %.4f", got)
	}
	if runs3 == 0 {
		t.Error("no run reached the cap")
	}
}

func TestRunMaxExcludesBurst(t *testing.T) {
	_, err := Start(Config{
		Listen: netip.MustParseAddrPort("127.0.0.1:0"), Server: netip.MustParseAddrPort("127.0.0.1:9"),
		ToServer: Impairment{LossRate: 0.1, LossBurst: 3, LossRunMax: 3},
	})
	if err == nil {
		t.Fatal("Start took both LossBurst and LossRunMax")
	}
}

func TestBottleneckQueue(t *testing.T) {
	l := newLink(Impairment{Rate: 10_000_000, Queue: 25}, 1)
	now := time.Now()
	send := func([]byte, uint8) {}
	var last time.Time
	for i := range 25 {
		fate, at := l.admit(now, make([]byte, 1222), 0, send)
		if fate != Delivered {
			t.Fatalf("datagram %d: %v with room in the queue", i, fate)
		}
		if !at.After(last) {
			t.Fatalf("datagram %d departs at %v, not after %v", i, at, last)
		}
		last = at
	}
	// 1250 bytes on the wire at 10 Mbit/s take 1 ms each.
	if got := last.Sub(now); got != 25*time.Millisecond {
		t.Errorf("25 datagrams drain in %v, want 25ms", got)
	}
	if fate, _ := l.admit(now, make([]byte, 1222), 0, send); fate != QueueFull {
		t.Errorf("26th datagram: %v, want QueueFull", fate)
	}
	if fate, _ := l.admit(now.Add(time.Millisecond), make([]byte, 1222), 0, send); fate != Delivered {
		t.Errorf("after one departure: %v, want Delivered", fate)
	}
}

func TestBlackholePeriods(t *testing.T) {
	r := &Relay{cfg: Config{BlackholeOn: 5 * time.Second, BlackholeOff: 2 * time.Second}, start: time.Now()}
	for _, tc := range []struct {
		at   time.Duration
		dark bool
	}{{0, false}, {4 * time.Second, false}, {5 * time.Second, true}, {6 * time.Second, true}, {7 * time.Second, false}, {12500 * time.Millisecond, true}} {
		if got := r.blackholed(r.start.Add(tc.at)); got != tc.dark {
			t.Errorf("at %v: blackholed %v, want %v", tc.at, got, tc.dark)
		}
	}
}

// TestRelayNATRebind: with NAT, a server datagram already in the delay line
// when the client moves is lost, and every client datagram reaches the
// server from the binding the relay recorded for it.
func TestRelayNATRebind(t *testing.T) {
	srv, from := echoServer(t, "udp4", "127.0.0.1:0")
	const delay = 100 * time.Millisecond
	r := startRelay(t, Config{
		Listen: netip.MustParseAddrPort("127.0.0.1:0"), Server: srv, RebindAddr: true, NAT: true,
		ToServer: Impairment{Delay: delay}, ToClient: Impairment{Delay: delay},
	})
	c := client(t, "udp4")
	roundTrip(t, c, r.Addr(), []byte("before"))
	if _, err := c.WriteToUDPAddrPort([]byte("lost"), r.Addr()); err != nil {
		t.Fatal(err)
	}
	// The server echoes at once; the echo spends the delay in the relay,
	// and the client moves meanwhile.
	seen := []netip.AddrPort{<-from, <-from}
	r.Rebind()
	// Had the first echo survived, it would arrive before this one.
	roundTrip(t, c, r.Addr(), []byte("after"))
	seen = append(seen, <-from)
	r.Close()
	var sent []Record
	unroutable := 0
	for _, rec := range r.Records() {
		switch {
		case rec.Dir == ToServer:
			sent = append(sent, rec)
		case rec.Fate == Unroutable:
			unroutable++
		}
	}
	if unroutable != 1 {
		t.Errorf("%d server datagrams unroutable, want the one in flight at the rebind", unroutable)
	}
	if len(sent) != len(seen) {
		t.Fatalf("%d client datagrams recorded, the server saw %d", len(sent), len(seen))
	}
	for i, rec := range sent {
		if rec.Client != seen[i] {
			t.Errorf("client datagram %d recorded from %v, the server saw %v", i, rec.Client, seen[i])
		}
	}
	if seen[0].Addr() == seen[2].Addr() {
		t.Errorf("the server saw %v before and after the rebind", seen[0].Addr())
	}
}
