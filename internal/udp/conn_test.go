package udp

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestRoundTripSingleDatagram(t *testing.T) {
	for _, tc := range []struct {
		network, addr string
		lo            netip.Addr
	}{
		{"udp4", "127.0.0.1:0", lo4},
		{"udp6", "[::1]:0", lo6},
	} {
		t.Run(tc.network, func(t *testing.T) {
			a := listen(t, tc.network, tc.addr, Options{})
			b := listen(t, tc.network, tc.addr, Options{})
			sendAll(t, a, []Msg{{Buf: []byte("hello"), Addr: target(b, tc.lo)}})
			got, _ := readN(t, b, 1, MTUClass)
			wantData(t, got, [][]byte{[]byte("hello")})
			if got[0].from != a.LocalAddr() {
				t.Errorf("from = %v, want %v", got[0].from, a.LocalAddr())
			}
			if b.Capabilities().PktInfo && got[0].local != tc.lo {
				t.Errorf("local = %v, want %v", got[0].local, tc.lo)
			}
			// And back, to the address the datagram came from.
			sendAll(t, b, []Msg{{Buf: []byte("world"), Addr: got[0].from}})
			back, _ := readN(t, a, 1, MTUClass)
			wantData(t, back, [][]byte{[]byte("world")})
			if back[0].from != b.LocalAddr() {
				t.Errorf("reply from = %v, want %v", back[0].from, b.LocalAddr())
			}
		})
	}
}

func TestBatchOf64InOrder(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			addr, lo := "127.0.0.1:0", lo4
			if network == "udp6" {
				addr, lo = "[::1]:0", lo6
			}
			a := listen(t, network, addr, Options{})
			b := listen(t, network, addr, Options{})
			msgs := make([]Msg, 64)
			want := make([][]byte, 64)
			for i := range msgs {
				want[i] = payload(i, 100+i*10)
				msgs[i] = Msg{Buf: want[i], Addr: target(b, lo)}
			}
			sendAll(t, a, msgs)
			got, nmsgs := readN(t, b, 64, MTUClass)
			wantData(t, got, want)
			if b.Capabilities().Batch && nmsgs != 64 {
				t.Errorf("64 datagrams came in %d messages", nmsgs)
			}
		})
	}
}

func TestGSOSendArrivesAsSeparateDatagramsWithoutGRO(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Options{})
	b := listen(t, "udp4", "127.0.0.1:0", Options{DisableGRO: true})
	if !a.Capabilities().GSO {
		t.Skip("kernel without UDP_SEGMENT")
	}
	buf, want := segmented(0, 10, 1200, 500)
	sendAll(t, a, []Msg{{Buf: buf, SegSize: 1200, Addr: target(b, lo4)}})
	got, nmsgs := readN(t, b, len(want), MTUClass)
	wantData(t, got, want)
	if nmsgs != len(want) {
		t.Errorf("%d datagrams came in %d messages, want one each", len(want), nmsgs)
	}
	for _, d := range got {
		if d.gro {
			t.Fatalf("GRO batch delivered with GRO off: %v", d)
		}
	}
}

func TestGSOSendArrivesAsOneGROMessage(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			addr, lo := "127.0.0.1:0", lo4
			if network == "udp6" {
				addr, lo = "[::1]:0", lo6
			}
			a := listen(t, network, addr, Options{})
			b := listen(t, network, addr, Options{})
			if !a.Capabilities().GSO || !b.Capabilities().GRO {
				t.Skip("kernel without UDP_SEGMENT or UDP_GRO")
			}
			buf, _ := segmented(0, 20, 1200, 700)
			sendAll(t, a, []Msg{{Buf: buf, SegSize: 1200, Addr: target(b, lo)}})
			watchdog(t, b)
			msgs := []Msg{{Buf: make([]byte, GSOClass)}}
			n, err := b.ReadBatch(msgs)
			if err != nil || n != 1 {
				t.Fatalf("ReadBatch = %d, %v", n, err)
			}
			m := msgs[0]
			if m.SegSize != 1200 || len(m.Buf) != len(buf) {
				t.Fatalf("got %d bytes with SegSize %d, want %d bytes with SegSize 1200", len(m.Buf), m.SegSize, len(buf))
			}
			if string(m.Buf) != string(buf) {
				t.Fatal("GRO payload differs from the GSO payload")
			}
			if m.Addr != a.LocalAddr() {
				t.Errorf("from = %v, want %v", m.Addr, a.LocalAddr())
			}
		})
	}
}

func TestLargeMessageSplitAcrossSends(t *testing.T) {
	// 100 segments exceed both the GSO segment limit and the 65,507-byte
	// payload limit of one send.
	for _, o := range optionSets {
		t.Run(o.name, func(t *testing.T) {
			a := listen(t, "udp4", "127.0.0.1:0", o.opts)
			b := listen(t, "udp4", "127.0.0.1:0", Options{DisableGRO: true})
			buf, want := segmented(0, 100, 1000, 10)
			sendAll(t, a, []Msg{{Buf: buf, SegSize: 1000, Addr: target(b, lo4)}})
			got, _ := readN(t, b, len(want), MTUClass)
			wantData(t, got, want)
		})
	}
}

func TestECNRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, snet, saddr, rnet, raddr string
		lo                             netip.Addr
	}{
		{"v4", "udp4", "127.0.0.1:0", "udp4", "127.0.0.1:0", lo4},
		{"v6", "udp6", "[::1]:0", "udp6", "[::1]:0", lo6},
		{"v4-to-dual-stack", "udp4", "127.0.0.1:0", "udp", "[::]:0", lo4},
		{"dual-stack-to-v4", "udp", "[::]:0", "udp4", "127.0.0.1:0", lo4},
	} {
		for _, o := range []struct {
			name string
			opts Options
		}{{"batch", Options{}}, {"single", Options{DisableBatch: true}}} {
			t.Run(tc.name+"/"+o.name, func(t *testing.T) {
				a := listen(t, tc.snet, tc.saddr, o.opts)
				b := listen(t, tc.rnet, tc.raddr, o.opts)
				if !a.Capabilities().ECN || !b.Capabilities().ECN {
					t.Skip("ECN not supported here")
				}
				codepoints := []uint8{0, 1, 2, 3} // Not-ECT, ECT(1), ECT(0), CE
				var msgs []Msg
				for _, ecn := range codepoints {
					msgs = append(msgs, Msg{Buf: payload(int(ecn), 50), Addr: target(b, tc.lo), ECN: ecn})
				}
				sendAll(t, a, msgs)
				got, _ := readN(t, b, len(codepoints), MTUClass)
				for i, d := range got {
					if d.ecn != codepoints[i] {
						t.Errorf("datagram %d: ECN %d, want %d", i, d.ecn, codepoints[i])
					}
				}
			})
		}
	}
}

func TestPktInfoAnswersFromTheAddressUsed(t *testing.T) {
	for _, tc := range []struct {
		name, network, wildcard, peer string
		lo                            netip.Addr
	}{
		{"v4", "udp4", "0.0.0.0:0", "127.0.0.1:0", lo4},
		{"v6", "udp6", "[::]:0", "[::1]:0", lo6},
		{"dual-stack", "udp", "[::]:0", "127.0.0.1:0", lo4},
	} {
		for _, o := range []struct {
			name string
			opts Options
		}{{"batch", Options{}}, {"single", Options{DisableBatch: true}}} {
			t.Run(tc.name+"/"+o.name, func(t *testing.T) {
				srv := listen(t, tc.network, tc.wildcard, o.opts)
				if !srv.Capabilities().PktInfo {
					t.Skip("no packet information here")
				}
				cli := listen(t, "udp", tc.peer, o.opts)
				sendAll(t, cli, []Msg{{Buf: []byte("ping"), Addr: target(srv, tc.lo)}})
				got, _ := readN(t, srv, 1, MTUClass)
				if got[0].local != tc.lo {
					t.Fatalf("server saw local %v, want %v", got[0].local, tc.lo)
				}
				if got[0].from != cli.LocalAddr() {
					t.Fatalf("server saw peer %v, want %v", got[0].from, cli.LocalAddr())
				}
				sendAll(t, srv, []Msg{{Buf: []byte("pong"), Addr: got[0].from, Local: got[0].local}})
				back, _ := readN(t, cli, 1, MTUClass)
				if want := target(srv, tc.lo); back[0].from != want {
					t.Fatalf("reply came from %v, want %v", back[0].from, want)
				}

				// A source address this host does not own is refused,
				// which shows Local reaches the kernel.
				foreign := netip.MustParseAddr("192.0.2.1")
				if tc.lo.Is6() {
					foreign = netip.MustParseAddr("2001:db8::1")
				}
				n, err := srv.WriteBatch([]Msg{{Buf: []byte("x"), Addr: got[0].from, Local: foreign}})
				if err == nil || n != 0 {
					t.Fatalf("send from foreign address %v = %d, %v; want an error", foreign, n, err)
				}
			})
		}
	}
}

func TestDualStackReportsIPv4PeersUnmapped(t *testing.T) {
	for _, o := range []struct {
		name string
		opts Options
	}{{"batch", Options{}}, {"single", Options{DisableBatch: true}}} {
		t.Run(o.name, func(t *testing.T) {
			srv := listen(t, "udp", "[::]:0", o.opts)
			cli := listen(t, "udp4", "127.0.0.1:0", o.opts)
			sendAll(t, cli, []Msg{{Buf: []byte("v4 over dual stack"), Addr: target(srv, lo4)}})
			got, _ := readN(t, srv, 1, MTUClass)
			if !got[0].from.Addr().Is4() || got[0].from != cli.LocalAddr() {
				t.Fatalf("peer = %v, want plain IPv4 %v", got[0].from, cli.LocalAddr())
			}
			// Replies go to the plain IPv4 address, and to its mapped
			// form alike.
			mapped := netip.AddrPortFrom(netip.AddrFrom16(got[0].from.Addr().As16()), got[0].from.Port())
			sendAll(t, srv, []Msg{{Buf: []byte("one"), Addr: got[0].from}, {Buf: []byte("two"), Addr: mapped}})
			back, _ := readN(t, cli, 2, MTUClass)
			wantData(t, back, [][]byte{[]byte("one"), []byte("two")})
			if back[0].from != target(srv, lo4) {
				t.Fatalf("reply from %v, want %v", back[0].from, target(srv, lo4))
			}
		})
	}
}

// optionSets are the feature combinations that must all deliver the same
// datagrams.
var optionSets = []struct {
	name string
	opts Options
}{
	{"all", Options{}},
	{"no-batch", Options{DisableBatch: true}},
	{"no-gso", Options{DisableGSO: true}},
	{"no-gro", Options{DisableGRO: true}},
	{"no-ecn", Options{DisableECN: true}},
	{"batch-of-5", Options{BatchSize: 5}},
	{"none", Options{DisableGSO: true, DisableGRO: true, DisableECN: true, DisableBatch: true}},
}

func TestFallbacksDeliverIdenticalDatagrams(t *testing.T) {
	for _, snd := range optionSets {
		for _, rcv := range optionSets {
			t.Run(snd.name+"/"+rcv.name, func(t *testing.T) {
				a := listen(t, "udp", "[::]:0", snd.opts)
				b := listen(t, "udp4", "0.0.0.0:0", rcv.opts)
				dst := target(b, lo4)
				var msgs []Msg
				var want [][]byte
				var wantECN []uint8
				ecnOK := a.Capabilities().ECN && b.Capabilities().ECN
				add := func(m Msg, ds [][]byte) {
					msgs = append(msgs, m)
					want = append(want, ds...)
					for range ds {
						e := uint8(0)
						if ecnOK {
							e = m.ECN
						}
						wantECN = append(wantECN, e)
					}
				}
				add(Msg{Buf: payload(0, 1), Addr: dst}, [][]byte{payload(0, 1)})
				buf, ds := segmented(1, 7, 1300, 99)
				add(Msg{Buf: buf, SegSize: 1300, Addr: dst, ECN: 2}, ds)
				add(Msg{Buf: payload(20, 1452), Addr: dst, ECN: 3}, [][]byte{payload(20, 1452)})
				buf, ds = segmented(21, 3, 500, 0)
				add(Msg{Buf: buf, SegSize: 500, Addr: dst, ECN: 1}, ds)
				add(Msg{Buf: payload(30, 600), SegSize: 1200, Addr: dst}, [][]byte{payload(30, 600)})
				for i := range 12 {
					add(Msg{Buf: payload(40+i, 200), Addr: dst}, [][]byte{payload(40+i, 200)})
				}
				sendAll(t, a, msgs)
				got, _ := readN(t, b, len(want), GSOClass)
				wantData(t, got, want)
				for i, d := range got {
					if d.ecn != wantECN[i] {
						t.Errorf("datagram %d: ECN %d, want %d", i, d.ecn, wantECN[i])
					}
					if d.from != target(a, lo4) {
						t.Errorf("datagram %d: from %v, want %v", i, d.from, target(a, lo4))
					}
					if b.Capabilities().PktInfo && d.local != lo4 {
						t.Errorf("datagram %d: local %v, want %v", i, d.local, lo4)
					}
				}
			})
		}
	}
}

func TestCapabilitiesFollowOptions(t *testing.T) {
	c := listen(t, "udp4", "127.0.0.1:0", Options{DisableGSO: true, DisableGRO: true, DisableECN: true, DisableBatch: true})
	got := c.Capabilities()
	if got.GSO || got.GRO || got.ECN || got.Batch || got.MaxSegments != 1 {
		t.Errorf("all disabled, got %+v", got)
	}
	if got.RecvBuffer <= 0 || got.SendBuffer <= 0 {
		t.Errorf("socket buffers not reported: %+v", got)
	}
}

func TestTruncatedDatagramIsDroppedAndCounted(t *testing.T) {
	for _, o := range optionSets {
		t.Run(o.name, func(t *testing.T) {
			var seen notices
			a := listen(t, "udp4", "127.0.0.1:0", Options{})
			b := listen(t, "udp4", "127.0.0.1:0", seen.opts(o.opts))
			sendAll(t, a, []Msg{
				{Buf: payload(0, 3000), Addr: target(b, lo4)},
				{Buf: payload(1, 100), Addr: target(b, lo4)},
			})
			watchdog(t, b)
			var got [][]byte
			for len(got) < 2 {
				msgs := []Msg{{Buf: make([]byte, MTUClass)}, {Buf: make([]byte, MTUClass)}}
				n, err := b.ReadBatch(msgs)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs[:n] {
					got = append(got, m.Buf)
				}
			}
			if len(got[0]) != 0 || string(got[1]) != string(payload(1, 100)) {
				t.Fatalf("got lengths %d, %d; want 0 (dropped), 100", len(got[0]), len(got[1]))
			}
			if s := b.Stats(); s.Truncated != 1 {
				t.Fatalf("Stats.Truncated = %d, want 1", s.Truncated)
			}
			seen.want(t, b, NoticeTruncated)
		})
	}
}

func TestWriteBatchReportsTheFailingMessage(t *testing.T) {
	for _, o := range optionSets {
		t.Run(o.name, func(t *testing.T) {
			a := listen(t, "udp4", "127.0.0.1:0", o.opts)
			b := listen(t, "udp4", "127.0.0.1:0", Options{})
			msgs := []Msg{
				{Buf: []byte("first"), Addr: target(b, lo4)},
				{Buf: []byte("second"), Addr: target(b, lo4)},
				{Buf: []byte("to IPv6 from IPv4"), Addr: netip.AddrPortFrom(lo6, 9)},
				{Buf: []byte("never"), Addr: target(b, lo4)},
			}
			n, err := a.WriteBatch(msgs)
			if n != 2 || err == nil {
				t.Fatalf("WriteBatch = %d, %v; want 2 and an error", n, err)
			}
			got, _ := readN(t, b, 2, MTUClass)
			wantData(t, got, [][]byte{[]byte("first"), []byte("second")})
			if n, err := a.WriteBatch([]Msg{{Buf: []byte("x")}}); n != 0 || err == nil {
				t.Fatalf("WriteBatch without address = %d, %v; want 0 and an error", n, err)
			}
		})
	}
}

func TestCloseUnblocksReadBatch(t *testing.T) {
	for _, o := range optionSets {
		t.Run(o.name, func(t *testing.T) {
			c, err := Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"), o.opts)
			if err != nil {
				t.Fatal(err)
			}
			// The reader loops; once it has delivered one datagram it is
			// back in ReadBatch, waiting.
			got := make(chan int)
			done := make(chan error, 1)
			go func() {
				msgs := []Msg{{Buf: make([]byte, MTUClass)}}
				for {
					n, err := c.ReadBatch(msgs)
					if err != nil {
						done <- err
						return
					}
					got <- n
				}
			}()
			peer := listen(t, "udp4", "127.0.0.1:0", Options{})
			sendAll(t, peer, []Msg{{Buf: []byte("x"), Addr: c.LocalAddr()}})
			<-got
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != net.ErrClosed {
				t.Fatalf("ReadBatch after Close = %v, want net.ErrClosed", err)
			}
			if _, err := c.WriteBatch([]Msg{{Buf: []byte("x"), Addr: netip.AddrPortFrom(lo4, 9)}}); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("WriteBatch after Close = %v, want net.ErrClosed", err)
			}
		})
	}
}

func TestNewConnWrapsExistingSocket(t *testing.T) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConn(uc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.LocalAddr() != uc.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("LocalAddr = %v, want %v", c.LocalAddr(), uc.LocalAddr())
	}
	b := listen(t, "udp4", "127.0.0.1:0", Options{})
	sendAll(t, c, []Msg{{Buf: []byte("wrapped"), Addr: target(b, lo4)}})
	got, _ := readN(t, b, 1, MTUClass)
	wantData(t, got, [][]byte{[]byte("wrapped")})
}

func TestReadBatchRejectsEmptyBuffer(t *testing.T) {
	for _, o := range optionSets {
		c := listen(t, "udp4", "127.0.0.1:0", o.opts)
		if _, err := c.ReadBatch([]Msg{{}}); err != errEmptyBuf {
			t.Fatalf("%s: ReadBatch with no buffer = %v, want errEmptyBuf", o.name, err)
		}
	}
}
