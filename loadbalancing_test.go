package quic

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// These tests put a recording UDP relay between a client and the server on
// 127.0.0.1 and check the connection IDs the server chose: the Source
// Connection IDs of its long-header packets and the Destination
// Connection IDs of the client's 1-RTT packets, before and after the
// client migrates to an ID from a NEW_CONNECTION_ID frame.

func TestLoadBalancingFixedServerID(t *testing.T) {
	e := newE2EGlobal(t, "echo", nil, &GlobalSettings{
		LoadBalancingMode: Some(LoadBalancingServerIDFixed), FixedServerID: Some[uint32](0xdeadbeef),
	})
	ids := serverIDsAcrossMigration(t, e, nil)
	checkCIDs(t, ids, lbCIDLen, []byte{lbCIDLen - 1, 0xde, 0xad, 0xbe, 0xef})
}

// A Retry's Source Connection ID, which the client's next Initial is sent
// to, carries the server ID too.
func TestLoadBalancingWithRetry(t *testing.T) {
	e := newE2EGlobal(t, "echo", nil, &GlobalSettings{
		LoadBalancingMode: Some(LoadBalancingServerIDFixed), FixedServerID: Some[uint32](0x01020304),
		StatelessRetryEnabled: Some(true),
	})
	ids := serverIDsAcrossMigration(t, e, nil)
	checkCIDs(t, ids, lbCIDLen, []byte{lbCIDLen - 1, 1, 2, 3, 4})
	if ls := e.listener.Statistics(); ls.RetriesSent == 0 {
		t.Error("the listener sent no Retry")
	}
}

func TestLoadBalancingServerIDIP(t *testing.T) {
	e := newE2EGlobal(t, "echo", nil, &GlobalSettings{LoadBalancingMode: Some(LoadBalancingServerIDIP)})
	ids := serverIDsAcrossMigration(t, e, nil)
	checkCIDs(t, ids, lbCIDLen, []byte{lbCIDLen - 1, 127, 0, 0, 1})
}

func TestLocalCIDPrefix(t *testing.T) {
	e := newE2E(t, "echo", nil)
	prefix := []byte{0xab, 0xcd, 0xef}
	ids := serverIDsAcrossMigration(t, e, prefix)
	checkCIDs(t, ids, cidLen, prefix)
}

func TestLocalCIDPrefixTooLong(t *testing.T) {
	e := newE2E(t, "echo", nil)
	c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetLocalCIDPrefix(make([]byte, MaxLocalCIDPrefix+1)); err == nil {
		t.Error("a prefix longer than MaxLocalCIDPrefix was accepted")
	}
}

// checkCIDs checks that the relay saw at least two distinct server
// connection IDs and that each has length n and starts with prefix.
func checkCIDs(t *testing.T, ids [][]byte, n int, prefix []byte) {
	t.Helper()
	distinct := map[string]bool{}
	for _, id := range ids {
		distinct[string(id)] = true
		if len(id) != n || !bytes.HasPrefix(id, prefix) {
			t.Errorf("server connection ID %x, want %d bytes starting with %x", id, n, prefix)
		}
	}
	if len(distinct) < 2 {
		t.Errorf("saw %d distinct server connection IDs, want at least 2 (the handshake's and one after migration)", len(distinct))
	}
}

// serverIDsAcrossMigration starts an echo listener (whose connections set
// prefix with SetLocalCIDPrefix, if not nil), connects through a recording
// relay, echoes, migrates the client to a new socket, echoes again and
// returns every server connection ID the relay saw.
func serverIDsAcrossMigration(t *testing.T, e *e2e, prefix []byte) [][]byte {
	t.Helper()
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			if prefix != nil {
				if err := ev.Connection.SetLocalCIDPrefix(prefix); err != nil {
					return err
				}
			}
			ev.Connection.SetHandler(echoServerConn)
			return ev.Connection.SetConfiguration(e.srvCfg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	e.listener = l
	server, _ := l.LocalAddr()
	r := newCIDRelay(t, server, e.lib.cidLen())
	e.addr = r.addr()

	c, closed := e.connect(t, nil)
	echoOn(t, c, "before")
	moved := make(chan struct{})
	c.SetHandler(func(c *Connection, ev ConnectionEvent) error {
		switch ev.(type) {
		case *LocalAddressChangedEvent:
			close(moved)
		case *ConnectionShutdownCompleteEvent:
			c.Close()
			close(closed)
		}
		return nil
	})
	// Called right after an event: the client learned it may migrate in
	// the same processing pass that delivered the echo.
	if err := c.SetLocalAddr(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	wait(t, moved, "LocalAddressChangedEvent")
	echoOn(t, c, "after")
	c.Shutdown(ConnectionShutdownNone, 0)
	wait(t, closed, "shutdown")
	return r.close()
}

// cidRelay forwards datagrams between clients and a server on loopback,
// one upstream socket per client address (like a NAT), and records the
// server's connection IDs it sees.
type cidRelay struct {
	t      *testing.T
	down   *net.UDPConn
	server netip.AddrPort
	cidLen int

	mu  sync.Mutex
	ids [][]byte
	ups map[netip.AddrPort]*net.UDPConn
	wg  sync.WaitGroup
}

func newCIDRelay(t *testing.T, server netip.AddrPort, cidLen int) *cidRelay {
	t.Helper()
	down, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &cidRelay{t: t, down: down, server: server, cidLen: cidLen, ups: map[netip.AddrPort]*net.UDPConn{}}
	r.wg.Go(r.fromClients)
	return r
}

func (r *cidRelay) addr() netip.AddrPort { return r.down.LocalAddr().(*net.UDPAddr).AddrPort() }

// close stops the relay and returns the connection IDs it saw.
func (r *cidRelay) close() [][]byte {
	r.down.Close()
	r.mu.Lock()
	for _, u := range r.ups {
		u.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids
}

func (r *cidRelay) record(id []byte) {
	r.mu.Lock()
	r.ids = append(r.ids, bytes.Clone(id))
	r.mu.Unlock()
}

func (r *cidRelay) fromClients() {
	buf := make([]byte, 65536)
	for {
		n, from, err := r.down.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		d := buf[:n]
		if len(d) > r.cidLen && d[0]&0x80 == 0 {
			r.record(d[1 : 1+r.cidLen]) // a 1-RTT packet's Destination Connection ID
		}
		r.mu.Lock()
		up := r.ups[from]
		if up == nil {
			up, err = net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, net.UDPAddrFromAddrPort(r.server))
			if err != nil {
				r.mu.Unlock()
				r.t.Error(err)
				return
			}
			r.ups[from] = up
			r.wg.Go(func() { r.fromServer(up, from) })
		}
		r.mu.Unlock()
		up.Write(d)
	}
}

func (r *cidRelay) fromServer(up *net.UDPConn, client netip.AddrPort) {
	buf := make([]byte, 65536)
	for {
		n, err := up.Read(buf)
		if err != nil {
			return
		}
		if scid, ok := longHeaderSCID(buf[:n]); ok {
			r.record(scid)
		}
		r.down.WriteToUDPAddrPort(buf[:n], client)
	}
}

// longHeaderSCID returns the Source Connection ID of a long-header packet
// (RFC 9000 §17.2) that is not Version Negotiation.
func longHeaderSCID(d []byte) ([]byte, bool) {
	if len(d) < 6 || d[0]&0x80 == 0 || bytes.Equal(d[1:5], []byte{0, 0, 0, 0}) {
		return nil, false
	}
	p := 5
	dl := int(d[p])
	p += 1 + dl
	if p >= len(d) {
		return nil, false
	}
	sl := int(d[p])
	p++
	if p+sl > len(d) {
		return nil, false
	}
	return d[p : p+sl], true
}
