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
// (CredentialClient) and how the peer's certificate is validated. hquic
// validates in both roles with crypto/x509, and fails closed:
//
//   - By default the peer's chain must lead to RootCAs (nil: the system
//     roots), plus the PEM certificates of CAFile when
//     CredentialSetCACertificateFile is set, be valid now, and be meant
//     for server authentication for the server name (the name given to
//     Connection.Start, or ServerName) on clients, for client
//     authentication on servers. A failure fails the handshake with the
//     failure's TLS alert: unknown_ca for an unknown issuer,
//     certificate_expired, certificate_revoked, certificate_unknown when
//     revocation cannot be checked, bad_certificate otherwise (a name
//     mismatch, a wrong usage); the close error names the certificate and
//     the check.
//   - CredentialRevocationCheckEndCert, ...Chain and ...ChainExcludeRoot
//     also look the leaf, the whole chain, or the chain without its root
//     up in CRLs (hquic never fetches revocation data, so
//     CredentialRevocationCheckCacheOnly, CredentialCacheOnlyURLRetrieval
//     and CredentialDisableAIA describe what it always does). A
//     certificate whose issuer has no CRL here fails, unless
//     CredentialIgnoreNoRevocationCheck; one whose issuer's CRL is past
//     its next update fails, unless CredentialIgnoreRevocationOffline.
//   - CredentialNoCertificateValidation skips validation.
//   - CredentialIndicateCertificateReceived raises
//     PeerCertificateReceivedEvent, after validation passed, and the
//     handler decides, now or later (see the event). With
//     CredentialDeferCertificateValidation as well, a validation failure
//     does not fail the handshake: the event carries it and the handler
//     decides.
//   - CredentialRequireClientAuthentication makes a server demand a client
//     certificate: a client without one fails with certificate_required
//     in every combination (MsQuic on OpenSSL lets it through to the
//     handler with deferred or no validation). Without it a server asks
//     for none.
//
// CredentialUseTLSBuiltinCertificateValidation, CredentialUsePortableCertificates
// and CredentialUseSuppliedCredentials describe what hquic always does.
// CredentialEnableOCSP, CredentialUseSystemMapper and
// CredentialInprocPeerCertificate fail with ErrNotSupported.
// CredentialLoadAsynchronous is for LoadCredentialAsync; LoadCredential
// refuses it.
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
	// ServerName, on a client credential, replaces the server name given
	// to Connection.Start for TLS: it is sent as SNI and the server's
	// certificate is validated for it (to connect to an address and
	// validate a name, or to pin one name for every connection). Empty:
	// Start's name.
	ServerName string
	// CRLs are the revocation lists that CredentialRevocationCheckEndCert,
	// ...Chain and ...ChainExcludeRoot check peer certificates against; a
	// CRL counts for the certificates of the issuer that signed it.
	CRLs []*x509.RevocationList
	// KeyLogWriter, when set, receives the TLS secrets of every connection
	// using these credentials in the NSS key log format (SSLKEYLOGFILE),
	// so that packet captures can be decrypted; it is crypto/tls's
	// Config.KeyLogWriter and must be safe for concurrent use. An hquic
	// extension for debugging only: it defeats the connections' security.
	// OpenKeyLog and KeyLogFromEnv (SSLKEYLOGFILE) open a suitable file;
	// see KeyLog.
	KeyLogWriter io.Writer
}

// credential is a loaded CredentialConfig: flags plus a crypto/tls template
// cloned for every connection.
type credential struct {
	flags      CredentialFlags
	client     bool
	roots      *x509.CertPool // nil: system roots
	serverName string         // CredentialConfig.ServerName
	revocation CredentialFlags
	crls       []*x509.RevocationList
	template   *tls.Config
}

// Credential flags by treatment: those asking for what hquic cannot do,
// the revocation checks and their modifiers, and every defined bit.
const (
	unsupportedCredentialFlags = CredentialEnableOCSP | CredentialUseSystemMapper | CredentialInprocPeerCertificate
	revocationCheckFlags       = CredentialRevocationCheckEndCert | CredentialRevocationCheckChain | CredentialRevocationCheckChainExcludeRoot
	revocationModifierFlags    = CredentialIgnoreNoRevocationCheck | CredentialIgnoreRevocationOffline
	allCredentialFlags         = 0x003fffff
)

// checkCredentialFlags refuses flags hquic does not implement and
// inconsistent combinations.
func checkCredentialFlags(op string, cc *CredentialConfig) error {
	f, client := cc.Flags, cc.Flags&CredentialClient != 0
	switch {
	case f&^allCredentialFlags != 0:
		return opError(op, StatusInvalidParameter, "unknown credential flags %v", f&^allCredentialFlags)
	case f&unsupportedCredentialFlags != 0:
		return opError(op, StatusNotSupported, "credential flags %v are Windows Schannel features hquic does not implement",
			f&unsupportedCredentialFlags)
	case f&CredentialDeferCertificateValidation != 0 && f&CredentialIndicateCertificateReceived == 0:
		return opError(op, StatusInvalidParameter,
			"CredentialDeferCertificateValidation requires CredentialIndicateCertificateReceived")
	case client && f&CredentialRequireClientAuthentication != 0:
		return opError(op, StatusInvalidParameter, "CredentialRequireClientAuthentication is for server credentials")
	case !client && cc.ServerName != "":
		return opError(op, StatusInvalidParameter, "ServerName is for client credentials")
	case f&revocationCheckFlags != 0 && len(cc.CRLs) == 0:
		return opError(op, StatusInvalidParameter,
			"%v needs CRLs: hquic checks revocation against the CRLs given, it fetches nothing", f&revocationCheckFlags)
	case f&revocationCheckFlags == 0 && (len(cc.CRLs) > 0 || f&revocationModifierFlags != 0):
		return opError(op, StatusInvalidParameter, "CRLs and %v need a CredentialRevocationCheck flag", f&revocationModifierFlags)
	case f&revocationCheckFlags != 0 && f&CredentialNoCertificateValidation != 0:
		return opError(op, StatusInvalidParameter, "revocation checking contradicts CredentialNoCertificateValidation")
	}
	for i, l := range cc.CRLs {
		if l == nil {
			return opError(op, StatusInvalidParameter, "CRLs[%d] is nil", i)
		}
	}
	return nil
}

// newCredential validates cc and builds its TLS template for alpns.
func newCredential(op string, cc *CredentialConfig, alpns []string) (*credential, error) {
	if cc == nil {
		return nil, opError(op, StatusInvalidParameter, "credential config is nil")
	}
	if err := checkCredentialFlags(op, cc); err != nil {
		return nil, err
	}
	cr := &credential{flags: cc.Flags, client: cc.Flags&CredentialClient != 0, serverName: cc.ServerName,
		revocation: cc.Flags & revocationCheckFlags, crls: slices.Clone(cc.CRLs)}
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
	} else {
		// Every connection's VerifyConnection validates client
		// certificates (credentials_verify.go). The certificate request
		// names no CAs, so that a client sends its certificate whatever
		// its issuer and learns why it was refused.
		t.ClientAuth = tls.NoClientCert
		if cr.flags&CredentialRequireClientAuthentication != 0 {
			t.ClientAuth = tls.RequireAnyClientCert
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

// clone copies the template, including the slices tls.Config.Clone would
// share, so that a connection may modify its copy freely.
func (cr *credential) clone() *tls.Config {
	t := cr.template.Clone()
	t.NextProtos = slices.Clone(t.NextProtos)
	t.Certificates = slices.Clone(t.Certificates)
	return t
}

// clientConfig clones the template for a client connection to serverName
// (CredentialConfig.ServerName replaces it) and returns the connection's
// certificate check, which the configuration's VerifyConnection fills in.
func (cr *credential) clientConfig(serverName string) (*tls.Config, *peerCheck) {
	if cr.serverName != "" {
		serverName = cr.serverName
	}
	t := cr.clone()
	t.ServerName = serverName
	pc := &peerCheck{cr: cr, serverName: serverName}
	t.InsecureSkipVerify = true // verifyConnection validates instead
	t.VerifyConnection = pc.verifyConnection
	return t, pc
}

// serverConfig clones the template for a server connection and returns
// its certificate check.
func (cr *credential) serverConfig() (*tls.Config, *peerCheck) {
	t := cr.clone()
	pc := &peerCheck{cr: cr}
	t.VerifyConnection = pc.verifyConnection
	return t, pc
}

// CredentialType selects where LoadCredential finds the certificate
// (QUIC_CREDENTIAL_TYPE). The Windows certificate-store types are not
// supported and have no constants.
type CredentialType uint32

const (
	// CredentialNone: no certificate (clients without a client
	// certificate).
	CredentialNone CredentialType = 0
	// CredentialCertificateFile: PEM certificate chain and PEM private key
	// files (CertFile, KeyFile).
	CredentialCertificateFile CredentialType = 4
	// CredentialCertificateFileProtected: like CredentialCertificateFile
	// with an encrypted key; not supported (ErrNotSupported).
	CredentialCertificateFileProtected CredentialType = 5
	// CredentialCertificatePKCS12: a PKCS#12 blob; not supported
	// (ErrNotSupported).
	CredentialCertificatePKCS12 CredentialType = 6
	// CredentialTLSCertificate (hquic-specific) takes the certificates from
	// CredentialConfig.Certificates, Go's native form.
	CredentialTLSCertificate CredentialType = 0x100
)

// String returns the type name.
func (t CredentialType) String() string {
	return enumString("CredentialType", uint64(t), map[uint64]string{
		0: "None", 4: "CertificateFile", 5: "CertificateFileProtected",
		6: "CertificatePKCS12", 0x100: "TLSCertificate",
	})
}

// CredentialFlags modify credential loading and certificate validation
// (QUIC_CREDENTIAL_FLAGS). Each works as documented, describes what hquic
// always does, or fails with ErrNotSupported at LoadCredential (see
// CredentialConfig).
type CredentialFlags uint32

const (
	// CredentialFlagNone: a server credential with default behaviour.
	CredentialFlagNone CredentialFlags = 0x00000000
	// CredentialClient: the configuration is for clients (absent: servers).
	CredentialClient CredentialFlags = 0x00000001
	// CredentialLoadAsynchronous: MsQuic's asynchronous load; in hquic use
	// Configuration.LoadCredentialAsync (LoadCredential refuses the flag).
	CredentialLoadAsynchronous CredentialFlags = 0x00000002
	// CredentialNoCertificateValidation: do not validate the peer's
	// certificate (testing, or with CredentialIndicateCertificateReceived to
	// validate in the application).
	CredentialNoCertificateValidation CredentialFlags = 0x00000004
	// CredentialEnableOCSP: Schannel OCSP stapling; ErrNotSupported.
	CredentialEnableOCSP CredentialFlags = 0x00000008
	// CredentialIndicateCertificateReceived: deliver the peer's certificate
	// to the application, which decides (PeerCertificateReceivedEvent).
	CredentialIndicateCertificateReceived CredentialFlags = 0x00000010
	// CredentialDeferCertificateValidation: run the built-in validation but
	// hand its result to the application instead of failing the handshake.
	// Requires CredentialIndicateCertificateReceived.
	CredentialDeferCertificateValidation CredentialFlags = 0x00000020
	// CredentialRequireClientAuthentication: a server demands a client
	// certificate; a client credential refuses it.
	CredentialRequireClientAuthentication CredentialFlags = 0x00000040
	// CredentialUseTLSBuiltinCertificateValidation: always the case in
	// hquic (crypto/tls and crypto/x509 validate); no effect.
	CredentialUseTLSBuiltinCertificateValidation CredentialFlags = 0x00000080
	// CredentialRevocationCheckEndCert: look the leaf up in
	// CredentialConfig.CRLs.
	CredentialRevocationCheckEndCert CredentialFlags = 0x00000100
	// CredentialRevocationCheckChain: look every certificate of the chain
	// up in CredentialConfig.CRLs.
	CredentialRevocationCheckChain CredentialFlags = 0x00000200
	// CredentialRevocationCheckChainExcludeRoot: like ...Chain, without
	// the root.
	CredentialRevocationCheckChainExcludeRoot CredentialFlags = 0x00000400
	// CredentialIgnoreNoRevocationCheck: accept a certificate whose issuer
	// has no CRL in CredentialConfig.CRLs.
	CredentialIgnoreNoRevocationCheck CredentialFlags = 0x00000800
	// CredentialIgnoreRevocationOffline: accept a certificate whose
	// issuer's CRL is past its next update.
	CredentialIgnoreRevocationOffline CredentialFlags = 0x00001000
	// CredentialSetAllowedCipherSuites: honour
	// CredentialConfig.AllowedCipherSuites.
	CredentialSetAllowedCipherSuites CredentialFlags = 0x00002000
	// CredentialUsePortableCertificates: certificates are always delivered
	// in portable form (x509.Certificate with DER bytes); no effect.
	CredentialUsePortableCertificates CredentialFlags = 0x00004000
	// CredentialUseSuppliedCredentials: a client uses only the
	// certificate it was given; always the case.
	CredentialUseSuppliedCredentials CredentialFlags = 0x00008000
	// CredentialUseSystemMapper: Schannel account mapping;
	// ErrNotSupported.
	CredentialUseSystemMapper CredentialFlags = 0x00010000
	// CredentialCacheOnlyURLRetrieval: hquic retrieves nothing over the
	// network; always the case.
	CredentialCacheOnlyURLRetrieval CredentialFlags = 0x00020000
	// CredentialRevocationCheckCacheOnly: revocation data come only from
	// CredentialConfig.CRLs; always the case.
	CredentialRevocationCheckCacheOnly CredentialFlags = 0x00040000
	// CredentialInprocPeerCertificate: a Schannel detail;
	// ErrNotSupported.
	CredentialInprocPeerCertificate CredentialFlags = 0x00080000
	// CredentialSetCACertificateFile: validate peers against the PEM CA
	// certificates in CredentialConfig.CAFile.
	CredentialSetCACertificateFile CredentialFlags = 0x00100000
	// CredentialDisableAIA: hquic never fetches issuers (AIA); always the
	// case.
	CredentialDisableAIA CredentialFlags = 0x00200000
)

// String returns the flag names.
func (f CredentialFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Client"}, {0x2, "LoadAsynchronous"}, {0x4, "NoCertificateValidation"},
		{0x8, "EnableOCSP"}, {0x10, "IndicateCertificateReceived"},
		{0x20, "DeferCertificateValidation"}, {0x40, "RequireClientAuthentication"},
		{0x80, "UseTLSBuiltinCertificateValidation"}, {0x100, "RevocationCheckEndCert"},
		{0x200, "RevocationCheckChain"}, {0x400, "RevocationCheckChainExcludeRoot"},
		{0x800, "IgnoreNoRevocationCheck"}, {0x1000, "IgnoreRevocationOffline"},
		{0x2000, "SetAllowedCipherSuites"}, {0x4000, "UsePortableCertificates"},
		{0x8000, "UseSuppliedCredentials"}, {0x10000, "UseSystemMapper"},
		{0x20000, "CacheOnlyURLRetrieval"}, {0x40000, "RevocationCheckCacheOnly"},
		{0x80000, "InprocPeerCertificate"}, {0x100000, "SetCACertificateFile"},
		{0x200000, "DisableAIA"},
	})
}

// AllowedCipherSuites is a set of TLS 1.3 cipher suites
// (QUIC_ALLOWED_CIPHER_SUITE_FLAGS).
type AllowedCipherSuites uint32

const (
	// AllowedCipherSuitesNone is the empty set.
	AllowedCipherSuitesNone AllowedCipherSuites = 0x0
	// CipherSuiteAES128GCMSHA256 is TLS_AES_128_GCM_SHA256.
	CipherSuiteAES128GCMSHA256 AllowedCipherSuites = 0x1
	// CipherSuiteAES256GCMSHA384 is TLS_AES_256_GCM_SHA384.
	CipherSuiteAES256GCMSHA384 AllowedCipherSuites = 0x2
	// CipherSuiteChaCha20Poly1305SHA256 is TLS_CHACHA20_POLY1305_SHA256.
	CipherSuiteChaCha20Poly1305SHA256 AllowedCipherSuites = 0x4

	allCipherSuites = CipherSuiteAES128GCMSHA256 | CipherSuiteAES256GCMSHA384 | CipherSuiteChaCha20Poly1305SHA256
)

// String returns the suite names.
func (s AllowedCipherSuites) String() string {
	return formatFlags(uint64(s), "None", []flagName{
		{0x1, "AES128GCMSHA256"}, {0x2, "AES256GCMSHA384"}, {0x4, "ChaCha20Poly1305SHA256"},
	})
}
