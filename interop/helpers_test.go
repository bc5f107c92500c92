package interop

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// testTimeout bounds every wait in these tests. It is generous: the tests
// run under the race detector on a loaded two-core machine.
const testTimeout = 3 * time.Minute

const certDir = "../testdata/certs"

// serverCert loads the test server certificate (localhost, 127.0.0.1, ::1).
func serverCert(t *testing.T) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(certDir+"/cert.pem", certDir+"/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rootCAs returns a pool holding the test CA.
func rootCAs(t *testing.T) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(certDir + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in ca.pem")
	}
	return p
}

// wait receives one value from ch or fails the test after testTimeout.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// timeoutC fires after testTimeout.
func timeoutC() <-chan time.Time { return time.After(testTimeout) }

// testData returns n deterministic pseudo-random bytes derived from seed.
func testData(seed, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	block := sha256.Sum256(fmt.Appendf(nil, "interop-%d", seed))
	for len(out) < n {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:n]
}

// hq is one hquic Library and Registration.
type hq struct {
	t   *testing.T
	lib *quic.Library
	reg *quic.Registration
}

// newHQ opens an hquic library and registration, closed at the end of the
// test after every handle was closed.
func newHQ(t *testing.T) *hq {
	t.Helper()
	lib, err := quic.Open()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "interop"})
	if err != nil {
		t.Fatal(err)
	}
	h := &hq{t: t, lib: lib, reg: reg}
	t.Cleanup(func() {
		reg.Shutdown(quic.ConnectionShutdownSilent, 0)
		select {
		case <-reg.CloseAsync():
		case <-time.After(testTimeout):
			t.Error("hquic registration did not close: a handle leaked")
			return
		}
		if err := lib.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// settings are the transport settings both hquic sides use.
func settings() *quic.Settings {
	return &quic.Settings{
		IdleTimeout:         quic.Some(testTimeout),
		PeerBidiStreamCount: quic.Some[uint16](1000),
	}
}

// clientConfig is an hquic client configuration trusting the test CA.
func (h *hq) clientConfig(alpn string) *quic.Configuration {
	h.t.Helper()
	cfg, err := h.reg.NewConfiguration([]string{alpn}, settings())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cfg.Close)
	if err := cfg.LoadCredential(&quic.CredentialConfig{
		Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: rootCAs(h.t),
	}); err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// serverConfig is an hquic server configuration with the test certificate.
func (h *hq) serverConfig(alpn string) *quic.Configuration {
	h.t.Helper()
	cfg, err := h.reg.NewConfiguration([]string{alpn}, settings())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cfg.Close)
	if err := cfg.LoadCredential(&quic.CredentialConfig{
		Type: quic.CredentialTLSCertificate, Certificates: []tls.Certificate{serverCert(h.t)},
	}); err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// connRec records a connection's events on channels. Events are copied:
// hquic reuses event values, valid only during the handler. Peer streams get the
// handler made by streamHandler.
type connRec struct {
	connected chan quic.ConnectedEvent
	transport chan quic.ShutdownInitiatedByTransportEvent
	peer      chan quic.ShutdownInitiatedByPeerEvent
	complete  chan quic.ConnectionShutdownCompleteEvent
	conns     chan *quic.Connection

	streamHandler func(*quic.Stream) quic.StreamHandler
}

func newConnRec(streamHandler func(*quic.Stream) quic.StreamHandler) *connRec {
	return &connRec{
		connected:     make(chan quic.ConnectedEvent, 1),
		transport:     make(chan quic.ShutdownInitiatedByTransportEvent, 1),
		peer:          make(chan quic.ShutdownInitiatedByPeerEvent, 1),
		complete:      make(chan quic.ConnectionShutdownCompleteEvent, 1),
		conns:         make(chan *quic.Connection, 1),
		streamHandler: streamHandler,
	}
}

func (r *connRec) handle(c *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.ConnectedEvent:
		r.connected <- *ev
	case *quic.ShutdownInitiatedByTransportEvent:
		r.transport <- *ev
	case *quic.ShutdownInitiatedByPeerEvent:
		r.peer <- *ev
	case *quic.PeerStreamStartedEvent:
		if r.streamHandler == nil {
			return errors.New("no peer streams expected")
		}
		ev.Stream.SetHandler(r.streamHandler(ev.Stream))
	case *quic.ConnectionShutdownCompleteEvent:
		if !ev.AppCloseInProgress {
			c.Close()
		}
		r.complete <- *ev
	}
	return nil
}

// dial starts an hquic client connection to addr ("localhost" for TLS).
func (h *hq) dial(cfg *quic.Configuration, addr netip.AddrPort, rec *connRec) *quic.Connection {
	h.t.Helper()
	c, err := h.reg.NewConnection(rec.handle)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := c.SetRemoteAddr(addr); err != nil {
		h.t.Fatal(err)
	}
	if err := c.Start(cfg, quic.AddressFamilyUnspec, "localhost", addr.Port()); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// listen starts an hquic listener on 127.0.0.1 whose connections use cfg
// and record into a fresh connRec each, delivered on the returned channel.
func (h *hq) listen(cfg *quic.Configuration, alpn string, streamHandler func(*quic.Stream) quic.StreamHandler) (netip.AddrPort, <-chan *connRec, *atomic.Int32) {
	h.t.Helper()
	recs := make(chan *connRec, 16)
	newConns := new(atomic.Int32)
	l, err := h.reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			newConns.Add(1)
			rec := newConnRec(streamHandler)
			ev.Connection.SetHandler(rec.handle)
			if err := ev.Connection.SetConfiguration(cfg); err != nil {
				return err
			}
			rec.conns <- ev.Connection
			recs <- rec
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(l.Close)
	if err := l.Start([]string{alpn}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		h.t.Fatal(err)
	}
	addr, err := l.LocalAddr()
	if err != nil {
		h.t.Fatal(err)
	}
	return addr, recs, newConns
}

// goServerTLS is a quic-go server TLS configuration.
func goServerTLS(t *testing.T, alpn string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{serverCert(t)}, NextProtos: []string{alpn}}
}

// goClientTLS is a quic-go client TLS configuration trusting the test CA.
func goClientTLS(t *testing.T, alpn string) *tls.Config {
	return &tls.Config{RootCAs: rootCAs(t), ServerName: "localhost", NextProtos: []string{alpn}}
}

// goConfig is the quic-go transport configuration both quic-go sides use.
func goConfig() *qgo.Config {
	return &qgo.Config{MaxIdleTimeout: testTimeout, HandshakeIdleTimeout: 30 * time.Second}
}

// goListen starts a quic-go listener on 127.0.0.1; accepted connections
// arrive on the returned channel.
func goListen(t *testing.T, alpn string, conf *qgo.Config) (netip.AddrPort, <-chan *qgo.Conn) {
	t.Helper()
	if conf == nil {
		conf = goConfig()
	}
	ln, err := qgo.ListenAddr("127.0.0.1:0", goServerTLS(t, alpn), conf)
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan *qgo.Conn, 16)
	var (
		mu       sync.Mutex
		accepted []*qgo.Conn
		done     = make(chan struct{})
	)
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range accepted {
			c.CloseWithError(0, "")
		}
	})
	go func() {
		defer close(done)
		defer close(conns)
		for {
			c, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
			select {
			case conns <- c:
			default:
			}
		}
	}()
	return ln.Addr().(*net.UDPAddr).AddrPort(), conns
}

// goDial dials addr with quic-go.
func goDial(t *testing.T, addr netip.AddrPort, alpn string) (*qgo.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := qgo.DialAddr(ctx, addr.String(), goClientTLS(t, alpn), goConfig())
	if err == nil {
		t.Cleanup(func() { c.CloseWithError(0, "") })
	}
	return c, err
}
