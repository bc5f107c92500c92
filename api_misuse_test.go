package quic

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// Misuse of the API returns a documented error and changes nothing.

func TestListenerStartErrors(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		nop := func(*Listener, ListenerEvent) error { return nil }
		l, err := e.reg.NewListener(nop)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := l.Start(nil, netip.MustParseAddrPort("127.0.0.1:0")); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("Start without ALPN = %v, want ErrInvalidParameter", err)
		}
		if err := l.Start([]string{""}, netip.MustParseAddrPort("127.0.0.1:0")); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("Start with an empty ALPN = %v, want ErrInvalidParameter", err)
		}
		// An address another socket holds.
		busy, err := e.host.Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		if err := l.Start([]string{"echo"}, busy.LocalAddrPort()); !errors.Is(err, ErrAddressInUse) {
			t.Errorf("Start on a busy address = %v, want ErrAddressInUse", err)
		}
		// An address that is not this host's.
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("192.0.2.1:4433")); !errors.Is(err, ErrAddressNotAvailable) {
			t.Errorf("Start on a foreign address = %v, want ErrAddressNotAvailable", err)
		}
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); !errors.Is(err, ErrInvalidState) {
			t.Errorf("second Start = %v, want ErrInvalidState", err)
		}
		addr, _ := l.LocalAddr()
		l2, _ := e.reg.NewListener(nop)
		defer l2.Close()
		if err := l2.Start([]string{"other", "echo"}, addr); !errors.Is(err, ErrALPNInUse) {
			t.Errorf("a second listener for the same ALPN and address = %v, want ErrALPNInUse", err)
		}
		if err := l2.Start([]string{"other"}, addr); err != nil {
			t.Errorf("a second listener for another ALPN on the same address: %v", err)
		}
	})
}

func TestConnectionStartErrors(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Start(nil, AddressFamilyUnspec, "localhost", 443); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("nil configuration: %v", err)
		}
		if err := c.Start(e.cliCfg, AddressFamilyUnspec, "localhost", 0); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("port 0: %v", err)
		}
		if err := c.Start(e.srvCfg, AddressFamilyUnspec, "localhost", 443); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("server configuration on a client: %v", err)
		}
		if err := c.Start(e.cliCfg, AddressFamilyUnspec, "no-such-host.invalid", 443); !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("unresolvable name: %v", err)
		}
		if err := c.SetConfiguration(e.srvCfg); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("SetConfiguration on a client: %v", err)
		}
		if err := c.Shutdown(ConnectionShutdownNone, 1<<62); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("error code above 2^62-1: %v", err)
		}
		if _, err := c.NewStream(StreamOpenNone, nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("nil stream handler: %v", err)
		}
	})
}

// connect connects a client to the echo server and returns the client
// connection, plus a channel closed at its shutdown.
func (e *e2e) connect(t *testing.T, h ConnectionHandler) (*Connection, chan struct{}) {
	t.Helper()
	connected := make(chan struct{})
	closed := make(chan struct{})
	var once sync.Once
	c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
		switch ev.(type) {
		case *ConnectedEvent:
			once.Do(func() { close(connected) })
		case *ConnectionShutdownCompleteEvent:
			c.Close()
			close(closed)
		}
		if h != nil {
			return h(c, ev)
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
	return c, closed
}

func TestStreamMisuse(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.listenEcho()
		c, closed := e.connect(t, nil)
		sendDone := make(chan struct{}, 4)
		pending := make(chan *Stream, 1)
		shut := make(chan struct{})
		s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
			switch ev := ev.(type) {
			case *SendCompleteEvent:
				sendDone <- struct{}{}
			case *ReceiveEvent:
				pending <- s
				return Pending // keep the data; complete it below
			case *StreamShutdownCompleteEvent:
				close(shut)
			default:
				_ = ev
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ID(); !errors.Is(err, ErrInvalidState) {
			t.Errorf("ID before start: %v", err)
		}
		if err := s.ReceiveComplete(1); !errors.Is(err, ErrInvalidState) {
			t.Errorf("ReceiveComplete with nothing pending: %v", err)
		}
		if err := s.Shutdown(StreamShutdownNone, 0); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("Shutdown without flags: %v", err)
		}
		if err := s.Shutdown(StreamShutdownGraceful|StreamShutdownAbortSend, 0); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("graceful with abort: %v", err)
		}
		if err := s.Shutdown(StreamShutdownImmediate|StreamShutdownAbortSend, 0); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("immediate without both aborts: %v", err)
		}
		if err := s.Send([][]byte{[]byte("ping")}, SendStart|SendFIN, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(StreamStartNone); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Start after SendStart: %v", err)
		}
		if err := s.Send([][]byte{[]byte("more")}, SendNone, nil); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Send after FIN: %v", err)
		}
		ps := <-pending
		if err := ps.ReceiveComplete(5); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("ReceiveComplete beyond what was delivered: %v", err)
		}
		if err := ps.ReceiveComplete(4); err != nil {
			t.Errorf("ReceiveComplete of what was delivered: %v", err)
		}
		<-sendDone
		wait(t, shut, "stream shutdown")
		if err := s.Shutdown(StreamShutdownAbort, 0); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Shutdown after the stream's shutdown-complete: %v", err)
		}
		s.Close()
		s.Close() // twice is harmless
		if err := s.Send(nil, SendFIN, nil); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Send on a closed stream: %v", err)
		}
		if err := s.Shutdown(StreamShutdownAbort, 0); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Shutdown on a closed stream: %v", err)
		}
		if err := s.SetReceiveEnabled(true); !errors.Is(err, ErrInvalidState) {
			t.Errorf("SetReceiveEnabled on a closed stream: %v", err)
		}
		s2, err := c.NewStream(StreamOpenNone, func(*Stream, StreamEvent) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		c.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "connection shutdown")
		if err := s2.Send([][]byte{[]byte("late")}, SendStart, nil); !errors.Is(err, ErrAborted) {
			t.Errorf("Send after the connection closed: %v", err)
		}
		if _, err := c.NewStream(StreamOpenNone, func(*Stream, StreamEvent) error { return nil }); !errors.Is(err, ErrInvalidState) {
			t.Errorf("NewStream on a closed connection: %v", err)
		}
	})
}

// Closing a connection before its shutdown completed shuts it down
// silently; the final event still comes, with AppCloseInProgress, and
// nothing after it.
func TestCloseBeforeShutdownComplete(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.listenEcho()
		var mu sync.Mutex
		var after []string
		final := make(chan ConnectionShutdownCompleteEvent, 1)
		c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
			mu.Lock()
			defer mu.Unlock()
			select {
			case <-final:
				after = append(after, typeName(ev))
			default:
			}
			if ev, ok := ev.(*ConnectionShutdownCompleteEvent); ok {
				final <- *ev
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
			t.Fatal(err)
		}
		c.Close()
		c.Close()
		var ev ConnectionShutdownCompleteEvent
		select {
		case ev = <-final:
		case <-timeAfter():
			t.Fatal("no shutdown-complete after Close")
		}
		if !ev.AppCloseInProgress {
			t.Error("AppCloseInProgress not set")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(after) != 0 {
			t.Errorf("events after shutdown-complete: %v", after)
		}
	})
}

func timeAfter() <-chan time.Time { return time.After(10 * time.Second) }

// An IPv4-mapped IPv6 address is the IPv4 address it maps.
func TestListenerIPv4MappedAddress(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
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
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("[::ffff:127.0.0.1]:0")); err != nil {
			t.Fatal(err)
		}
		e.listener = l
		e.addr, _ = l.LocalAddr()
		if !e.addr.Addr().Is4() || !e.addr.Addr().IsLoopback() {
			t.Errorf("LocalAddr %v, want 127.0.0.1", e.addr)
		}
		e.dialEcho(t, "mapped")
	})
}
