package endpoint

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
)

// testSharing is a Sharing of string-named listeners and connections over
// in-memory sockets, recording which sockets it opened.
type testSharing struct {
	t     *testing.T
	table Sharing[string, string, int]
	socks []*memConn
}

// join adds listener l with alpns on local, opening a socket numbered by
// its order of opening if needed.
func (ts *testSharing) join(local string, l string, alpns ...string) (*Shared[string, string, int], error) {
	return ts.table.Join(netip.MustParseAddrPort(local), l, alpns, func(*Shared[string, string, int]) (*Binding, int, error) {
		addr := netip.MustParseAddrPort(local)
		if addr.Port() == 0 {
			addr = netip.AddrPortFrom(addr.Addr(), uint16(40000+len(ts.socks)))
		}
		s := newMemConn(addr)
		ts.socks = append(ts.socks, s)
		return New(s, Config{CIDLen: 8}), len(ts.socks) - 1, nil
	})
}

// closed reports which sockets have been closed, once every closing
// goroutine has run.
func (ts *testSharing) closed() []bool {
	synctest.Wait()
	out := make([]bool, len(ts.socks))
	for i, s := range ts.socks {
		select {
		case <-s.closed:
			out[i] = true
		default:
		}
	}
	return out
}

// Listeners on one address share its socket when their ALPNs are
// disjoint; a common ALPN is refused; port 0 always opens a socket.
func TestSharingJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &testSharing{t: t}
		a, err := ts.join("127.0.0.1:443", "A", "h3", "hq-interop")
		if err != nil {
			t.Fatal(err)
		}
		b, err := ts.join("127.0.0.1:443", "B", "echo")
		if err != nil || b != a || b.Data() != 0 {
			t.Fatalf("second listener: %v, shared %v, data %d", err, b == a, b.Data())
		}
		_, err = ts.join("127.0.0.1:443", "C", "smtp", "hq-interop")
		var inUse *ALPNInUseError
		if !errors.As(err, &inUse) || inUse.ALPN != "hq-interop" || inUse.Addr.Port() != 443 {
			t.Fatalf("common ALPN: %v", err)
		}
		if got := ts.table.Listeners(); !slices.Equal(got, []string{"A", "B"}) {
			t.Errorf("listeners %v, want [A B]: the refused one must not be added", got)
		}
		p1, _ := ts.join("127.0.0.1:0", "D", "h3")
		p2, _ := ts.join("127.0.0.1:0", "E", "h3")
		if p1 == p2 || p1.Data() != 1 || p2.Data() != 2 {
			t.Errorf("port 0 listeners share a socket (data %d, %d)", p1.Data(), p2.Data())
		}
		for _, l := range []string{"A", "B"} {
			a.Leave(l, nil)
		}
		p1.Leave("D", nil)
		p2.Leave("E", nil)
		if got := ts.closed(); !slices.Equal(got, []bool{true, true, true}) {
			t.Errorf("closed %v after every listener left", got)
		}
	})
}

// A failed open leaves nothing in the table.
func TestSharingJoinOpenFails(t *testing.T) {
	var ts Sharing[string, string, int]
	boom := errors.New("address in use")
	_, err := ts.Join(netip.MustParseAddrPort("127.0.0.1:443"), "A", []string{"h3"}, func(*Shared[string, string, int]) (*Binding, int, error) {
		return nil, 0, boom
	})
	if !errors.Is(err, boom) || len(ts.Listeners()) != 0 || len(ts.shared) != 0 {
		t.Fatalf("err %v, listeners %v, sockets %d", err, ts.Listeners(), len(ts.shared))
	}
}

// The listener's ALPN preference picks the listener, in joining order;
// First is the earliest listener still there.
func TestSharingMatchAndFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &testSharing{t: t}
		sh, _ := ts.join("127.0.0.1:443", "A", "h3", "hq-interop")
		ts.join("127.0.0.1:443", "B", "echo", "perf")
		cases := []struct {
			client    []string
			wantL     string
			wantALPN  string
			wantMatch bool
		}{
			{[]string{"hq-interop", "h3"}, "A", "h3", true},
			{[]string{"perf", "echo"}, "B", "echo", true},
			{[]string{"perf", "hq-interop"}, "A", "hq-interop", true},
			{[]string{"smtp"}, "", "", false},
			{nil, "", "", false},
		}
		for _, tc := range cases {
			l, alpn, ok := sh.Match(tc.client)
			if l != tc.wantL || alpn != tc.wantALPN || ok != tc.wantMatch {
				t.Errorf("Match(%v) = %q %q %v, want %q %q %v", tc.client, l, alpn, ok, tc.wantL, tc.wantALPN, tc.wantMatch)
			}
		}
		if l, pref, ok := sh.First(); l != "A" || pref != nil || !ok {
			t.Errorf("First = %q %v %v", l, pref, ok)
		}
		sh.Leave("A", nil)
		if l, _, _ := sh.First(); l != "B" {
			t.Errorf("First after A left = %q", l)
		}
		sh.Leave("B", nil)
		if _, _, ok := sh.First(); ok {
			t.Error("First with no listener left")
		}
	})
}

// The socket stays open while a server connection uses it after the last
// listener left; connections no listener accepted are orphaned then, the
// accepted ones are not; the preferred address's socket closes with it.
func TestSharingConnectionsKeepTheSocket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &testSharing{t: t}
		sh, _ := ts.join("127.0.0.1:443", "A", "h3")
		pref := newMemConn(netip.MustParseAddrPort("127.0.0.1:8443"))
		open := func() (*Binding, error) {
			ts.socks = append(ts.socks, pref)
			return New(pref, Config{CIDLen: 8}), nil
		}
		if err := sh.OpenPreferred(open); err != nil {
			t.Fatal(err)
		}
		if err := sh.OpenPreferred(func() (*Binding, error) { t.Fatal("second preferred socket opened"); return nil, nil }); err != nil {
			t.Fatal(err)
		}
		sh.AddConn("c1")
		sh.AddConn("c2")
		sh.Accepted("c1")
		var orphans []string
		sh.Leave("A", func(c string) { orphans = append(orphans, c) })
		if !slices.Equal(orphans, []string{"c2"}) {
			t.Errorf("orphans %v, want [c2]", orphans)
		}
		if got := ts.closed(); got[0] || got[1] {
			t.Fatalf("closed %v while connections use the socket", got)
		}
		sh.ReleaseConn("c1")
		if got := ts.closed(); got[0] || got[1] {
			t.Fatalf("closed %v with one connection left", got)
		}
		// A listener on the address meanwhile takes the same socket up again.
		if again, err := ts.join("127.0.0.1:443", "B", "h3"); err != nil || again != sh {
			t.Fatalf("a listener on the address of a socket still in use: %v, same socket %v", err, again == sh)
		}
		sh.ReleaseConn("c2")
		if got := ts.closed(); got[0] || got[1] {
			t.Fatalf("closed %v with a listener on the socket", got)
		}
		sh.Leave("B", nil)
		if got := ts.closed(); !got[0] || !got[1] {
			t.Errorf("closed %v, want the socket and its preferred address's closed", got)
		}
		if got := ts.table.Listeners(); len(got) != 0 {
			t.Errorf("listeners %v, want none", got)
		}
	})
}
