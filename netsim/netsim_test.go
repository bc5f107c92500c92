package netsim

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

// pair returns a socket on each of two hosts.
func pair(t *testing.T, n *Network) (a, b *Conn) {
	t.Helper()
	a, err := n.Host(addrA).Listen("udp", netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	b, err = n.Host(addrB).Listen("udp4", netip.AddrPortFrom(addrB, 4433))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func send(t *testing.T, c *Conn, to netip.AddrPort, payload ...byte) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(payload, to); err != nil {
		t.Fatal(err)
	}
}

// recv reads one datagram and returns its first byte and sender.
func recv(t *testing.T, c *Conn) (byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 2048)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil || n == 0 {
		t.Fatalf("read: %d bytes, %v", n, err)
	}
	return buf[0], from
}

func TestLatencyDelaysEachDatagramExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Link: Link{Latency: 40 * time.Millisecond}})
		a, b := pair(t, n)
		start := time.Now()
		send(t, a, b.LocalAddrPort(), 1)
		time.Sleep(10 * time.Millisecond)
		send(t, a, b.LocalAddrPort(), 2)
		if v, from := recv(t, b); v != 1 || from != a.LocalAddrPort() || time.Since(start) != 40*time.Millisecond {
			t.Errorf("first datagram %d from %v after %v", v, from, time.Since(start))
		}
		if v, _ := recv(t, b); v != 2 || time.Since(start) != 50*time.Millisecond {
			t.Errorf("second datagram %d after %v", v, time.Since(start))
		}
	})
}

func TestBandwidthSerialisesAndQueueDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 1,000 bytes on the wire (972 of payload over IPv4) take 8 ms at
		// 1 Mbit/s; the queue holds two such datagrams, the one on the
		// wire included.
		n := New(Config{Link: Link{Bandwidth: 1e6, QueueBytes: 2000}})
		a, b := pair(t, n)
		start := time.Now()
		payload := make([]byte, 972)
		for i := range 4 {
			payload[0] = byte(i)
			send(t, a, b.LocalAddrPort(), payload...)
		}
		for i := range 2 {
			if v, _ := recv(t, b); v != byte(i) || time.Since(start) != time.Duration(i+1)*8*time.Millisecond {
				t.Errorf("datagram %d arrived as %d after %v", i, v, time.Since(start))
			}
		}
		if st := n.Stats(); st.QueueFull != 2 || st.Delivered != 2 {
			t.Errorf("stats %+v, want 2 queue drops and 2 delivered", st)
		}
	})
}

func TestMTUDropsLargerDatagrams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{})
		a, b := pair(t, n)
		send(t, a, b.LocalAddrPort(), make([]byte, 1473)...) // 1501 bytes as IPv4
		fit := make([]byte, 1472)
		fit[0] = 7
		send(t, a, b.LocalAddrPort(), fit...)
		if v, _ := recv(t, b); v != 7 {
			t.Errorf("got datagram %d", v)
		}
		if st := n.Stats(); st.TooBig != 1 {
			t.Errorf("TooBig = %d", st.TooBig)
		}
		n.SetLink(addrA, addrB, Link{MTU: 1280})
		send(t, a, b.LocalAddrPort(), fit...)
		if st := n.Stats(); st.TooBig != 2 {
			t.Errorf("with a 1280-byte MTU TooBig = %d", st.TooBig)
		}
		if _, err := a.WriteToUDPAddrPort(make([]byte, 65508), b.LocalAddrPort()); !errors.Is(err, syscall.EMSGSIZE) {
			t.Errorf("writing more than a UDP payload: %v", err)
		}
	})
}

func TestLossIsSeededAndCounted(t *testing.T) {
	count := func() uint64 {
		var lost uint64
		synctest.Test(t, func(t *testing.T) {
			n := New(Config{Seed: 42, Link: Link{Loss: 0.1}})
			a, b := pair(t, n)
			for range 1000 {
				send(t, a, b.LocalAddrPort(), 1)
			}
			time.Sleep(time.Millisecond)
			st := n.Stats()
			if st.Lost+st.Delivered != 1000 {
				t.Errorf("%d lost and %d delivered of 1000", st.Lost, st.Delivered)
			}
			lost = st.Lost
		})
		return lost
	}
	first := count()
	if first < 60 || first > 140 {
		t.Errorf("lost %d of 1000 at 10%%", first)
	}
	if again := count(); again != first {
		t.Errorf("the same seed and order lost %d, then %d", first, again)
	}
}

func TestLossBurstKeepsTheRateAndGroupsTheLosses(t *testing.T) {
	// The fate of each of 20,000 datagrams, by the first byte of the
	// ones that arrive.
	pattern := func(l Link) []bool {
		const count = 20000
		lost := make([]bool, count)
		synctest.Test(t, func(t *testing.T) {
			n := New(Config{Seed: 7, Link: l})
			a, b := pair(t, n)
			for i := range lost {
				lost[i] = true
				send(t, a, b.LocalAddrPort(), byte(i>>8), byte(i))
			}
			time.Sleep(time.Millisecond)
			buf := make([]byte, 16)
			for range n.Stats().Delivered {
				if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil {
					t.Fatal(err)
				}
				lost[int(buf[0])<<8|int(buf[1])] = false
			}
		})
		return lost
	}
	// rate returns the loss rate and the mean length of a run of losses.
	rate := func(lost []bool) (float64, float64) {
		var n, runs int
		for i, l := range lost {
			if l {
				n++
				if i == 0 || !lost[i-1] {
					runs++
				}
			}
		}
		return float64(n) / float64(len(lost)), float64(n) / float64(max(runs, 1))
	}
	indep, indepRun := rate(pattern(Link{Loss: 0.3}))
	burst := pattern(Link{Loss: 0.3, LossBurst: 4})
	bursty, burstRun := rate(burst)
	if indep < 0.28 || indep > 0.32 || bursty < 0.27 || bursty > 0.33 {
		t.Errorf("loss rates %.3f (independent) and %.3f (bursty), want 0.3", indep, bursty)
	}
	// Independent losses at 30% come in runs of 1/(1-0.3) = 1.43 on
	// average; the bursts average 4.
	if indepRun > 1.6 || burstRun < 3.5 || burstRun > 4.5 {
		t.Errorf("mean loss runs %.2f (independent) and %.2f (bursts of 4)", indepRun, burstRun)
	}
	again := pattern(Link{Loss: 0.3, LossBurst: 4})
	for i := range burst {
		if burst[i] != again[i] {
			t.Fatalf("datagram %d: the same seed gave a different fate", i)
		}
	}
}

func TestLinksDrawIndependently(t *testing.T) {
	// The datagrams lost on A→B are the same whether or not B→A carries
	// traffic between them.
	arrivedAB := func(reverse bool) []byte {
		var got []byte
		synctest.Test(t, func(t *testing.T) {
			n := New(Config{Seed: 3, Link: Link{Loss: 0.5}})
			a, b := pair(t, n)
			for i := range 200 {
				send(t, a, b.LocalAddrPort(), byte(i))
				if reverse {
					send(t, b, a.LocalAddrPort(), byte(i))
				}
			}
			b.SetReadDeadline(time.Now().Add(time.Millisecond))
			buf := make([]byte, 4)
			for {
				if _, _, err := b.ReadFromUDPAddrPort(buf); err != nil {
					break
				}
				got = append(got, buf[0])
			}
		})
		return got
	}
	alone, mixed := arrivedAB(false), arrivedAB(true)
	if len(alone) < 60 || len(alone) > 140 || string(alone) != string(mixed) {
		t.Errorf("A→B delivered %v alone and %v with traffic back", alone, mixed)
	}
}

func TestReorderLetsLaterDatagramsOvertake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Seed: 1, Link: Link{Latency: 10 * time.Millisecond, Reorder: 0.5, ReorderDelay: 5 * time.Millisecond}})
		a, b := pair(t, n)
		for i := range 20 {
			send(t, a, b.LocalAddrPort(), byte(i))
			time.Sleep(time.Millisecond)
		}
		var got []byte
		for range 20 {
			v, _ := recv(t, b)
			got = append(got, v)
		}
		inversions := 0
		for i := 1; i < len(got); i++ {
			if got[i] < got[i-1] {
				inversions++
			}
		}
		if st := n.Stats(); inversions == 0 || st.Reordered == 0 || st.Delivered != 20 {
			t.Errorf("order %v, stats %+v", got, st)
		}
	})
}

func TestDuplicateDeliversTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Link: Link{Duplicate: 1}})
		a, b := pair(t, n)
		send(t, a, b.LocalAddrPort(), 9)
		for range 2 {
			if v, _ := recv(t, b); v != 9 {
				t.Errorf("got %d", v)
			}
		}
	})
}

func TestDropSeesEveryDatagram(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{})
		a, b := pair(t, n)
		var seen []Datagram
		n.SetLink(addrA, addrB, Link{Drop: func(d Datagram) bool {
			seen = append(seen, Datagram{From: d.From, To: d.To, Data: append([]byte(nil), d.Data...)})
			return d.Data[0] == 1
		}})
		send(t, a, b.LocalAddrPort(), 1)
		send(t, a, b.LocalAddrPort(), 2)
		if v, _ := recv(t, b); v != 2 {
			t.Errorf("got %d, want the datagram Drop kept", v)
		}
		if len(seen) != 2 || seen[0].From != a.LocalAddrPort() || seen[0].To != b.LocalAddrPort() {
			t.Errorf("Drop saw %v", seen)
		}
	})
}

func TestRebindChangesTheAddressPeersSee(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Link: Link{Latency: time.Millisecond}})
		a, b := pair(t, n)
		old := a.LocalAddrPort()
		send(t, a, b.LocalAddrPort(), 1)
		time.Sleep(time.Millisecond / 2)
		newAddr, err := n.Rebind(old, netip.AddrPort{})
		if err != nil || newAddr == old || newAddr.Addr() != old.Addr() || a.ExternalAddr() != newAddr || a.LocalAddrPort() != old {
			t.Fatalf("Rebind = %v, %v; external %v, local %v", newAddr, err, a.ExternalAddr(), a.LocalAddrPort())
		}
		if _, from := recv(t, b); from != old {
			t.Errorf("datagram sent before the rebinding came from %v", from)
		}
		send(t, a, b.LocalAddrPort(), 2)
		if _, from := recv(t, b); from != newAddr {
			t.Errorf("datagram after the rebinding came from %v, want %v", from, newAddr)
		}
		send(t, b, old, 3)
		send(t, b, newAddr, 4)
		if v, _ := recv(t, a); v != 4 {
			t.Errorf("got %d, want the datagram to the new address", v)
		}
		if st := n.Stats(); st.NoSocket != 1 {
			t.Errorf("NoSocket = %d, want the datagram to the old address", st.NoSocket)
		}
	})
}

func TestReadDeadlineAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{})
		a, _ := pair(t, n)
		start := time.Now()
		a.SetReadDeadline(start.Add(time.Second))
		_, _, err := a.ReadFrom(make([]byte, 10))
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) != time.Second {
			t.Errorf("read past the deadline: %v after %v", err, time.Since(start))
		}
		a.SetReadDeadline(time.Time{})
		go func() {
			time.Sleep(time.Second)
			a.Close()
		}()
		if _, _, err := a.ReadFrom(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("read on a closed socket: %v", err)
		}
		if _, err := a.WriteTo([]byte{1}, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addrB, 1))); !errors.Is(err, net.ErrClosed) {
			t.Errorf("write on a closed socket: %v", err)
		}
	})
}

func TestHostBindsItsOwnAddresses(t *testing.T) {
	n := New(Config{})
	h := n.Host(addrA, netip.MustParseAddr("fd00::1"))
	c, err := h.Listen("udp6", netip.AddrPortFrom(netip.IPv6Unspecified(), 0))
	if err != nil || c.LocalAddrPort().Addr() != netip.MustParseAddr("fd00::1") || c.LocalAddrPort().Port() == 0 {
		t.Fatalf("udp6 on [::]:0 = %v, %v", c, err)
	}
	if _, err := h.Listen("udp", c.LocalAddrPort()); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("binding a bound address: %v", err)
	}
	if _, err := h.Listen("udp4", netip.AddrPortFrom(addrB, 1)); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("binding another host's address: %v", err)
	}
	if _, err := n.Host(addrB).Listen("udp6", netip.AddrPort{}); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("udp6 on an IPv4-only host: %v", err)
	}
	c.Close()
	if c2, err := h.Listen("udp", c.LocalAddrPort()); err != nil {
		t.Errorf("rebinding a closed socket's address: %v", err)
	} else {
		c2.Close()
	}
}

func TestLookup(t *testing.T) {
	n := New(Config{})
	n.SetName("both.test", addrB, netip.MustParseAddr("fd00::2"))
	h := n.Host(addrA)
	if got, err := h.LookupNetIP(t.Context(), "ip4", "both.test"); err != nil || len(got) != 1 || got[0] != addrB {
		t.Errorf("ip4 both.test = %v, %v", got, err)
	}
	if got, err := h.LookupNetIP(t.Context(), "ip", "localhost"); err != nil || len(got) != 1 || got[0] != addrA {
		t.Errorf("localhost = %v, %v", got, err)
	}
	var dnsErr *net.DNSError
	if _, err := h.LookupNetIP(t.Context(), "ip", "nowhere.test"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("unknown name: %v", err)
	}
}
