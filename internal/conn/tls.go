package conn

import (
	"bytes"
	"time"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// This file is the glue between the connection and internal/handshake: it
// implements handshake.Callbacks, builds our transport parameters and
// checks the peer's.

// SetReadSecret implements handshake.Callbacks.
func (c *Conn) SetReadSecret(level handshake.Level, suite uint16, secret []byte) error {
	k, err := protect.NewKeys(c.version, suite, secret)
	if err != nil {
		return &wire.Error{Code: wire.InternalError, Reason: err.Error()}
	}
	c.traceKey(int(level), 0, -1, "tls")
	switch level {
	case handshake.LevelEarly:
		c.zeroRTT.read = k
		c.replayBufferedPackets() // 0-RTT packets that came before TLS ran
	case handshake.LevelHandshake:
		c.spaces[recovery.SpaceHandshake].read = k
		c.onHandshakeKeys()
		// Handshake packets that came before the keys (the server's
		// Initial was lost) were buffered: they are read now, so the
		// server need not send them again.
		c.replayBufferedPackets()
	case handshake.LevelApp:
		c.app.installRead(k)
		c.replayBufferedPackets()
	}
	return nil
}

// SetWriteSecret implements handshake.Callbacks.
func (c *Conn) SetWriteSecret(level handshake.Level, suite uint16, secret []byte) error {
	k, err := protect.NewKeys(c.version, suite, secret)
	if err != nil {
		return &wire.Error{Code: wire.InternalError, Reason: err.Error()}
	}
	c.traceKey(int(level), keyWrite, -1, "tls")
	switch level {
	case handshake.LevelEarly:
		c.zeroRTT.write = k
	case handshake.LevelHandshake:
		c.spaces[recovery.SpaceHandshake].write = k
		c.onWriteKeys(level)
		if c.side == Client {
			// A client's anti-deadlock probe now goes in a Handshake
			// packet (RFC 9002 §6.2.2.1).
			c.loss.SetHandshakeKeysAvailable()
		}
	case handshake.LevelApp:
		c.app.installWrite(k)
		c.onWriteKeys(level)
		// A client discards its 0-RTT keys once it has 1-RTT keys
		// (RFC 9001 §4.9.3).
		c.zeroRTT.write = nil
	}
	return nil
}

// PeerTransportParameters implements handshake.Callbacks: it parses and
// checks the peer's transport parameters (RFC 9000 §7.4, §18.2) and the
// authentication of connection IDs (RFC 9000 §7.3), then applies them.
func (c *Conn) PeerTransportParameters(b []byte) error {
	c.tracePeerParams(b)
	p, err := wire.ParseTransportParameters(b, c.side == Client)
	if err != nil {
		return err
	}
	if err := c.checkCIDAuthentication(&p); err != nil {
		return err
	}
	if err := c.checkVersionInformation(&p); err != nil {
		return err
	}
	c.hasPeerTP = true
	if c.side == Client {
		kept := p
		c.peerParams = &kept
	}
	c.applyPeerParameters(&p)
	if p.HasPreferredAddress && c.side == Client {
		// Its connection ID has sequence number 1 (RFC 9000 §5.1.1).
		if err := c.onNewConnectionID(1, 0, p.PreferredAddress.CID, p.PreferredAddress.StatelessResetToken); err != nil {
			return err
		}
	}
	return nil
}

// checkCIDAuthentication enforces RFC 9000 §7.3: the connection IDs the
// peer put in its transport parameters must match those on the wire.
func (c *Conn) checkCIDAuthentication(p *wire.TransportParameters) error {
	fail := func(reason string) error {
		return &wire.Error{Code: wire.TransportParameterError, Reason: reason}
	}
	if !p.HasInitialSourceCID || !bytes.Equal(p.InitialSourceCID, c.cids.peerInitialSCID) {
		return fail("initial_source_connection_id does not match the peer's Source Connection ID")
	}
	if c.side == Server {
		return nil
	}
	if !p.HasOriginalDestinationCID || !bytes.Equal(p.OriginalDestinationCID, c.cids.originalDCID) {
		return fail("original_destination_connection_id does not match")
	}
	if c.cids.retried {
		if !p.HasRetrySourceCID || !bytes.Equal(p.RetrySourceCID, c.cids.retrySCID) {
			return fail("retry_source_connection_id does not match the Retry packet")
		}
	} else if p.HasRetrySourceCID {
		return fail("retry_source_connection_id without a Retry")
	}
	return nil
}

// HandshakeComplete implements handshake.Callbacks (RFC 9001 §4.1.1).
func (c *Conn) HandshakeComplete() {
	c.life.handshakeComplete = true
	c.inlineOK.Store(true)
	if c.side == Server {
		// The server's handshake is confirmed at completion
		// (RFC 9001 §4.1.2); it tells the client with HANDSHAKE_DONE.
		c.flags |= flagHandshakeDone
		if c.setup != nil && c.setup.issueToken != nil {
			c.newToken = c.setup.issueToken(c.path.peer)
			c.flags |= flagNewToken
		}
		c.confirmHandshake()
	}
	c.cids.issueUpTo(c)
	c.onHandshakeFlightsRead()
	c.onConnected()
}

// EarlyDataRejected implements handshake.Callbacks: the server rejected
// 0-RTT, so every 0-RTT packet is lost and its frames go again in 1-RTT
// packets (RFC 9001 §4.6.2), as MsQuic does.
func (c *Conn) EarlyDataRejected() {
	c.zeroRTT.write = nil
	c.zeroRTT.rejected = true
	c.onZeroRTTLost()
}

// confirmHandshake marks the handshake confirmed (RFC 9001 §4.1.2) and
// discards the Handshake keys (§4.9.2).
func (c *Conn) confirmHandshake() {
	if c.life.handshakeConfirmed {
		return
	}
	c.life.handshakeConfirmed = true
	c.discardSpace(recovery.SpaceInitial)
	c.discardSpace(recovery.SpaceHandshake)
	// A server's 0-RTT packets all precede the client's Finished; it
	// drops the keys at confirmation (RFC 9001 §4.9.3).
	c.zeroRTT.read = nil
	c.loss.OnHandshakeConfirmed()
	c.publishIfMigratable()
	c.usePreferredAddress(c.now)
	c.dropSetup()
}

// discardSpace drops a packet number space's keys and recovery state
// (RFC 9001 §4.9, RFC 9002 §6.4).
func (c *Conn) discardSpace(sp recovery.Space) {
	s := c.spaces[sp]
	if s.discarded {
		return
	}
	s.discarded = true
	c.traceSpaceDiscarded(sp)
	s.read, s.write = nil, nil
	if sp == recovery.SpaceInitial {
		c.vers.oldInitialRead = nil
	}
	c.loss.DiscardSpace(sp)
	if c.loss.BytesInFlight() == 0 {
		// The discarded packets were all that awaited acknowledgment.
		c.timers[timerDisconnect] = 0
	}
	if cs := c.cryptoSend(sp); cs != nil {
		cs.Discard()
	}
}

// localTransportParameters encodes the transport parameters we send.
func (c *Conn) localTransportParameters() []byte {
	s := &c.set
	p := c.localLimits()
	p.MaxIdleTimeout = s.IdleTimeout
	p.MaxUDPPayloadSize = uint64(max(s.MaximumMTU-udpOverhead, 1200))
	p.MaxAckDelay = s.MaxAckDelay
	p.AckDelayExponent = ackDelayExponent
	p.InitialSourceCID = c.cids.local[0].id()
	p.HasInitialSourceCID = true
	p.GreaseQUICBit = s.GreaseQUICBit
	p.VersionInformation, p.HasVersionInformation = c.versionInformation()
	if c.side == Server {
		p.OriginalDestinationCID = c.cids.originalDCID
		p.HasOriginalDestinationCID = true
		if c.cids.retried {
			p.RetrySourceCID = c.cids.retrySCID
			p.HasRetrySourceCID = true
		}
		p.StatelessResetToken = c.cids.local[0].token
		p.HasStatelessResetToken = true
		p.DisableActiveMigration = !s.MigrationEnabled
		if pa := c.preferredAddress(); pa.IPv4.IsValid() || pa.IPv6.IsValid() {
			// The preferred address comes with connection ID number 1
			// (RFC 9000 §5.1.1, §18.2).
			l := c.cids.preferredCID(c)
			p.PreferredAddress = wire.PreferredAddress{IPv4: pa.IPv4, IPv6: pa.IPv6, CID: l.id(), StatelessResetToken: l.token}
			p.HasPreferredAddress = true
		}
	}
	return p.Append(nil)
}

// localLimits returns our transport parameters that a client remembers
// for 0-RTT (RFC 9000 §7.4.1), from the current settings; the others have
// their defaults.
func (c *Conn) localLimits() wire.TransportParameters {
	s := &c.set
	p := wire.DefaultTransportParameters()
	p.InitialMaxData = s.ConnFlowControlWindow
	p.InitialMaxStreamDataBidiLocal = s.StreamRecvWindowBidiLocal
	p.InitialMaxStreamDataBidiRemote = s.StreamRecvWindowBidiRemote
	p.InitialMaxStreamDataUni = s.StreamRecvWindowUni
	p.InitialMaxStreamsBidi = s.PeerBidiStreamCount
	p.InitialMaxStreamsUni = s.PeerUniStreamCount
	p.ActiveConnectionIDLimit = maxRemoteCIDs
	if s.DatagramReceive {
		p.MaxDatagramFrameSize = maxDatagramFrameSize
		p.HasMaxDatagramFrameSize = true
	}
	return p
}

// peerLimits are the peer's transport parameters that matter after they
// were applied.
type peerLimits struct {
	maxIdleTimeout   time.Duration
	activeCIDLimit   uint64
	ackDelayExponent uint8
	disableMigration bool
	greaseQUICBit    bool
}

// applyPeerParameters puts the peer's transport parameters into effect.
func (c *Conn) applyPeerParameters(p *wire.TransportParameters) {
	c.peerTP = peerLimits{
		maxIdleTimeout:   p.MaxIdleTimeout,
		activeCIDLimit:   p.ActiveConnectionIDLimit,
		ackDelayExponent: p.AckDelayExponent,
		disableMigration: p.DisableActiveMigration,
		greaseQUICBit:    p.GreaseQUICBit,
	}
	c.loss.SetPeerMaxAckDelay(p.MaxAckDelay)
	c.path.peerMaxUDPPayload = int(min(p.MaxUDPPayloadSize, 65527))
	if p.HasStatelessResetToken {
		c.cids.setPeerResetToken(c, p.StatelessResetToken)
	}
	c.streams.onPeerParameters(c, p)
	c.datagrams.onPeerParameters(c, p)
}

// ackDelayExponent is the exponent we advertise and use to encode ACK
// delays (RFC 9000 §18.2 default).
const ackDelayExponent = 3

// maxDatagramFrameSize is the max_datagram_frame_size we advertise when
// datagrams are enabled (MsQuic advertises 65535).
const maxDatagramFrameSize = 65535
