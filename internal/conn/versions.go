package conn

import (
	"crypto/rand"
	"slices"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Version negotiation: incompatible (RFC 9000 §6: the client starts again
// after a Version Negotiation packet) and compatible (RFC 9368: the server
// answers a client's Initial in another version both support, such as
// QUIC v2, RFC 9369), with the version_information transport parameter
// authenticating the outcome.

type versionState struct {
	// restarted is set on a client that followed a Version Negotiation
	// packet.
	restarted bool
	// switched is set when compatible negotiation changed the version.
	switched bool
	// answered is set on a server that sent an Initial packet in the
	// client's version before it read the ClientHello (an acknowledgment
	// of part of it, accept.go): it keeps that version.
	answered bool
	// first is the version of the client's first Initial packet.
	first uint32
	// oldInitialRead, on a server that switched, opens the client's Initial
	// packets still sent in the first version.
	oldInitialRead *protect.Keys
}

// versions returns the versions we support in preference order.
func (c *Conn) versions() []uint32 {
	if len(c.versionSet) > 0 {
		return c.versionSet
	}
	return []uint32{c.cfgVersion}
}

// versionInformation returns our version_information parameter
// (RFC 9368 §3), sent when more than one version is configured.
func (c *Conn) versionInformation() (wire.VersionInformation, bool) {
	if len(c.versionSet) == 0 {
		return wire.VersionInformation{}, false
	}
	return wire.VersionInformation{Chosen: c.version, Available: c.versionSet}, true
}

// restartWithVersion starts a client's handshake again with version v
// after a Version Negotiation packet (RFC 9000 §6.2): new Initial keys from
// a new Destination Connection ID, fresh packet number spaces and a new
// ClientHello; nothing is reported to the application.
func (c *Conn) restartWithVersion(now mono.Time, v uint32) {
	c.vers.restarted = true
	c.vers.first = v
	c.version = v
	c.hs.Close()
	odcid := make([]byte, len(c.cids.originalDCID))
	rand.Read(odcid)
	c.cids.originalDCID = odcid
	c.cids.remote[0].cid = makeConnID(odcid)
	c.onZeroRTTLost() // their frames go again with the new version's keys
	c.initPacketSpaces()
	c.initLoss()
	c.app = appKeys{recvFirstPN: -1, sentFirstPN: -1}
	c.zeroRTT = zeroRTTKeys{}
	c.sentHandshake = false
	c.lastSent = nil
	c.setup.buffered = nil
	c.spaces[recovery.SpaceInitial].write, c.spaces[recovery.SpaceInitial].read = protect.InitialKeys(v, odcid, true)
	c.hs = handshake.NewClient(c.tlsConfig, c.localTransportParameters(), c, true)
	c.gateTLS()
	if err := c.hs.Start(); err != nil {
		c.closeWithError(now, err)
	}
}

// acceptVersion decides what to do with a long-header packet of another
// version than the connection's. A client may follow a server that
// answered in a compatible version it offered (RFC 9368 §2.3): it returns
// that version's Initial keys, and commitVersion switches once a packet
// authenticated with them. A server keeps opening the client's Initial
// packets of the first version after it switched. nil drops the packet.
func (c *Conn) acceptVersion(h *wire.LongHeader) (read, write *protect.Keys) {
	if h.Type != wire.PacketInitial {
		return nil, nil
	}
	if c.side == Server {
		if c.vers.switched && h.Version == c.vers.first {
			return c.vers.oldInitialRead, nil
		}
		return nil, nil
	}
	if c.cids.peerInitialSCID != nil || c.vers.switched || !wire.IsSupportedVersion(h.Version) || !slices.Contains(c.versions(), h.Version) {
		return nil, nil
	}
	write, read = protect.InitialKeys(h.Version, c.cids.originalDCID, true)
	return read, write
}

// commitVersion switches a client to the version of the server's first
// Initial packet, which authenticated with keys from acceptVersion.
func (c *Conn) commitVersion(v uint32, read, write *protect.Keys) {
	c.vers.switched = true
	c.version = v
	c.stats.VersionNegotiation = true
	sp := c.spaces[recovery.SpaceInitial]
	sp.read, sp.write = read, write
}

// chooseCompatibleVersion runs on a server when the ClientHello arrives:
// if the client's version_information lists a version we prefer to the
// one it used, the server switches to it before sending anything
// (RFC 9368 §2.3). A server that already answered in the client's version
// stays in it: compatible negotiation is optional (RFC 9368 §2.1: the
// server MAY attempt it), and a client that received a packet of the
// original version no longer follows another one.
func (c *Conn) chooseCompatibleVersion(params []byte) {
	if c.vers.answered {
		return
	}
	p, err := wire.ParseTransportParameters(params, false)
	if err != nil || !p.HasVersionInformation {
		return // TLS reports bad parameters later
	}
	for _, v := range c.versions() {
		if v == c.version {
			return
		}
		if wire.IsSupportedVersion(v) && slices.Contains(p.VersionInformation.Available, v) {
			sp := c.spaces[recovery.SpaceInitial]
			c.vers.oldInitialRead = sp.read
			c.vers.switched = true
			c.version = v
			c.stats.VersionNegotiation = true
			sp.write, sp.read = protect.InitialKeys(v, c.cids.initialDCID, false)
			return
		}
	}
}

// checkVersionInformation validates the peer's version_information
// (RFC 9368 §4): the chosen version must be the one in use (client) or the
// one of the client's first Initial (server), and a client that changed
// version requires the parameter.
func (c *Conn) checkVersionInformation(p *wire.TransportParameters) error {
	fail := func(reason string) error {
		return &wire.Error{Code: wire.VersionNegotiationError, Reason: reason}
	}
	if !p.HasVersionInformation {
		if c.side == Client && c.vers.switched {
			return fail("the server changed version without version_information")
		}
		return nil
	}
	vi := &p.VersionInformation
	if c.side == Server {
		if vi.Chosen != c.vers.first {
			return fail("chosen version differs from the version of the client's Initial")
		}
		return nil
	}
	if vi.Chosen != c.version {
		return fail("the server's chosen version is not the version in use")
	}
	if c.vers.restarted {
		// Downgrade protection after a Version Negotiation packet: the
		// version we restarted with must be the first of ours that the
		// server supports.
		for _, v := range c.versions() {
			if slices.Contains(vi.Available, v) {
				if v != c.version {
					return fail("version negotiation was tampered with")
				}
				break
			}
		}
	}
	return nil
}
