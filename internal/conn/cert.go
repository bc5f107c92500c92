package conn

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// The application's decision on the peer's certificate (MsQuic's
// PEER_CERTIFICATE_RECEIVED and ConnectionCertificateValidationComplete).
// With Config.DecideCertificate set, the handshake holds the peer's
// Finished message until the decision (handshake.TLS.GatePeerFinished):
// neither side can complete the handshake before it. A pending decision
// is due within the handshake idle timeout.

// CertificateDecision asks the application about the peer's certificate,
// on the connection goroutine. A non-nil error (a *wire.Error with the
// CRYPTO_ERROR of a TLS alert) rejects it; pending defers the decision to
// CompleteCertificateValidation.
type CertificateDecision func() (pending bool, err error)

// gateTLS makes a new TLS handshake hold the peer's Finished when the
// connection has a certificate decision to make.
func (c *Conn) gateTLS() {
	if c.setup.decideCert != nil {
		c.hs.GatePeerFinished(c.askCertificate)
	}
}

// askCertificate is the TLS gate's decision: the application's, with a
// deadline when it is pending.
func (c *Conn) askCertificate() (bool, error) {
	pending, err := c.setup.decideCert()
	if pending && err == nil {
		if t := c.set.HandshakeIdleTimeout; t > 0 {
			c.timers[timerCertificate] = c.now.Add(t)
		}
	}
	return pending, err
}

// CompleteCertificateValidation ends a pending certificate decision
// (MsQuic's ConnectionCertificateValidationComplete): accept lets the
// handshake go on; otherwise the handshake fails with alert. It may be
// called from any goroutine, also from the handler that deferred the
// decision; it does nothing when no decision is pending.
func (c *Conn) CompleteCertificateValidation(accept bool, alert uint8) {
	c.enqueue(laneNormal, op{kind: opFunc, fn: func(c *Conn, now mono.Time) { c.completeCertificate(now, accept, alert) }})
}

func (c *Conn) completeCertificate(now mono.Time, accept bool, alert uint8) {
	if c.hs == nil || !c.hs.GatePending() || c.life.closing() {
		return
	}
	c.timers[timerCertificate] = 0
	if !accept {
		c.closeWithError(now, &wire.Error{Code: wire.CryptoError(alert), Reason: "the application rejected the peer's certificate"})
		return
	}
	if err := c.hs.OpenGate(); err != nil {
		c.closeWithError(now, err)
	}
}

// onCertificateTimer fails a handshake whose certificate decision did not
// come within the handshake idle timeout.
func (c *Conn) onCertificateTimer(now mono.Time) {
	c.timers[timerCertificate] = 0
	c.startClose(now, CloseReason{Local: ReasonIdle, Code: uint64(wire.InternalError),
		Reason: "no certificate decision within the handshake idle timeout"}, closeNotify)
}

// RejectCertificate returns the decision error that fails the handshake
// with TLS alert alert and reason.
func RejectCertificate(alert uint8, reason string) error {
	return &wire.Error{Code: wire.CryptoError(alert), Reason: reason}
}
