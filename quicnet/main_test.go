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
	"sync"
	"testing"
	"time"
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
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quicnet test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
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
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
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

// testListen listens on 127.0.0.1 and closes the listener when the test
// ends.
func testListen(t testing.TB, conf *Config) *Listener {
	t.Helper()
	l, err := Listen("127.0.0.1:0", serverTLS(t), conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// testPair returns a connected client and server connection, closed when
// the test ends.
func testPair(t testing.TB, conf *Config) (client, server *Conn) {
	t.Helper()
	l := testListen(t, conf)
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
	client, err := Dial(ctx, l.Addr().String(), clientTLS(t), conf)
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
