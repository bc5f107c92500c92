package quic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/wire"
)

// quicSide is one end of an in-memory QUIC-TLS handshake driven through
// internal/handshake with a configuration's TLS settings and certificate
// decision, as a connection uses them.
type quicSide struct {
	tls      *handshake.TLS
	conn     *Connection // carries the handler only
	events   []*PeerCertificateReceivedEvent
	complete bool
	err      error
}

func (s *quicSide) SetReadSecret(handshake.Level, uint16, []byte) error  { return nil }
func (s *quicSide) SetWriteSecret(handshake.Level, uint16, []byte) error { return nil }
func (s *quicSide) PeerTransportParameters([]byte) error                 { return nil }
func (s *quicSide) HandshakeComplete()                                   { s.complete = true }
func (s *quicSide) EarlyDataRejected()                                   {}
func (s *quicSide) StoreSession(*tls.SessionState)                       {}
func (s *quicSide) ResumeSession(*tls.SessionState)                      {}

// quicPair is a client and a server handshake.
type quicPair struct{ client, server *quicSide }

// newQuicPair prepares a handshake between client and server
// configurations; hc and hs handle each side's
// PeerCertificateReceivedEvent (nil: accept); tweak changes the client's
// TLS settings.
func newQuicPair(t *testing.T, client, server *Configuration, serverName string, hc, hs ConnectionHandler, tweak ...func(*tls.Config)) *quicPair {
	t.Helper()
	p := &quicPair{client: &quicSide{conn: &Connection{}}, server: &quicSide{conn: &Connection{server: true}}}
	for _, s := range []struct {
		side *quicSide
		h    ConnectionHandler
	}{{p.client, hc}, {p.server, hs}} {
		side, h := s.side, s.h
		side.conn.SetHandler(func(c *Connection, ev ConnectionEvent) error {
			pe := ev.(*PeerCertificateReceivedEvent)
			side.events = append(side.events, pe)
			if h == nil {
				return nil
			}
			return h(c, ev)
		})
	}
	ct, cc := client.tlsConfigForClient(serverName)
	st, sc := server.tlsConfigForServer()
	for _, f := range tweak {
		f(ct)
	}
	p.client.tls = handshake.NewClient(ct, []byte{1}, p.client, false)
	p.server.tls = handshake.NewServer(st, []byte{2}, p.server)
	if d := cc.decision(p.client.conn); d != nil {
		p.client.tls.GatePeerFinished(handshake.Decision(d))
	}
	if d := sc.decision(p.server.conn); d != nil {
		p.server.tls.GatePeerFinished(handshake.Decision(d))
	}
	t.Cleanup(func() { p.client.tls.Close(); p.server.tls.Close() })
	if err := p.client.tls.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.tls.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// move delivers every pending CRYPTO byte from one side to the other.
func move(from, to *quicSide) {
	if from.err != nil || to.err != nil {
		return
	}
	for i := range handshake.NumStreams {
		s := from.tls.Send(i)
		for {
			off, n, ok := s.Pending(1 << 20)
			if !ok {
				break
			}
			data := append([]byte(nil), s.Data(off, n)...)
			s.OnSent(off, n)
			s.OnAcked(off, n)
			if err := to.tls.HandleCrypto(i, off, data); err != nil {
				to.err = err
				return
			}
		}
	}
}

// run exchanges flights until nothing moves.
func (p *quicPair) run() {
	for range 5 {
		move(p.client, p.server)
		move(p.server, p.client)
	}
}

// alert returns the TLS alert of a side's handshake failure, -1 if none.
func (s *quicSide) alert() int {
	var we *wire.Error
	if errors.As(s.err, &we) && we.Code.IsCrypto() {
		return int(we.Code & 0xff)
	}
	return -1
}

func (p *quicPair) String() string {
	return fmt.Sprintf("client complete=%v err=%v; server complete=%v err=%v", p.client.complete, p.client.err, p.server.complete, p.server.err)
}

// msquicPattern is the handler MsQuic's samples use with deferred
// validation: reject whatever the built-in validation found.
func msquicPattern(_ *Connection, ev ConnectionEvent) error {
	if pe := ev.(*PeerCertificateReceivedEvent); pe.DeferredStatus != StatusSuccess {
		return pe.DeferredStatus
	}
	return nil
}

// failure is how a bad certificate fails validation.
type failure struct {
	alert  int
	status Status
	flags  CertificateErrorFlags
	text   string // in the error
}

func TestCertificateValidationMatrix(t *testing.T) {
	pki := pkiOnce()
	type kind struct {
		name string
		cert func() *tls.Certificate
		fail failure // alert -1: the certificate is good
	}
	common := []kind{
		{"good", func() *tls.Certificate { return &pki.good }, failure{alert: -1}},
		{"via intermediate", func() *tls.Certificate { return &pki.viaInter }, failure{alert: -1}},
		{"wrong CA", func() *tls.Certificate { return &pki.wrongCA },
			failure{48, StatusCertUntrustedRoot, CertificateIgnoreUnknownCA, "unknown authority"}},
		{"expired", func() *tls.Certificate { return &pki.expired },
			failure{45, StatusCertExpired, CertificateIgnoreDateInvalid, "expired"}},
		{"revoked", func() *tls.Certificate { return &pki.revoked },
			failure{44, StatusRevokedCertificate, CertificateIgnoreRevocation, "revoked"}},
		{"revoked intermediate", func() *tls.Certificate { return &pki.interLeaf },
			failure{44, StatusRevokedCertificate, CertificateIgnoreRevocation, "revoked"}},
	}
	roles := []struct {
		name  string
		base  CredentialFlags // the validating side's flags
		kinds []kind
	}{
		{"client validates server", CredentialClient, append(common[:len(common):len(common)],
			kind{"name mismatch", func() *tls.Certificate { return &pki.otherName },
				failure{42, StatusBadCertificate, CertificateIgnoreCNInvalid, `for "localhost"`}})},
		{"server validates client", CredentialRequireClientAuthentication, append(common[:len(common):len(common)],
			kind{"server-only usage", func() *tls.Certificate { return &pki.serverOnly },
				failure{42, StatusBadCertificate, CertificateIgnoreWrongUsage, "usage"}})},
	}
	combos := []CredentialFlags{
		0,
		CredentialNoCertificateValidation,
		CredentialIndicateCertificateReceived,
		CredentialIndicateCertificateReceived | CredentialDeferCertificateValidation,
		CredentialIndicateCertificateReceived | CredentialNoCertificateValidation,
		CredentialIndicateCertificateReceived | CredentialDeferCertificateValidation | CredentialNoCertificateValidation,
	}
	for _, role := range roles {
		for _, combo := range combos {
			for _, k := range role.kinds {
				name := fmt.Sprintf("%s/%v/%s", role.name, combo, k.name)
				t.Run(name, func(t *testing.T) {
					flags := role.base | combo
					var crls []*x509.RevocationList
					if combo&CredentialNoCertificateValidation == 0 {
						flags |= CredentialRevocationCheckChainExcludeRoot
						crls = []*x509.RevocationList{pki.caCRL, pki.interCRL, pki.badInterCRL}
					}
					var client, server *Configuration
					var validating *quicSide
					var p *quicPair
					if role.base&CredentialClient != 0 {
						client = loadPKI(t, flags, nil, pki.ca.pool(), crls...)
						server = loadPKI(t, 0, k.cert(), nil)
						p = newQuicPair(t, client, server, "localhost", msquicPattern, nil)
						validating = p.client
					} else {
						server = loadPKI(t, flags, &pki.good, pki.ca.pool(), crls...)
						client = loadPKI(t, CredentialClient|CredentialNoCertificateValidation, k.cert(), nil)
						p = newQuicPair(t, client, server, "localhost", nil, msquicPattern)
						validating = p.server
					}
					p.run()
					checkMatrixOutcome(t, combo, k.fail, validating, p)
				})
			}
		}
	}
}

// checkMatrixOutcome asserts what a validating side with combo flags does
// with a certificate that fails as f (f.alert < 0: a good certificate). A
// client completes its TLS handshake before the server has validated its
// certificate (TLS 1.3), so only the validating side and the server are
// checked for completion.
func checkMatrixOutcome(t *testing.T, combo CredentialFlags, f failure, v *quicSide, p *quicPair) {
	t.Helper()
	indicate := combo&CredentialIndicateCertificateReceived != 0
	validation := combo&CredentialNoCertificateValidation == 0
	deferred := combo&CredentialDeferCertificateValidation != 0
	switch {
	case f.alert < 0 || !validation:
		// A good certificate, or validation off: accepted, and shown to
		// the handler when it asked.
		if !p.client.complete || !p.server.complete {
			t.Fatalf("handshake failed: %v", p)
		}
		if want := b2i(indicate); len(v.events) != want {
			t.Fatalf("%d events, want %d", len(v.events), want)
		}
		if indicate && (v.events[0].DeferredStatus != StatusSuccess || v.events[0].DeferredErr != nil) {
			t.Fatalf("event reports %v (%v) for an accepted certificate", v.events[0].DeferredStatus, v.events[0].DeferredErr)
		}
	case deferred:
		// The handler gets the failure and rejects (bad_certificate).
		if len(v.events) != 1 {
			t.Fatalf("%d events, want 1 carrying the failure", len(v.events))
		}
		ev := v.events[0]
		if ev.DeferredStatus != f.status || ev.DeferredErrorFlags != f.flags || ev.DeferredErr == nil ||
			!strings.Contains(ev.DeferredErr.Error(), f.text) {
			t.Fatalf("event: status %v flags %v err %v; want %v %v %q", ev.DeferredStatus, ev.DeferredErrorFlags, ev.DeferredErr, f.status, f.flags, f.text)
		}
		if ev.Certificate == nil || len(ev.Chain) == 0 || len(ev.ChainDER) != len(ev.Chain) {
			t.Fatal("event without the certificate")
		}
		want := 42 // the handler returned a status without an alert
		if a, ok := f.status.TLSAlert(); ok {
			want = int(a)
		}
		if v.alert() != want || v.complete || p.server.complete {
			t.Fatalf("handler's rejection: alert %d (%v), want %d", v.alert(), p, want)
		}
	default:
		// The built-in validation fails the handshake with its alert;
		// no handler sees the certificate.
		if v.alert() != f.alert || v.complete || p.server.complete {
			t.Fatalf("alert %d (%v), want %d", v.alert(), p, f.alert)
		}
		if !strings.Contains(v.err.Error(), f.text) {
			t.Fatalf("error %q does not say %q", v.err, f.text)
		}
		if got := StatusFromTransportError(TransportErrorCode(wire.CryptoError(uint8(f.alert)))); got != TLSAlertStatus(uint8(f.alert)) {
			t.Fatalf("status %v", got)
		}
		if len(v.events) != 0 {
			t.Fatalf("a handler saw a certificate that failed validation")
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
