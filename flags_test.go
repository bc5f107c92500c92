package quic

import "testing"

// TestFlagValuesMatchMsQuic pins every flag and enum to msquic.h.
func TestFlagValuesMatchMsQuic(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"ConnectionShutdownSilent", uint64(ConnectionShutdownSilent), 0x1},
		{"StreamOpenUnidirectional", uint64(StreamOpenUnidirectional), 0x1},
		{"StreamOpen0RTT", uint64(StreamOpen0RTT), 0x2},
		{"StreamOpenDelayIDFCUpdates", uint64(StreamOpenDelayIDFCUpdates), 0x4},
		{"StreamOpenAppOwnedBuffers", uint64(StreamOpenAppOwnedBuffers), 0x8},
		{"StreamStartImmediate", uint64(StreamStartImmediate), 0x1},
		{"StreamStartFailBlocked", uint64(StreamStartFailBlocked), 0x2},
		{"StreamStartShutdownOnFail", uint64(StreamStartShutdownOnFail), 0x4},
		{"StreamStartIndicatePeerAccept", uint64(StreamStartIndicatePeerAccept), 0x8},
		{"StreamStartPriorityWork", uint64(StreamStartPriorityWork), 0x10},
		{"StreamShutdownGraceful", uint64(StreamShutdownGraceful), 0x1},
		{"StreamShutdownAbortSend", uint64(StreamShutdownAbortSend), 0x2},
		{"StreamShutdownAbortReceive", uint64(StreamShutdownAbortReceive), 0x4},
		{"StreamShutdownAbort", uint64(StreamShutdownAbort), 0x6},
		{"StreamShutdownImmediate", uint64(StreamShutdownImmediate), 0x8},
		{"StreamShutdownInline", uint64(StreamShutdownInline), 0x10},
		{"SendAllow0RTT", uint64(SendAllow0RTT), 0x1},
		{"SendStart", uint64(SendStart), 0x2},
		{"SendFIN", uint64(SendFIN), 0x4},
		{"SendDatagramPriority", uint64(SendDatagramPriority), 0x8},
		{"SendDelay", uint64(SendDelay), 0x10},
		{"SendCancelOnLoss", uint64(SendCancelOnLoss), 0x20},
		{"SendPriorityWork", uint64(SendPriorityWork), 0x40},
		{"SendCancelOnBlocked", uint64(SendCancelOnBlocked), 0x80},
		{"Receive0RTT", uint64(Receive0RTT), 0x1},
		{"ReceiveFIN", uint64(ReceiveFIN), 0x2},
		{"DatagramSendCanceled", uint64(DatagramSendCanceled), 6},
		{"CredentialCertificateFile", uint64(CredentialCertificateFile), 4},
		{"CredentialCertificateFileProtected", uint64(CredentialCertificateFileProtected), 5},
		{"CredentialCertificatePKCS12", uint64(CredentialCertificatePKCS12), 6},
		{"CredentialClient", uint64(CredentialClient), 0x1},
		{"CredentialLoadAsynchronous", uint64(CredentialLoadAsynchronous), 0x2},
		{"CredentialNoCertificateValidation", uint64(CredentialNoCertificateValidation), 0x4},
		{"CredentialIndicateCertificateReceived", uint64(CredentialIndicateCertificateReceived), 0x10},
		{"CredentialDeferCertificateValidation", uint64(CredentialDeferCertificateValidation), 0x20},
		{"CredentialRequireClientAuthentication", uint64(CredentialRequireClientAuthentication), 0x40},
		{"CredentialUseTLSBuiltinCertificateValidation", uint64(CredentialUseTLSBuiltinCertificateValidation), 0x80},
		{"CredentialSetAllowedCipherSuites", uint64(CredentialSetAllowedCipherSuites), 0x2000},
		{"CredentialUsePortableCertificates", uint64(CredentialUsePortableCertificates), 0x4000},
		{"CredentialSetCACertificateFile", uint64(CredentialSetCACertificateFile), 0x100000},
		{"CredentialDisableAIA", uint64(CredentialDisableAIA), 0x200000},
		{"CipherSuiteChaCha20Poly1305SHA256", uint64(CipherSuiteChaCha20Poly1305SHA256), 0x4},
		{"ProfileMaxThroughput", uint64(ProfileMaxThroughput), 1},
		{"ProfileScavenger", uint64(ProfileScavenger), 2},
		{"ProfileRealTime", uint64(ProfileRealTime), 3},
		{"AddressFamilyIPv4", uint64(AddressFamilyIPv4), 2},
		{"AddressFamilyIPv6", uint64(AddressFamilyIPv6), 10},
		{"ServerResumeAndZeroRTT", uint64(ServerResumeAndZeroRTT), 2},
		{"SendResumptionFinal", uint64(SendResumptionFinal), 1},
		{"SchedulingRoundRobin", uint64(SchedulingRoundRobin), 1},
		{"CongestionControlBBR", uint64(CongestionControlBBR), 1},
		{"LoadBalancingServerIDFixed", uint64(LoadBalancingServerIDFixed), 2},
		{"TLSAlertSuccess", uint64(TLSAlertSuccess), 0xFFFF},
		{"TLSAlertCertificateRequired", uint64(TLSAlertCertificateRequired), 116},
		{"TLSProviderOpenSSL", uint64(TLSProviderOpenSSL), 1},
		{"TLSProtocol13", uint64(TLSProtocol13), 0x3000},
		{"CipherAlgorithmChaCha20", uint64(CipherAlgorithmChaCha20), 0x6612},
		{"HashAlgorithmSHA384", uint64(HashAlgorithmSHA384), 0x800D},
		{"CipherSuiteTLSAES256GCMSHA384", uint64(CipherSuiteTLSAES256GCMSHA384), 0x1302},
		{"TLSGroupX25519MLKEM768", uint64(TLSGroupX25519MLKEM768), 4588},
		{"AEADAES256GCM", uint64(AEADAES256GCM), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func TestFlagStrings(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{ConnectionShutdownNone.String(), "None"},
		{(StreamOpenUnidirectional | StreamOpen0RTT).String(), "Unidirectional|0RTT"},
		{StreamShutdownAbort.String(), "Abort"},
		{(StreamShutdownAbortSend | StreamShutdownImmediate).String(), "AbortSend|Immediate"},
		{(SendFIN | 0x1000).String(), "FIN|0x1000"},
		{(CredentialClient | CredentialSetCACertificateFile).String(), "Client|SetCACertificateFile"},
		{(Receive0RTT | ReceiveFIN).String(), "0RTT|FIN"},
		{StreamStartImmediate.String(), "Immediate"},
		{SendResumptionFinal.String(), "Final"},
		{CipherSuiteAES128GCMSHA256.String(), "AES128GCMSHA256"},
		{ProfileScavenger.String(), "Scavenger"},
		{ExecutionProfile(9).String(), "ExecutionProfile(9)"},
		{DatagramSendAcknowledgedSpurious.String(), "AcknowledgedSpurious"},
		{CredentialTLSCertificate.String(), "TLSCertificate"},
		{AddressFamilyIPv6.String(), "IPv6"},
		{ServerResumeOnly.String(), "ResumeOnly"},
		{SchedulingFIFO.String(), "FIFO"},
		{CongestionControlCubic.String(), "Cubic"},
		{LoadBalancingServerIDIP.String(), "ServerIDIP"},
		{TLSAlertBadCertificate.String(), "bad_certificate(42)"},
		{TLSAlertSuccess.String(), "success"},
		{TLSProviderGo.String(), "Go"},
		{TLSProtocol13.String(), "TLS1.3"},
		{CipherAlgorithmAES128.String(), "AES128"},
		{HashAlgorithmSHA256.String(), "SHA256"},
		{KeyExchangeAlgorithmNone.String(), "None"},
		{CipherSuiteTLSChaCha20Poly1305SHA256.String(), "TLS_CHACHA20_POLY1305_SHA256"},
		{TLSGroupX25519.String(), "x25519"},
		{AEADAES128GCM.String(), "AES128GCM"},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, want %q", c.got, c.want)
		}
	}
}

func TestDatagramSendStateIsFinal(t *testing.T) {
	for s := DatagramSendUnknown; s <= DatagramSendCanceled; s++ {
		want := s >= DatagramSendLostDiscarded
		if s.IsFinal() != want {
			t.Errorf("%v.IsFinal() = %v, want %v", s, s.IsFinal(), want)
		}
	}
}

func TestAEADKeyLengths(t *testing.T) {
	if AEADAES128GCM.keyLen() != 16 || AEADAES256GCM.keyLen() != 32 || AEADAlgorithm(7).keyLen() != 0 {
		t.Fatal("wrong AEAD key lengths")
	}
}
