package quic

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/testutil"
)

// newProfileE2E is newE2E on a registration of the given profile.
func newProfileE2E(t *testing.T, p ExecutionProfile) *e2e {
	t.Helper()
	lib, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := lib.NewRegistration(&RegistrationConfig{AppName: "e2e-" + p.String(), ExecutionProfile: p})
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, lib: lib, reg: reg}
	e.srvCfg, err = reg.NewConfiguration([]string{"echo"}, &Settings{PeerBidiStreamCount: Some[uint16](100), IdleTimeout: Some(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srvCfg.LoadCredential(&CredentialConfig{Type: CredentialTLSCertificate,
		Certificates: []tls.Certificate{testutil.ServerCertificate()}}); err != nil {
		t.Fatal(err)
	}
	e.cliCfg, err = reg.NewConfiguration([]string{"echo"}, &Settings{IdleTimeout: Some(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cliCfg.LoadCredential(&CredentialConfig{Type: CredentialNone, Flags: CredentialClient,
		RootCAs: testutil.RootCAs()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// TestMaxThroughputEchoUsesSenderGoroutines: with ProfileMaxThroughput the
// listener's socket and the client's socket write through sender
// goroutines, and an echo of half a megabyte (many GSO batches through
// the queues) comes back intact; once the registration has closed, the
// sockets hold no buffer and, checked by TestMain, no goroutine is left
// behind. With ProfileLowLatency the same sockets have no sender.
func TestMaxThroughputEchoUsesSenderGoroutines(t *testing.T) {
	for _, tc := range []struct {
		p      ExecutionProfile
		queued bool
	}{
		{ProfileMaxThroughput, true},
		{ProfileLowLatency, false},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			var socks []*endpoint.Binding
			// Registered first, so it runs after the registration closed.
			t.Cleanup(func() {
				for _, b := range socks {
					b.Close() // waits for the close the library started
					if n := b.Outstanding(); n != 0 {
						t.Errorf("socket %v: %d buffers outstanding after Close", b.LocalAddr(), n)
					}
				}
			})
			e := newProfileE2E(t, tc.p)
			e.listenEcho()
			socks = append(socks, e.listener.sb.sh.Binding())
			if got := e.listener.sb.sh.Binding().SendQueued(); got != tc.queued {
				t.Fatalf("listener socket SendQueued = %v, want %v", got, tc.queued)
			}
			c, connected, closed := connectEcho(t, e)
			wait(t, connected, "CONNECTED")
			c.mu.Lock()
			bs := c.client.Bindings()
			c.mu.Unlock()
			socks = append(socks, bs...)
			if len(bs) != 1 || bs[0].SendQueued() != tc.queued {
				t.Fatalf("client sockets %d, SendQueued %v; want 1, %v", len(bs), bs[0].SendQueued(), tc.queued)
			}
			echoOn(t, c, strings.Repeat("maxtput ", 64<<10))
			echoOn(t, c, "and a short one")
			if err := c.Shutdown(ConnectionShutdownNone, 0); err != nil {
				t.Fatal(err)
			}
			wait(t, closed, "connection SHUTDOWN_COMPLETE")
		})
	}
}

// connectEcho starts a client connection to e's listener.
func connectEcho(t *testing.T, e *e2e) (c *Connection, connected, closed chan struct{}) {
	t.Helper()
	connected, closed = make(chan struct{}), make(chan struct{})
	c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
		switch ev.(type) {
		case *ConnectedEvent:
			close(connected)
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
	return c, connected, closed
}
