package quic

import (
	"bytes"
	"net/netip"
	"sync"
	"testing"

	"github.com/hquic/quic/netsim"
)

// These tests watch the network between a client and the server and
// check the connection IDs the server chose: the Source Connection IDs of
// its long-header packets and the Destination Connection IDs of the
// client's 1-RTT packets, before and after the client migrates to an ID
// from a NEW_CONNECTION_ID frame.

func TestLoadBalancingFixedServerID(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2EGlobal(t, "echo", nil, &GlobalSettings{
			LoadBalancingMode: Some(LoadBalancingServerIDFixed), FixedServerID: Some[uint32](0xdeadbeef),
		})
		ids := serverIDsAcrossMigration(t, e, nil)
		checkCIDs(t, ids, lbCIDLen, []byte{lbCIDLen - 1, 0xde, 0xad, 0xbe, 0xef})
	})
}

// A Retry's Source Connection ID, which the client's next Initial is sent
// to, carries the server ID too.
func TestLoadBalancingWithRetry(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2EGlobal(t, "echo", nil, &GlobalSettings{
			LoadBalancingMode: Some(LoadBalancingServerIDFixed), FixedServerID: Some[uint32](0x01020304),
			StatelessRetryEnabled: Some(true),
		})
		ids := serverIDsAcrossMigration(t, e, nil)
		checkCIDs(t, ids, lbCIDLen, []byte{lbCIDLen - 1, 1, 2, 3, 4})
		if ls := e.listener.Statistics(); ls.RetriesSent == 0 {
			t.Error("the listener sent no Retry")
		}
	})
}

func TestLoadBalancingServerIDIP(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2EGlobal(t, "echo", nil, &GlobalSettings{LoadBalancingMode: Some(LoadBalancingServerIDIP)})
		ids := serverIDsAcrossMigration(t, e, nil)
		checkCIDs(t, ids, lbCIDLen, []byte{lbCIDLen - 1, 127, 0, 0, 1})
	})
}

func TestLocalCIDPrefix(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		prefix := []byte{0xab, 0xcd, 0xef}
		ids := serverIDsAcrossMigration(t, e, prefix)
		checkCIDs(t, ids, cidLen, prefix)
	})
}

func TestLocalCIDPrefixTooLong(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SetLocalCIDPrefix(make([]byte, MaxLocalCIDPrefix+1)); err == nil {
			t.Error("a prefix longer than MaxLocalCIDPrefix was accepted")
		}
	})
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
// prefix with SetLocalCIDPrefix, if not nil), connects, echoes, migrates
// the client to a new socket, echoes again and returns every server
// connection ID seen on the network: the Source Connection IDs of the
// server's long-header packets and the Destination Connection IDs of the
// client's 1-RTT packets.
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
	e.addr, _ = l.LocalAddr()
	var mu sync.Mutex
	var ids [][]byte
	cidLen := e.lib.cidLen()
	e.net.SetDefaultLink(netsim.Link{Drop: func(d netsim.Datagram) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case d.From == e.addr:
			if scid, ok := longHeaderSCID(d.Data); ok {
				ids = append(ids, bytes.Clone(scid))
			}
		case d.To == e.addr && len(d.Data) > cidLen && d.Data[0]&0x80 == 0:
			ids = append(ids, bytes.Clone(d.Data[1:1+cidLen]))
		}
		return false
	}})

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
	mu.Lock()
	defer mu.Unlock()
	return ids
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
