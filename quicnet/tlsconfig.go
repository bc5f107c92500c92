package quicnet

import (
	"crypto/tls"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/hquic/quic"
)

// The *tls.Config fields Dial and Listen honour. Any other field that is
// set is refused with an error naming it, rather than ignored: a setting
// that silently did nothing could weaken security (a VerifyPeerCertificate
// hook that never runs) or surprise (a ClientSessionCache that is never
// used).
var (
	clientTLSFields = []string{"NextProtos", "ServerName", "RootCAs", "InsecureSkipVerify", "Certificates", "KeyLogWriter", "MinVersion", "MaxVersion"}
	serverTLSFields = []string{"NextProtos", "Certificates", "ClientAuth", "ClientCAs", "KeyLogWriter", "MinVersion", "MaxVersion"}
)

// checkTLSFields fails for the first field of t that is set and not in
// allowed, and for versions that exclude TLS 1.3, the only version QUIC
// uses (RFC 9001, Section 4.2).
func checkTLSFields(t *tls.Config, allowed []string) error {
	v := reflect.ValueOf(t).Elem()
	typ := v.Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() || slices.Contains(allowed, f.Name) || v.Field(i).IsZero() {
			continue
		}
		return fmt.Errorf("quicnet: tls.Config.%s is not supported; use DialConfiguration or ListenConfiguration with a quic.Configuration for more control", f.Name)
	}
	if t.MinVersion > tls.VersionTLS13 || t.MaxVersion != 0 && t.MaxVersion < tls.VersionTLS13 {
		return errors.New("quicnet: tls.Config.MinVersion and MaxVersion must allow TLS 1.3, the version QUIC uses")
	}
	if len(t.NextProtos) == 0 {
		return errors.New("quicnet: tls.Config.NextProtos must name at least one application protocol (ALPN)")
	}
	return nil
}

// clientCredential turns a client's *tls.Config into credentials. The
// server's certificate is verified against RootCAs (nil: the system roots)
// and the server name unless InsecureSkipVerify is set.
func clientCredential(t *tls.Config) (*quic.CredentialConfig, error) {
	if t == nil {
		return nil, errors.New("quicnet: a *tls.Config is required (at least NextProtos)")
	}
	if err := checkTLSFields(t, clientTLSFields); err != nil {
		return nil, err
	}
	cc := &quic.CredentialConfig{
		Type:         quic.CredentialNone,
		Flags:        quic.CredentialClient,
		RootCAs:      t.RootCAs,
		KeyLogWriter: t.KeyLogWriter,
	}
	if t.InsecureSkipVerify {
		cc.Flags |= quic.CredentialNoCertificateValidation
	}
	if len(t.Certificates) > 0 {
		cc.Type, cc.Certificates = quic.CredentialTLSCertificate, t.Certificates
	}
	return cc, nil
}

// serverCredential turns a server's *tls.Config into credentials: its
// Certificates, and client authentication as ClientAuth asks
// (NoClientCert, RequireAnyClientCert or RequireAndVerifyClientCert
// against ClientCAs, nil meaning the system roots).
func serverCredential(t *tls.Config) (*quic.CredentialConfig, error) {
	if t == nil {
		return nil, errors.New("quicnet: a *tls.Config is required (NextProtos and Certificates)")
	}
	if err := checkTLSFields(t, serverTLSFields); err != nil {
		return nil, err
	}
	if len(t.Certificates) == 0 {
		return nil, errors.New("quicnet: a server's tls.Config needs Certificates")
	}
	cc := &quic.CredentialConfig{
		Type:         quic.CredentialTLSCertificate,
		Certificates: t.Certificates,
		RootCAs:      t.ClientCAs,
		KeyLogWriter: t.KeyLogWriter,
	}
	switch t.ClientAuth {
	case tls.NoClientCert:
	case tls.RequireAnyClientCert:
		cc.Flags |= quic.CredentialRequireClientAuthentication | quic.CredentialNoCertificateValidation
	case tls.RequireAndVerifyClientCert:
		cc.Flags |= quic.CredentialRequireClientAuthentication
	default:
		return nil, fmt.Errorf("quicnet: tls.Config.ClientAuth %v is not supported; use NoClientCert, RequireAnyClientCert or RequireAndVerifyClientCert", t.ClientAuth)
	}
	return cc, nil
}
