package quic_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"time"

	"github.com/hquic/quic"
)

// Open the library, then a registration (an execution context with its
// worker goroutines), then a configuration: the ALPN list, settings and
// credentials that connections and listeners use. Close them in reverse.
func Example() {
	lib, err := quic.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lib.Close()
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	cfg, err := reg.NewConfiguration([]string{"example"}, &quic.Settings{IdleTimeout: quic.Some(30 * time.Second)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cfg.Close()
	// A client configuration: no certificate of its own, the server's
	// verified against the system roots.
	if err := cfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialNone, Flags: quic.CredentialClient}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.ALPNs(), cfg.Settings().IdleTimeout.Value)
	// Output: [example] 30s
}

// A listener accepts a connection by giving it a handler and a server
// configuration inside NewConnectionEvent.
func ExampleRegistration_NewListener() {
	lib, _ := quic.Open()
	defer lib.Close()
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	cert, roots := exampleCertificate()
	srvCfg, _ := reg.NewConfiguration([]string{"example"}, nil)
	defer srvCfg.Close()
	srvCfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialTLSCertificate, Certificates: []tls.Certificate{cert}})

	connected := make(chan string, 1)
	l, err := reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			sni := ev.Info.ServerName
			ev.Connection.SetHandler(func(c *quic.Connection, ev quic.ConnectionEvent) error {
				switch ev.(type) {
				case *quic.ConnectedEvent:
					connected <- sni
				case *quic.ConnectionShutdownCompleteEvent:
					c.Close()
				}
				return nil
			})
			return ev.Connection.SetConfiguration(srvCfg)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	if err := l.Start([]string{"example"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		fmt.Println(err)
		return
	}
	addr, _ := l.LocalAddr()

	client := dialExample(reg, roots, addr, nil)
	fmt.Println("server accepted a connection for", <-connected)
	client.close()
	// Output: server accepted a connection for localhost
}

// A client connection: Start resolves the server name, the handshake runs
// on the registration's workers, and the handler hears the outcome.
func ExampleRegistration_NewConnection() {
	lib, _ := quic.Open()
	defer lib.Close()
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	srv := startEchoServer(reg, nil)
	defer srv.close()

	cfg, _ := reg.NewConfiguration([]string{"echo"}, nil)
	defer cfg.Close()
	cfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: srv.roots})
	done := make(chan struct{})
	c, _ := reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		switch ev := ev.(type) {
		case *quic.ConnectedEvent:
			fmt.Println("connected with ALPN", ev.NegotiatedALPN)
		case *quic.ConnectionShutdownCompleteEvent:
			fmt.Println("handshake completed:", ev.HandshakeCompleted)
			close(done)
		}
		return nil
	})
	c.SetRemoteAddr(srv.addr)
	if err := c.Start(cfg, quic.AddressFamilyUnspec, "localhost", srv.addr.Port()); err != nil {
		fmt.Println(err)
		return
	}
	// Once the server has the client's Finished, a shutdown ends both
	// sides within a few round trips.
	<-srv.connected
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	<-done
	c.Close()
	// Output:
	// connected with ALPN echo
	// handshake completed: true
}

// Streams: a send's buffers stay the library's until its SendCompleteEvent;
// received buffers are valid during the ReceiveEvent handler.
func ExampleConnection_NewStream() {
	lib, _ := quic.Open()
	defer lib.Close()
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	srv := startEchoServer(reg, nil)
	defer srv.close()

	var echo bytes.Buffer
	done := make(chan struct{})
	client := dialExample(reg, srv.roots, srv.addr, func(c *quic.Connection) {
		s, _ := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
			switch ev := ev.(type) {
			case *quic.ReceiveEvent:
				for _, b := range ev.Buffers {
					echo.Write(b)
				}
			case *quic.StreamShutdownCompleteEvent:
				s.Close()
				close(done)
			}
			return nil
		})
		// SendStart starts the stream, SendFIN ends it after the data.
		s.Send([][]byte{[]byte("hello, "), []byte("streams")}, quic.SendStart|quic.SendFIN, nil)
	})
	<-done
	fmt.Println(echo.String())
	client.close()
	// Output: hello, streams
}

// Datagrams are unreliable: each side must enable receiving them, and a
// send reports its fate in DatagramSendStateChangedEvent.
func ExampleConnection_SendDatagram() {
	lib, _ := quic.Open()
	defer lib.Close()
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	on := &quic.Settings{DatagramReceiveEnabled: quic.Some(true)}
	srv := startEchoServer(reg, on)
	defer srv.close()

	got := make(chan string, 1)
	client := dialExample(reg, srv.roots, srv.addr, nil, func(c *quic.Connection, ev quic.ConnectionEvent) {
		switch ev := ev.(type) {
		case *quic.DatagramStateChangedEvent:
			if ev.SendEnabled {
				c.SendDatagram([][]byte{[]byte("ping")}, quic.SendNone, nil)
			}
		case *quic.DatagramReceivedEvent:
			got <- string(ev.Data) // Data is valid only during the handler
		}
	})
	fmt.Println("echoed datagram:", <-got)
	client.close()
	// Output: echoed datagram: ping
}

// Resumption: the server issues a ticket, the client keeps it and gives it
// to a later connection, whose handshake then resumes the session.
func ExampleConnection_SetResumptionTicket() {
	lib, _ := quic.Open()
	defer lib.Close()
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	srv := startEchoServer(reg, &quic.Settings{ServerResumptionLevel: quic.Some(quic.ServerResumeOnly)})
	defer srv.close()

	tickets := make(chan []byte, 1)
	first := dialExample(reg, srv.roots, srv.addr, nil, func(c *quic.Connection, ev quic.ConnectionEvent) {
		if ev, ok := ev.(*quic.ResumptionTicketReceivedEvent); ok {
			tickets <- ev.Ticket // the application's to keep
		}
	})
	ticket := <-tickets
	first.close()

	resumed := make(chan bool, 1)
	second := dialExample(reg, srv.roots, srv.addr, nil, func(c *quic.Connection, ev quic.ConnectionEvent) {
		if ev, ok := ev.(*quic.ConnectedEvent); ok {
			resumed <- ev.SessionResumed
		}
	}, withTicket(ticket))
	fmt.Println("resumed:", <-resumed)
	second.close()
	// Output: resumed: true
}

// Custom certificate validation: with CredentialIndicateCertificateReceived
// the handler sees the peer's certificate and decides. Here the client
// skips the built-in validation and pins the server's certificate instead;
// returning an error would fail the handshake with bad_certificate.
func ExamplePeerCertificateReceivedEvent() {
	lib, _ := quic.Open()
	defer lib.Close()
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	srv := startEchoServer(reg, nil)
	defer srv.close()
	pin := sha256.Sum256(srv.cert.Certificate[0])

	cfg, _ := reg.NewConfiguration([]string{"echo"}, nil)
	defer cfg.Close()
	cfg.LoadCredential(&quic.CredentialConfig{
		Type:  quic.CredentialNone,
		Flags: quic.CredentialClient | quic.CredentialNoCertificateValidation | quic.CredentialIndicateCertificateReceived,
	})
	done := make(chan struct{})
	c, _ := reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		switch ev := ev.(type) {
		case *quic.PeerCertificateReceivedEvent:
			if sha256.Sum256(ev.Certificate.Raw) != pin {
				return fmt.Errorf("certificate not pinned")
			}
			fmt.Println("pinned certificate accepted")
		case *quic.ConnectionShutdownCompleteEvent:
			close(done)
		}
		return nil
	})
	c.SetRemoteAddr(srv.addr)
	c.Start(cfg, quic.AddressFamilyUnspec, "localhost", srv.addr.Port())
	<-srv.connected
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	<-done
	c.Close()
	// Output: pinned certificate accepted
}

// Settings are patches: only fields marked Set apply, and each level
// inherits what it does not set from the one below (library,
// configuration, connection).
func ExampleSettings() {
	lib, _ := quic.Open()
	defer lib.Close()
	lib.SetSettings(&quic.Settings{IdleTimeout: quic.Some(time.Minute)})
	reg, _ := lib.NewRegistration(nil)
	defer reg.Close()
	cfg, _ := reg.NewConfiguration([]string{"example"}, &quic.Settings{
		PeerBidiStreamCount: quic.Some[uint16](100),
		KeepAliveInterval:   quic.Some(10 * time.Second),
	})
	defer cfg.Close()
	s := cfg.Settings()
	fmt.Println("idle timeout", s.IdleTimeout.Value, "set here:", s.IdleTimeout.Set)
	fmt.Println("streams", s.PeerBidiStreamCount.Value, "set here:", s.PeerBidiStreamCount.Set)
	fmt.Println("keep-alive", s.KeepAliveInterval.Value)
	err := (&quic.Settings{MaxAckDelay: quic.Some(time.Hour)}).Validate()
	fmt.Println("invalid settings fail:", err != nil)
	// Output:
	// idle timeout 1m0s set here: false
	// streams 100 set here: true
	// keep-alive 10s
	// invalid settings fail: true
}

// echoServer is the examples' server: it echoes stream data and datagrams.
type echoServer struct {
	l     *quic.Listener
	cfg   *quic.Configuration
	addr  netip.AddrPort
	cert  tls.Certificate
	roots *x509.CertPool
	// connected hears of the first connection whose handshake completed
	// on the server. A client that closes before then leaves the server
	// without an RTT sample, so its draining period lasts three probe
	// timeouts of the 333 ms initial RTT.
	connected chan struct{}
}

// startEchoServer listens on 127.0.0.1 for ALPN "echo" with settings s
// (nil: none) and room for 10 client streams.
func startEchoServer(reg *quic.Registration, s *quic.Settings) *echoServer {
	cert, roots := exampleCertificate()
	settings := quic.Settings{PeerBidiStreamCount: quic.Some[uint16](10)}
	if s != nil {
		settings.DatagramReceiveEnabled = s.DatagramReceiveEnabled
		settings.ServerResumptionLevel = s.ServerResumptionLevel
	}
	cfg, _ := reg.NewConfiguration([]string{"echo"}, &settings)
	cfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialTLSCertificate, Certificates: []tls.Certificate{cert}})
	resume := settings.ServerResumptionLevel.Value != quic.ServerNoResume
	connected := make(chan struct{}, 1)
	l, _ := reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			ev.Connection.SetHandler(func(c *quic.Connection, ev quic.ConnectionEvent) error {
				if _, ok := ev.(*quic.ConnectedEvent); ok {
					select {
					case connected <- struct{}{}:
					default:
					}
				}
				return echoConnection(c, ev, resume)
			})
			return ev.Connection.SetConfiguration(cfg)
		}
		return nil
	})
	l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0"))
	addr, _ := l.LocalAddr()
	return &echoServer{l: l, cfg: cfg, addr: addr, cert: cert, roots: roots, connected: connected}
}

func (s *echoServer) close() {
	s.l.Close()
	s.cfg.Close()
}

func echoConnection(c *quic.Connection, ev quic.ConnectionEvent, resume bool) error {
	switch ev := ev.(type) {
	case *quic.ConnectedEvent:
		if resume {
			c.SendResumptionTicket(quic.SendResumptionNone, nil)
		}
	case *quic.PeerStreamStartedEvent:
		ev.Stream.SetHandler(echoStream)
	case *quic.DatagramReceivedEvent:
		c.SendDatagram([][]byte{bytes.Clone(ev.Data)}, quic.SendNone, nil)
	case *quic.ConnectionShutdownCompleteEvent:
		c.Close()
	}
	return nil
}

func echoStream(s *quic.Stream, ev quic.StreamEvent) error {
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		var data []byte
		for _, b := range ev.Buffers {
			data = append(data, b...) // a copy: the send outlives the event
		}
		s.Send([][]byte{data}, quic.SendNone, nil)
	case *quic.PeerSendShutdownEvent:
		s.Send(nil, quic.SendFIN, nil)
	case *quic.StreamShutdownCompleteEvent:
		s.Close()
	}
	return nil
}

// exampleClient is a client connection of the examples.
type exampleClient struct {
	c    *quic.Connection
	cfg  *quic.Configuration
	done chan struct{}
}

type dialOption func(*quic.Connection)

func withTicket(t []byte) dialOption {
	return func(c *quic.Connection) { c.SetResumptionTicket(t) }
}

// dialExample connects to addr for ALPN "echo", trusting roots; onConnected
// runs in the ConnectedEvent handler, and onEvent, if given, sees every
// event first.
func dialExample(reg *quic.Registration, roots *x509.CertPool, addr netip.AddrPort, onConnected func(*quic.Connection), extra ...any) *exampleClient {
	cfg, _ := reg.NewConfiguration([]string{"echo", "example"}, &quic.Settings{DatagramReceiveEnabled: quic.Some(true)})
	cfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: roots})
	var onEvent func(*quic.Connection, quic.ConnectionEvent)
	var opts []dialOption
	for _, x := range extra {
		switch x := x.(type) {
		case func(*quic.Connection, quic.ConnectionEvent):
			onEvent = x
		case dialOption:
			opts = append(opts, x)
		}
	}
	ec := &exampleClient{cfg: cfg, done: make(chan struct{})}
	ec.c, _ = reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		if onEvent != nil {
			onEvent(c, ev)
		}
		switch ev.(type) {
		case *quic.ConnectedEvent:
			if onConnected != nil {
				onConnected(c)
			}
		case *quic.ConnectionShutdownCompleteEvent:
			close(ec.done)
		}
		return nil
	})
	for _, o := range opts {
		o(ec.c)
	}
	ec.c.SetRemoteAddr(addr)
	ec.c.Start(cfg, quic.AddressFamilyUnspec, "localhost", addr.Port())
	return ec
}

// close shuts the connection down and waits for its last event.
func (ec *exampleClient) close() {
	ec.c.Shutdown(quic.ConnectionShutdownNone, 0)
	<-ec.done
	ec.c.Close()
	ec.cfg.Close()
}

// exampleCertificate makes a self-signed certificate for localhost and
// 127.0.0.1 and a pool that trusts it.
func exampleCertificate() (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
