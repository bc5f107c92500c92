package quic

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hquic/quic/netsim"
)

// TestHandshakeStatisticsInConnectedHandler reads the handshake timings and
// flight sizes from the CONNECTED handler of both sides: they must already
// be final there, although crypto/tls hands over the 1-RTT read keys only
// after it reports completion.
func TestHandshakeStatisticsInConnectedHandler(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.net.SetDefaultLink(netsim.Link{Latency: 5 * time.Millisecond})
		server := make(chan Statistics, 1)
		serverConn := func(c *Connection, ev ConnectionEvent) error {
			if _, ok := ev.(*ConnectedEvent); ok {
				st, err := c.Statistics()
				if err != nil {
					t.Errorf("server Statistics: %v", err)
				}
				server <- st
			}
			return echoServerConn(c, ev)
		}
		l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
			if ev, ok := ev.(*NewConnectionEvent); ok {
				ev.Connection.SetHandler(serverConn)
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
		var client Statistics
		c, closed := e.connect(t, func(c *Connection, ev ConnectionEvent) error {
			if _, ok := ev.(*ConnectedEvent); ok {
				var err error
				if client, err = c.Statistics(); err != nil {
					t.Errorf("client Statistics: %v", err)
				}
			}
			return nil
		})
		srv := <-server
		// One round trip to the server's flights; the server hears the
		// client's Finished one round trip after it answered.
		const rtt = 10 * time.Millisecond
		if client.TimingInitialFlightEnd != rtt || client.TimingHandshakeFlightEnd != rtt ||
			client.HandshakeClientFlight1Bytes == 0 || client.HandshakeServerFlight1Bytes == 0 || client.HandshakeClientFlight2Bytes == 0 {
			t.Errorf("client statistics at CONNECTED: %+v", client)
		}
		if srv.TimingHandshakeFlightEnd != rtt || srv.HandshakeClientFlight1Bytes == 0 || srv.HandshakeServerFlight1Bytes == 0 ||
			srv.HandshakeClientFlight2Bytes == 0 {
			t.Errorf("server statistics at CONNECTED: %+v", srv)
		}
		c.Shutdown(ConnectionShutdownNone, 0)
		wait(t, closed, "shutdown")
	})
}
