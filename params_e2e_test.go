package quic

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
)

func TestLocalStreamCountsAndDatagramSendEnabled(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", &Settings{PeerBidiStreamCount: Some[uint16](3), PeerUnidiStreamCount: Some[uint16](2),
			DatagramReceiveEnabled: Some(true)})
		e.listenEcho()
		c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.LocalStreamCounts(); !errors.Is(err, ErrInvalidState) {
			t.Fatalf("LocalStreamCounts before Start = %v, want ErrInvalidState", err)
		}
		if c.DatagramSendEnabled() {
			t.Fatal("DatagramSendEnabled before Start")
		}
		if _, err := c.OriginalDestCID(); !errors.Is(err, ErrInvalidState) {
			t.Fatalf("OriginalDestCID before Start = %v, want ErrInvalidState", err)
		}
		c.Close()

		conn, closed := e.connect(t, nil)
		bidi, uni, err := conn.LocalStreamCounts()
		if err != nil || bidi != 3 || uni != 2 {
			t.Fatalf("LocalStreamCounts = %d, %d, %v; want the server's limits 3, 2", bidi, uni, err)
		}
		if !conn.DatagramSendEnabled() {
			t.Error("DatagramSendEnabled false although the server accepts datagrams")
		}
		for _, flags := range []StreamOpenFlags{StreamOpenNone, StreamOpenUnidirectional} {
			s, err := conn.NewStream(flags, func(*Stream, StreamEvent) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(StreamStartNone); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait() // the connection has run the starts
		if bidi, uni, _ := conn.LocalStreamCounts(); bidi != 2 || uni != 1 {
			t.Errorf("LocalStreamCounts = %d, %d with one stream of each kind open, want 2, 1", bidi, uni)
		}
		conn.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}

func TestDatagramSendDisabledByThePeer(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.listenEcho()
		conn, closed := e.connect(t, nil)
		if conn.DatagramSendEnabled() {
			t.Error("DatagramSendEnabled although the server does not accept datagrams")
		}
		conn.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}

func TestOriginalDestCIDIsTheClientsFirstEvenAfterRetry(t *testing.T) {
	simTest(t, func(t *testing.T) {
		// Every client is sent a Retry: the server's connection starts
		// from the client's second Initial, with another DCID.
		e := newE2EGlobal(t, "echo", nil, &GlobalSettings{RetryMemoryLimit: Some[uint16](0)})
		servers := make(chan *Connection, 1)
		serverConnected := make(chan struct{})
		l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
			if ev, ok := ev.(*NewConnectionEvent); ok {
				servers <- ev.Connection
				ev.Connection.SetHandler(func(c *Connection, ev ConnectionEvent) error {
					if _, ok := ev.(*ConnectedEvent); ok {
						close(serverConnected)
					}
					return echoServerConn(c, ev)
				})
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
		e.listener, e.addr = l, must(l.LocalAddr())
		c, closed := e.connect(t, nil)
		srv := <-servers
		wait(t, serverConnected, "server CONNECTED")
		st, _ := c.Statistics()
		cid, err := c.OriginalDestCID()
		scid, serr := srv.OriginalDestCID()
		if err != nil || serr != nil || len(cid) < 8 || !bytes.Equal(cid, scid) || !st.StatelessRetry {
			t.Fatalf("client %x (%v), server %x (%v), Retry %v; want the same ID of 8 bytes or more after a Retry",
				cid, err, scid, serr, st.StatelessRetry)
		}
		cid[0] ^= 0xff
		if again, _ := c.OriginalDestCID(); bytes.Equal(again, cid) {
			t.Fatal("OriginalDestCID returned the connection's own slice")
		}
		c.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}

func TestStreamPriorityReadsBack(t *testing.T) {
	r, _ := newTestConfiguration(t, []string{"h3"}, nil)
	c, err := r.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewStream(StreamOpenNone, func(*Stream, StreamEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Priority(); p != 0x7FFF {
		t.Fatalf("default Priority = %#x, want MsQuic's 0x7FFF", p)
	}
	if err := s.SetPriority(7); err != nil {
		t.Fatal(err)
	}
	if p := s.Priority(); p != 7 {
		t.Fatalf("Priority = %d after SetPriority(7)", p)
	}
}
