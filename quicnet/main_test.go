package quicnet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/netsim"
)

// testCA is a certificate authority for the tests, and testCert a
// certificate it issued for localhost and 127.0.0.1.
type testCA struct {
	pool *x509.CertPool
	cert tls.Certificate
}

var (
	caOnce   sync.Once
	caShared [2]testCA
)

// testCAs returns two independent authorities with a server certificate
// each, made once per test binary.
func testCAs(t testing.TB) [2]testCA {
	caOnce.Do(func() {
		for i := range caShared {
			caShared[i] = newTestCA(t)
		}
	})
	return caShared
}

func newTestCA(t testing.TB) testCA {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Valid from before a synctest bubble's clock (2000-01-01) until
	// long after the real one.
	notBefore, notAfter := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quicnet test CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), serverIP.AsSlice()},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return testCA{pool: pool, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

const testALPN = "quicnet-test"

// serverTLS and clientTLS are matching configurations of the first CA.
func serverTLS(t testing.TB) *tls.Config {
	return &tls.Config{NextProtos: []string{testALPN}, Certificates: []tls.Certificate{testCAs(t)[0].cert}}
}

func clientTLS(t testing.TB) *tls.Config {
	return &tls.Config{NextProtos: []string{testALPN}, RootCAs: testCAs(t)[0].pool}
}

// The tests run over a netsim network in a synctest bubble: the server
// on serverIP, clients on clientIP, time virtual.
var (
	serverIP = netip.MustParseAddr("10.0.0.1")
	clientIP = netip.MustParseAddr("10.0.0.2")
)

const serverAddr = "10.0.0.1:4433"

// testNet is a test's simulated network and its two hosts.
type testNet struct {
	n              *netsim.Network
	server, client *netsim.Host
}

func newTestNet() *testNet {
	n := netsim.New(netsim.Config{Seed: 1})
	n.SetDefaultLink(netsim.Link{Latency: time.Millisecond})
	n.SetName("server.test", serverIP)
	return &testNet{n: n, server: n.Host(serverIP), client: n.Host(clientIP)}
}

// on returns conf (nil: the zero Config) on host h.
func on(h *netsim.Host, conf *Config) *Config {
	c := Config{}
	if conf != nil {
		c = *conf
	}
	c.Network = h
	return &c
}

// bubble runs f in a synctest bubble with a fresh network. Everything
// the test opened must be closed when f returns: the bubble then waits
// for every goroutine it started, the library's included, to exit.
func bubble(t *testing.T, f func(t *testing.T, tn *testNet)) {
	synctest.Test(t, func(t *testing.T) {
		t.Cleanup(waitReleased) // registered first, so it runs last
		f(t, newTestNet())
	})
}

// testListen listens on the server host and closes the listener when the
// test ends.
func testListen(t testing.TB, tn *testNet, conf *Config) *Listener {
	t.Helper()
	l, err := Listen(serverAddr, serverTLS(t), on(tn.server, conf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// testPair returns a connected client and server connection, closed when
// the test ends.
func testPair(t testing.TB, tn *testNet, conf *Config) (client, server *Conn) {
	t.Helper()
	l := testListen(t, tn, conf)
	ctx := context.Background()
	type result struct {
		c   *Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(ctx)
		accepted <- result{c, err}
	}()
	client, err := Dial(ctx, serverAddr, clientTLS(t), on(tn.client, conf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close() })
	return client, r.c
}

// loopbackPair is testPair over the operating system's UDP on 127.0.0.1,
// for measurements.
func loopbackPair(t testing.TB) (client, server *Conn) {
	t.Helper()
	t.Cleanup(waitReleased)
	l, err := Listen("127.0.0.1:0", serverTLS(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan *Conn, 1)
	go func() {
		c, _ := l.Accept(context.Background())
		accepted <- c
	}()
	client, err = Dial(context.Background(), l.Addr().String(), clientTLS(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server = <-accepted
	t.Cleanup(func() { server.Close() })
	return client, server
}
