package quic

import (
	"strconv"
	"strings"
)

// This file defines MsQuic's flag sets and enumerations with MsQuic's
// numeric values (msquic.h, msquic_posix.h), so values in logs and traces
// match MsQuic's. Flag sets print as "A|B"; unknown bits print in hex.

// flagName names one bit (or group of bits) of a flag set.
type flagName struct {
	bit  uint64
	name string
}

// formatFlags renders v as names joined by "|", consuming each named group
// greedily in table order; zero renders as zero.
func formatFlags(v uint64, zero string, names []flagName) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, f := range names {
		if v&f.bit == f.bit {
			parts = append(parts, f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(v, 16))
	}
	return strings.Join(parts, "|")
}

// enumString returns names[v] or a "Type(v)" fallback.
func enumString(typ string, v uint64, names map[uint64]string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return typ + "(" + strconv.FormatUint(v, 10) + ")"
}

// ConnectionShutdownFlags modify ConnectionShutdown and RegistrationShutdown
// (QUIC_CONNECTION_SHUTDOWN_FLAGS).
type ConnectionShutdownFlags uint32

const (
	// ConnectionShutdownNone closes gracefully: CONNECTION_CLOSE is sent and
	// the closing period runs.
	ConnectionShutdownNone ConnectionShutdownFlags = 0x0000
	// ConnectionShutdownSilent drops the connection without telling the peer.
	ConnectionShutdownSilent ConnectionShutdownFlags = 0x0001
)

// String returns the flag names.
func (f ConnectionShutdownFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{{0x1, "Silent"}})
}

// StreamOpenFlags modify StreamOpen (QUIC_STREAM_OPEN_FLAGS).
type StreamOpenFlags uint32

const (
	// StreamOpenNone opens a bidirectional stream.
	StreamOpenNone StreamOpenFlags = 0x0000
	// StreamOpenUnidirectional opens a stream only the opener sends on.
	StreamOpenUnidirectional StreamOpenFlags = 0x0001
	// StreamOpen0RTT marks a peer stream opened by 0-RTT data; NewStream
	// refuses it (local data goes in 0-RTT with SendAllow0RTT).
	StreamOpen0RTT StreamOpenFlags = 0x0002
	// StreamOpenDelayIDFCUpdates delays new stream-ID credit for the peer
	// until the application closes the stream.
	StreamOpenDelayIDFCUpdates StreamOpenFlags = 0x0004
	// StreamOpenAppOwnedBuffers makes the application provide receive
	// buffers (MsQuic preview feature); not implemented: NewStream fails
	// with ErrNotSupported.
	StreamOpenAppOwnedBuffers StreamOpenFlags = 0x0008
)

// String returns the flag names.
func (f StreamOpenFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Unidirectional"}, {0x2, "0RTT"}, {0x4, "DelayIDFCUpdates"}, {0x8, "AppOwnedBuffers"},
	})
}

// StreamStartFlags modify StreamStart (QUIC_STREAM_START_FLAGS).
type StreamStartFlags uint32

const (
	// StreamStartNone assigns the stream ID; the peer learns of the stream
	// when data is sent.
	StreamStartNone StreamStartFlags = 0x0000
	// StreamStartImmediate announces the stream to the peer at once.
	StreamStartImmediate StreamStartFlags = 0x0001
	// StreamStartFailBlocked fails the start with StatusStreamLimitReached
	// instead of waiting for stream credit.
	StreamStartFailBlocked StreamStartFlags = 0x0002
	// StreamStartShutdownOnFail shuts the stream down if the start fails.
	StreamStartShutdownOnFail StreamStartFlags = 0x0004
	// StreamStartIndicatePeerAccept delivers a peer-accepted event later if
	// the stream was not accepted at start.
	StreamStartIndicatePeerAccept StreamStartFlags = 0x0008
	// StreamStartPriorityWork queues the start ahead of other work.
	StreamStartPriorityWork StreamStartFlags = 0x0010
)

// String returns the flag names.
func (f StreamStartFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Immediate"}, {0x2, "FailBlocked"}, {0x4, "ShutdownOnFail"},
		{0x8, "IndicatePeerAccept"}, {0x10, "PriorityWork"},
	})
}

// StreamShutdownFlags modify StreamShutdown (QUIC_STREAM_SHUTDOWN_FLAGS).
type StreamShutdownFlags uint32

const (
	// StreamShutdownNone is not a valid argument to StreamShutdown.
	StreamShutdownNone StreamShutdownFlags = 0x0000
	// StreamShutdownGraceful sends FIN after the queued data.
	StreamShutdownGraceful StreamShutdownFlags = 0x0001
	// StreamShutdownAbortSend resets the send direction (RESET_STREAM).
	StreamShutdownAbortSend StreamShutdownFlags = 0x0002
	// StreamShutdownAbortReceive aborts the receive direction (STOP_SENDING).
	StreamShutdownAbortReceive StreamShutdownFlags = 0x0004
	// StreamShutdownAbort aborts both directions.
	StreamShutdownAbort StreamShutdownFlags = 0x0006
	// StreamShutdownImmediate completes the shutdown without waiting for the
	// peer's acknowledgement; only with StreamShutdownAbort.
	StreamShutdownImmediate StreamShutdownFlags = 0x0008
	// StreamShutdownInline processes the shutdown synchronously when called
	// from a callback.
	StreamShutdownInline StreamShutdownFlags = 0x0010
)

// String returns the flag names.
func (f StreamShutdownFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Graceful"}, {0x6, "Abort"}, {0x2, "AbortSend"}, {0x4, "AbortReceive"},
		{0x8, "Immediate"}, {0x10, "Inline"},
	})
}

// SendFlags modify StreamSend and DatagramSend (QUIC_SEND_FLAGS).
type SendFlags uint32

const (
	// SendNone sends with no special behaviour.
	SendNone SendFlags = 0x0000
	// SendAllow0RTT allows the data to be sent with 0-RTT keys.
	SendAllow0RTT SendFlags = 0x0001
	// SendStart starts the stream as StreamStart(StreamStartNone) would.
	SendStart SendFlags = 0x0002
	// SendFIN ends the send direction gracefully after this data.
	SendFIN SendFlags = 0x0004
	// SendDatagramPriority puts a datagram at the front of the queue.
	SendDatagramPriority SendFlags = 0x0008
	// SendDelay (streams) queues the data without a send pass of its own:
	// it goes with the next pass that has another reason to run.
	SendDelay SendFlags = 0x0010
	// SendCancelOnLoss (streams) makes the stream cancel-on-loss,
	// irreversibly: lost data aborts it (CancelOnLossEvent).
	SendCancelOnLoss SendFlags = 0x0020
	// SendPriorityWork queues the send ahead of other work.
	SendPriorityWork SendFlags = 0x0040
	// SendCancelOnBlocked drops a datagram that cannot be sent immediately.
	SendCancelOnBlocked SendFlags = 0x0080
)

// String returns the flag names.
func (f SendFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x1, "Allow0RTT"}, {0x2, "Start"}, {0x4, "FIN"}, {0x8, "DatagramPriority"},
		{0x10, "Delay"}, {0x20, "CancelOnLoss"}, {0x40, "PriorityWork"}, {0x80, "CancelOnBlocked"},
	})
}

// ReceiveFlags describe received data (QUIC_RECEIVE_FLAGS).
type ReceiveFlags uint32

const (
	// ReceiveNone marks ordinary data.
	ReceiveNone ReceiveFlags = 0x0000
	// Receive0RTT marks data (partly) protected with 0-RTT keys.
	Receive0RTT ReceiveFlags = 0x0001
	// ReceiveFIN marks data that reaches the stream's final size.
	ReceiveFIN ReceiveFlags = 0x0002
)

// String returns the flag names.
func (f ReceiveFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{{0x1, "0RTT"}, {0x2, "FIN"}})
}

// DatagramSendState is the state of a sent datagram
// (QUIC_DATAGRAM_SEND_STATE).
type DatagramSendState uint32

const (
	// DatagramSendUnknown: not sent yet.
	DatagramSendUnknown DatagramSendState = 0
	// DatagramSendSent: sent, awaiting acknowledgement; the buffers may be
	// reused from here on.
	DatagramSendSent DatagramSendState = 1
	// DatagramSendLostSuspect: suspected lost, still tracked.
	DatagramSendLostSuspect DatagramSendState = 2
	// DatagramSendLostDiscarded: declared lost (final).
	DatagramSendLostDiscarded DatagramSendState = 3
	// DatagramSendAcknowledged: acknowledged (final).
	DatagramSendAcknowledged DatagramSendState = 4
	// DatagramSendAcknowledgedSpurious: acknowledged after being suspected
	// lost (final).
	DatagramSendAcknowledgedSpurious DatagramSendState = 5
	// DatagramSendCanceled: never sent (final).
	DatagramSendCanceled DatagramSendState = 6
)

// IsFinal reports whether no further state change follows
// (QUIC_DATAGRAM_SEND_STATE_IS_FINAL).
func (s DatagramSendState) IsFinal() bool { return s >= DatagramSendLostDiscarded }

// String returns the state name.
func (s DatagramSendState) String() string {
	return enumString("DatagramSendState", uint64(s), map[uint64]string{
		0: "Unknown", 1: "Sent", 2: "LostSuspect", 3: "LostDiscarded",
		4: "Acknowledged", 5: "AcknowledgedSpurious", 6: "Canceled",
	})
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

// ExecutionProfile selects a registration's worker model
// (QUIC_EXECUTION_PROFILE); see Registration.
type ExecutionProfile uint32

const (
	// ProfileLowLatency: one worker per CPU; datagrams are sent from the
	// worker. The default.
	ProfileLowLatency ExecutionProfile = 0
	// ProfileMaxThroughput: one worker per CPU plus a sender goroutine per
	// socket, fed by a bounded queue, so that building the next batch
	// overlaps with sending the last.
	ProfileMaxThroughput ExecutionProfile = 1
	// ProfileScavenger: a single worker that yields between connections.
	ProfileScavenger ExecutionProfile = 2
	// ProfileRealTime: workers locked to OS threads that busy-poll briefly
	// before sleeping.
	ProfileRealTime ExecutionProfile = 3
)

// String returns the profile name.
func (p ExecutionProfile) String() string {
	return enumString("ExecutionProfile", uint64(p), map[uint64]string{
		0: "LowLatency", 1: "MaxThroughput", 2: "Scavenger", 3: "RealTime",
	})
}

// AddressFamily selects the IP family for ConnectionStart
// (QUIC_ADDRESS_FAMILY, Linux values).
type AddressFamily uint16

const (
	// AddressFamilyUnspec lets the resolver pick (AF_UNSPEC).
	AddressFamilyUnspec AddressFamily = 0
	// AddressFamilyIPv4 is AF_INET.
	AddressFamilyIPv4 AddressFamily = 2
	// AddressFamilyIPv6 is AF_INET6 (Linux numbering).
	AddressFamilyIPv6 AddressFamily = 10
)

// String returns the family name.
func (f AddressFamily) String() string {
	return enumString("AddressFamily", uint64(f), map[uint64]string{0: "Unspec", 2: "IPv4", 10: "IPv6"})
}

// ServerResumptionLevel controls session resumption on servers
// (QUIC_SERVER_RESUMPTION_LEVEL).
type ServerResumptionLevel uint8

const (
	// ServerNoResume issues no tickets.
	ServerNoResume ServerResumptionLevel = 0
	// ServerResumeOnly issues and accepts tickets, without 0-RTT.
	ServerResumeOnly ServerResumptionLevel = 1
	// ServerResumeAndZeroRTT issues tickets and accepts 0-RTT data.
	ServerResumeAndZeroRTT ServerResumptionLevel = 2
)

// String returns the level name.
func (l ServerResumptionLevel) String() string {
	return enumString("ServerResumptionLevel", uint64(l), map[uint64]string{
		0: "NoResume", 1: "ResumeOnly", 2: "ResumeAndZeroRTT",
	})
}

// SendResumptionFlags modify SendResumptionTicket
// (QUIC_SEND_RESUMPTION_FLAGS).
type SendResumptionFlags uint32

const (
	// SendResumptionNone sends a ticket; more may follow.
	SendResumptionNone SendResumptionFlags = 0x0000
	// SendResumptionFinal marks the last ticket of the connection.
	SendResumptionFinal SendResumptionFlags = 0x0001
)

// String returns the flag names.
func (f SendResumptionFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{{0x1, "Final"}})
}

// StreamSchedulingScheme orders sending among streams
// (QUIC_STREAM_SCHEDULING_SCHEME).
type StreamSchedulingScheme uint32

const (
	// SchedulingFIFO serves streams in the order they have data (default).
	SchedulingFIFO StreamSchedulingScheme = 0x0000
	// SchedulingRoundRobin interleaves streams.
	SchedulingRoundRobin StreamSchedulingScheme = 0x0001
)

// String returns the scheme name.
func (s StreamSchedulingScheme) String() string {
	return enumString("StreamSchedulingScheme", uint64(s), map[uint64]string{0: "FIFO", 1: "RoundRobin"})
}

// CongestionControlAlgorithm selects the congestion controller
// (QUIC_CONGESTION_CONTROL_ALGORITHM).
type CongestionControlAlgorithm uint16

const (
	// CongestionControlCubic is CUBIC (RFC 9438), the default.
	CongestionControlCubic CongestionControlAlgorithm = 0
	// CongestionControlBBR is BBRv3 as draft-ietf-ccwg-bbr specifies it
	// (a preview feature in MsQuic, whose BBR is an earlier version). It
	// sets the pacing rate itself; with PacingEnabled false it is not
	// paced and sends its window in bursts, which its model does not
	// expect. HyStartEnabled does not apply to it. A CE mark counts as
	// the loss of a maximum-size datagram in its loss rate. One departure
	// from the draft: loss rates are judged against the baseline loss the
	// flow sees while not probing (random loss on radio links), so that
	// random loss above the draft's 2% does not cap it far below the
	// path's capacity; where losses come only from queue overflow the
	// baseline is zero and the draft's rules apply unchanged.
	CongestionControlBBR CongestionControlAlgorithm = 1
)

// String returns the algorithm name.
func (a CongestionControlAlgorithm) String() string {
	return enumString("CongestionControlAlgorithm", uint64(a), map[uint64]string{0: "Cubic", 1: "BBR"})
}

// LoadBalancingMode selects how a server encodes routing information into
// the connection IDs it issues (QUIC_LOAD_BALANCING_MODE).
type LoadBalancingMode uint16

const (
	// LoadBalancingDisabled: random connection IDs (default).
	LoadBalancingDisabled LoadBalancingMode = 0
	// LoadBalancingServerIDIP: the server ID is the IPv4 address the
	// client reached (the last four bytes of an IPv6 address).
	LoadBalancingServerIDIP LoadBalancingMode = 1
	// LoadBalancingServerIDFixed: the server ID is
	// GlobalSettings.FixedServerID, big endian.
	LoadBalancingServerIDFixed LoadBalancingMode = 2

	loadBalancingCount = 3
)

// String returns the mode name.
func (m LoadBalancingMode) String() string {
	return enumString("LoadBalancingMode", uint64(m), map[uint64]string{
		0: "Disabled", 1: "ServerIDIP", 2: "ServerIDFixed",
	})
}

// TLSAlertCode is a TLS alert (RFC 8446, Section 6), used to reject a peer
// certificate (QUIC_TLS_ALERT_CODES). TLSAlertSuccess is MsQuic's "accept"
// marker, not a real alert.
type TLSAlertCode uint16

// TLS alert codes that MsQuic names.
const (
	TLSAlertSuccess                TLSAlertCode = 0xFFFF
	TLSAlertUnexpectedMessage      TLSAlertCode = 10
	TLSAlertBadCertificate         TLSAlertCode = 42
	TLSAlertUnsupportedCertificate TLSAlertCode = 43
	TLSAlertCertificateRevoked     TLSAlertCode = 44
	TLSAlertCertificateExpired     TLSAlertCode = 45
	TLSAlertCertificateUnknown     TLSAlertCode = 46
	TLSAlertIllegalParameter       TLSAlertCode = 47
	TLSAlertUnknownCA              TLSAlertCode = 48
	TLSAlertAccessDenied           TLSAlertCode = 49
	TLSAlertInsufficientSecurity   TLSAlertCode = 71
	TLSAlertInternalError          TLSAlertCode = 80
	TLSAlertUserCanceled           TLSAlertCode = 90
	TLSAlertCertificateRequired    TLSAlertCode = 116
	TLSAlertMax                    TLSAlertCode = 255
)

// String returns the RFC 8446 alert name, e.g. "bad_certificate(42)".
func (a TLSAlertCode) String() string {
	if a == TLSAlertSuccess {
		return "success"
	}
	name, ok := tlsAlertNames[a]
	if !ok {
		name = "alert"
	}
	return name + "(" + strconv.Itoa(int(a)) + ")"
}

// tlsAlertNames are the alert names of RFC 8446, Section 6, and RFC 7301.
var tlsAlertNames = map[TLSAlertCode]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
	44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
	80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
	113: "bad_certificate_status_response", 115: "unknown_psk_identity",
	116: "certificate_required", 120: "no_application_protocol",
}

// TLSProvider identifies the TLS implementation (QUIC_TLS_PROVIDER).
type TLSProvider uint32

const (
	// TLSProviderSchannel is Windows' Schannel (MsQuic only).
	TLSProviderSchannel TLSProvider = 0x0000
	// TLSProviderOpenSSL is OpenSSL/quictls (MsQuic only).
	TLSProviderOpenSSL TLSProvider = 0x0001
	// TLSProviderGo (hquic-specific) is Go's crypto/tls, the provider hquic
	// uses.
	TLSProviderGo TLSProvider = 0x8000
)

// String returns the provider name.
func (p TLSProvider) String() string {
	return enumString("TLSProvider", uint64(p), map[uint64]string{0: "Schannel", 1: "OpenSSL", 0x8000: "Go"})
}

// TLSProtocolVersion is the negotiated TLS version
// (QUIC_TLS_PROTOCOL_VERSION).
type TLSProtocolVersion uint32

const (
	// TLSProtocolUnknown: no handshake yet.
	TLSProtocolUnknown TLSProtocolVersion = 0
	// TLSProtocol13 is TLS 1.3, the only version QUIC uses.
	TLSProtocol13 TLSProtocolVersion = 0x3000
)

// String returns the version name.
func (v TLSProtocolVersion) String() string {
	return enumString("TLSProtocolVersion", uint64(v), map[uint64]string{0: "Unknown", 0x3000: "TLS1.3"})
}

// CipherAlgorithm is the negotiated bulk cipher (QUIC_CIPHER_ALGORITHM).
type CipherAlgorithm uint32

const (
	CipherAlgorithmNone     CipherAlgorithm = 0      // none
	CipherAlgorithmAES128   CipherAlgorithm = 0x660E // AES-128
	CipherAlgorithmAES256   CipherAlgorithm = 0x6610 // AES-256
	CipherAlgorithmChaCha20 CipherAlgorithm = 0x6612 // ChaCha20
)

// String returns the algorithm name.
func (a CipherAlgorithm) String() string {
	return enumString("CipherAlgorithm", uint64(a), map[uint64]string{
		0: "None", 0x660E: "AES128", 0x6610: "AES256", 0x6612: "ChaCha20",
	})
}

// HashAlgorithm is the negotiated handshake hash (QUIC_HASH_ALGORITHM).
type HashAlgorithm uint32

const (
	HashAlgorithmNone   HashAlgorithm = 0      // none
	HashAlgorithmSHA256 HashAlgorithm = 0x800C // SHA-256
	HashAlgorithmSHA384 HashAlgorithm = 0x800D // SHA-384
)

// String returns the algorithm name.
func (a HashAlgorithm) String() string {
	return enumString("HashAlgorithm", uint64(a), map[uint64]string{0: "None", 0x800C: "SHA256", 0x800D: "SHA384"})
}

// KeyExchangeAlgorithm is MsQuic's QUIC_KEY_EXCHANGE_ALGORITHM; its only
// value is none (the group is in HandshakeInfo.TLSGroup).
type KeyExchangeAlgorithm uint32

// KeyExchangeAlgorithmNone is the only key exchange algorithm value.
const KeyExchangeAlgorithmNone KeyExchangeAlgorithm = 0

// String returns the algorithm name.
func (a KeyExchangeAlgorithm) String() string {
	return enumString("KeyExchangeAlgorithm", uint64(a), map[uint64]string{0: "None"})
}

// CipherSuite is a TLS 1.3 cipher suite; the values are IANA's, as in
// crypto/tls (QUIC_CIPHER_SUITE).
type CipherSuite uint16

const (
	CipherSuiteTLSAES128GCMSHA256        CipherSuite = 0x1301 // TLS_AES_128_GCM_SHA256
	CipherSuiteTLSAES256GCMSHA384        CipherSuite = 0x1302 // TLS_AES_256_GCM_SHA384
	CipherSuiteTLSChaCha20Poly1305SHA256 CipherSuite = 0x1303 // TLS_CHACHA20_POLY1305_SHA256
)

// String returns the IANA suite name.
func (s CipherSuite) String() string {
	return enumString("CipherSuite", uint64(s), map[uint64]string{
		0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
		0x1303: "TLS_CHACHA20_POLY1305_SHA256",
	})
}

// TLSGroup is a TLS key-exchange group; the values are IANA's, as in
// tls.CurveID (QUIC_TLS_GROUP).
type TLSGroup uint16

const (
	TLSGroupUnknown            TLSGroup = 0    // not negotiated
	TLSGroupSecp256r1          TLSGroup = 23   // P-256
	TLSGroupSecp384r1          TLSGroup = 24   // P-384
	TLSGroupX25519             TLSGroup = 29   // X25519
	TLSGroupMLKEM512           TLSGroup = 512  // ML-KEM-512
	TLSGroupMLKEM768           TLSGroup = 513  // ML-KEM-768
	TLSGroupMLKEM1024          TLSGroup = 514  // ML-KEM-1024
	TLSGroupSecp256r1MLKEM768  TLSGroup = 4587 // SecP256r1MLKEM768
	TLSGroupX25519MLKEM768     TLSGroup = 4588 // X25519MLKEM768
	TLSGroupSecp384r1MLKEM1024 TLSGroup = 4589 // SecP384r1MLKEM1024
)

// String returns the group name.
func (g TLSGroup) String() string {
	return enumString("TLSGroup", uint64(g), map[uint64]string{
		0: "Unknown", 23: "secp256r1", 24: "secp384r1", 29: "x25519", 512: "MLKEM512",
		513: "MLKEM768", 514: "MLKEM1024", 4587: "SecP256r1MLKEM768",
		4588: "X25519MLKEM768", 4589: "SecP384r1MLKEM1024",
	})
}

// HandshakeInfo describes a completed TLS handshake (QUIC_HANDSHAKE_INFO).
type HandshakeInfo struct {
	TLSVersion           TLSProtocolVersion
	CipherAlgorithm      CipherAlgorithm
	CipherStrength       int32 // key bits
	Hash                 HashAlgorithm
	HashStrength         int32 // MsQuic reports 0
	KeyExchangeAlgorithm KeyExchangeAlgorithm
	KeyExchangeStrength  int32 // MsQuic reports 0
	CipherSuite          CipherSuite
	TLSGroup             TLSGroup
}

// AEADAlgorithm selects the AEAD that protects Retry tokens
// (QUIC_AEAD_ALGORITHM_TYPE).
type AEADAlgorithm uint32

const (
	// AEADAES128GCM uses a 16-byte key.
	AEADAES128GCM AEADAlgorithm = 0
	// AEADAES256GCM uses a 32-byte key (MsQuic's default).
	AEADAES256GCM AEADAlgorithm = 1
)

// keyLen returns the key length of a, or 0 if a is unknown.
func (a AEADAlgorithm) keyLen() int {
	switch a {
	case AEADAES128GCM:
		return 16
	case AEADAES256GCM:
		return 32
	}
	return 0
}

// String returns the algorithm name.
func (a AEADAlgorithm) String() string {
	return enumString("AEADAlgorithm", uint64(a), map[uint64]string{0: "AES128GCM", 1: "AES256GCM"})
}
