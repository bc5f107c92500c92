package conn

import (
	"crypto/tls"
	"errors"
	"net/netip"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// A server connection reads the client's ClientHello before TLS runs, so
// that the application can see the server name and ALPN list in its
// NEW_CONNECTION event and choose a configuration, possibly later
// (MsQuic's ConnectionSetConfiguration). Until then the Initial CRYPTO data
// is buffered here and only ACKs are sent.

// Acceptor finds the listener for a new server connection. It is called on
// the connection's goroutine once the ClientHello is known. It returns the
// events sink for the connection and the negotiated ALPN, or an error to
// refuse the connection: ErrNoALPN closes it with the TLS
// no_application_protocol alert, anything else with CONNECTION_REFUSED.
type Acceptor interface {
	Accept(c *Conn, info *NewConnectionInfo) (Events, string, error)
}

// ErrNoALPN reports that no listener accepts any of the client's ALPNs.
var ErrNoALPN = errors.New("quic: no listener for the client's ALPN list")

// NewConnectionInfo describes an incoming connection (MsQuic
// QUIC_NEW_CONNECTION_INFO).
type NewConnectionInfo struct {
	Version     uint32
	Local       netip.AddrPort
	Remote      netip.AddrPort
	ServerName  string
	ClientALPNs []string
	ClientHello []byte
}

// ServerConfig is what SetConfiguration gives a server connection.
type ServerConfig struct {
	TLS      *tls.Config
	Settings Settings
	// DecideCertificate is Config.DecideCertificate for the server.
	DecideCertificate CertificateDecision
}

type acceptState struct {
	acceptor Acceptor
	hello    handshake.CryptoRecv
	data     []byte // contiguous Initial CRYPTO bytes received so far
	alpn     string
	accepted bool
}

// onCrypto buffers Initial CRYPTO data until the ClientHello is complete,
// then asks the acceptor.
func (a *acceptState) onCrypto(c *Conn, now mono.Time, off uint64, data []byte) error {
	if err := a.hello.Push(off, data); err != nil {
		return err
	}
	if b := a.hello.Next(); len(b) > 0 {
		a.data = append(a.data, b...)
		a.hello.Consume(len(b))
	}
	if a.accepted {
		return nil
	}
	n, ok, err := handshake.ClientHelloLength(a.data)
	if err != nil {
		return &wire.Error{Code: wire.CryptoError(50), FrameType: wire.FrameCrypto, Reason: err.Error()}
	}
	if !ok || len(a.data) < n {
		return nil
	}
	ch, err := handshake.ParseClientHello(a.data)
	if err != nil {
		return &wire.Error{Code: wire.CryptoError(50), FrameType: wire.FrameCrypto, Reason: err.Error()}
	}
	if ch.TransportParameters != nil {
		c.chooseCompatibleVersion(ch.TransportParameters)
	}
	info := NewConnectionInfo{
		Version:     c.version,
		Local:       c.path.local,
		Remote:      c.path.peer,
		ServerName:  ch.ServerName,
		ClientALPNs: ch.ALPNs,
		ClientHello: ch.Raw,
	}
	a.accepted = true
	ev, alpn, err := a.acceptor.Accept(c, &info)
	switch {
	case errors.Is(err, ErrNoALPN):
		return &wire.Error{Code: wire.CryptoError(120), Reason: "no application protocol"}
	case err != nil:
		c.closeRefused(now)
		return nil
	}
	c.setEvents(ev)
	a.alpn = alpn
	return nil
}

// idleAckDeadline returns when a server waiting for its configuration
// acknowledges the Initial packets it received, zero if it does not.
//
// A ClientHello often spans two datagrams (a post-quantum key share makes
// it larger than 1200 bytes). RFC 9000 §13.2.1 requires ack-eliciting
// Initial packets to be acknowledged immediately; a server that waits for
// the rest of the ClientHello, or for the application's configuration,
// still acknowledges what it has, so that a client whose other datagram
// was lost gets a round-trip sample and sends only the missing part again,
// soon, instead of everything after its initial probe timeout. The ACK
// waits max_ack_delay for the rest of the ClientHello first: once the
// client has seen the server's Source Connection ID, SetCIDPrefix can no
// longer replace it. ACK-only packets are not ack-eliciting, so they need
// no padding (RFC 9000 §14.1), are never in flight and arm no timer; they
// count toward the anti-amplification limit (RFC 9000 §8.1) like anything
// sent. A server that would switch to a version it prefers once it reads
// the client's version_information (RFC 9368 §2.3) gives that up when it
// acknowledges part of the ClientHello in the client's version
// (chooseCompatibleVersion): waiting for the whole ClientHello instead
// left a client whose second datagram was lost without any answer, and
// under heavy loss both halves had to arrive in the same probe round,
// each round a backed-off PTO later.
func (c *Conn) idleAckDeadline() mono.Time {
	if c.side != Server || c.life.state != stateIdle {
		return 0
	}
	due := c.spaces[recovery.SpaceInitial].acks.AckDeadline()
	if due.IsZero() {
		return 0
	}
	return due.Add(c.set.MaxAckDelay)
}

// idleAckDue reports whether a server without its configuration must send
// its ACK now.
func (c *Conn) idleAckDue(now mono.Time) bool {
	t := c.idleAckDeadline()
	return !t.IsZero() && now >= t
}

// closeRefused closes a connection the application rejected with
// CONNECTION_REFUSED (RFC 9000 §20.1). The application is not told: it
// never accepted the connection.
func (c *Conn) closeRefused(now mono.Time) {
	c.startClose(now, CloseReason{Code: uint64(wire.ConnectionRefused), Reason: "connection refused"}, 0)
}

// setConfiguration starts the server's TLS handshake with the application's
// configuration and feeds it the buffered ClientHello.
func (c *Conn) setConfiguration(now mono.Time, sc *ServerConfig) {
	if c.hs != nil || c.life.closing() {
		return
	}
	c.set = sc.Settings
	c.applySettings()
	// Loss recovery starts afresh; the ACK-only packets sent so far (idle
	// acknowledgments) may still be acknowledged.
	c.loss.ForgetSent(recovery.SpaceInitial, c.spaces[recovery.SpaceInitial].nextPN-1)
	a := c.setup.accept
	c.setup.accept = nil // TLS reads the rest of the handshake
	cfg := sc.TLS.Clone()
	cfg.NextProtos = []string{a.alpn}
	// Without resumption, tickets are neither issued nor accepted.
	cfg.SessionTicketsDisabled = c.set.ServerResumption == ResumeNone
	c.tlsConfig = cfg
	c.hs = handshake.NewServer(cfg, c.localTransportParameters(), c)
	c.setup.decideCert = sc.DecideCertificate
	c.gateTLS()
	c.traceServerConfigured(now, a.alpn)
	c.life.state = stateHandshake
	c.restartIdleTimer(now)
	if err := c.hs.Start(); err != nil {
		c.closeWithError(now, err)
		return
	}
	data := a.data
	if err := c.hs.HandleCrypto(int(recovery.SpaceInitial), 0, data); err != nil {
		c.closeWithError(now, err)
		return
	}
	// 0-RTT packets that came with the ClientHello, now readable.
	c.replayBuffered(now)
}
