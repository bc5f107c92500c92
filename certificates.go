package quic

import (
	"crypto/x509"
	"errors"

	"github.com/hquic/quic/internal/conn"
)

// PeerCertificateReceivedEvent is a connection event
// (QUIC_CONNECTION_EVENT_PEER_CERTIFICATE_RECEIVED), raised once per
// handshake on connections whose credential has
// CredentialIndicateCertificateReceived, in both roles. It comes when the
// peer's Finished message arrives: crypto/tls has parsed the peer's chain
// and checked that the peer holds the leaf's private key, and neither side
// can complete the handshake before the handler's decision:
//
//   - nil accepts the certificate;
//   - Pending defers the decision to Connection.CertificateValidationComplete,
//     which must come within the handshake idle timeout
//     (Settings.HandshakeIdleTimeout, counted from this event) or the
//     handshake fails with StatusConnectionIdle, and the peer is sent
//     INTERNAL_ERROR saying no decision came;
//   - a Status that carries a TLS alert (TLSAlertStatus(a), or
//     ErrExpiredCertificate and the other alert statuses) rejects it with
//     that alert; any other error rejects it with bad_certificate.
//
// Without CredentialNoCertificateValidation the built-in validation has
// run first; if it failed, the event comes only with
// CredentialDeferCertificateValidation, and DeferredErr and DeferredStatus
// say why (otherwise the handshake has already failed with the failure's
// alert). A server that does not require client authentication requests
// no client certificate and raises the event with no Certificate
// (DeferredStatus StatusCertNoCertificate with deferred validation), as
// MsQuic does. A resumed session carries the certificate of the original
// handshake, validated again; unlike MsQuic, a resuming client raises the
// event too.
//
// Unlike the rest of an event, the certificates are the application's to
// keep: they are immutable Go values.
type PeerCertificateReceivedEvent struct {
	// Certificate is the peer's leaf certificate, nil if it sent none.
	Certificate *x509.Certificate
	// Chain is the chain as the peer sent it, leaf first.
	Chain []*x509.Certificate
	// ChainDER is the DER encoding of each certificate of Chain (MsQuic's
	// portable certificates).
	ChainDER [][]byte
	// DeferredErrorFlags classify the failure of the deferred validation
	// (MsQuic's DeferredErrorFlags, QUIC_CERTIFICATE_FLAG_IGNORE_* bits,
	// which MsQuic fills in only on Windows).
	DeferredErrorFlags CertificateErrorFlags
	// DeferredStatus is the status of the deferred validation:
	// StatusSuccess, StatusCertExpired, StatusCertUntrustedRoot,
	// StatusRevokedCertificate, StatusUnknownCertificate (revocation status
	// unknown), StatusCertNoCertificate or StatusBadCertificate.
	DeferredStatus Status
	// DeferredErr is the validation error itself, naming the certificate
	// and the check that failed; nil with StatusSuccess.
	DeferredErr error
	// Resumed reports that the handshake resumes a session; the
	// certificate is the original handshake's.
	Resumed bool
}

func (*PeerCertificateReceivedEvent) connectionEvent() {}

// CertificateErrorFlags classify a certificate validation failure
// (msquic_posix.h QUIC_CERTIFICATE_FLAG_IGNORE_*: each bit names the check
// that failed).
type CertificateErrorFlags uint32

// Certificate validation failure bits, with MsQuic's values.
const (
	CertificateIgnoreRevocation    CertificateErrorFlags = 0x00000080 // revoked, or revocation status unknown
	CertificateIgnoreUnknownCA     CertificateErrorFlags = 0x00000100 // the chain leads to no trusted root
	CertificateIgnoreWrongUsage    CertificateErrorFlags = 0x00000200 // not valid for server or client authentication
	CertificateIgnoreCNInvalid     CertificateErrorFlags = 0x00001000 // not valid for the server name
	CertificateIgnoreDateInvalid   CertificateErrorFlags = 0x00002000 // expired or not yet valid
	CertificateIgnoreWeakSignature CertificateErrorFlags = 0x00010000 // a weak signature algorithm (never set by hquic)
)

// String returns the flag names.
func (f CertificateErrorFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{
		{0x80, "Revocation"}, {0x100, "UnknownCA"}, {0x200, "WrongUsage"},
		{0x1000, "CNInvalid"}, {0x2000, "DateInvalid"}, {0x10000, "WeakSignature"},
	})
}

// CertificateValidationComplete completes a certificate decision that the
// handler deferred by returning Pending from PeerCertificateReceivedEvent
// (ConnectionCertificateValidationComplete). accept lets the handshake go
// on; otherwise it fails with alert, which is sent to the peer. It may be
// called from any goroutine, also from the handler before it returns
// Pending; the decision is applied on the connection's goroutine and
// ignored if none is pending (the handler did not defer, the connection
// closed, or the handshake idle timeout already failed the handshake).
// Errors: ErrInvalidParameter for a rejection whose alert is above
// TLSAlertMax (such as TLSAlertSuccess); ErrInvalidState before a client
// connection is started.
func (c *Connection) CertificateValidationComplete(accept bool, alert TLSAlertCode) error {
	const op = "Connection.CertificateValidationComplete"
	if !accept && alert > TLSAlertMax {
		return opError(op, StatusInvalidParameter, "rejection alert %d is above %d", uint16(alert), uint16(TLSAlertMax))
	}
	c.mu.Lock()
	live := c.state.has(connLive)
	c.mu.Unlock()
	if !live {
		return opError(op, StatusInvalidState, "connection not started")
	}
	if accept {
		alert = 0
	}
	c.eng.CompleteCertificateValidation(accept, uint8(alert))
	return nil
}

// decision returns the engine's certificate decision for connection c, nil
// when the application is not told of certificates.
func (pc *peerCheck) decision(c *Connection) conn.CertificateDecision {
	if pc == nil || pc.cr.flags&CredentialIndicateCertificateReceived == 0 {
		return nil
	}
	return func() (bool, error) { return pc.decide(c) }
}

// decide raises PeerCertificateReceivedEvent and turns the handler's
// answer into the engine's decision. It runs on the connection's
// goroutine, after verifyConnection.
func (pc *peerCheck) decide(c *Connection) (pending bool, err error) {
	if !pc.verified {
		return false, conn.RejectCertificate(uint8(TLSAlertInternalError), "quic: the peer's Finished came before its certificate was verified")
	}
	ev := &PeerCertificateReceivedEvent{Chain: pc.chain, Resumed: pc.resumed}
	if len(pc.chain) > 0 {
		ev.Certificate = pc.chain[0]
		ev.ChainDER = make([][]byte, len(pc.chain))
		for i, cert := range pc.chain {
			ev.ChainDER[i] = cert.Raw
		}
	}
	if d := pc.deferred; d != nil {
		ev.DeferredErrorFlags, ev.DeferredStatus, ev.DeferredErr = d.flags, d.status, d
	}
	herr := c.dispatch(ev)
	switch {
	case herr == nil:
		return false, nil
	case errors.Is(herr, Pending):
		return true, nil
	}
	alert := TLSAlertBadCertificate
	var st Status
	if errors.As(herr, &st) {
		if a, ok := st.TLSAlert(); ok {
			alert = TLSAlertCode(a)
		}
	}
	return false, conn.RejectCertificate(uint8(alert), "quic: the application rejected the peer's certificate: "+herr.Error())
}
