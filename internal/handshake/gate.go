package handshake

// The Finished gate lets the application decide on the peer's certificate
// without blocking the connection's goroutine: the peer's Finished message
// is held back from crypto/tls until the decision, so TLS cannot complete
// the handshake, and we send no Finished of our own, before it. Everything
// before it (the peer's Certificate and CertificateVerify) goes to TLS
// first, so TLS has parsed the chain, checked the peer's signature and run
// tls.Config.VerifyConnection by the time the decision is asked for.
//
// The gate reads only the framing of the handshake messages in the
// Handshake-level CRYPTO stream: a one-byte type and a three-byte length
// (RFC 8446 §4). TLS checks their content.

// Decision is the application's answer to the peer's certificate, asked
// for when the peer's Finished message is next in the stream. A non-nil
// error (a *wire.Error carrying a CRYPTO_ERROR) fails the handshake;
// pending holds the Finished until OpenGate or the connection's end.
type Decision func() (pending bool, err error)

// gateState is the progress of a Finished gate.
type gateState uint8

const (
	gateScanning gateState = iota // looking for the peer's Finished
	gatePending                   // the decision is pending
	gateOpen                      // decided: everything goes to TLS
)

// tlsFinished is the Finished handshake message type (RFC 8446 §4).
const tlsFinished = 20

// finishedGate holds the peer's Finished message back from TLS.
type finishedGate struct {
	decide Decision
	next   uint64 // stream offset of the next message header to examine
	state  gateState
}

// GatePeerFinished makes t hold the peer's Finished message until decide
// accepts, or until OpenGate after a pending decision. Call it before
// Start.
func (t *TLS) GatePeerFinished(decide Decision) {
	t.gate = &finishedGate{decide: decide}
}

// GatePending reports whether a pending decision holds the handshake.
func (t *TLS) GatePending() bool { return t.gate != nil && t.gate.state == gatePending }

// OpenGate ends a pending decision with acceptance: the held data goes to
// TLS. It does nothing unless a decision is pending.
func (t *TLS) OpenGate() error {
	if !t.GatePending() || t.q == nil {
		return nil
	}
	t.gate.state = gateOpen
	return t.feed(StreamHandshake)
}

// admit returns how many bytes of b, the contiguous data at stream offset
// off, may go to TLS now. It asks for the decision once the peer's
// Finished is the next message and everything before it went to TLS.
func (g *finishedGate) admit(off uint64, b []byte) (int, error) {
	for {
		switch g.state {
		case gateOpen:
			return len(b), nil
		case gatePending:
			return 0, nil
		}
		if g.next >= off+uint64(len(b)) {
			return len(b), nil // all of b belongs to examined messages
		}
		rel := int(g.next - off)
		if len(b)-rel < 4 {
			return rel, nil // the header is incomplete
		}
		if b[rel] != tlsFinished {
			g.next += 4 + (uint64(b[rel+1])<<16 | uint64(b[rel+2])<<8 | uint64(b[rel+3]))
			continue
		}
		if rel > 0 {
			return rel, nil // TLS takes what precedes the Finished first
		}
		pending, err := g.decide()
		switch {
		case err != nil:
			return 0, err
		case pending:
			g.state = gatePending
			return 0, nil
		}
		g.state = gateOpen
	}
}

// feed gives TLS whatever became contiguous in CRYPTO stream i, as far as
// the Finished gate allows.
func (t *TLS) feed(i int) error {
	r := &t.streams.recv[i]
	for {
		b := r.Next()
		if len(b) == 0 {
			return nil
		}
		if g := t.gate; g != nil && i == StreamHandshake {
			n, err := g.admit(r.Offset(), b)
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			b = b[:n]
		}
		if err := t.handleData(i, b); err != nil {
			return err
		}
		r.Consume(len(b))
		if err := t.drain(); err != nil {
			return err
		}
		if t.q == nil {
			return nil
		}
	}
}
