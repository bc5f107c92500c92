// Package handshake adapts crypto/tls's QUIC API (tls.QUICConn) to the
// connection engine.
//
// It owns the three CRYPTO streams (Initial, Handshake, 1-RTT), feeds data
// received in CRYPTO frames to TLS in order, and turns TLS events into calls
// on a Callbacks value: traffic secrets, the peer's transport parameters,
// handshake completion and session tickets. It knows nothing of packets or
// packet protection; the connection installs keys from the secrets it is
// given (RFC 9001 §4).
package handshake

import (
	"context"
	"crypto/tls"
	"errors"

	"github.com/hquic/quic/internal/wire"
)

// Level is a TLS encryption level (RFC 9001 §4.1.4).
type Level uint8

// Encryption levels, in handshake order. Their values match
// tls.QUICEncryptionLevel.
const (
	LevelInitial Level = iota
	LevelEarly
	LevelHandshake
	LevelApp
)

// String returns the level's name.
func (l Level) String() string {
	return tls.QUICEncryptionLevel(l).String()
}

// Crypto stream indexes: CRYPTO frames travel in Initial, Handshake and 1-RTT
// packets only (never 0-RTT). The values equal the packet number spaces of
// the recovery package.
const (
	StreamInitial = iota
	StreamHandshake
	StreamApp
	NumStreams
)

// StreamOf returns the CRYPTO stream index for a level; LevelEarly has none
// and maps to -1.
func StreamOf(l Level) int {
	switch l {
	case LevelInitial:
		return StreamInitial
	case LevelHandshake:
		return StreamHandshake
	case LevelApp:
		return StreamApp
	}
	return -1
}

// levelOfStream is the inverse of StreamOf.
func levelOfStream(i int) Level {
	return [NumStreams]Level{LevelInitial, LevelHandshake, LevelApp}[i]
}

// Callbacks receives what TLS produces. Secrets and parameters are only
// valid during the call.
type Callbacks interface {
	// SetReadSecret installs keys to open packets at level.
	SetReadSecret(level Level, suite uint16, secret []byte) error
	// SetWriteSecret installs keys to seal packets at level.
	SetWriteSecret(level Level, suite uint16, secret []byte) error
	// PeerTransportParameters receives the peer's encoded transport
	// parameters; a returned error (a *wire.Error) aborts the handshake.
	PeerTransportParameters(params []byte) error
	// HandshakeComplete reports that TLS finished the handshake
	// (RFC 9001 §4.1.1).
	HandshakeComplete()
	// EarlyDataRejected reports, on a client, that the server declined
	// 0-RTT.
	EarlyDataRejected()
	// StoreSession receives, on a client, a session ticket the server
	// issued, when session events are enabled. The callee may add to
	// s.Extra and keep the session with TLS.StoreSession.
	StoreSession(s *tls.SessionState)
	// ResumeSession receives the session TLS is about to resume: on a
	// client the one its ClientSessionCache offered (when session events
	// are enabled), on a server the one in the client's ticket. Setting
	// s.EarlyData to false declines 0-RTT (RFC 9001 §4.6.1).
	ResumeSession(s *tls.SessionState)
}

// TLS drives one tls.QUICConn. It is owned by the connection goroutine.
type TLS struct {
	q        *tls.QUICConn // nil after Release
	released releasedState
	cb       Callbacks
	isClient bool
	started  bool
	complete bool

	// streams are the CRYPTO streams; Compact drops them.
	streams *cryptoStreams
	// gate, if set, holds the peer's Finished for a certificate decision
	// (gate.go).
	gate *finishedGate
}

// releasedState is what Release keeps of tls.ConnectionState: the
// negotiated parameters, not the certificates or the keying-material
// exporter (and the secret it holds).
type releasedState struct {
	alpn, serverName string
	version, suite   uint16
	curve            tls.CurveID
	didResume        bool
	mutual           bool
	ech              bool
}

// cryptoStreams are the CRYPTO streams, indexed by StreamInitial,
// StreamHandshake and StreamApp.
type cryptoStreams struct {
	send [NumStreams]CryptoSend
	recv [NumStreams]CryptoRecv
}

// Send returns the send side of CRYPTO stream i, nil once Compact dropped
// the streams.
func (t *TLS) Send(i int) *CryptoSend {
	if t.streams == nil {
		return nil
	}
	return &t.streams.send[i]
}

// Received returns how many bytes of CRYPTO stream i were delivered to
// TLS in order (the stream's read offset): data that ends at or below it is
// a retransmission. It is zero once Compact dropped the streams.
func (t *TLS) Received(i int) uint64 {
	if t.streams == nil {
		return 0
	}
	return t.streams.recv[i].Offset()
}

// NewClient prepares a client handshake. cfg must require TLS 1.3; params
// are our encoded transport parameters. With sessionEvents, tickets are
// reported through Callbacks.StoreSession instead of going to
// cfg.ClientSessionCache.
func NewClient(cfg *tls.Config, params []byte, cb Callbacks, sessionEvents bool) *TLS {
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: cfg, EnableSessionEvents: sessionEvents})
	q.SetTransportParameters(params)
	return &TLS{q: q, cb: cb, isClient: true, streams: &cryptoStreams{}}
}

// NewServer prepares a server handshake. Sessions resumed from tickets are
// reported through Callbacks.ResumeSession.
func NewServer(cfg *tls.Config, params []byte, cb Callbacks) *TLS {
	q := tls.QUICServer(&tls.QUICConfig{TLSConfig: cfg, EnableSessionEvents: true})
	q.SetTransportParameters(params)
	return &TLS{q: q, cb: cb, streams: &cryptoStreams{}}
}

// Start begins the handshake; a client produces its ClientHello.
func (t *TLS) Start() error {
	t.started = true
	if err := t.q.Start(context.Background()); err != nil {
		return alertError(err)
	}
	return t.drain()
}

// HandleCrypto accepts the data of a CRYPTO frame received in the packet
// number space of stream index i, and feeds whatever became contiguous to
// TLS.
func (t *TLS) HandleCrypto(i int, off uint64, data []byte) error {
	if t.q == nil {
		// After Release nothing more is expected (RFC 9001 §4.1.3);
		// TLS would have rejected the message too.
		return &wire.Error{Code: wire.CryptoError(10), FrameType: wire.FrameCrypto, Reason: "unexpected post-handshake message"}
	}
	if err := t.streams.recv[i].Push(off, data); err != nil {
		return err
	}
	return t.feed(i)
}

// handleData gives TLS the bytes b of CRYPTO stream i.
func (t *TLS) handleData(i int, b []byte) error {
	if err := t.q.HandleData(tls.QUICEncryptionLevel(levelOfStream(i)), b); err != nil {
		return alertError(err)
	}
	return nil
}

// drain processes every pending TLS event.
func (t *TLS) drain() error {
	for {
		e := t.q.NextEvent()
		var err error
		switch e.Kind {
		case tls.QUICNoEvent:
			return nil
		case tls.QUICSetReadSecret:
			err = t.cb.SetReadSecret(Level(e.Level), e.Suite, e.Data)
		case tls.QUICSetWriteSecret:
			err = t.cb.SetWriteSecret(Level(e.Level), e.Suite, e.Data)
		case tls.QUICWriteData:
			if i := StreamOf(Level(e.Level)); i >= 0 {
				t.streams.send[i].Write(e.Data)
			}
		case tls.QUICTransportParameters:
			err = t.cb.PeerTransportParameters(e.Data)
		case tls.QUICTransportParametersRequired:
			err = &wire.Error{Code: wire.InternalError, Reason: "TLS asked for transport parameters twice"}
		case tls.QUICRejectedEarlyData:
			t.cb.EarlyDataRejected()
		case tls.QUICHandshakeDone:
			t.complete = true
			t.cb.HandshakeComplete()
		case tls.QUICStoreSession:
			t.cb.StoreSession(e.SessionState)
		case tls.QUICResumeSession:
			// TLS waits for the next NextEvent call, so the callee may
			// still clear the session's EarlyData flag.
			t.cb.ResumeSession(e.SessionState)
		case tls.QUICErrorEvent:
			err = alertError(e.Err)
		}
		if err != nil {
			return err
		}
	}
}

// Complete reports whether TLS finished the handshake.
func (t *TLS) Complete() bool { return t.complete }

// ConnectionState returns TLS's view of the connection (ALPN, peer
// certificates, resumption). After Release it holds only the negotiated
// parameters: no certificates, and ExportKeyingMaterial must not be
// called on it.
func (t *TLS) ConnectionState() tls.ConnectionState {
	if t.q == nil {
		r := &t.released
		return tls.ConnectionState{
			Version:                    r.version,
			HandshakeComplete:          t.complete,
			DidResume:                  r.didResume,
			CipherSuite:                r.suite,
			CurveID:                    r.curve,
			NegotiatedProtocol:         r.alpn,
			NegotiatedProtocolIsMutual: r.mutual,
			ServerName:                 r.serverName,
			ECHAccepted:                r.ech,
		}
	}
	return t.q.ConnectionState()
}

// Release drops TLS's own state once the handshake is complete and nothing
// more will pass through TLS (a server that will issue no more tickets):
// its buffers, secrets and configuration copy, several kilobytes per
// connection. ConnectionState keeps answering with the negotiated
// parameters (version, cipher suite, group, ALPN, server name,
// resumption, ECH); CRYPTO data that
// arrives afterwards fails with unexpected_message; SendSessionTicket and
// StoreSession fail.
func (t *TLS) Release() {
	if t.q == nil || !t.complete {
		return
	}
	st := t.q.ConnectionState()
	t.released = releasedState{
		alpn: st.NegotiatedProtocol, serverName: st.ServerName,
		version: st.Version, suite: st.CipherSuite, curve: st.CurveID,
		didResume: st.DidResume, mutual: st.NegotiatedProtocolIsMutual, ech: st.ECHAccepted,
	}
	t.q.Close()
	t.q = nil
}

// Released reports whether Release dropped TLS's state.
func (t *TLS) Released() bool { return t.q == nil }

// Compact drops the CRYPTO streams after Release once nothing is left in
// them: every byte sent was acknowledged or its level discarded, and no
// received data waits. Send then returns nil. It reports whether the
// streams are gone.
func (t *TLS) Compact() bool {
	if t.streams == nil {
		return true
	}
	if t.q != nil {
		return false
	}
	for i := range t.streams.send {
		if s := &t.streams.send[i]; s.HasPending() || s.Unacked() {
			return false
		}
	}
	t.streams = nil
	return true
}

// SendSessionTicket makes a server issue a NewSessionTicket message, which
// appears in the 1-RTT CRYPTO stream.
func (t *TLS) SendSessionTicket(earlyData bool, extra [][]byte) error {
	if t.q == nil {
		return errReleased
	}
	if err := t.q.SendSessionTicket(tls.QUICSessionTicketOptions{EarlyData: earlyData, Extra: extra}); err != nil {
		return alertError(err)
	}
	return t.drain()
}

// StoreSession keeps a session from Callbacks.StoreSession in the client's
// tls.Config.ClientSessionCache, which must be set.
func (t *TLS) StoreSession(s *tls.SessionState) error {
	if t.q == nil {
		return errReleased
	}
	if err := t.q.StoreSession(s); err != nil {
		return alertError(err)
	}
	return nil
}

// Close ends TLS's handshake goroutine. It is safe to call more than once and
// before Start.
func (t *TLS) Close() {
	if t.q != nil {
		t.q.Close()
	}
}

// errReleased is returned by calls that need TLS after Release.
var errReleased = errors.New("quic: TLS state released")

// alertError turns a TLS error into the CRYPTO_ERROR that carries its alert
// (RFC 9001 §4.8); errors without an alert become internal_error (80).
func alertError(err error) error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	alert := uint8(80)
	if a, ok := errors.AsType[tls.AlertError](err); ok {
		alert = uint8(a)
	}
	return &wire.Error{Code: wire.CryptoError(alert), Reason: err.Error()}
}
