package quic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

func TestCredentialFlagsRefusedAtLoad(t *testing.T) {
	pki := pkiOnce()
	crls := []*x509.RevocationList{pki.caCRL}
	for _, c := range []struct {
		name string
		cc   CredentialConfig
		want error
	}{
		{"OCSP", CredentialConfig{Flags: CredentialClient | CredentialEnableOCSP}, ErrNotSupported},
		{"system mapper", CredentialConfig{Flags: CredentialClient | CredentialUseSystemMapper}, ErrNotSupported},
		{"in-process peer certificate", CredentialConfig{Flags: CredentialClient | CredentialInprocPeerCertificate}, ErrNotSupported},
		{"unknown bit", CredentialConfig{Flags: CredentialClient | 0x01000000}, ErrInvalidParameter},
		{"defer without indicate", CredentialConfig{Flags: CredentialClient | CredentialDeferCertificateValidation}, ErrInvalidParameter},
		{"client requiring client auth", CredentialConfig{Flags: CredentialClient | CredentialRequireClientAuthentication}, ErrInvalidParameter},
		{"server name on a server", CredentialConfig{Type: CredentialTLSCertificate, Certificates: []tls.Certificate{pki.good},
			ServerName: "x.example"}, ErrInvalidParameter},
		{"revocation without CRLs", CredentialConfig{Flags: CredentialClient | CredentialRevocationCheckEndCert}, ErrInvalidParameter},
		{"CRLs without revocation", CredentialConfig{Flags: CredentialClient, CRLs: crls}, ErrInvalidParameter},
		{"ignore offline without revocation", CredentialConfig{Flags: CredentialClient | CredentialIgnoreRevocationOffline}, ErrInvalidParameter},
		{"revocation without validation", CredentialConfig{Flags: CredentialClient | CredentialNoCertificateValidation |
			CredentialRevocationCheckChain, CRLs: crls}, ErrInvalidParameter},
		{"nil CRL", CredentialConfig{Flags: CredentialClient | CredentialRevocationCheckChain,
			CRLs: []*x509.RevocationList{nil}}, ErrInvalidParameter},
		{"asynchronous flag", CredentialConfig{Flags: CredentialClient | CredentialLoadAsynchronous}, ErrInvalidParameter},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, cfg := newTestConfiguration(t, []string{"h3"}, nil)
			if err := cfg.LoadCredential(&c.cc); !errors.Is(err, c.want) {
				t.Fatalf("LoadCredential = %v, want %v", err, c.want)
			}
		})
	}
}

func TestAsynchronousLoadTakesTheAsynchronousFlag(t *testing.T) {
	_, cfg := newTestConfiguration(t, []string{"h3"}, nil)
	done := make(chan error, 1)
	cc := &CredentialConfig{Flags: CredentialClient | CredentialLoadAsynchronous}
	if err := cfg.LoadCredentialAsync(cc, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("LoadCredentialAsync with CredentialLoadAsynchronous: %v", err)
	}
}

// clientVerdict runs a handshake of a client credential with flags, roots
// and crls against a server presenting cert, and returns the client's
// error (nil: accepted).
func clientVerdict(t *testing.T, flags CredentialFlags, roots *x509.CertPool, cert *tls.Certificate, crls ...*x509.RevocationList) error {
	t.Helper()
	client := loadPKI(t, CredentialClient|flags, nil, roots, crls...)
	server := loadPKI(t, 0, cert, nil)
	p := newQuicPair(t, client, server, "localhost", nil, nil)
	p.run()
	if p.client.err == nil && !p.client.complete {
		t.Fatalf("handshake neither failed nor completed: %v", p)
	}
	return p.client.err
}

func TestRevocationScopes(t *testing.T) {
	pki := pkiOnce()
	roots := pki.ca.pool()
	all := []*x509.RevocationList{pki.caCRL, pki.interCRL, pki.badInterCRL}
	for _, c := range []struct {
		name    string
		flags   CredentialFlags
		cert    *tls.Certificate
		crls    []*x509.RevocationList
		wantErr string // "" accepted
	}{
		{"end cert: revoked leaf", CredentialRevocationCheckEndCert, &pki.revoked, all, "revoked"},
		{"end cert: revoked intermediate not checked", CredentialRevocationCheckEndCert, &pki.interLeaf, all, ""},
		{"chain without root: revoked intermediate", CredentialRevocationCheckChainExcludeRoot, &pki.interLeaf, all, "revoked"},
		{"chain: the root is looked up in its own CRL", CredentialRevocationCheckChain, &pki.good, []*x509.RevocationList{pki.emptyCACRL},
			""},
		{"no CRL for the issuer", CredentialRevocationCheckEndCert, &pki.viaInter, []*x509.RevocationList{pki.caCRL}, "no CRL"},
		{"no CRL, ignored", CredentialRevocationCheckEndCert | CredentialIgnoreNoRevocationCheck, &pki.viaInter,
			[]*x509.RevocationList{pki.caCRL}, ""},
		{"stale CRL", CredentialRevocationCheckEndCert, &pki.good, []*x509.RevocationList{pki.staleCRL}, "next update"},
		{"stale CRL, offline ignored", CredentialRevocationCheckEndCert | CredentialIgnoreRevocationOffline, &pki.good,
			[]*x509.RevocationList{pki.staleCRL}, ""},
		{"a CRL signed by another CA does not count", CredentialRevocationCheckEndCert, &pki.good,
			[]*x509.RevocationList{pki.interCRL}, "no CRL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := clientVerdict(t, c.flags, roots, c.cert, c.crls...)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, c.wantErr)
			}
		})
	}
}

func TestServerNameOverride(t *testing.T) {
	pki := pkiOnce()
	server := loadPKI(t, 0, &pki.otherName, nil)
	client := loadConfig(t, &CredentialConfig{Flags: CredentialClient, RootCAs: pki.ca.pool(), ServerName: "other.example"})
	p := newQuicPair(t, client, server, "localhost", nil, nil)
	p.run()
	if !p.client.complete {
		t.Fatalf("ServerName not used for validation: %v", p)
	}
	if ct := ctls(client, "localhost"); ct.ServerName != "other.example" {
		t.Fatalf("SNI %q, want other.example", ct.ServerName)
	}
	// Without the override Start's name is validated.
	plain := loadPKI(t, CredentialClient, nil, pki.ca.pool())
	p = newQuicPair(t, plain, server, "localhost", nil, nil)
	p.run()
	if p.client.err == nil || !strings.Contains(p.client.err.Error(), `server certificate for "localhost"`) {
		t.Fatalf("error %v, want one naming the server name", p.client.err)
	}
}

func TestResumedSessionIsValidatedAgain(t *testing.T) {
	pki := pkiOnce()
	server := loadPKI(t, 0, &pki.wrongCA, nil)
	cache := tls.NewLRUClientSessionCache(4)
	withCache := func(ct *tls.Config) { ct.ClientSessionCache = cache }
	// A session from a connection that validated nothing...
	insecure := loadPKI(t, CredentialClient|CredentialNoCertificateValidation, nil, nil)
	p := newQuicPair(t, insecure, server, "localhost", nil, nil, withCache)
	p.run()
	if !p.client.complete {
		t.Fatalf("first handshake: %v", p)
	}
	if err := p.server.tls.SendSessionTicket(false, nil); err != nil {
		t.Fatal(err)
	}
	move(p.server, p.client)
	// ...is validated again when a validating configuration resumes it.
	secure := loadPKI(t, CredentialClient|CredentialIndicateCertificateReceived, nil, pki.ca.pool())
	p = newQuicPair(t, secure, server, "localhost", nil, nil, withCache)
	p.run()
	if p.client.complete || p.client.alert() != int(TLSAlertUnknownCA) {
		t.Fatalf("resumed an unvalidated session: %v", p)
	}
	if len(p.client.events) != 0 {
		t.Fatal("the handler saw a certificate that failed validation")
	}
	// A resumed session that validates reaches the handler, marked.
	good := loadPKI(t, 0, &pki.good, nil)
	p = newQuicPair(t, secure, good, "localhost", nil, nil, withCache)
	p.run()
	if err := p.server.tls.SendSessionTicket(false, nil); err != nil {
		t.Fatal(err)
	}
	move(p.server, p.client)
	p = newQuicPair(t, secure, good, "localhost", nil, nil, withCache)
	p.run()
	if !p.client.complete || len(p.client.events) != 1 || !p.client.events[0].Resumed || p.client.events[0].Certificate == nil {
		t.Fatalf("resumption: %v, events %+v", p, p.client.events)
	}
}
