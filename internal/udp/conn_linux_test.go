package udp

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// pathSets are the two Linux write paths, which share the fallback logic.
var pathSets = []struct {
	name string
	opts Options
}{
	{"batch", Options{}},
	{"single", Options{DisableBatch: true}},
}

func TestRuntimeGSOFallbackLosesNothing(t *testing.T) {
	for _, o := range pathSets {
		t.Run(o.name, func(t *testing.T) {
			var seen notices
			a := listen(t, "udp4", "127.0.0.1:0", seen.opts(o.opts))
			b := listen(t, "udp4", "127.0.0.1:0", Options{DisableGRO: true})
			if !a.Capabilities().GSO {
				t.Skip("kernel without UDP_SEGMENT")
			}
			// The device "cannot checksum" GSO batches.
			a.(*conn).failSend = func(seg int, _ uint8) syscall.Errno {
				if seg > 0 {
					return syscall.EIO
				}
				return 0
			}
			var msgs []Msg
			var want [][]byte
			for i := range 3 {
				buf, ds := segmented(i*100, 10, 1200, 300)
				msgs = append(msgs, Msg{Buf: buf, SegSize: 1200, Addr: target(b, lo4)})
				want = append(want, ds...)
			}
			sendAll(t, a, msgs)
			got, _ := readN(t, b, len(want), MTUClass)
			wantData(t, got, want)
			if caps := a.Capabilities(); caps.GSO || caps.MaxSegments != 1 {
				t.Errorf("after the fallback Capabilities = %+v, want GSO off", caps)
			}
			if s := a.Stats(); s.GSOFallbacks != 1 {
				t.Errorf("GSOFallbacks = %d, want 1", s.GSOFallbacks)
			}
			seen.want(t, a, NoticeGSOFallback)
		})
	}
}

func TestRuntimeECNFallbackLosesNothing(t *testing.T) {
	for _, o := range pathSets {
		t.Run(o.name, func(t *testing.T) {
			var seen notices
			a := listen(t, "udp6", "[::1]:0", seen.opts(o.opts))
			b := listen(t, "udp6", "[::1]:0", Options{})
			if !a.Capabilities().ECN {
				t.Skip("no ECN")
			}
			a.(*conn).failSend = func(_ int, ecn uint8) syscall.Errno {
				if ecn != 0 {
					return syscall.EINVAL
				}
				return 0
			}
			buf, want := segmented(0, 4, 1000, 0)
			sendAll(t, a, []Msg{{Buf: buf, SegSize: 1000, Addr: target(b, lo6), ECN: 2}})
			got, _ := readN(t, b, len(want), GSOClass)
			wantData(t, got, want)
			for _, d := range got {
				if d.ecn != 0 {
					t.Errorf("datagram marked %d after ECN was turned off", d.ecn)
				}
			}
			caps := a.Capabilities()
			if caps.ECN {
				t.Error("ECN still on after the fallback")
			}
			if !caps.GSO {
				t.Error("GSO turned off though ECN was at fault")
			}
			if s := a.Stats(); s.ECNFallbacks != 1 || s.GSOFallbacks != 0 {
				t.Errorf("Stats = %+v, want one ECN fallback only", s)
			}
			seen.want(t, a, NoticeECNFallback)
		})
	}
}

func TestErrorNotCausedByGSOKeepsGSO(t *testing.T) {
	for _, o := range pathSets {
		t.Run(o.name, func(t *testing.T) {
			a := listen(t, "udp4", "127.0.0.1:0", o.opts)
			b := listen(t, "udp4", "127.0.0.1:0", Options{})
			if !a.Capabilities().GSO {
				t.Skip("kernel without UDP_SEGMENT")
			}
			calls := 0
			a.(*conn).failSend = func(int, uint8) syscall.Errno {
				calls++
				return syscall.EINVAL // with or without GSO
			}
			buf, _ := segmented(0, 4, 1000, 0)
			n, err := a.WriteBatch([]Msg{{Buf: buf, SegSize: 1000, Addr: target(b, lo4)}})
			if n != 0 || !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("WriteBatch = %d, %v; want 0, EINVAL", n, err)
			}
			if calls != 2 {
				t.Errorf("%d sends attempted, want 2 (with GSO, then without)", calls)
			}
			if !a.Capabilities().GSO || a.Stats().GSOFallbacks != 0 {
				t.Errorf("GSO turned off by an error it did not cause: %+v %+v", a.Capabilities(), a.Stats())
			}
		})
	}
}

func TestWriteRetriesAfterICMPError(t *testing.T) {
	for _, o := range pathSets {
		t.Run(o.name, func(t *testing.T) {
			a := listen(t, "udp4", "127.0.0.1:0", o.opts)
			b := listen(t, "udp4", "127.0.0.1:0", Options{})
			pending := true
			a.(*conn).failSend = func(int, uint8) syscall.Errno {
				if pending {
					pending = false
					return syscall.ECONNREFUSED
				}
				return 0
			}
			sendAll(t, a, []Msg{{Buf: []byte("one"), Addr: target(b, lo4)}, {Buf: []byte("two"), Addr: target(b, lo4)}})
			got, _ := readN(t, b, 2, MTUClass)
			wantData(t, got, [][]byte{[]byte("one"), []byte("two")})
			if s := a.Stats(); s.ICMPErrors != 1 {
				t.Errorf("ICMPErrors = %d, want 1", s.ICMPErrors)
			}
		})
	}
}

func TestReadSkipsICMPError(t *testing.T) {
	for _, o := range pathSets {
		t.Run(o.name, func(t *testing.T) {
			// A connected socket sends to a closed port; the port
			// unreachable that comes back is queued on the socket as
			// ECONNREFUSED.
			gone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			addr := gone.LocalAddr().(*net.UDPAddr)
			gone.Close()
			uc, err := net.DialUDP("udp4", nil, addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := uc.Write([]byte("to nobody")); err != nil {
				t.Fatal(err)
			}
			var seen notices
			c, err := NewConn(uc, seen.opts(o.opts))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The port comes back and answers; the reader must get past
			// the queued error to the datagram.
			back := listen(t, "udp4", addr.String(), Options{})
			sendAll(t, back, []Msg{{Buf: []byte("answer"), Addr: c.LocalAddr()}})
			got, _ := readN(t, c, 1, MTUClass)
			wantData(t, got, [][]byte{[]byte("answer")})
			if s := c.Stats(); s.ICMPErrors != 1 {
				t.Errorf("ICMPErrors = %d, want 1", s.ICMPErrors)
			}
			seen.want(t, c, NoticeICMPError)
		})
	}
}

func TestConnectedSocketIgnoresMsgAddr(t *testing.T) {
	for _, o := range pathSets {
		t.Run(o.name, func(t *testing.T) {
			b := listen(t, "udp4", "127.0.0.1:0", Options{})
			uc, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(target(b, lo4)))
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewConn(uc, o.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			buf, want := segmented(0, 3, 500, 0)
			sendAll(t, c, []Msg{{Buf: buf, SegSize: 500, ECN: 2}})
			got, _ := readN(t, b, 3, GSOClass)
			wantData(t, got, want)
			if got[0].ecn != 2 {
				t.Errorf("ECN = %d, want 2", got[0].ecn)
			}
		})
	}
}

func TestPartialSendmmsgResumes(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Options{})
	b := listen(t, "udp4", "127.0.0.1:0", Options{DisableGRO: true})
	a.(*conn).maxSendHdrs = 3
	var msgs []Msg
	var want [][]byte
	for i := range 40 {
		if i%10 == 5 {
			buf, ds := segmented(1000+i*10, 4, 700, 1)
			msgs = append(msgs, Msg{Buf: buf, SegSize: 700, Addr: target(b, lo4)})
			want = append(want, ds...)
			continue
		}
		msgs = append(msgs, Msg{Buf: payload(i, 300), Addr: target(b, lo4)})
		want = append(want, payload(i, 300))
	}
	sendAll(t, a, msgs)
	got, _ := readN(t, b, len(want), MTUClass)
	wantData(t, got, want)
}

func TestSteadyStateBatchesDoNotAllocate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       Options
		seg, count int // per message: GSO segment size and segments
		bufSize    int
	}{
		{"batch", Options{}, 0, 1, MTUClass},
		{"batch-v6-dual-stack", Options{}, 0, 1, MTUClass},
		{"gso-gro", Options{}, 1200, 8, GSOClass},
		{"gso-no-gro", Options{DisableGRO: true}, 1200, 8, MTUClass},
		{"single", Options{DisableBatch: true}, 0, 1, MTUClass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := listen(t, "udp4", "127.0.0.1:0", tc.opts)
			network, addr := "udp4", "0.0.0.0:0"
			if tc.name == "batch-v6-dual-stack" {
				network, addr = "udp", "[::]:0"
			}
			b := listen(t, network, addr, tc.opts)
			watchdog(t, b)
			const batch = 64
			out := make([]Msg, batch)
			for i := range out {
				out[i] = Msg{Buf: make([]byte, max(tc.seg*tc.count, 1200)), SegSize: tc.seg, Addr: target(b, lo4), ECN: 2}
			}
			in := make([]Msg, batch)
			for i := range in {
				in[i].Buf = make([]byte, tc.bufSize)
			}
			per := 1
			if tc.seg > 0 && !b.Capabilities().GRO {
				per = tc.count
			}
			// Write a batch of 64 messages, read them all back.
			round := func() {
				if n, err := a.WriteBatch(out); n != batch || err != nil {
					t.Fatalf("WriteBatch = %d, %v", n, err)
				}
				for left := batch * per; left > 0; {
					n, err := b.ReadBatch(in)
					if err != nil {
						t.Fatalf("ReadBatch: %v", err)
					}
					for _, m := range in[:n] {
						if m.SegSize > 0 {
							left -= len(m.Buf) / m.SegSize
						} else {
							left--
						}
					}
				}
			}
			round()
			if n := testing.AllocsPerRun(50, round); n != 0 {
				t.Fatalf("a round of WriteBatch and ReadBatch of %d messages allocates %.1f times", batch, n)
			}
		})
	}
}

func TestIPv6ZoneRoundTrip(t *testing.T) {
	// Scoped addresses are encoded as numeric zones and parsed back.
	c := &conn{v6: true}
	var sa unix.RawSockaddrInet6
	ap := netip.AddrPortFrom(netip.MustParseAddr("fe80::1%7"), 443)
	if _, err := c.putSockaddr(&sa, ap); err != nil {
		t.Fatal(err)
	}
	if got := getSockaddr(&sa); got != ap {
		t.Fatalf("round trip of %v gave %v", ap, got)
	}
	lo, err := net.InterfaceByIndex(1)
	if err != nil {
		t.Skip("no interface 1")
	}
	named := netip.AddrPortFrom(netip.MustParseAddr("fe80::1%"+lo.Name), 443)
	if _, err := c.putSockaddr(&sa, named); err != nil {
		t.Fatal(err)
	}
	if got := getSockaddr(&sa); got != netip.AddrPortFrom(netip.MustParseAddr("fe80::1%1"), 443) {
		t.Fatalf("named zone %v came back as %v", named, got)
	}
}

func TestBufferRefusedWhenTheKernelGrantsLess(t *testing.T) {
	// Linux reports twice the size it granted.
	for _, tc := range []struct {
		reported, asked int
		refused         bool
	}{
		{8 << 20, 4 << 20, false},
		{425984, 4 << 20, true}, // capped at a 208 KiB rmem_max
		{0, 4 << 20, true},      // setting it failed
		{(4 << 20) * 2, 4 << 20, false},
		{(4<<20)*2 - 2, 4 << 20, true},
	} {
		if got := bufferRefused(tc.reported, tc.asked); got != tc.refused {
			t.Errorf("bufferRefused(%d, %d) = %v, want %v", tc.reported, tc.asked, got, tc.refused)
		}
	}
}

func TestRefusalsOfAnOrdinarySocket(t *testing.T) {
	// 64 KiB is below every default limit, and features turned off are
	// not asked for, so nothing is refused.
	c := listen(t, "udp4", "127.0.0.1:0", Options{RecvBuffer: 64 << 10, SendBuffer: 64 << 10,
		DisableGSO: true, DisableGRO: true, DisableECN: true})
	if r := c.Capabilities().Refused; r.Any() {
		t.Errorf("Refused = %+v, want nothing", r)
	}
	// What is asked for and absent is refused, and only that.
	d := listen(t, "udp4", "127.0.0.1:0", Options{})
	caps := d.Capabilities()
	want := Refusals{
		RecvBuffer: caps.RecvBuffer/2 < defaultBuffer, SendBuffer: caps.SendBuffer/2 < defaultBuffer,
		GSO: !caps.GSO, GRO: !caps.GRO, ECN: !caps.ECN,
	}
	if caps.Refused != want {
		t.Errorf("Refused = %+v with Capabilities %+v", caps.Refused, caps)
	}
}
