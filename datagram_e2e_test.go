package quic

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// Datagrams (RFC 9221) both ways over loopback, with send-state events
// reaching a final state exactly once.
func TestDatagrams(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", &Settings{PeerBidiStreamCount: Some[uint16](10), DatagramReceiveEnabled: Some(true)})
		got := make(chan string, 4)
		l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
			if ev, ok := ev.(*NewConnectionEvent); ok {
				ev.Connection.SetHandler(func(c *Connection, ev ConnectionEvent) error {
					switch ev := ev.(type) {
					case *DatagramReceivedEvent:
						c.SendDatagram([][]byte{append([]byte("echo:"), ev.Data...)}, SendNone, nil)
					case *ConnectionShutdownCompleteEvent:
						c.Close()
					}
					return nil
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
		e.listener = l
		e.addr, _ = l.LocalAddr()
		if err := e.cliCfg.SetSettings(&Settings{DatagramReceiveEnabled: Some(true)}); err != nil {
			t.Fatal(err)
		}
		finals := make(chan DatagramSendState, 4)
		enabled := make(chan uint16, 1)
		c, closed := e.connect(t, func(c *Connection, ev ConnectionEvent) error {
			switch ev := ev.(type) {
			case *DatagramStateChangedEvent:
				if ev.SendEnabled {
					enabled <- ev.MaxSendLength
				}
			case *DatagramReceivedEvent:
				got <- string(ev.Data)
			case *DatagramSendStateChangedEvent:
				if ev.State.IsFinal() {
					finals <- ev.State
				}
			}
			return nil
		})
		max := <-enabled
		if err := c.SendDatagram([][]byte{make([]byte, int(max)+1)}, SendNone, nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("oversized datagram: %v", err)
		}
		if err := c.SendDatagram([][]byte{[]byte("hi")}, SendNone, "ctx"); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != "echo:hi" {
				t.Errorf("got %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no datagram back")
		}
		select {
		case st := <-finals:
			if st != DatagramSendAcknowledged {
				t.Errorf("final state %v", st)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no final send state")
		}
		c.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}
