package quic

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strconv"
)

// HandshakeInfo returns the parameters the TLS handshake negotiated
// (QUIC_PARAM_TLS_HANDSHAKE_INFO): TLS 1.3, the cipher suite with its
// cipher, key strength and hash, and the key-exchange group. Like MsQuic,
// HashStrength and KeyExchangeStrength are 0 and KeyExchangeAlgorithm is
// KeyExchangeAlgorithmNone. It fails with ErrInvalidState until the
// handshake completed (ConnectedEvent; the handler of that event may call
// it).
func (c *Connection) HandshakeInfo() (HandshakeInfo, error) {
	snap, _ := c.snapshot()
	if snap.TLS == nil {
		return HandshakeInfo{}, opError("Connection.HandshakeInfo", StatusInvalidState, "handshake not complete")
	}
	t := snap.TLS
	info := HandshakeInfo{CipherSuite: CipherSuite(t.CipherSuite), TLSGroup: TLSGroup(t.Group)}
	if t.Version == tls.VersionTLS13 {
		info.TLSVersion = TLSProtocol13
	}
	switch info.CipherSuite {
	case CipherSuiteTLSAES128GCMSHA256:
		info.CipherAlgorithm, info.CipherStrength, info.Hash = CipherAlgorithmAES128, 128, HashAlgorithmSHA256
	case CipherSuiteTLSAES256GCMSHA384:
		info.CipherAlgorithm, info.CipherStrength, info.Hash = CipherAlgorithmAES256, 256, HashAlgorithmSHA384
	case CipherSuiteTLSChaCha20Poly1305SHA256:
		info.CipherAlgorithm, info.CipherStrength, info.Hash = CipherAlgorithmChaCha20, 256, HashAlgorithmSHA256
	}
	return info, nil
}

// PeerCertificates returns the certificate chain the peer presented in the
// handshake, leaf first, as it was validated (an hquic accessor; MsQuic
// hands the chain out only in PeerCertificateReceivedEvent). A resumed
// session gives the original handshake's chain; a peer that sent none
// gives nil (a server that does not require client authentication asks
// for none). The certificates are immutable and may be kept. It fails
// with ErrInvalidState until the handshake completed.
func (c *Connection) PeerCertificates() ([]*x509.Certificate, error) {
	snap, _ := c.snapshot()
	if snap.TLS == nil {
		return nil, opError("Connection.PeerCertificates", StatusInvalidState, "handshake not complete")
	}
	return slices.Clone(snap.TLS.PeerCertificates), nil
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
