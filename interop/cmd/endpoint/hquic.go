package main

import (
	"io"
	"time"

	"github.com/hquic/quic"
	"github.com/hquic/quic/interop/internal/runner"
)

// openLibrary opens hquic with the library-wide settings env's test case
// needs: the endpoint's timeouts (a server connection runs on them until
// its ClientHello is complete and it gets its configuration), Retry for
// every new client (retry), and on a server QUIC v2 accepted and preferred
// in compatible version negotiation (RFC 9368), as MsQuic's and quic-go's
// endpoints do: a client that offers v2 in its version_information gets
// it, a client that does not stays in v1.
func openLibrary(env *runner.Env) (*quic.Library, *quic.Registration, error) {
	lib, err := quic.Open()
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*quic.Library, *quic.Registration, error) {
		lib.Close()
		return nil, nil, err
	}
	ls := timeouts()
	// A qlog file per connection in QLOGDIR or -qlogdir (the library reads
	// QLOGDIR by itself; the flag needs saying).
	ls.Extensions.QlogDir = quic.Some(env.QlogDir)
	if err := lib.SetSettings(ls); err != nil {
		return fail(err)
	}
	if env.Role == "server" && env.TestCase == runner.CaseRetry {
		if err := lib.SetGlobalSettings(&quic.GlobalSettings{StatelessRetryEnabled: quic.Some(true)}); err != nil {
			return fail(err)
		}
	}
	if env.Role == "server" {
		// Version Negotiation lists v1 first (AcceptableVersions); v2 stays
		// the preferred version a compatible client is switched to
		// (FullyDeployedVersions). A client that answers Version
		// Negotiation with the first version it supports, as MsQuic's
		// does, thus starts over in v1. MsQuic 2.7 derives the v2 Retry
		// integrity key from a draft secret (0x3425c20c…; the key is
		// 0xba858dc7…, not RFC 9369 Section 3.3.3's 0x8fb4b01b…), so its
		// client drops every v2 Retry a correct server sends and, put in
		// v2 by Version Negotiation, never connects to a server that
		// forces Retry.
		if err := lib.SetVersionSettings(&quic.VersionSettings{
			AcceptableVersions:    []uint32{quic.Version1, quic.Version2},
			OfferedVersions:       []uint32{quic.Version1, quic.Version2},
			FullyDeployedVersions: []uint32{quic.Version2, quic.Version1},
		}); err != nil {
			return fail(err)
		}
	}
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "interop-endpoint"})
	if err != nil {
		return fail(err)
	}
	return lib, reg, nil
}

// timeouts are the endpoint's idle, handshake and disconnect timeouts.
// The defaults (10 s for a handshake, 16 s for a flight, about four probe
// timeouts of 1+2+4+8 s) give up under the 30% bursty loss of
// handshakeloss, where a client keeps trying longer; the runner's case
// timeouts bound everything anyway.
func timeouts() *quic.Settings {
	return &quic.Settings{
		IdleTimeout:          quic.Some(30 * time.Second),
		HandshakeIdleTimeout: quic.Some(30 * time.Second),
		DisconnectTimeout:    quic.Some(60 * time.Second),
	}
}

// settings are the transport settings for env's role and test case. A
// server turns on everything hquic has, whatever the test case, as
// MsQuic's interop server does: resumption tickets and 0-RTT, datagrams
// (for siduck) and the grease bit (RFC 9287), which clients offer too.
func settings(env *runner.Env) *quic.Settings {
	s := timeouts()
	s.GreaseQUICBitEnabled = quic.Some(true)
	if env.Role == "server" {
		// The runner's multiplexing check wants a limit of at most 1000.
		s.PeerBidiStreamCount = quic.Some[uint16](1000)
		s.ServerResumptionLevel = quic.Some(quic.ServerResumeAndZeroRTT)
		s.DatagramReceiveEnabled = quic.Some(true)
	}
	if env.TestCase == runner.CaseECN {
		s.ECNEnabled = quic.Some(true)
	}
	if env.TestCase == runner.CaseKeyUpdate {
		// Small enough that the client's ACKs alone trigger updates.
		s.MaxBytesPerKey = quic.Some[uint64](16 << 10)
	}
	return s
}

// credential is env's TLS credential.
func credential(env *runner.Env, keyLog io.Writer) *quic.CredentialConfig {
	if env.Role == "server" {
		return &quic.CredentialConfig{
			Type: quic.CredentialCertificateFile, CertFile: env.CertFile(), KeyFile: env.KeyFile(),
			KeyLogWriter: keyLog,
		}
	}
	cc := &quic.CredentialConfig{Type: quic.CredentialNone, Flags: quic.CredentialClient, KeyLogWriter: keyLog}
	if env.Verify {
		cc.Flags |= quic.CredentialSetCACertificateFile
		cc.CAFile = env.CAFile()
	} else {
		cc.Flags |= quic.CredentialNoCertificateValidation
	}
	return cc
}

// configuration opens the configuration for env.
func configuration(reg *quic.Registration, env *runner.Env, keyLog io.Writer) (*quic.Configuration, error) {
	alpns := []string{runner.ALPN}
	if env.Role == "server" {
		alpns = serverALPNs
	}
	cfg, err := reg.NewConfiguration(alpns, settings(env))
	if err != nil {
		return nil, err
	}
	if err := cfg.LoadCredential(credential(env, keyLog)); err != nil {
		cfg.Close()
		return nil, err
	}
	if env.Role == "client" && env.TestCase == runner.CaseV2 {
		// Start in v1 and offer v2, which the server may switch to.
		both := []uint32{quic.Version1, quic.Version2}
		if err := cfg.SetVersionSettings(&quic.VersionSettings{
			AcceptableVersions: both, OfferedVersions: both, FullyDeployedVersions: both,
		}); err != nil {
			cfg.Close()
			return nil, err
		}
	}
	return cfg, nil
}
