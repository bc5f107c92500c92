package quic

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/netsim"
)

// streamOrder sends two 32 KiB streams, both queued before the handshake,
// on a connection using scheme, and returns how often the server's
// ReceiveEvents switched from one stream to the other.
func streamOrder(t *testing.T, scheme *StreamSchedulingScheme) int {
	e := newE2E(t, "echo", nil)
	// A slow link: each packet arrives on its own, so that each makes a
	// ReceiveEvent.
	e.net.SetDefaultLink(netsim.Link{Latency: 10 * time.Millisecond, Bandwidth: 2e6})
	var mu sync.Mutex
	var order []uint64
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			ev.Connection.SetHandler(func(c *Connection, ev ConnectionEvent) error {
				if ev, ok := ev.(*PeerStreamStartedEvent); ok {
					ev.Stream.SetHandler(func(s *Stream, sev StreamEvent) error {
						if r, ok := sev.(*ReceiveEvent); ok && r.TotalBufferLength > 0 {
							id, _ := s.ID()
							mu.Lock()
							order = append(order, id)
							mu.Unlock()
						}
						return echoServerStream(s, sev)
					})
					return nil
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
	closed := make(chan struct{})
	c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
		if _, ok := ev.(*ConnectionShutdownCompleteEvent); ok {
			c.Close()
			close(closed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scheme != nil {
		if err := c.SetStreamSchedulingScheme(*scheme); err != nil {
			t.Fatal(err)
		}
		if got := c.StreamSchedulingScheme(); got != *scheme {
			t.Fatalf("StreamSchedulingScheme = %v, want %v", got, *scheme)
		}
	}
	var done []chan struct{}
	for range 2 {
		ch := make(chan struct{})
		done = append(done, ch)
		s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
			if _, ok := ev.(*StreamShutdownCompleteEvent); ok {
				s.Close()
				close(ch)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send([][]byte{make([]byte, 32<<10)}, SendStart|SendFIN, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
		t.Fatal(err)
	}
	for _, ch := range done {
		wait(t, ch, "stream")
	}
	c.Shutdown(ConnectionShutdownNone, 0)
	wait(t, closed, "shutdown")
	mu.Lock()
	defer mu.Unlock()
	switches := 0
	for i := 1; i < len(order); i++ {
		if order[i] != order[i-1] {
			switches++
		}
	}
	return switches
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestStreamSchedulingScheme(t *testing.T) {
	fifo, rr := SchedulingFIFO, SchedulingRoundRobin
	for _, c := range []struct {
		name   string
		scheme *StreamSchedulingScheme
		fifo   bool
	}{{"default", nil, false}, {"round robin", &rr, false}, {"FIFO", &fifo, true}} {
		t.Run(c.name, func(t *testing.T) {
			simTest(t, func(t *testing.T) {
				switches := streamOrder(t, c.scheme)
				// FIFO sends the first stream whole, then the second; round
				// robin alternates packet by packet.
				if c.fifo && switches != 1 || !c.fifo && switches < 10 {
					t.Fatalf("the server's data switched streams %d times", switches)
				}
			})
		})
	}
}

func TestStreamSchedulingSchemeMisuse(t *testing.T) {
	r, _ := newTestConfiguration(t, []string{"h3"}, nil)
	c, err := r.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetStreamSchedulingScheme(StreamSchedulingScheme(2)); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("unknown scheme: %v, want ErrInvalidParameter", err)
	}
	c.Close()
	if err := c.SetStreamSchedulingScheme(SchedulingFIFO); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("after Close: %v, want ErrInvalidState", err)
	}
}
