package quic

import (
	"net/netip"
	"testing"
	"testing/synctest"
)

// echoDialed is what dialEcho learned about its connection.
type echoDialed struct {
	Statistics
	Version uint32 // Connection.QUICVersion after the echo
}

// dialEcho connects to the e2e server, echoes msg on one stream and shuts
// down; it returns the client's statistics and QUIC version.
func (e *e2e) dialEcho(t *testing.T, msg string) echoDialed {
	t.Helper()
	c, closed := e.connect(t, func(c *Connection, ev ConnectionEvent) error {
		if ev, ok := ev.(*ShutdownInitiatedByTransportEvent); ok {
			t.Errorf("transport closed the connection: %v", ev.Err)
		}
		return nil
	})
	echoOn(t, c, msg)
	var d echoDialed
	var err error
	if d.Statistics, err = c.Statistics(); err != nil {
		t.Error(err)
	}
	if d.Version, err = c.QUICVersion(); err != nil {
		t.Error(err)
	}
	c.Shutdown(ConnectionShutdownNone, 0)
	wait(t, closed, "shutdown")
	return d
}

func TestStatelessRetryThenNewToken(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		if err := e.lib.SetGlobalSettings(&GlobalSettings{StatelessRetryEnabled: Some(true)}); err != nil {
			t.Fatal(err)
		}
		e.listenEcho()
		first := e.dialEcho(t, "with retry")
		if !first.StatelessRetry {
			t.Error("first connection did not go through a Retry")
		}
		// Each datagram of the client's first flight draws a Retry (a
		// post-quantum key share makes the ClientHello span two); the client
		// follows the first and ignores the rest.
		ls := e.listener.Statistics()
		retries := ls.RetriesSent
		if retries == 0 || ls.TokensAccepted != 1 {
			t.Errorf("after the first connection: %d Retries sent, %d tokens accepted; want ≥ 1 and 1", ls.RetriesSent, ls.TokensAccepted)
		}
		// The server issued a NEW_TOKEN; the second connection presents it and
		// skips the Retry.
		if e.lib.tokenCache().Len() == 0 {
			t.Fatal("the client stored no NEW_TOKEN token")
		}
		second := e.dialEcho(t, "with a NEW_TOKEN token")
		if second.StatelessRetry {
			t.Error("second connection was sent a Retry despite its NEW_TOKEN token")
		}
		ls = e.listener.Statistics()
		if ls.RetriesSent != retries || ls.TokensAccepted != 2 {
			t.Errorf("after the second connection: %d Retries sent, %d tokens accepted; want %d and 2", ls.RetriesSent, ls.TokensAccepted, retries)
		}
	})
}

// With room for ten half-open connections, ten from distinct addresses
// push the server into Retry mode, and not nine; a client then connects
// through a Retry. The room is set in bytes, not as RetryMemoryLimit's
// fraction of the machine's memory, so that the test is the same on every
// machine.
func TestAutomaticRetryUnderHandshakeLoad(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		const halfOpen = 10
		e.lib.defense.guard.SetLimit(halfOpen*handshakeMemoryEstimate, false)
		e.listenEcho()
		for i := range halfOpen {
			sendGarbageInitial(t, e, byte(i))
			synctest.Wait()
			if n := e.lib.HalfOpenConnections(); n != int64(i+1) {
				t.Fatalf("%d half-open connections after %d Initials", n, i+1)
			}
			if got, want := e.lib.DoSMode(), i+1 == halfOpen; got != want {
				t.Fatalf("with %d half-open connections DoS mode = %v", i+1, got)
			}
		}
		if st := e.dialEcho(t, "under load"); !st.StatelessRetry {
			t.Error("the client was not sent a Retry under handshake load")
		}
	})
}

// sendGarbageInitial sends, from a fresh socket, an Initial-shaped datagram
// that never completes a handshake.
func sendGarbageInitial(t *testing.T, e *e2e, seed byte) {
	t.Helper()
	to := e.addr
	s, err := e.host.Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pkt := make([]byte, 1200)
	pkt[0] = 0xc0
	pkt[4] = 1 // version 1
	pkt[5] = 8
	for i := 6; i < 14; i++ {
		pkt[i] = seed + byte(i)
	}
	pkt[14] = 0                   // SCID length
	pkt[15] = 0                   // token length
	pkt[16], pkt[17] = 0x44, 0x00 // length 1024
	if _, err := s.WriteToUDPAddrPort(pkt, to); err != nil {
		t.Fatal(err)
	}
}
