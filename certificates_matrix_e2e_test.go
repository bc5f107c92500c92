package quic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// These tests run every combination of the four flags that decide how a
// peer's certificate is judged (CredentialNoCertificateValidation,
// CredentialIndicateCertificateReceived,
// CredentialDeferCertificateValidation,
// CredentialRequireClientAuthentication) against good and bad
// certificates, in both roles, through the public API over netsim in
// virtual time. The application is the one MsQuic's documentation
// describes: it rejects whatever the library's deferred validation found
// and, where it turned the library's validation off, validates the chain
// itself; it decides in the handler or, returning Pending, from another
// goroutine with CertificateValidationComplete. Every bad certificate
// must fail the handshake with its alert, on both sides, or be accepted
// only where the configuration explicitly trusts every peer.

// certFlagBits are the flags the matrix combines.
var certFlagBits = []CredentialFlags{
	CredentialNoCertificateValidation, CredentialIndicateCertificateReceived,
	CredentialDeferCertificateValidation, CredentialRequireClientAuthentication,
}

// certKind is a certificate the peer presents and how the validating side
// judges it (fail.alert < 0: good).
type certKind struct {
	name string
	cert *tls.Certificate
	fail failure
}

// certRole is a validating side and the certificates it meets.
type certRole struct {
	name   string
	client bool // the client validates the server's certificate
	kinds  []certKind
}

func certRoles(pki *testPKI) []certRole {
	good := failure{alert: -1}
	common := []certKind{
		{"good", &pki.good, good},
		{"via intermediate", &pki.viaInter, good},
		{"wrong CA", &pki.wrongCA, failure{48, StatusCertUntrustedRoot, CertificateIgnoreUnknownCA, "unknown authority"}},
		{"expired", &pki.expired, failure{45, StatusCertExpired, CertificateIgnoreDateInvalid, "expired"}},
		{"revoked", &pki.revoked, failure{44, StatusRevokedCertificate, CertificateIgnoreRevocation, "revoked"}},
		{"revoked intermediate", &pki.interLeaf, failure{44, StatusRevokedCertificate, CertificateIgnoreRevocation, "revoked"}},
	}
	with := func(extra ...certKind) []certKind { return append(common[:len(common):len(common)], extra...) }
	return []certRole{
		{"client validates server", true, with(
			certKind{"name mismatch", &pki.otherName, failure{42, StatusBadCertificate, CertificateIgnoreCNInvalid, `for "localhost"`}})},
		{"server validates client", false, with(
			// A server binds no name to a client certificate: who the
			// client is, is the application's question (PeerCertificates).
			certKind{"name mismatch", &pki.otherName, good},
			certKind{"server-only usage", &pki.serverOnly, failure{42, StatusBadCertificate, CertificateIgnoreWrongUsage, "usage"}})},
	}
}

// decideMode is how the application delivers its decision.
type decideMode int

const (
	decideInHandler decideMode = iota // the handler's return value
	decideLater                       // Pending, then CertificateValidationComplete from another goroutine
)

func (m decideMode) String() string { return [...]string{"in handler", "later"}[m] }

// certFlagCombo returns the combination numbered mask.
func certFlagCombo(mask int) CredentialFlags {
	var f CredentialFlags
	for i, b := range certFlagBits {
		if mask&(1<<i) != 0 {
			f |= b
		}
	}
	return f
}

// refusedCombo reports whether LoadCredential must refuse combo for the
// role, and why.
func refusedCombo(client bool, combo CredentialFlags) string {
	switch {
	case combo&CredentialDeferCertificateValidation != 0 && combo&CredentialIndicateCertificateReceived == 0:
		return "CredentialDeferCertificateValidation requires"
	case client && combo&CredentialRequireClientAuthentication != 0:
		return "is for server credentials"
	}
	return ""
}

func TestCertificateFlagCombinationsOverNetsim(t *testing.T) {
	t.Parallel() // CPU-bound and self-contained; the sequential tests measure goroutines and memory alone
	pki := pkiOnce()
	for _, role := range certRoles(pki) {
		for mask := range 1 << len(certFlagBits) {
			combo := certFlagCombo(mask)
			if why := refusedCombo(role.client, combo); why != "" {
				t.Run(fmt.Sprintf("%s/%v/refused", role.name, combo), func(t *testing.T) {
					_, cfg := newTestConfiguration(t, []string{"cert"}, nil)
					cc := &CredentialConfig{Flags: combo}
					if role.client {
						cc.Flags |= CredentialClient
					} else {
						cc.Type, cc.Certificates = CredentialTLSCertificate, []tls.Certificate{pki.good}
					}
					if err := cfg.LoadCredential(cc); !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), why) {
						t.Fatalf("LoadCredential = %v, want ErrInvalidParameter saying %q", err, why)
					}
				})
				continue
			}
			modes := []decideMode{decideInHandler}
			if combo&CredentialIndicateCertificateReceived != 0 {
				modes = append(modes, decideLater)
			}
			for _, mode := range modes {
				for _, k := range role.kinds {
					t.Run(fmt.Sprintf("%s/%v/%v/%s", role.name, combo, mode, k.name), func(t *testing.T) {
						simTest(t, func(t *testing.T) { runCertCase(t, pki, role.client, combo, mode, k) })
					})
				}
			}
		}
	}
}

// certExpectation is what a case must end in.
type certExpectation struct {
	alert    int  // the alert failing the handshake; -1: it succeeds
	builtin  bool // the library's validation fails it (not the application)
	events   int  // PeerCertificateReceivedEvents on the validating side
	sent     bool // the peer sends its certificate
	deferred Status
}

// expectCert works out what combo does with kind k in a role.
func expectCert(client bool, combo CredentialFlags, k certKind) certExpectation {
	noVal := combo&CredentialNoCertificateValidation != 0
	indicate := combo&CredentialIndicateCertificateReceived != 0
	deferred := combo&CredentialDeferCertificateValidation != 0
	e := certExpectation{alert: -1, events: b2i(indicate), sent: client || combo&CredentialRequireClientAuthentication != 0,
		deferred: StatusSuccess}
	switch {
	case !e.sent:
		// A server that does not require a client certificate asks for
		// none; with deferred validation the handler learns there is
		// none, and this application insists on one.
		if indicate && deferred && !noVal {
			e.alert, e.deferred = int(TLSAlertCertificateRequired), StatusCertNoCertificate
		}
	case k.fail.alert < 0:
	case noVal:
		// Validation is the application's, if it asked to see the
		// certificate; without, every certificate is trusted, as the
		// flag says.
		if indicate {
			e.alert = k.fail.alert
		}
	case deferred:
		e.alert, e.deferred = k.fail.alert, k.fail.status
	default:
		e.alert, e.builtin, e.events = k.fail.alert, true, 0
	}
	return e
}

// certApp is the application on the validating side.
type certApp struct {
	pki        *testPKI
	noVal      bool   // the library does not validate
	serverName string // what a client validates; "" on servers
	mode       decideMode
	events     chan *PeerCertificateReceivedEvent
}

// handler decides on the peer's certificate.
func (a *certApp) handler(c *Connection, ev ConnectionEvent) error {
	pe, ok := ev.(*PeerCertificateReceivedEvent)
	if !ok {
		return nil
	}
	a.events <- pe
	decide := func() TLSAlertCode {
		switch {
		case pe.DeferredStatus != StatusSuccess:
			return alertForStatus(pe.DeferredStatus)
		case a.noVal && pe.Certificate != nil:
			return a.pki.appValidate(pe.ChainDER, a.serverName)
		}
		return TLSAlertSuccess
	}
	if a.mode == decideInHandler {
		if alert := decide(); alert != TLSAlertSuccess {
			return TLSAlertStatus(uint8(alert))
		}
		return nil
	}
	go func() {
		alert := decide()
		if err := c.CertificateValidationComplete(alert == TLSAlertSuccess, alert); err != nil {
			panic(err)
		}
	}()
	return Pending
}

// alertForStatus is the alert this application sends for a deferred
// validation failure.
func alertForStatus(s Status) TLSAlertCode {
	switch s {
	case StatusCertUntrustedRoot:
		return TLSAlertUnknownCA
	case StatusCertExpired:
		return TLSAlertCertificateExpired
	case StatusCertNoCertificate:
		return TLSAlertCertificateRequired
	}
	if a, ok := s.TLSAlert(); ok {
		return TLSAlertCode(a)
	}
	return TLSAlertBadCertificate
}

// appValidate is the application's own validation of a chain (DER, leaf
// first) against the test CA and its CRLs: for serverName and server
// authentication, or for client authentication when serverName is "".
func (p *testPKI) appValidate(der [][]byte, serverName string) TLSAlertCode {
	chain := make([]*x509.Certificate, len(der))
	for i, d := range der {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return TLSAlertBadCertificate
		}
		chain[i] = c
	}
	opts := x509.VerifyOptions{Roots: p.ca.pool(), Intermediates: x509.NewCertPool(), DNSName: serverName,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if serverName != "" {
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := chain[0].Verify(opts)
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return TLSAlertUnknownCA
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return TLSAlertCertificateExpired
	case err != nil:
		return TLSAlertBadCertificate
	}
	verified := chains[0]
	for i, c := range verified[:len(verified)-1] {
		for _, l := range []*x509.RevocationList{p.caCRL, p.interCRL, p.badInterCRL} {
			if l.CheckSignatureFrom(verified[i+1]) != nil {
				continue
			}
			for _, r := range l.RevokedCertificateEntries {
				if r.SerialNumber.Cmp(c.SerialNumber) == 0 {
					return TLSAlertCertificateRevoked
				}
			}
		}
	}
	return TLSAlertSuccess
}

// runCertCase runs one handshake of the matrix and checks its end.
func runCertCase(t *testing.T, pki *testPKI, client bool, combo CredentialFlags, mode decideMode, k certKind) {
	e := newE2E(t, "cert", nil)
	flags := combo
	var crls []*x509.RevocationList
	if combo&CredentialNoCertificateValidation == 0 {
		flags |= CredentialRevocationCheckChainExcludeRoot
		crls = []*x509.RevocationList{pki.caCRL, pki.interCRL, pki.badInterCRL}
	}
	app := &certApp{pki: pki, noVal: combo&CredentialNoCertificateValidation != 0, mode: mode,
		events: make(chan *PeerCertificateReceivedEvent, 4)}
	var serverApp, clientApp ConnectionHandler
	if client {
		app.serverName = "localhost"
		clientApp = app.handler
		mustLoad(t, e.cliCfg, &CredentialConfig{Flags: CredentialClient | flags, RootCAs: pki.ca.pool(), CRLs: crls})
		mustLoad(t, e.srvCfg, &CredentialConfig{Type: CredentialTLSCertificate, Certificates: []tls.Certificate{*k.cert}})
	} else {
		serverApp = app.handler
		mustLoad(t, e.srvCfg, &CredentialConfig{Flags: flags, Type: CredentialTLSCertificate,
			Certificates: []tls.Certificate{pki.good}, RootCAs: pki.ca.pool(), CRLs: crls})
		mustLoad(t, e.cliCfg, &CredentialConfig{Flags: CredentialClient | CredentialNoCertificateValidation,
			Type: CredentialTLSCertificate, Certificates: []tls.Certificate{*k.cert}})
	}
	// The server's handshake completes after the client's: once it is
	// connected, both are, and it ends the connection.
	servers := e.listenWith(t, func(c *Connection, ev ConnectionEvent) error {
		if _, ok := ev.(*ConnectedEvent); ok {
			c.Shutdown(ConnectionShutdownNone, 0)
		}
		if serverApp != nil {
			return serverApp(c, ev)
		}
		return nil
	})
	cli := e.dialWith(t, clientApp, false)
	srv := <-servers
	wait(t, srv.done, "server shutdown")
	v, peer, peerCert := cli, srv, k.cert.Leaf
	if !client {
		v, peer, peerCert = srv, cli, k.cert.Leaf
	}
	want := expectCert(client, combo, k)
	close(app.events)
	var events []*PeerCertificateReceivedEvent
	for ev := range app.events {
		events = append(events, ev)
	}
	if len(events) != want.events || v.certs != want.events {
		t.Fatalf("%d certificate events, want %d", len(events), want.events)
	}
	for _, ev := range events {
		checkCertEvent(t, ev, want, k, peerCert)
	}
	if want.alert < 0 {
		if !cli.connected || !srv.connected {
			t.Fatalf("not connected: client %v (status %v), server %v (status %v)", cli.connected, cli.status, srv.connected, srv.status)
		}
		switch {
		case !want.sent && len(v.peer) != 0:
			t.Fatalf("PeerCertificates %v from a client that was asked for none", v.peer)
		case want.sent && (len(v.peer) == 0 || !v.peer[0].Equal(peerCert)):
			t.Fatalf("PeerCertificates %v, want the peer's leaf first", v.peer)
		}
		return
	}
	status := TLSAlertStatus(uint8(want.alert))
	if v.connected || srv.connected {
		t.Fatalf("a rejected certificate connected: validating side %v, server %v", v.connected, srv.connected)
	}
	if v.status != status || peer.status != status {
		t.Fatalf("statuses: validating side %v (%v), peer %v (%v); want %v on both", v.status, v.err, peer.status, peer.err, status)
	}
	why := "the application rejected"
	if want.builtin {
		why = k.fail.text
	}
	if v.err == nil || !strings.Contains(v.err.Error(), why) {
		t.Fatalf("validating side's close error %v does not say %q", v.err, why)
	}
}

// checkCertEvent asserts what a PeerCertificateReceivedEvent carries.
func checkCertEvent(t *testing.T, ev *PeerCertificateReceivedEvent, want certExpectation, k certKind, leaf *x509.Certificate) {
	t.Helper()
	if !want.sent {
		if ev.Certificate != nil || len(ev.Chain) != 0 {
			t.Fatalf("event carries a certificate the server did not ask for")
		}
	} else {
		if ev.Certificate == nil || !ev.Certificate.Equal(leaf) || len(ev.Chain) != len(k.cert.Certificate) || len(ev.ChainDER) != len(ev.Chain) {
			t.Fatalf("event: certificate %v, chain of %d (DER %d); want the peer's chain of %d", ev.Certificate, len(ev.Chain), len(ev.ChainDER), len(k.cert.Certificate))
		}
		for i, der := range k.cert.Certificate {
			if string(ev.ChainDER[i]) != string(der) {
				t.Fatalf("ChainDER[%d] is not the peer's certificate", i)
			}
		}
	}
	if ev.DeferredStatus != want.deferred {
		t.Fatalf("DeferredStatus %v (%v), want %v", ev.DeferredStatus, ev.DeferredErr, want.deferred)
	}
	switch {
	case want.deferred == StatusSuccess:
		if ev.DeferredErr != nil || ev.DeferredErrorFlags != 0 {
			t.Fatalf("a certificate that passed carries %v (%v)", ev.DeferredErr, ev.DeferredErrorFlags)
		}
	case want.sent && (ev.DeferredErrorFlags != k.fail.flags || ev.DeferredErr == nil || !strings.Contains(ev.DeferredErr.Error(), k.fail.text)):
		t.Fatalf("deferred failure: flags %v, err %v; want %v and an error saying %q", ev.DeferredErrorFlags, ev.DeferredErr, k.fail.flags, k.fail.text)
	}
}

// mustLoad loads cc into cfg.
func mustLoad(t *testing.T, cfg *Configuration, cc *CredentialConfig) {
	t.Helper()
	if err := cfg.LoadCredential(cc); err != nil {
		t.Fatal(err)
	}
}

func TestUndecidedCertificateFailsAtTheHandshakeIdleTimeout(t *testing.T) {
	pki := pkiOnce()
	const timeout = 3 * time.Second
	for _, client := range []bool{true, false} {
		name := map[bool]string{true: "client validates server", false: "server validates client"}[client]
		t.Run(name, func(t *testing.T) {
			simTest(t, func(t *testing.T) {
				e := newE2E(t, "cert", &Settings{PeerBidiStreamCount: Some[uint16](1), IdleTimeout: Some(10 * time.Second),
					HandshakeIdleTimeout: Some(timeout)})
				if err := e.cliCfg.SetSettings(&Settings{HandshakeIdleTimeout: Some(timeout)}); err != nil {
					t.Fatal(err)
				}
				indicate := CredentialIndicateCertificateReceived | CredentialDeferCertificateValidation
				var asked, failed time.Time
				var undecided *Connection
				// The application defers the decision and never makes it.
				app := func(c *Connection, ev ConnectionEvent) error {
					switch ev.(type) {
					case *PeerCertificateReceivedEvent:
						asked, undecided = time.Now(), c
						return Pending
					case *ShutdownInitiatedByTransportEvent:
						failed = time.Now()
					}
					return nil
				}
				var serverApp, clientApp ConnectionHandler
				if client {
					clientApp = app
					mustLoad(t, e.cliCfg, &CredentialConfig{Flags: CredentialClient | indicate, RootCAs: pki.ca.pool()})
					mustLoad(t, e.srvCfg, &CredentialConfig{Type: CredentialTLSCertificate, Certificates: []tls.Certificate{pki.good}})
				} else {
					serverApp = app
					mustLoad(t, e.srvCfg, &CredentialConfig{Flags: indicate | CredentialRequireClientAuthentication,
						Type: CredentialTLSCertificate, Certificates: []tls.Certificate{pki.good}, RootCAs: pki.ca.pool()})
					mustLoad(t, e.cliCfg, &CredentialConfig{Flags: CredentialClient | CredentialNoCertificateValidation,
						Type: CredentialTLSCertificate, Certificates: []tls.Certificate{pki.good}})
				}
				servers := e.listenWith(t, serverApp)
				cli := e.dialWith(t, clientApp, false)
				srv := <-servers
				wait(t, srv.done, "server shutdown")
				v := map[bool]*outcome{true: cli, false: srv}[client]
				if asked.IsZero() || v.certs != 1 {
					t.Fatalf("%d certificate events", v.certs)
				}
				if v.connected || srv.connected {
					t.Fatalf("connected without a decision: validating side %v, server %v", v.connected, srv.connected)
				}
				if v.status != StatusConnectionIdle || !errors.Is(v.err, ErrConnectionIdle) && !strings.Contains(v.err.Error(), "certificate decision") {
					t.Fatalf("validating side's status %v (%v), want StatusConnectionIdle for the missing decision", v.status, v.err)
				}
				// The peer is told (CONNECTION_CLOSE with INTERNAL_ERROR),
				// not left to time out.
				peer := map[bool]*outcome{true: srv, false: cli}[client]
				if peer.status != StatusInternalError || !strings.Contains(peer.err.Error(), "no certificate decision") {
					t.Fatalf("peer's status %v (%v), want the internal error naming the missing decision", peer.status, peer.err)
				}
				if d := failed.Sub(asked); d != timeout {
					t.Fatalf("failed %v after the event, want the handshake idle timeout %v", d, timeout)
				}
				// A decision after the handshake failed changes nothing.
				if err := undecided.CertificateValidationComplete(true, TLSAlertSuccess); err != nil && !errors.Is(err, ErrInvalidState) {
					t.Fatalf("late CertificateValidationComplete = %v", err)
				}
			})
		})
	}
}
