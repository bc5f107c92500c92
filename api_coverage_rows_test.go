package quic

import "testing"

// flagRows are the rows of TestEveryFlagHasARow, keyed "Type.Name".
func flagRows(t *testing.T) map[string]flagRow {
	const conn = "internal/conn"
	work := func(dir, test string) flagRow { return flagRow{how: works, test: dir + ":" + test} }
	why := func(reason string) flagRow { return flagRow{how: always, reason: reason} }
	load := func(cc CredentialConfig) flagRow {
		return flagRow{how: rejected, call: func() error {
			_, c := newTestConfiguration(t, []string{"h3"}, nil)
			return c.LoadCredential(&cc)
		}}
	}
	client := func(f CredentialFlags) flagRow { return load(CredentialConfig{Flags: CredentialClient | f}) }
	suite := func(s AllowedCipherSuites) flagRow {
		return load(CredentialConfig{Flags: CredentialClient | CredentialSetAllowedCipherSuites, AllowedCipherSuites: s})
	}
	open := func(f StreamOpenFlags) flagRow {
		return flagRow{how: rejected, call: func() error {
			r, _ := newTestConfiguration(t, []string{"h3"}, nil)
			c, err := r.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.NewStream(f, func(*Stream, StreamEvent) error { return nil })
			return err
		}}
	}
	matrix := work(".", "TestCertificateFlagCombinationsOverNetsim")
	revocation := work(".", "TestRevocationScopes")
	return map[string]flagRow{
		"ConnectionShutdownFlags.Silent": work(conn, "TestSilentShutdownSendsNothingAndPeerTimesOut"),

		"StreamOpenFlags.Unidirectional":   work(conn, "TestFINOnlyStreamAndUnidirectionalStreamsBothWays"),
		"StreamOpenFlags.0RTT":             open(StreamOpen0RTT),
		"StreamOpenFlags.DelayIDFCUpdates": work(conn, "TestDelayedStreamCreditReturnsAtClose"),
		"StreamOpenFlags.AppOwnedBuffers":  open(StreamOpenAppOwnedBuffers),

		"StreamStartFlags.Immediate":          work(conn, "TestImmediateStartBeyondThePeerLimitWaits"),
		"StreamStartFlags.FailBlocked":        work(conn, "TestStreamLimitFailBlockedAndPeerAcceptedAfterMaxStreams"),
		"StreamStartFlags.ShutdownOnFail":     work(conn, "TestFailBlockedStartWithShutdownOnFailDeliversShutdownComplete"),
		"StreamStartFlags.IndicatePeerAccept": work(conn, "TestLiveStreamCountUnblocksAWaitingStream"),
		"StreamStartFlags.PriorityWork":       work(conn, "TestPriorityWorkSendRunsAheadOfQueuedOperations"),

		"StreamShutdownFlags.Graceful":     work(conn, "TestThousandConcurrentStreamsEchoIntactBothWays"),
		"StreamShutdownFlags.AbortSend":    work(conn, "TestAbortSendResetsStreamAndPeerSeesPeerSendAbortedCode"),
		"StreamShutdownFlags.AbortReceive": work(conn, "TestAbortReceiveSendsStopSendingAndPeerSendsAreCanceled"),
		"StreamShutdownFlags.Immediate":    work(conn, "TestImmediateShutdownCompletesAtOnceAndNothingFollows"),
		"StreamShutdownFlags.Inline": why("API calls never run inside a handler: the shutdown runs as soon as the handler " +
			"returns, before any other event (Stream.Shutdown's documentation)"),

		"SendFlags.Allow0RTT":        work(conn, "TestZeroRTTNeedsAllowFlag"),
		"SendFlags.Start":            work(conn, "TestResumedConnectionSendsZeroRTT"),
		"SendFlags.FIN":              work(conn, "TestFINOnlyStreamAndUnidirectionalStreamsBothWays"),
		"SendFlags.DatagramPriority": work(conn, "TestDatagramFrontGoesFirst"),
		"SendFlags.Delay":            work(conn, "TestDelayedSendWaitsForAnotherReasonToSend"),
		"SendFlags.CancelOnLoss":     work(conn, "TestCancelOnLossAbortsTheStreamWithTheApplicationsCode"),
		"SendFlags.PriorityWork":     work(conn, "TestPriorityWorkSendRunsAheadOfQueuedOperations"),
		"SendFlags.CancelOnBlocked":  work(conn, "TestCancelOnBlockedDatagramIsCanceledWhenNotSentAtOnce"),

		"ReceiveFlags.0RTT": work(conn, "TestResumedConnectionSendsZeroRTT"),
		"ReceiveFlags.FIN":  work(conn, "TestFINOnlyStreamAndUnidirectionalStreamsBothWays"),

		"SendResumptionFlags.Final": why("crypto/tls issues one ticket per connection, so every ticket is the final one"),

		"AllowedCipherSuites.AES128GCMSHA256":        suite(CipherSuiteAES128GCMSHA256),
		"AllowedCipherSuites.AES256GCMSHA384":        suite(CipherSuiteAES256GCMSHA384),
		"AllowedCipherSuites.ChaCha20Poly1305SHA256": suite(CipherSuiteChaCha20Poly1305SHA256),

		"CredentialFlags.Client":                             work(".", "TestClientCustomValidation"),
		"CredentialFlags.LoadAsynchronous":                   work(".", "TestAsynchronousLoadTakesTheAsynchronousFlag"),
		"CredentialFlags.NoCertificateValidation":            matrix,
		"CredentialFlags.EnableOCSP":                         client(CredentialEnableOCSP),
		"CredentialFlags.IndicateCertificateReceived":        matrix,
		"CredentialFlags.DeferCertificateValidation":         matrix,
		"CredentialFlags.RequireClientAuthentication":        matrix,
		"CredentialFlags.UseTLSBuiltinCertificateValidation": why("crypto/x509 always validates (credentials_verify.go)"),
		"CredentialFlags.RevocationCheckEndCert":             revocation,
		"CredentialFlags.RevocationCheckChain":               revocation,
		"CredentialFlags.RevocationCheckChainExcludeRoot":    revocation,
		"CredentialFlags.IgnoreNoRevocationCheck":            revocation,
		"CredentialFlags.IgnoreRevocationOffline":            revocation,
		"CredentialFlags.SetAllowedCipherSuites":             work(".", "TestAllCipherSuitesAccepted"),
		"CredentialFlags.UsePortableCertificates":            why("PeerCertificateReceivedEvent always carries x509 values and DER"),
		"CredentialFlags.UseSuppliedCredentials":             why("a client only ever uses the certificate it was given"),
		"CredentialFlags.UseSystemMapper":                    load(CredentialConfig{Flags: CredentialUseSystemMapper}),
		"CredentialFlags.CacheOnlyURLRetrieval":              why("hquic retrieves nothing over the network"),
		"CredentialFlags.RevocationCheckCacheOnly":           why("revocation data come only from CredentialConfig.CRLs"),
		"CredentialFlags.InprocPeerCertificate":              client(CredentialInprocPeerCertificate),
		"CredentialFlags.SetCACertificateFile":               work(".", "TestCAFile"),
		"CredentialFlags.DisableAIA":                         why("hquic never fetches issuers"),
	}
}
