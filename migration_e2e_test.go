package quic

import (
	"bytes"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// The client moves to a new socket in the middle of a stream and the echo
// completes over the new path.
func TestClientMigratesMidStream(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.listenEcho()
		var mu sync.Mutex
		var got []byte
		connected := make(chan struct{})
		moved := make(chan netip.AddrPort, 1)
		done := make(chan struct{})
		closed := make(chan struct{})
		firstHalf := make(chan struct{})
		c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
			switch ev := ev.(type) {
			case *ConnectedEvent:
				close(connected)
			case *LocalAddressChangedEvent:
				moved <- ev.Addr
			case *ConnectionShutdownCompleteEvent:
				c.Close()
				close(closed)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		half := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
		s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
			switch ev := ev.(type) {
			case *ReceiveEvent:
				mu.Lock()
				for _, b := range ev.Buffers {
					got = append(got, b...)
				}
				if len(got) == len(half) {
					close(firstHalf)
				}
				mu.Unlock()
			case *StreamShutdownCompleteEvent:
				s.Close()
				close(done)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
			t.Fatal(err)
		}
		wait(t, connected, "CONNECTED")
		if err := s.Send([][]byte{half}, SendStart, nil); err != nil {
			t.Fatal(err)
		}
		wait(t, firstHalf, "the first half of the echo")
		before, _ := c.LocalAddr()
		var addr netip.AddrPort
		// The handshake is confirmed once HANDSHAKE_DONE arrived, which it has
		// by the time data flowed both ways.
		if err := c.SetLocalAddr(netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		select {
		case addr = <-moved:
		case <-closed:
			t.Fatal("connection closed during migration")
		case <-time.After(10 * time.Second):
			t.Fatal("no LocalAddressChangedEvent")
		}
		if addr == before || addr.Port() == before.Port() {
			t.Fatalf("moved from %v to %v", before, addr)
		}
		if err := s.Send([][]byte{half}, SendFIN, nil); err != nil {
			t.Fatal(err)
		}
		wait(t, done, "stream completion after migration")
		mu.Lock()
		if !bytes.Equal(got, append(bytes.Clone(half), half...)) {
			t.Errorf("echo of %d bytes, want %d", len(got), 2*len(half))
		}
		mu.Unlock()
		st, _ := c.Statistics()
		if st.PathChanges != 1 {
			t.Errorf("PathChanges = %d", st.PathChanges)
		}
		c.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}

// A listener's preferred address: the client moves there after the
// handshake and the connection keeps working.
func TestServerPreferredAddress(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		preferred := netip.MustParseAddrPort("127.0.0.2:4434")
		l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
			if ev, ok := ev.(*NewConnectionEvent); ok {
				ev.Connection.SetHandler(echoServerConn)
				return ev.Connection.SetConfiguration(e.srvCfg)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.SetPreferredAddress(preferred); err != nil {
			t.Fatal(err)
		}
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		e.listener = l
		e.addr, _ = l.LocalAddr()
		moved := make(chan netip.AddrPort, 1)
		closed := make(chan struct{})
		c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
			switch ev := ev.(type) {
			case *PeerAddressChangedEvent:
				moved <- ev.Addr
			case *ConnectionShutdownCompleteEvent:
				c.Close()
				close(closed)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
			t.Fatal(err)
		}
		select {
		case addr := <-moved:
			if addr != preferred {
				t.Fatalf("moved to %v, want %v", addr, preferred)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the client never moved to the preferred address")
		}
		c.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}
