package conn

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"

	"github.com/hquic/quic/internal/handshake"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
)

// maxAckRanges bounds the ranges an AckTracker keeps, so a peer that
// creates gaps cannot grow our memory (RFC 9000 §13.2.4).
const maxAckRanges = 64

// NewClient creates a client connection. It sends nothing until Start.
func NewClient(cfg Config, host Host, events Events) *Conn {
	c := NewQueued()
	c.InitClient(cfg, host, events)
	return c
}

// NewQueued returns a client connection that so far only queues
// operations: the public package creates it with the connection handle, so
// that API calls made before the handle is started queue like any other
// and run, in order, once InitClient has configured it and SetScheduler
// has given it a goroutine.
func NewQueued() *Conn { return new(Conn) }

// InitClient configures c, from NewQueued, as a client. It is called once,
// before SetScheduler: c has never run, so no other goroutine touches its
// state yet.
func (c *Conn) InitClient(cfg Config, host Host, events Events) {
	c.init(cfg, host)
	c.setEvents(events)
	odcid := make([]byte, max(cfg.CIDLen, 8)) // at least 8 bytes (RFC 9000 §7.2)
	rand.Read(odcid)
	c.cids.originalDCID = odcid
	c.openTrace(cfg.OpenTrace)
	c.setup.initialToken = cfg.InitialToken
	c.issueLocalCID(false)
	c.cids.remote = append(make([]remoteCID, 0, maxRemoteCIDs), remoteCID{cid: makeConnID(odcid)})
	c.spaces[recovery.SpaceInitial].write, c.spaces[recovery.SpaceInitial].read = protect.InitialKeys(c.version, odcid, true)
	c.tlsConfig = c.clientTLSConfig(cfg.TLS, cfg.ResumptionTicket)
	c.setup.decideCert = cfg.DecideCertificate
	c.hs = handshake.NewClient(c.tlsConfig, c.localTransportParameters(), c, true)
	c.gateTLS()
}

// NewServer creates a server connection for a client's Initial packet
// addressed to dcid from a client whose Source Connection ID is
// clientSCID. The binding already routes dcid to the connection. After a
// Retry, cfg.RetryODCID holds the client's original Destination Connection
// ID and dcid is the Retry's Source Connection ID.
func NewServer(cfg Config, host Host, acceptor Acceptor, dcid, clientSCID []byte) *Conn {
	c := new(Conn)
	c.init(cfg, host)
	c.setup.accept = &acceptState{acceptor: acceptor}
	c.cids.initialDCID = bytes.Clone(dcid)
	c.cids.originalDCID = c.cids.initialDCID
	if cfg.RetryODCID != nil {
		c.cids.originalDCID = bytes.Clone(cfg.RetryODCID)
		c.cids.retried = true
		c.cids.retrySCID = c.cids.initialDCID
		c.stats.StatelessRetry = true
	}
	c.openTrace(cfg.OpenTrace)
	c.path.validated = cfg.AddressValidated
	c.cids.peerInitialSCID = bytes.Clone(clientSCID)
	c.issueLocalCID(false)
	c.cids.remote = append(make([]remoteCID, 0, maxRemoteCIDs), remoteCID{cid: makeConnID(clientSCID)})
	c.spaces[recovery.SpaceInitial].write, c.spaces[recovery.SpaceInitial].read = protect.InitialKeys(c.version, dcid, false)
	return c
}

// init sets up the state every connection starts with. The queues are
// left as they are: a client's may already hold operations.
func (c *Conn) init(cfg Config, host Host) {
	c.side, c.version, c.set, c.host = cfg.Side, cfg.Version, cfg.Settings, host
	c.cfgVersion, c.cidLen, c.cidPrefix = cfg.Version, cfg.CIDLen, cfg.CIDPrefix
	c.versionSet, c.resetKey, c.onNewTok = cfg.Versions, cfg.ResetKey, cfg.OnNewToken
	c.setup = &setupState{issueToken: cfg.IssueToken, preferred: cfg.PreferredAddress}
	c.spaces = [recovery.NumSpaces]*space{&c.setup.spaces[0], &c.setup.spaces[1], &c.appSpace}
	c.vers.first = cfg.Version
	c.path.init(cfg.Peer, cfg.Local, cfg.Settings.MinimumMTU)
	c.app.recvFirstPN, c.app.sentFirstPN = -1, -1
	c.initPacketSpaces()
	c.applySettings()
}

// applySettings (re)initialises the sub-states that depend on c.set. A
// server calls it again when its configuration arrives: it has sent
// nothing but ACKs yet (idleAckDeadline), so loss recovery starts clean,
// and it has received only Initial packets, whose acknowledgment state is
// kept.
func (c *Conn) applySettings() {
	s := &c.set
	c.spaces[recovery.SpaceApp].acks.Init(recovery.SpaceApp, s.MaxAckDelay, maxAckRanges)
	c.initLoss()
	c.rx.setLimit(recvQueueLimit(s))
	c.streams.init(c)
}

// initLoss starts loss recovery and congestion control afresh. The
// controller's random choices (BBR's probing schedule) get a fresh seed, so
// that connections sharing a bottleneck do not probe in step.
func (c *Conn) initLoss() {
	s := &c.set
	var seed [8]byte
	rand.Read(seed[:])
	c.loss.Init(recovery.Config{
		InitialRTT:           s.InitialRTT,
		MaxDatagramSize:      c.path.maxDatagramSize(),
		InitialWindowPackets: s.InitialWindowPackets,
		Algorithm:            s.Congestion,
		HyStart:              s.HyStart,
		Pacing:               s.Pacing,
		SendIdleTimeout:      s.SendIdleTimeout,
		ECN:                  s.ECN,
		MaxPTOCount:          s.MaxPTOCount,
		HandshakePTOFloor:    s.HandshakePTOFloor,
		Seed:                 binary.LittleEndian.Uint64(seed[:]),
	}, c.side == Server)
}

// initPacketSpaces starts packet numbering and acknowledgment tracking
// afresh, without keys.
func (c *Conn) initPacketSpaces() {
	for sp := range c.spaces {
		*c.spaces[sp] = space{largestAcked: -1}
		c.spaces[sp].acks.Init(recovery.Space(sp), c.set.MaxAckDelay, maxAckRanges)
	}
}

// recvQueueLimit derives the receive queue bound from the connection flow
// control window, as MsQuic does: enough full datagrams to fill it, so a
// peer that keeps to the window is never dropped for it while the
// connection's goroutine falls behind (up to maxRecvQueue, which covers
// windows up to about 19 MiB; the default is 16 MiB).
func recvQueueLimit(s *Settings) int {
	return int(min(s.ConnFlowControlWindow/1200, maxRecvQueue))
}

// maxRecvQueue caps the receive queue bound.
const maxRecvQueue = 16384
