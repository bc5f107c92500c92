package quic

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
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
