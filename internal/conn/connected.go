package conn

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/hquic/quic/internal/recovery"
)

// onConnected reports handshake completion to the application.
func (c *Conn) onConnected() {
	c.life.state = stateEstablished
	cs := c.hs.ConnectionState()
	c.alpn = cs.NegotiatedProtocol
	c.tlsInfo = &TLSInfo{Version: cs.Version, CipherSuite: cs.CipherSuite, Group: uint16(cs.CurveID),
		PeerCertificates: cs.PeerCertificates, OrigDestCID: c.cids.originalDCID}
	c.traceConnected(&cs)
	c.restartIdleTimer(c.now)
	// Publish first so that getters called from the event's handler, or
	// right after it, already see the negotiated ALPN.
	c.publishSnapshot()
	if c.events != nil {
		c.events.Connected(cs.DidResume, c.alpn)
	}
}

// TLSInfo is what a connection keeps of its TLS handshake: the negotiated
// parameters and the peer's certificate chain (leaf first; none if the
// peer sent none). It does not change once published.
type TLSInfo struct {
	Version, CipherSuite, Group uint16
	PeerCertificates            []*x509.Certificate
	// OrigDestCID is the Destination Connection ID of the client's first
	// Initial packet (before any Retry); shared, never modified. It is
	// here rather than in Snapshot, which the Conn holds inline.
	OrigDestCID []byte
}

// ConnectionState returns TLS's view of the connection; it must be called
// on the connection goroutine (from a callback or Do).
func (c *Conn) ConnectionState() tls.ConnectionState {
	if c.hs == nil {
		return tls.ConnectionState{}
	}
	return c.hs.ConnectionState()
}

// onProbeTimeout prepares probe packets after a PTO (RFC 9002 §6.2.4):
// in the handshake spaces the unacknowledged CRYPTO data is sent again; in
// the application space each probe carries the data of an outstanding
// packet again, or new data, or a PING.
//
// A probe in either handshake space also resends the other's outstanding
// CRYPTO data, coalesced (RFC 9002 §6.2.4): the peer may be unable to read
// the space whose timer expired, as a client that lost the server's Initial
// cannot open its Handshake packets, while the congestion window is full of
// them.
//
// An application probe that is only a PING tells the peer nothing it can
// act on: if its acknowledgment is lost too, the data of the packet that
// was lost is not retransmitted until an acknowledgment gets through. RFC
// 9002 §6.2.4 lets probes carry previously sent data when there is no new
// data; each application probe carries an outstanding packet's again,
// oldest first and each in turn (queueProbeData), so that the probes that
// arrive deliver all of it.
func (c *Conn) onProbeTimeout() {
	if c.handshakeProbing() && c.hs != nil {
		for sp := recovery.SpaceInitial; sp < recovery.SpaceApp; sp++ {
			if cs := c.cryptoSend(sp); cs != nil && !c.spaces[sp].discarded {
				cs.ResendUnacked()
			}
		}
	}
	if c.loss.ProbesNeeded(recovery.SpaceApp) > 0 {
		c.flags |= flagProbeData
	}
}

// queueProbeData runs before each application packet while flagProbeData
// is set: while probes are due, the frames of the next outstanding packet
// no probe has carried yet (oldest first) are queued again, as if it were
// lost (ahead of new data), without declaring it lost; then the flag is
// cleared.
func (c *Conn) queueProbeData() {
	if c.loss.ProbesNeeded(recovery.SpaceApp) == 0 {
		c.flags &^= flagProbeData
		return
	}
	if p := c.loss.NextProbeData(recovery.SpaceApp); p != nil {
		c.replayLost(p, true)
	}
}

// handshakeProbing reports whether a probe is due in a handshake space.
func (c *Conn) handshakeProbing() bool {
	return c.loss.ProbesNeeded(recovery.SpaceInitial) > 0 || c.loss.ProbesNeeded(recovery.SpaceHandshake) > 0
}
