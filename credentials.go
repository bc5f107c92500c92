package quic

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// CredentialConfig describes TLS credentials for Configuration.LoadCredential
// (QUIC_CREDENTIAL_CONFIG).
//
// Type selects the certificate source:
//
//   - CredentialNone: no certificate; only for clients (CredentialClient).
//   - CredentialCertificateFile: CertFile (PEM certificate chain, leaf
//     first) and KeyFile (PEM private key: PKCS#1, PKCS#8 or EC).
//   - CredentialTLSCertificate: Certificates, Go's native form.
//   - CredentialCertificateFileProtected and CredentialCertificatePKCS12 are
//     not supported (ErrNotSupported), nor are encrypted PEM keys.
//
// Servers must have a certificate. Flags select client or server
// (CredentialClient) and how the peer's certificate is validated:
//
//   - By default the peer's chain is verified against RootCAs (nil: the
//     system roots), plus the PEM certificates of CAFile when
//     CredentialSetCACertificateFile is set; clients also check the server
//     name given when the connection starts.
//   - CredentialNoCertificateValidation skips validation.
//   - CredentialIndicateCertificateReceived hands the peer's certificate to
//     the application (the peer-certificate-received event), after the
//     built-in validation succeeded; with
//     CredentialDeferCertificateValidation as well, the built-in result is
//     kept for the application instead of failing the handshake, and the
//     application decides.
//   - CredentialRequireClientAuthentication makes a server demand a client
//     certificate, validated the same way against RootCAs/CAFile.
//
// crypto/tls cannot restrict TLS 1.3 cipher suites, so
// CredentialSetAllowedCipherSuites is accepted only when AllowedCipherSuites
// allows all three suites; a subset fails with ErrNotSupported.
//
// Load errors: a missing file fails with ErrNotFound (wrapping the
// *fs.PathError); malformed PEM, a key that does not match the certificate,
// a server without a certificate, and inconsistent flags fail with
// ErrInvalidParameter.
type CredentialConfig struct {
	// Type selects the certificate source.
	Type CredentialType
	// Flags select client or server and the validation behaviour.
	Flags CredentialFlags
	// CertFile is the PEM certificate chain for CredentialCertificateFile.
	CertFile string
	// KeyFile is the PEM private key for CredentialCertificateFile.
	KeyFile string
	// KeyPassword would decrypt an encrypted key; not supported.
	KeyPassword string
	// PKCS12 would hold a PKCS#12 blob; not supported.
	PKCS12 []byte
	// Certificates are the certificates for CredentialTLSCertificate; each
	// needs its chain and private key. The first one is used unless the
	// peer's server name selects another (crypto/tls rules).
	Certificates []tls.Certificate
	// CAFile is a PEM file of CA certificates to validate the peer against;
	// used only with CredentialSetCACertificateFile.
	CAFile string
	// RootCAs are the CAs to validate the peer against; nil means the
	// system roots (unless CAFile is used).
	RootCAs *x509.CertPool
	// AllowedCipherSuites restricts cipher suites, with
	// CredentialSetAllowedCipherSuites.
	AllowedCipherSuites AllowedCipherSuites
	// KeyLogWriter, when set, receives the TLS secrets of every connection
	// using these credentials in the NSS key log format (SSLKEYLOGFILE),
	// so that packet captures can be decrypted; it is crypto/tls's
	// Config.KeyLogWriter and must be safe for concurrent use. An hquic
	// extension for debugging only: it defeats the connections' security.
	KeyLogWriter io.Writer
}

// credential is a loaded CredentialConfig: flags plus a crypto/tls template
// cloned for every connection.
type credential struct {
	flags    CredentialFlags
	client   bool
	roots    *x509.CertPool // nil: system roots
	template *tls.Config
}

// newCredential validates cc and builds its TLS template for alpns.
func newCredential(op string, cc *CredentialConfig, alpns []string) (*credential, error) {
	if cc == nil {
		return nil, opError(op, StatusInvalidParameter, "credential config is nil")
	}
	cr := &credential{flags: cc.Flags, client: cc.Flags&CredentialClient != 0}
	if cc.Flags&CredentialDeferCertificateValidation != 0 && cc.Flags&CredentialIndicateCertificateReceived == 0 {
		return nil, opError(op, StatusInvalidParameter,
			"CredentialDeferCertificateValidation requires CredentialIndicateCertificateReceived")
	}
	if cc.Flags&CredentialSetAllowedCipherSuites != 0 {
		switch s := cc.AllowedCipherSuites; {
		case s == 0 || s&^allCipherSuites != 0:
			return nil, opError(op, StatusInvalidParameter, "AllowedCipherSuites %v is not a valid set", s)
		case s != allCipherSuites:
			return nil, opError(op, StatusNotSupported,
				"AllowedCipherSuites %v: crypto/tls cannot restrict TLS 1.3 cipher suites; allow all three", s)
		}
	}
	certs, err := loadCertificates(op, cc, cr.client)
	if err != nil {
		return nil, err
	}
	if cr.roots, err = loadRoots(op, cc); err != nil {
		return nil, err
	}

	t := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		NextProtos:   slices.Clone(alpns),
		Certificates: certs,
		KeyLogWriter: cc.KeyLogWriter,
	}
	if cr.client {
		t.RootCAs = cr.roots
		// With CredentialIndicateCertificateReceived the connection's
		// VerifyConnection hook runs the validation itself.
		t.InsecureSkipVerify = cr.flags&(CredentialNoCertificateValidation|CredentialIndicateCertificateReceived) != 0
	} else {
		t.ClientCAs = cr.roots
		switch {
		case cr.flags&CredentialRequireClientAuthentication == 0:
			t.ClientAuth = tls.NoClientCert
		case cr.flags&(CredentialNoCertificateValidation|CredentialIndicateCertificateReceived) != 0:
			t.ClientAuth = tls.RequireAnyClientCert
		default:
			t.ClientAuth = tls.RequireAndVerifyClientCert
		}
		// One explicit key shared by every per-connection clone, so that
		// tickets issued on one connection resume on another.
		var key [32]byte
		rand.Read(key[:])
		t.SetSessionTicketKeys([][32]byte{key})
	}
	cr.template = t
	return cr, nil
}

// loadCertificates returns the certificates cc designates.
func loadCertificates(op string, cc *CredentialConfig, client bool) ([]tls.Certificate, error) {
	switch cc.Type {
	case CredentialNone:
		if !client {
			return nil, opError(op, StatusInvalidParameter, "a server configuration requires a certificate (Type is CredentialNone)")
		}
		return nil, nil
	case CredentialCertificateFile:
		if cc.CertFile == "" || cc.KeyFile == "" {
			return nil, opError(op, StatusInvalidParameter, "CredentialCertificateFile requires CertFile and KeyFile")
		}
		certPEM, err := readCredentialFile(op, cc.CertFile)
		if err != nil {
			return nil, err
		}
		keyPEM, err := readCredentialFile(op, cc.KeyFile)
		if err != nil {
			return nil, err
		}
		if isEncryptedPEM(keyPEM) {
			return nil, opError(op, StatusNotSupported, "key file %q is encrypted; encrypted keys are not supported", cc.KeyFile)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, opError(op, StatusInvalidParameter, "certificate %q with key %q: %w", cc.CertFile, cc.KeyFile, err)
		}
		return []tls.Certificate{cert}, nil
	case CredentialTLSCertificate:
		if len(cc.Certificates) == 0 {
			return nil, opError(op, StatusInvalidParameter, "CredentialTLSCertificate requires Certificates")
		}
		certs := slices.Clone(cc.Certificates)
		for i := range certs {
			c := &certs[i]
			if len(c.Certificate) == 0 || c.PrivateKey == nil {
				return nil, opError(op, StatusInvalidParameter, "Certificates[%d] needs a certificate chain and a private key", i)
			}
			if c.Leaf == nil {
				leaf, err := x509.ParseCertificate(c.Certificate[0])
				if err != nil {
					return nil, opError(op, StatusInvalidParameter, "Certificates[%d]: %w", i, err)
				}
				c.Leaf = leaf
			}
		}
		return certs, nil
	case CredentialCertificateFileProtected:
		return nil, opError(op, StatusNotSupported, "password-protected key files are not supported")
	case CredentialCertificatePKCS12:
		return nil, opError(op, StatusNotSupported, "PKCS#12 credentials are not supported")
	}
	return nil, opError(op, StatusInvalidParameter, "unsupported credential type %v", cc.Type)
}

// loadRoots returns the pool to validate peers against (nil: system roots).
func loadRoots(op string, cc *CredentialConfig) (*x509.CertPool, error) {
	if cc.Flags&CredentialSetCACertificateFile == 0 {
		if cc.CAFile != "" {
			return nil, opError(op, StatusInvalidParameter, "CAFile is set but CredentialSetCACertificateFile is not")
		}
		return cc.RootCAs, nil
	}
	if cc.CAFile == "" {
		return nil, opError(op, StatusInvalidParameter, "CredentialSetCACertificateFile requires CAFile")
	}
	data, err := readCredentialFile(op, cc.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if cc.RootCAs != nil {
		pool = cc.RootCAs.Clone()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, opError(op, StatusInvalidParameter, "CA file %q contains no PEM certificate", cc.CAFile)
	}
	return pool, nil
}

// readCredentialFile reads a credential file; a missing file is
// ErrNotFound, any other read failure ErrInvalidParameter.
func readCredentialFile(op, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &OpError{Op: op, Status: StatusNotFound, Err: err}
	case err != nil:
		return nil, &OpError{Op: op, Status: StatusInvalidParameter, Err: err}
	}
	return b, nil
}

// isEncryptedPEM reports whether a PEM key file holds an encrypted key,
// either PKCS#8 "ENCRYPTED PRIVATE KEY" or legacy RFC 1423 encryption.
func isEncryptedPEM(data []byte) bool {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return false
		}
	}
}

// peerCertificate is what a connection learns about the peer's certificate
// when its configuration has CredentialIndicateCertificateReceived: the
// content of MsQuic's PEER_CERTIFICATE_RECEIVED event.
type peerCertificate struct {
	// Leaf is the peer's certificate; Chain is the chain as sent, leaf
	// first.
	Leaf  *x509.Certificate
	Chain []*x509.Certificate
	// DeferredErr is the built-in validation error kept for the
	// application with CredentialDeferCertificateValidation (nil when
	// validation passed or is disabled); DeferredStatus is its Status
	// (StatusSuccess when nil).
	DeferredErr    error
	DeferredStatus Status
}

// peerCertificateFunc receives the peer's certificate during the handshake,
// on the goroutine driving the TLS handshake. A non-nil error aborts the
// handshake (MsQuic then sends a bad_certificate alert); returning nil lets
// the handshake go on, and the connection may still reject the peer later
// (the application's asynchronous decision).
type peerCertificateFunc func(*peerCertificate) error

// clone copies the template, including the slices tls.Config.Clone would
// share, so that a connection may modify its copy freely.
func (cr *credential) clone() *tls.Config {
	t := cr.template.Clone()
	t.NextProtos = slices.Clone(t.NextProtos)
	t.Certificates = slices.Clone(t.Certificates)
	return t
}

// clientConfig clones the template for a client connection to serverName.
func (cr *credential) clientConfig(serverName string, peer peerCertificateFunc) *tls.Config {
	t := cr.clone()
	t.ServerName = serverName
	if cr.flags&CredentialIndicateCertificateReceived != 0 {
		t.VerifyConnection = cr.verifier(serverName, peer)
	}
	return t
}

// serverConfig clones the template for a server connection.
func (cr *credential) serverConfig(peer peerCertificateFunc) *tls.Config {
	t := cr.clone()
	if cr.flags&CredentialIndicateCertificateReceived != 0 && t.ClientAuth != tls.NoClientCert {
		t.VerifyConnection = cr.verifier("", peer)
	}
	return t
}

// verifier returns the VerifyConnection hook for indicated (and possibly
// deferred) validation.
func (cr *credential) verifier(serverName string, peer peerCertificateFunc) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil
		}
		pc := &peerCertificate{Leaf: cs.PeerCertificates[0], Chain: cs.PeerCertificates}
		if cr.flags&CredentialNoCertificateValidation == 0 {
			pc.DeferredErr = cr.verifyChain(serverName, cs.PeerCertificates)
			pc.DeferredStatus = statusFromVerifyError(pc.DeferredErr)
			if pc.DeferredErr != nil && cr.flags&CredentialDeferCertificateValidation == 0 {
				return pc.DeferredErr
			}
		}
		if peer == nil {
			return nil
		}
		return peer(pc)
	}
}

// verifyChain validates chain the way crypto/tls would: against cr.roots,
// for server authentication and serverName on clients, for client
// authentication on servers.
func (cr *credential) verifyChain(serverName string, chain []*x509.Certificate) error {
	opts := x509.VerifyOptions{
		Roots:         cr.roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if cr.client {
		opts.DNSName = serverName
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := chain[0].Verify(opts)
	return err
}

// statusFromVerifyError maps a certificate validation error to the status
// MsQuic reports as DeferredStatus: expired → StatusCertExpired, unknown
// issuer → StatusCertUntrustedRoot, anything else → StatusBadCertificate.
func statusFromVerifyError(err error) Status {
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case err == nil:
		return StatusSuccess
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return StatusCertExpired
	case errors.As(err, &unknown):
		return StatusCertUntrustedRoot
	}
	return StatusBadCertificate
}
