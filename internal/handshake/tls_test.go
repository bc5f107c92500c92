package handshake

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// recorder implements Callbacks and remembers what TLS produced.
type recorder struct {
	read, write [4][]byte
	suite       uint16
	peerParams  []byte
	complete    bool
	sessions    int
	resumed     int
	stored      *tls.SessionState
	rejected    bool
	onResume    func(*tls.SessionState)
}

func (r *recorder) SetReadSecret(l Level, suite uint16, s []byte) error {
	r.read[l] = bytes.Clone(s)
	r.suite = suite
	return nil
}

func (r *recorder) SetWriteSecret(l Level, suite uint16, s []byte) error {
	r.write[l] = bytes.Clone(s)
	return nil
}

func (r *recorder) PeerTransportParameters(p []byte) error {
	r.peerParams = bytes.Clone(p)
	return nil
}

func (r *recorder) HandshakeComplete()               { r.complete = true }
func (r *recorder) EarlyDataRejected()               { r.rejected = true }
func (r *recorder) StoreSession(s *tls.SessionState) { r.sessions++; r.stored = s }
func (r *recorder) ResumeSession(s *tls.SessionState) {
	r.resumed++
	if r.onResume != nil {
		r.onResume(s)
	}
}

func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type pair struct {
	client, server     *TLS
	clientRec, servRec *recorder
}

func newPair(t *testing.T, clientALPN, serverALPN []string) *pair {
	t.Helper()
	cert, pool := testCert(t)
	p := &pair{clientRec: &recorder{}, servRec: &recorder{}}
	p.client = NewClient(&tls.Config{MinVersion: tls.VersionTLS13, ServerName: "localhost",
		RootCAs: pool, NextProtos: clientALPN, ClientSessionCache: tls.NewLRUClientSessionCache(1)}, []byte("client-params"), p.clientRec, true)
	p.server = NewServer(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		NextProtos: serverALPN}, []byte("server-params"), p.servRec)
	t.Cleanup(func() { p.client.Close(); p.server.Close() })
	return p
}

// flush moves every pending CRYPTO byte from one side to the other, all at
// once per stream, and returns the first error the receiver reports.
func flush(from, to *TLS) error {
	for i := 0; i < NumStreams; i++ {
		s := from.Send(i)
		for {
			off, n, ok := s.Pending(1 << 20)
			if !ok {
				break
			}
			data := bytes.Clone(s.Data(off, n))
			s.OnSent(off, n)
			s.OnAcked(off, n)
			if err := to.HandleCrypto(i, off, data); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestHandshakeCompletesAndSecretsMatch(t *testing.T) {
	p := newPair(t, []string{"echo"}, []string{"echo"})
	if err := p.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4 && !(p.client.Complete() && p.server.Complete()); i++ {
		if err := flush(p.client, p.server); err != nil {
			t.Fatal(err)
		}
		if err := flush(p.server, p.client); err != nil {
			t.Fatal(err)
		}
	}
	if !p.clientRec.complete || !p.servRec.complete {
		t.Fatal("handshake did not complete")
	}
	for _, l := range []Level{LevelHandshake, LevelApp} {
		if !bytes.Equal(p.clientRec.write[l], p.servRec.read[l]) || len(p.clientRec.write[l]) == 0 {
			t.Errorf("%v: client write secret != server read secret", l)
		}
		if !bytes.Equal(p.servRec.write[l], p.clientRec.read[l]) || len(p.servRec.write[l]) == 0 {
			t.Errorf("%v: server write secret != client read secret", l)
		}
	}
	if string(p.clientRec.peerParams) != "server-params" || string(p.servRec.peerParams) != "client-params" {
		t.Errorf("transport parameters: client got %q, server got %q", p.clientRec.peerParams, p.servRec.peerParams)
	}
	if got := p.client.ConnectionState().NegotiatedProtocol; got != "echo" {
		t.Errorf("ALPN = %q", got)
	}
	if err := p.server.SendSessionTicket(false, nil); err != nil {
		t.Fatal(err)
	}
	if err := flush(p.server, p.client); err != nil {
		t.Fatal(err)
	}
	if p.clientRec.sessions != 1 {
		t.Errorf("client stored %d sessions, want 1", p.clientRec.sessions)
	}
}

func TestALPNMismatchIsNoApplicationProtocolAlert(t *testing.T) {
	p := newPair(t, []string{"h3"}, []string{"echo"})
	if err := p.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Start(); err != nil {
		t.Fatal(err)
	}
	err := flush(p.client, p.server)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CryptoError(120) {
		t.Fatalf("server error = %v, want CRYPTO_ERROR(no_application_protocol)", err)
	}
}

func TestBadCertificateFailsOnClient(t *testing.T) {
	p := newPair(t, []string{"echo"}, []string{"echo"})
	p.client.Close()
	p.client = NewClient(&tls.Config{MinVersion: tls.VersionTLS13, ServerName: "localhost",
		RootCAs: x509.NewCertPool(), NextProtos: []string{"echo"}}, nil, p.clientRec, false)
	if err := p.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Start(); err != nil {
		t.Fatal(err)
	}
	if err := flush(p.client, p.server); err != nil {
		t.Fatal(err)
	}
	err := flush(p.server, p.client)
	var we *wire.Error
	if !errors.As(err, &we) || !we.Code.IsCrypto() {
		t.Fatalf("client error = %v, want a CRYPTO_ERROR", err)
	}
}

func TestClientHelloParsedFromRealClient(t *testing.T) {
	rec := &recorder{}
	c := NewClient(&tls.Config{MinVersion: tls.VersionTLS13, ServerName: "example.test",
		NextProtos: []string{"h3", "echo"}}, []byte{1}, rec, false)
	defer c.Close()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	data := c.Send(StreamInitial).Data(0, len(c.Send(StreamInitial).buf))
	n, ok, err := ClientHelloLength(data)
	if err != nil || !ok || n != len(data) {
		t.Fatalf("ClientHelloLength = %d, %v, %v (have %d bytes)", n, ok, err, len(data))
	}
	ch, err := ParseClientHello(data)
	if err != nil {
		t.Fatal(err)
	}
	if ch.ServerName != "example.test" || len(ch.ALPNs) != 2 || ch.ALPNs[0] != "h3" || ch.ALPNs[1] != "echo" {
		t.Fatalf("parsed %q %q", ch.ServerName, ch.ALPNs)
	}
	if !bytes.Equal(ch.TransportParameters, []byte{1}) {
		t.Fatalf("transport parameters %x, want 01", ch.TransportParameters)
	}
	for i := 0; i < len(data); i++ {
		if _, err := ParseClientHello(data[:i]); err == nil {
			t.Fatalf("truncated ClientHello of %d bytes accepted", i)
		}
	}
}

func FuzzClientHello(f *testing.F) {
	rec := &recorder{}
	c := NewClient(&tls.Config{MinVersion: tls.VersionTLS13, ServerName: "a.b",
		NextProtos: []string{"hq-interop"}}, []byte{1}, rec, false)
	if err := c.Start(); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(c.Send(StreamInitial).buf))
	c.Close()
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := ParseClientHello(b)
		if err == nil && len(ch.Raw) > len(b) {
			t.Fatal("Raw longer than input")
		}
	})
}

func TestReceivedIsTheInOrderOffsetOfEachStream(t *testing.T) {
	p := newPair(t, []string{"echo"}, []string{"echo"})
	if err := p.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Start(); err != nil {
		t.Fatal(err)
	}
	hello := p.client.Send(StreamInitial)
	off, n, _ := hello.Pending(1 << 20)
	data := bytes.Clone(hello.Data(off, n))
	if err := p.server.HandleCrypto(StreamInitial, 10, data[10:]); err != nil {
		t.Fatal(err)
	}
	if got := p.server.Received(StreamInitial); got != 0 {
		t.Fatalf("Received with a gap at the start = %d, want 0", got)
	}
	if err := p.server.HandleCrypto(StreamInitial, 0, data[:10]); err != nil {
		t.Fatal(err)
	}
	if got := p.server.Received(StreamInitial); got != uint64(n) {
		t.Fatalf("Received = %d, want the ClientHello's %d bytes", got, n)
	}
	if got := p.server.Received(StreamHandshake); got != 0 {
		t.Fatalf("Handshake stream Received = %d, want 0", got)
	}
}
