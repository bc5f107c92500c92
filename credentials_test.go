package quic

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/internal/testutil"
)

// handshakeResult is the outcome of one TLS handshake between two templates.
type handshakeResult struct {
	client, server       tls.ConnectionState
	clientErr, serverErr error
}

// bufPipe is one direction of memConn: writes never block, reads wait for
// data or close. (net.Pipe is synchronous, which deadlocks TLS when both
// sides write at once, e.g. a client alert against server session tickets.)
type bufPipe struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    bytes.Buffer
	closed bool
}

func newBufPipe() *bufPipe {
	p := &bufPipe{}
	p.cond.L = &p.mu
	return p
}

func (p *bufPipe) write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, io.ErrClosedPipe
	}
	p.cond.Broadcast()
	return p.buf.Write(b)
}

func (p *bufPipe) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.buf.Len() == 0 && !p.closed {
		p.cond.Wait()
	}
	if p.buf.Len() == 0 {
		return 0, io.EOF
	}
	return p.buf.Read(b)
}

func (p *bufPipe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.cond.Broadcast()
}

// memConn is an in-memory, buffered net.Conn.
type memConn struct{ in, out *bufPipe }

func memConnPair() (*memConn, *memConn) {
	a, b := newBufPipe(), newBufPipe()
	return &memConn{in: a, out: b}, &memConn{in: b, out: a}
}

func (c *memConn) Read(b []byte) (int, error)       { return c.in.read(b) }
func (c *memConn) Write(b []byte) (int, error)      { return c.out.write(b) }
func (c *memConn) Close() error                     { c.in.close(); c.out.close(); return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.UnixAddr{Name: "mem", Net: "unix"} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.UnixAddr{Name: "mem", Net: "unix"} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// tlsHandshake runs a TLS 1.3 handshake over an in-memory connection. After
// a successful handshake the server writes one byte that the client reads,
// so the client also processes the session tickets.
func tlsHandshake(t *testing.T, client, server *tls.Config) handshakeResult {
	t.Helper()
	c1, c2 := memConnPair()
	cc, sc := tls.Client(c1, client), tls.Server(c2, server)
	var res handshakeResult
	var wg sync.WaitGroup
	wg.Go(func() {
		err := sc.Handshake()
		if err == nil {
			_, err = sc.Write([]byte{1})
		}
		res.serverErr = err
		res.server = sc.ConnectionState()
		if err != nil {
			c2.Close()
		}
	})
	err := cc.Handshake()
	if err == nil {
		_, err = io.ReadFull(cc, make([]byte, 1))
	}
	res.clientErr = err
	res.client = cc.ConnectionState()
	c1.Close()
	wg.Wait()
	return res
}

func (r handshakeResult) ok() bool { return r.clientErr == nil && r.serverErr == nil }

func (r handshakeResult) String() string {
	return fmt.Sprintf("client error %v, server error %v", r.clientErr, r.serverErr)
}

// ctls and stls return a configuration's TLS settings for one client or
// server connection.
func ctls(c *Configuration, name string) *tls.Config { t, _ := c.tlsConfigForClient(name); return t }
func stls(c *Configuration) *tls.Config              { t, _ := c.tlsConfigForServer(); return t }

// loadConfig returns a configuration for alpns with cc loaded.
func loadConfig(t *testing.T, cc *CredentialConfig) *Configuration {
	t.Helper()
	_, c := newTestConfiguration(t, []string{"h3", "hq-interop"}, nil)
	if err := c.LoadCredential(cc); err != nil {
		t.Fatalf("LoadCredential(%+v): %v", cc, err)
	}
	return c
}

func serverFiles(p testutil.Paths) *CredentialConfig {
	return &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: p.Key}
}

func expiredServer() *CredentialConfig {
	p := testutil.CertPaths()
	return &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.ExpiredCert, KeyFile: p.ExpiredKey}
}

func TestServerFromPEMFilesAndClientWithCustomRoots(t *testing.T) {
	server := loadConfig(t, serverFiles(testutil.CertPaths()))
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient, RootCAs: testutil.RootCAs()})
	ct := ctls(client, "localhost")
	st := stls(server)
	for _, c := range []*tls.Config{ct, st} {
		if c.MinVersion != tls.VersionTLS13 || strings.Join(c.NextProtos, ",") != "h3,hq-interop" {
			t.Fatalf("template MinVersion %#x NextProtos %v", c.MinVersion, c.NextProtos)
		}
	}
	if ct.ServerName != "localhost" || ct.VerifyConnection == nil || st.ClientAuth != tls.NoClientCert {
		t.Fatalf("client ServerName %q, has VerifyConnection %v; server ClientAuth %v", ct.ServerName, ct.VerifyConnection != nil, st.ClientAuth)
	}
	res := tlsHandshake(t, ct, st)
	if !res.ok() {
		t.Fatal(res)
	}
	if res.client.NegotiatedProtocol != "h3" {
		t.Fatalf("ALPN %q", res.client.NegotiatedProtocol)
	}
	// The IP addresses in the certificate verify too.
	if res := tlsHandshake(t, ctls(client, "127.0.0.1"), stls(server)); !res.ok() {
		t.Fatalf("127.0.0.1: %v", res)
	}
}

func TestServerFromTLSCertificate(t *testing.T) {
	cert := testutil.ServerCertificate()
	cert.Leaf = nil // LoadCredential parses it
	server := loadConfig(t, &CredentialConfig{Type: CredentialTLSCertificate, Certificates: []tls.Certificate{cert}})
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient, RootCAs: testutil.RootCAs()})
	if res := tlsHandshake(t, ctls(client, "localhost"), stls(server)); !res.ok() {
		t.Fatal(res)
	}
}

func TestClientValidationAgainstSystemRootsRejectsTestCA(t *testing.T) {
	server := loadConfig(t, serverFiles(testutil.CertPaths()))
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient})
	res := tlsHandshake(t, ctls(client, "localhost"), stls(server))
	var unknown x509.UnknownAuthorityError
	if !errors.As(res.clientErr, &unknown) {
		t.Fatalf("client error %v, want an unknown authority", res.clientErr)
	}
}

func TestClientWithValidationOff(t *testing.T) {
	server := loadConfig(t, expiredServer())
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient | CredentialNoCertificateValidation})
	ct := ctls(client, "elsewhere.example")
	if res := tlsHandshake(t, ct, stls(server)); !res.ok() {
		t.Fatal(res)
	}
}

func TestClientRejectsWrongServerName(t *testing.T) {
	server := loadConfig(t, serverFiles(testutil.CertPaths()))
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient, RootCAs: testutil.RootCAs()})
	res := tlsHandshake(t, ctls(client, "example.com"), stls(server))
	var host x509.HostnameError
	if !errors.As(res.clientErr, &host) {
		t.Fatalf("client error %v, want a hostname error", res.clientErr)
	}
}

func TestClientRejectsExpiredServer(t *testing.T) {
	server := loadConfig(t, expiredServer())
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient, RootCAs: testutil.RootCAs()})
	res := tlsHandshake(t, ctls(client, "localhost"), stls(server))
	var invalid x509.CertificateInvalidError
	if !errors.As(res.clientErr, &invalid) || invalid.Reason != x509.Expired {
		t.Fatalf("client error %v, want expired", res.clientErr)
	}
}

func TestCAFile(t *testing.T) {
	p := testutil.CertPaths()
	server := loadConfig(t, serverFiles(p))
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient | CredentialSetCACertificateFile, CAFile: p.CA})
	if res := tlsHandshake(t, ctls(client, "localhost"), stls(server)); !res.ok() {
		t.Fatal(res)
	}
	// CAFile adds to RootCAs rather than replacing it.
	both := loadConfig(t, &CredentialConfig{
		Flags: CredentialClient | CredentialSetCACertificateFile, CAFile: p.CA, RootCAs: x509.NewCertPool(),
	})
	if res := tlsHandshake(t, ctls(both, "localhost"), stls(server)); !res.ok() {
		t.Fatal(res)
	}
}

func TestServerWithoutClientValidation(t *testing.T) {
	p := testutil.CertPaths()
	server := loadConfig(t, &CredentialConfig{
		Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: p.Key,
		Flags: CredentialRequireClientAuthentication | CredentialNoCertificateValidation,
	})
	client := loadConfig(t, &CredentialConfig{
		Type: CredentialCertificateFile, CertFile: p.ExpiredCert, KeyFile: p.ExpiredKey,
		Flags: CredentialClient, RootCAs: testutil.RootCAs(),
	})
	if res := tlsHandshake(t, ctls(client, "localhost"), stls(server)); !res.ok() {
		t.Fatal(res)
	}
}

func TestSessionResumptionAcrossConnections(t *testing.T) {
	p := testutil.CertPaths()
	key := TicketKey{ID: [16]byte{7}, Material: []byte("0123456789abcdef0123456789abcdef")}
	serverA := loadConfig(t, serverFiles(p))
	serverB := loadConfig(t, serverFiles(p))
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient, RootCAs: testutil.RootCAs()})
	cache := tls.NewLRUClientSessionCache(4)
	clientConn := func() *tls.Config {
		c := ctls(client, "localhost")
		c.ClientSessionCache = cache
		return c
	}
	// Two connections of one configuration share its random ticket key.
	if res := tlsHandshake(t, clientConn(), stls(serverA)); !res.ok() || res.client.DidResume {
		t.Fatalf("first handshake: %v resumed=%v", res, res.client.DidResume)
	}
	if res := tlsHandshake(t, clientConn(), stls(serverA)); !res.ok() || !res.client.DidResume {
		t.Fatalf("second connection did not resume: %v", res)
	}
	// Two configurations with the same ticket keys accept each other's tickets.
	for _, s := range []*Configuration{serverA, serverB} {
		if err := s.SetTicketKeys([]TicketKey{key}); err != nil {
			t.Fatal(err)
		}
	}
	cache = tls.NewLRUClientSessionCache(4)
	if res := tlsHandshake(t, clientConn(), stls(serverA)); !res.ok() {
		t.Fatal(res)
	}
	if res := tlsHandshake(t, clientConn(), stls(serverB)); !res.ok() || !res.client.DidResume {
		t.Fatalf("ticket from A not accepted by B: %v resumed=%v", res, res.client.DidResume)
	}
}

func TestPerConnectionConfigsAreIndependent(t *testing.T) {
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient})
	a := ctls(client, "a.example")
	a.NextProtos[0] = "changed"
	a.MinVersion = tls.VersionTLS12
	b := ctls(client, "b.example")
	if b.NextProtos[0] != "h3" || b.MinVersion != tls.VersionTLS13 || b.ServerName != "b.example" {
		t.Fatalf("clone shares state: %v %#x %q", b.NextProtos, b.MinVersion, b.ServerName)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCredentialErrors(t *testing.T) {
	p := testutil.CertPaths()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	garbage := writeTemp(t, "garbage.pem", "not a certificate")
	encrypted := writeTemp(t, "enc.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
	good := testutil.ServerCertificate()
	for _, c := range []struct {
		name   string
		cc     *CredentialConfig
		status error
		want   string
	}{
		{"nil config", nil, ErrInvalidParameter, "credential config is nil"},
		{"missing certificate file", &CredentialConfig{Type: CredentialCertificateFile, CertFile: missing, KeyFile: p.Key}, ErrNotFound, missing},
		{"missing key file", &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: missing}, ErrNotFound, missing},
		{"bad PEM certificate", &CredentialConfig{Type: CredentialCertificateFile, CertFile: garbage, KeyFile: p.Key}, ErrInvalidParameter, garbage},
		{"bad PEM key", &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: garbage}, ErrInvalidParameter, garbage},
		{"mismatched key", &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: p.ExpiredKey}, ErrInvalidParameter, "does not match"},
		{"encrypted key", &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: encrypted}, ErrNotSupported, "encrypted"},
		{"file type without files", &CredentialConfig{Type: CredentialCertificateFile}, ErrInvalidParameter, "requires CertFile and KeyFile"},
		{"directory as file", &CredentialConfig{Type: CredentialCertificateFile, CertFile: t.TempDir(), KeyFile: p.Key}, ErrInvalidParameter, "is a directory"},
		{"server without certificate", &CredentialConfig{}, ErrInvalidParameter, "a server configuration requires a certificate"},
		{"protected file", &CredentialConfig{Type: CredentialCertificateFileProtected, CertFile: p.Cert, KeyFile: p.Key, KeyPassword: "x"}, ErrNotSupported, "password-protected"},
		{"PKCS12", &CredentialConfig{Type: CredentialCertificatePKCS12, PKCS12: []byte{1}}, ErrNotSupported, "PKCS#12"},
		{"unknown type", &CredentialConfig{Type: 1}, ErrInvalidParameter, "unsupported credential type CredentialType(1)"},
		{"no tls certificates", &CredentialConfig{Type: CredentialTLSCertificate}, ErrInvalidParameter, "requires Certificates"},
		{"tls certificate without key", &CredentialConfig{Type: CredentialTLSCertificate, Certificates: []tls.Certificate{{Certificate: good.Certificate}}}, ErrInvalidParameter, "Certificates[0] needs"},
		{"tls certificate bad DER", &CredentialConfig{Type: CredentialTLSCertificate, Certificates: []tls.Certificate{{Certificate: [][]byte{{1, 2}}, PrivateKey: good.PrivateKey}}}, ErrInvalidParameter, "Certificates[0]:"},
		{"defer without indicate", &CredentialConfig{Flags: CredentialClient | CredentialDeferCertificateValidation}, ErrInvalidParameter, "requires CredentialIndicateCertificateReceived"},
		{"CAFile without flag", &CredentialConfig{Flags: CredentialClient, CAFile: p.CA}, ErrInvalidParameter, "CredentialSetCACertificateFile is not"},
		{"CA flag without CAFile", &CredentialConfig{Flags: CredentialClient | CredentialSetCACertificateFile}, ErrInvalidParameter, "requires CAFile"},
		{"missing CAFile", &CredentialConfig{Flags: CredentialClient | CredentialSetCACertificateFile, CAFile: missing}, ErrNotFound, missing},
		{"CAFile without certificates", &CredentialConfig{Flags: CredentialClient | CredentialSetCACertificateFile, CAFile: garbage}, ErrInvalidParameter, "contains no PEM certificate"},
		{"empty cipher suites", &CredentialConfig{Flags: CredentialClient | CredentialSetAllowedCipherSuites}, ErrInvalidParameter, "not a valid set"},
		{"unknown cipher suite bits", &CredentialConfig{Flags: CredentialClient | CredentialSetAllowedCipherSuites, AllowedCipherSuites: 0x9}, ErrInvalidParameter, "not a valid set"},
		{"cipher suite subset", &CredentialConfig{Flags: CredentialClient | CredentialSetAllowedCipherSuites, AllowedCipherSuites: CipherSuiteAES128GCMSHA256}, ErrNotSupported, "cannot restrict TLS 1.3 cipher suites"},
	} {
		_, cfg := newTestConfiguration(t, []string{"h3"}, nil)
		err := cfg.LoadCredential(c.cc)
		if !errors.Is(err, c.status) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.status, c.want)
		}
		if !strings.HasPrefix(fmt.Sprint(err), "quic: Configuration.LoadCredential: ") {
			t.Errorf("%s: error %q does not name the call", c.name, err)
		}
		if cfg.isLoaded() {
			t.Errorf("%s: configuration loaded despite the error", c.name)
		}
	}
	// A missing file is also fs.ErrNotExist.
	_, cfg := newTestConfiguration(t, []string{"h3"}, nil)
	err := cfg.LoadCredential(&CredentialConfig{Type: CredentialCertificateFile, CertFile: missing, KeyFile: p.Key})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v is not fs.ErrNotExist", err)
	}
}

func TestAllCipherSuitesAccepted(t *testing.T) {
	loadConfig(t, &CredentialConfig{
		Flags:               CredentialClient | CredentialSetAllowedCipherSuites,
		AllowedCipherSuites: CipherSuiteAES128GCMSHA256 | CipherSuiteAES256GCMSHA384 | CipherSuiteChaCha20Poly1305SHA256,
	})
	// Without the flag the field is ignored, as in MsQuic.
	loadConfig(t, &CredentialConfig{Flags: CredentialClient, AllowedCipherSuites: CipherSuiteAES128GCMSHA256})
}

func TestIsEncryptedPEM(t *testing.T) {
	legacy := "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n"
	plain, err := os.ReadFile(testutil.CertPaths().Key)
	if err != nil {
		t.Fatal(err)
	}
	if !isEncryptedPEM([]byte(legacy)) {
		t.Error("legacy encrypted key not detected")
	}
	if isEncryptedPEM(plain) || isEncryptedPEM(nil) {
		t.Error("plain key reported encrypted")
	}
	if !isEncryptedPEM(append(append([]byte{}, plain...), legacy...)) {
		t.Error("encrypted block after a plain one not detected")
	}
}

func TestClassifyVerifyErrors(t *testing.T) {
	leaf := testutil.ServerCertificate().Leaf
	for _, c := range []struct {
		err   error
		alert TLSAlertCode
		want  Status
		flags CertificateErrorFlags
	}{
		{x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired}, TLSAlertCertificateExpired, StatusCertExpired, CertificateIgnoreDateInvalid},
		{fmt.Errorf("w: %w", x509.UnknownAuthorityError{Cert: leaf}), TLSAlertUnknownCA, StatusCertUntrustedRoot, CertificateIgnoreUnknownCA},
		{x509.HostnameError{Certificate: leaf, Host: "x"}, TLSAlertBadCertificate, StatusBadCertificate, CertificateIgnoreCNInvalid},
		{x509.CertificateInvalidError{Cert: leaf, Reason: x509.IncompatibleUsage}, TLSAlertBadCertificate, StatusBadCertificate, CertificateIgnoreWrongUsage},
		{x509.CertificateInvalidError{Cert: leaf, Reason: x509.NotAuthorizedToSign}, TLSAlertBadCertificate, StatusBadCertificate, 0},
	} {
		e := classify("peer", c.err)
		if e.alert != c.alert || e.status != c.want || e.flags != c.flags || !errors.Is(e, c.err) {
			t.Errorf("classify(%v) = %v %v %v, want %v %v %v", c.err, e.alert, e.status, e.flags, c.alert, c.want, c.flags)
		}
	}
}
