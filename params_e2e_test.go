package quic

import (
	"errors"
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
