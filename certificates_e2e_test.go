package quic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"sync"
	"testing"
)

// These tests run MsQuic's custom certificate validation pattern over
// netsim in virtual time: validation off in the library, the certificate
// indicated, the handler returning Pending and another goroutine checking
// the chain against the application's own roots and completing the
// validation.

// customValidator is the application's asynchronous validator.
func customValidator(roots *x509.CertPool, usage x509.ExtKeyUsage, name string) ConnectionHandler {
	return func(c *Connection, ev ConnectionEvent) error {
		pe, ok := ev.(*PeerCertificateReceivedEvent)
		if !ok {
			return nil
		}
		if pe.Certificate == nil {
			return StatusRequiredCertificate
		}
		chain := pe.Chain
		go func() {
			opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool(),
				KeyUsages: []x509.ExtKeyUsage{usage}}
			for _, ic := range chain[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := chain[0].Verify(opts)
			if err := c.CertificateValidationComplete(err == nil, TLSAlertUnknownCA); err != nil {
				panic(err)
			}
		}()
		return Pending
	}
}

// outcome is what one side of a connection saw.
type outcome struct {
	mu        sync.Mutex
	connected bool
	certs     int
	status    Status // of the shutdown initiated by the transport
	err       error  // its description
	info      HandshakeInfo
	peer      []*x509.Certificate
	alpn      string
	done      chan struct{}
}

func newOutcome() *outcome { return &outcome{done: make(chan struct{})} }

// handler records events, passes them to h, and closes the connection at
// its end.
func (o *outcome) handler(h ConnectionHandler) ConnectionHandler {
	return func(c *Connection, ev ConnectionEvent) error {
		o.mu.Lock()
		switch ev := ev.(type) {
		case *ConnectedEvent:
			o.connected = true
			o.info, _ = c.HandshakeInfo()
			o.peer, _ = c.PeerCertificates()
			o.alpn = c.NegotiatedALPN()
		case *PeerCertificateReceivedEvent:
			o.certs++
		case *ShutdownInitiatedByTransportEvent:
			o.status, o.err = ev.Status, ev.Err
		case *ConnectionShutdownCompleteEvent:
			c.Close()
			close(o.done)
		}
		o.mu.Unlock()
		if h != nil {
			return h(c, ev)
		}
		return nil
	}
}

// customPKI sets up e's listener: each accepted connection's outcome goes
// to the server channel, handled by h.
func (e *e2e) listenWith(t *testing.T, h ConnectionHandler) chan *outcome {
	t.Helper()
	server := make(chan *outcome, 4)
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			o := newOutcome()
			server <- o
			ev.Connection.SetHandler(o.handler(h))
			return ev.Connection.SetConfiguration(e.srvCfg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start([]string{"cert"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	e.listener = l
	e.addr, _ = l.LocalAddr()
	return server
}

// dialWith connects a client with h, which shuts it down once connected
// when shutdown is set; it returns the client's outcome after its
// shutdown.
func (e *e2e) dialWith(t *testing.T, h ConnectionHandler, shutdown bool) *outcome {
	t.Helper()
	o := newOutcome()
	c, err := e.reg.NewConnection(o.handler(func(c *Connection, ev ConnectionEvent) error {
		if _, ok := ev.(*ConnectedEvent); ok && shutdown {
			c.Shutdown(ConnectionShutdownNone, 0)
		}
		if h != nil {
			return h(c, ev)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
		t.Fatal(err)
	}
	wait(t, o.done, "client shutdown")
	return o
}

func loadCredential(t *testing.T, c *Configuration, flags CredentialFlags, cert *tls.Certificate) {
	t.Helper()
	cc := &CredentialConfig{Flags: flags}
	if cert != nil {
		cc.Type, cc.Certificates = CredentialTLSCertificate, []tls.Certificate{*cert}
	}
	if err := c.LoadCredential(cc); err != nil {
		t.Fatal(err)
	}
}

func TestClientCustomValidation(t *testing.T) {
	pki := pkiOnce()
	for _, c := range []struct {
		name   string
		cert   *tls.Certificate
		accept bool
	}{{"right CA", &pki.good, true}, {"wrong CA", &pki.wrongCA, false}} {
		t.Run(c.name, func(t *testing.T) {
			simTest(t, func(t *testing.T) {
				e := newE2E(t, "cert", nil)
				loadCredential(t, e.srvCfg, 0, c.cert)
				loadCredential(t, e.cliCfg, CredentialClient|CredentialNoCertificateValidation|
					CredentialIndicateCertificateReceived|CredentialUsePortableCertificates, nil)
				server := e.listenWith(t, nil)
				got := e.dialWith(t, customValidator(pki.ca.pool(), x509.ExtKeyUsageServerAuth, "localhost"), true)
				if got.certs != 1 || got.connected != c.accept {
					t.Fatalf("client: %d certificate events, connected=%v; want 1, %v", got.certs, got.connected, c.accept)
				}
				if c.accept {
					checkTLSInfo(t, "client", got, c.cert)
					return
				}
				if got.status != TLSAlertStatus(uint8(TLSAlertUnknownCA)) {
					t.Fatalf("client status %v, want the unknown_ca alert it sent", got.status)
				}
				s := <-server
				wait(t, s.done, "server shutdown")
				if s.connected || s.status != TLSAlertStatus(uint8(TLSAlertUnknownCA)) {
					t.Fatalf("server: connected=%v status %v; want the client's unknown_ca", s.connected, s.status)
				}
			})
		})
	}
}

func TestServerCustomValidation(t *testing.T) {
	pki := pkiOnce()
	for _, c := range []struct {
		name   string
		cert   *tls.Certificate
		accept bool
	}{{"right CA", &pki.good, true}, {"wrong CA", &pki.wrongCA, false}} {
		t.Run(c.name, func(t *testing.T) {
			simTest(t, func(t *testing.T) {
				e := newE2E(t, "cert", nil)
				loadCredential(t, e.srvCfg, CredentialRequireClientAuthentication|CredentialNoCertificateValidation|
					CredentialIndicateCertificateReceived, &pki.good)
				loadCredential(t, e.cliCfg, CredentialClient|CredentialNoCertificateValidation, c.cert)
				// The server ends the connection once connected: TLS 1.3
				// completes the client's handshake before the server has seen
				// its certificate.
				validate := customValidator(pki.ca.pool(), x509.ExtKeyUsageClientAuth, "")
				server := e.listenWith(t, func(c *Connection, ev ConnectionEvent) error {
					if _, ok := ev.(*ConnectedEvent); ok {
						c.Shutdown(ConnectionShutdownNone, 0)
					}
					return validate(c, ev)
				})
				got := e.dialWith(t, nil, false)
				s := <-server
				wait(t, s.done, "server shutdown")
				if s.certs != 1 || s.connected != c.accept {
					t.Fatalf("server: %d certificate events, connected=%v (status %v, client %v); want 1, %v", s.certs, s.connected, s.status, got.status, c.accept)
				}
				if c.accept {
					checkTLSInfo(t, "server", s, &pki.good)
					checkTLSInfo(t, "client", got, &pki.good)
					return
				}
				if s.status != TLSAlertStatus(uint8(TLSAlertUnknownCA)) || got.status != TLSAlertStatus(uint8(TLSAlertUnknownCA)) {
					t.Fatalf("statuses: server %v, client %v; want unknown_ca on both", s.status, got.status)
				}
			})
		})
	}
}

// checkTLSInfo asserts what a connected side learned of its handshake.
func checkTLSInfo(t *testing.T, side string, o *outcome, peer *tls.Certificate) {
	t.Helper()
	i := o.info
	if i.TLSVersion != TLSProtocol13 || i.CipherSuite == 0 || i.CipherAlgorithm == CipherAlgorithmNone ||
		i.CipherStrength < 128 || i.Hash == HashAlgorithmNone || i.TLSGroup == TLSGroupUnknown {
		t.Errorf("%s: handshake info %+v", side, i)
	}
	if len(o.peer) == 0 || !o.peer[0].Equal(peer.Leaf) {
		t.Errorf("%s: peer certificates %v, want the peer's leaf first", side, o.peer)
	}
	if o.alpn != "cert" {
		t.Errorf("%s: ALPN %q", side, o.alpn)
	}
}

func TestHandshakeInfoBeforeTheHandshake(t *testing.T) {
	e := newE2E(t, "cert", nil)
	c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.HandshakeInfo(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("HandshakeInfo = %v, want ErrInvalidState", err)
	}
	if _, err := c.PeerCertificates(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("PeerCertificates = %v, want ErrInvalidState", err)
	}
	if err := c.CertificateValidationComplete(true, TLSAlertSuccess); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("CertificateValidationComplete before Start = %v, want ErrInvalidState", err)
	}
	if err := c.CertificateValidationComplete(false, TLSAlertSuccess); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("rejection with alert 0xFFFF = %v, want ErrInvalidParameter", err)
	}
}
