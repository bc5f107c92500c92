package quic

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// This file is hquic's certificate validation: crypto/x509 path building
// against the credential's roots, the server name or client usage, and
// revocation against the credential's CRLs. crypto/tls's own validation is
// off (InsecureSkipVerify, RequireAnyClientCert); every connection's
// tls.Config.VerifyConnection runs this instead, in both roles, so that
// each failure has its own TLS alert and status, the application can be
// handed the result (CredentialDeferCertificateValidation), and a resumed
// session's certificate is validated again.

// certError is a failed validation: what failed, the x509 error, the TLS
// alert that fails the handshake and the status reported as
// PeerCertificateReceivedEvent.DeferredStatus.
type certError struct {
	what   string // e.g. `server certificate for "example.com"`
	err    error
	alert  TLSAlertCode
	status Status
	flags  CertificateErrorFlags
}

// Error names the certificate and the reason, e.g. `quic: server
// certificate for "example.com": x509: certificate signed by unknown
// authority`.
func (e *certError) Error() string { return "quic: " + e.what + ": " + e.err.Error() }

// Unwrap returns the x509 error and the TLS alert, which crypto/tls and the
// engine read to fail the handshake with that alert.
func (e *certError) Unwrap() []error { return []error{e.err, tls.AlertError(e.alert)} }

// errRevoked, errRevocationUnknown and errRevocationStale are the
// revocation failures.
var (
	errRevoked           = errors.New("certificate revoked")
	errRevocationUnknown = errors.New("no CRL from the issuer: revocation status unknown")
	errRevocationStale   = errors.New("the issuer's CRL is past its next update: revocation status unknown")
)

// validate checks chain (leaf first, as the peer sent it) for a client
// connecting to serverName, or for a server when serverName is "".
func (cr *credential) validate(serverName string, chain []*x509.Certificate, now time.Time) *certError {
	what := "client certificate"
	opts := x509.VerifyOptions{
		Roots:         cr.roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if cr.client {
		what = fmt.Sprintf("server certificate for %q", serverName)
		opts.DNSName = serverName
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := chain[0].Verify(opts)
	if err != nil {
		return classify(what, err)
	}
	if cr.revocation == 0 {
		return nil
	}
	return cr.checkRevocation(what, chains[0], now)
}

// checkRevocation looks up the certificates of a verified chain (leaf
// first, root last) in the credential's CRLs, as far as the revocation
// flags ask.
func (cr *credential) checkRevocation(what string, chain []*x509.Certificate, now time.Time) *certError {
	n := 1 // CredentialRevocationCheckEndCert
	switch {
	case cr.revocation&CredentialRevocationCheckChain != 0:
		n = len(chain)
	case cr.revocation&CredentialRevocationCheckChainExcludeRoot != 0:
		n = len(chain) - 1
	}
	for i := range n {
		cert := chain[i]
		issuer := chain[min(i+1, len(chain)-1)] // a root issues itself
		crl := cr.crlFor(issuer)
		switch {
		case crl == nil:
			if cr.flags&CredentialIgnoreNoRevocationCheck == 0 {
				return &certError{what: what, err: errRevocationUnknown, alert: TLSAlertCertificateUnknown,
					status: StatusUnknownCertificate, flags: CertificateIgnoreRevocation}
			}
			continue
		case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
			if cr.flags&CredentialIgnoreRevocationOffline == 0 {
				return &certError{what: what, err: errRevocationStale, alert: TLSAlertCertificateUnknown,
					status: StatusUnknownCertificate, flags: CertificateIgnoreRevocation}
			}
		}
		for _, r := range crl.RevokedCertificateEntries {
			if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return &certError{what: what, err: fmt.Errorf("%w (%s, serial %s)", errRevoked, cert.Subject, cert.SerialNumber),
					alert: TLSAlertCertificateRevoked, status: StatusRevokedCertificate, flags: CertificateIgnoreRevocation}
			}
		}
	}
	return nil
}

// crlFor returns the credential's CRL that issuer signed, nil if none.
func (cr *credential) crlFor(issuer *x509.Certificate) *x509.RevocationList {
	for _, l := range cr.crls {
		if bytes.Equal(l.RawIssuer, issuer.RawSubject) && l.CheckSignatureFrom(issuer) == nil {
			return l
		}
	}
	return nil
}

// classify turns an x509 verification error into a certError with
// MsQuic's statuses: an expired certificate is StatusCertExpired (alert
// certificate_expired), an unknown issuer StatusCertUntrustedRoot (alert
// unknown_ca), a name mismatch or anything else StatusBadCertificate
// (alert bad_certificate).
func classify(what string, err error) *certError {
	e := &certError{what: what, err: err, alert: TLSAlertBadCertificate, status: StatusBadCertificate}
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		e.alert, e.status, e.flags = TLSAlertCertificateExpired, StatusCertExpired, CertificateIgnoreDateInvalid
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		e.flags = CertificateIgnoreWrongUsage
	case errors.As(err, &unknown):
		e.alert, e.status, e.flags = TLSAlertUnknownCA, StatusCertUntrustedRoot, CertificateIgnoreUnknownCA
	case errors.As(err, &host):
		e.flags = CertificateIgnoreCNInvalid
	}
	return e
}

// peerCheck is one connection's view of the peer's certificate. Its
// verifyConnection runs as tls.Config.VerifyConnection on crypto/tls's
// handshake goroutine while the connection's goroutine waits for TLS, so
// what it records is read without a lock by the decision on the
// connection's goroutine (certificates.go).
type peerCheck struct {
	cr         *credential
	serverName string // what a client validates; "" on servers

	// Set by verifyConnection.
	verified bool
	chain    []*x509.Certificate
	resumed  bool
	deferred *certError // the validation failure kept for the application
}

// verifyConnection validates the peer's chain unless validation is off.
// A failure fails the handshake with its alert unless the application is
// to decide (CredentialDeferCertificateValidation); with
// CredentialIndicateCertificateReceived the outcome is kept for the
// decision.
func (pc *peerCheck) verifyConnection(cs tls.ConnectionState) error {
	cr := pc.cr
	var failed *certError
	switch {
	case cr.flags&CredentialNoCertificateValidation != 0:
	case len(cs.PeerCertificates) > 0:
		failed = cr.validate(pc.serverName, cs.PeerCertificates, time.Now())
	case cr.client || cr.flags&CredentialRequireClientAuthentication != 0:
		// crypto/tls fails such a handshake itself; fail closed anyway.
		failed = &certError{what: "peer", err: errors.New("no certificate"), alert: TLSAlertCertificateRequired,
			status: StatusCertNoCertificate}
	case cr.flags&CredentialDeferCertificateValidation != 0:
		// MsQuic reports a server's certificate-less client as
		// CERT_NO_CERT when validation is deferred.
		pc.deferred = &certError{what: "client", err: errors.New("no certificate"), status: StatusCertNoCertificate}
	}
	if failed != nil && (cr.flags&CredentialDeferCertificateValidation == 0 || len(cs.PeerCertificates) == 0) {
		return failed
	}
	if cr.flags&CredentialIndicateCertificateReceived == 0 {
		return nil
	}
	if failed != nil {
		pc.deferred = failed
	}
	pc.verified = true
	pc.chain = cs.PeerCertificates
	pc.resumed = cs.DidResume
	return nil
}
