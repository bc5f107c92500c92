package conn

import (
	"bytes"
	"crypto/rand"
	"math"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// Connection ID management (RFC 9000 §5.1): the IDs we issue to the peer
// (local) and the IDs the peer issued to us (remote).

// maxRemoteCIDs is the active_connection_id_limit we advertise: how many of
// the peer's connection IDs we store.
const maxRemoteCIDs = 4

// maxLocalCIDs bounds how many connection IDs we keep issued at once.
const maxLocalCIDs = 4

// maxLocalKept bounds the connection IDs we keep routed, counting those a
// Retire Prior To asked the peer to retire that it has not retired yet.
const maxLocalKept = 2 * maxLocalCIDs

// maxRetiring bounds the peer's connection IDs retired without an
// acknowledged RETIRE_CONNECTION_ID: twice the active_connection_id_limit
// we advertise, as RFC 9000 §5.1.2 recommends at least.
const maxRetiring = 2 * maxRemoteCIDs

// connID is a connection ID held by value.
type connID struct {
	b [wire.MaxCIDLen]byte
	n uint8
}

func makeConnID(b []byte) connID {
	var c connID
	c.n = uint8(copy(c.b[:], b))
	return c
}

// localCID is a connection ID we issued.
type localCID struct {
	seq      uint64
	cid      connID
	token    [16]byte
	needSend bool // a NEW_CONNECTION_ID frame must be sent
	acked    bool
}

func (l *localCID) id() []byte { return l.cid.b[:l.cid.n] }

// retiring is a RETIRE_CONNECTION_ID owed to the peer; unsent while a copy
// of the frame must (still or again) be sent.
type retiring struct {
	seq    uint64
	unsent bool
}

// remoteCID is a connection ID the peer issued. remote[0] is in use; used
// marks another that a packet was sent to (a path probe's).
type remoteCID struct {
	seq      uint64
	cid      connID
	token    [16]byte
	hasToken bool
	used     bool
}

func (r *remoteCID) id() []byte { return r.cid.b[:r.cid.n] }

type cidState struct {
	local        []localCID
	nextLocalSeq uint64

	remote        []remoteCID // active remote IDs; remote[0] is in use
	retirePriorTo uint64
	// retiring are the peer's IDs we retired whose RETIRE_CONNECTION_ID
	// is not acknowledged yet, at most maxRetiring plus one frame's
	// worth.
	retiring []retiring

	// Handshake IDs for transport-parameter authentication (RFC 9000 §7.3).
	originalDCID    []byte // the client's first Destination Connection ID
	peerInitialSCID []byte
	retrySCID       []byte
	retried         bool
	// localRetirePriorTo is the Retire Prior To of our NEW_CONNECTION_ID
	// frames: the peer must retire our IDs below it (RFC 9000 §5.1.2). 32
	// bits (more than a connection issues) fit beside retried.
	localRetirePriorTo uint32
	// initialDCID is, on a server, the Destination Connection ID of the
	// client's Initial packets that created the connection (the Retry's
	// Source Connection ID after a Retry); it routes to the connection
	// until the connection ends.
	initialDCID []byte
}

// newLocalCID makes a random connection ID with the configured length and
// prefix.
func (c *Conn) newLocalCID() connID {
	var id connID
	id.n = uint8(c.cidLen)
	n := copy(id.b[:id.n], c.cidPrefix)
	rand.Read(id.b[n:id.n])
	return id
}

// issueLocalCID creates, routes and queues one new connection ID.
func (c *Conn) issueLocalCID(send bool) *localCID {
	id := c.newLocalCID()
	l := localCID{seq: c.cids.nextLocalSeq, cid: id, needSend: send}
	c.cids.nextLocalSeq++
	l.token = c.resetKey(l.id())
	if c.cids.local == nil {
		c.cids.local = make([]localCID, 0, maxLocalKept) // no regrowth garbage
	}
	c.cids.local = append(c.cids.local, l)
	c.host.AddCID(l.id())
	if send {
		c.flags |= flagNewCID
	}
	return &c.cids.local[len(c.cids.local)-1]
}

// preferredCID issues, once, the connection ID that goes with a server's
// preferred address: sequence number 1, delivered in the transport
// parameter rather than a NEW_CONNECTION_ID frame.
func (s *cidState) preferredCID(c *Conn) *localCID {
	for i := range s.local {
		if s.local[i].seq == 1 {
			return &s.local[i]
		}
	}
	l := c.issueLocalCID(false)
	l.acked = true
	return l
}

// issueUpTo issues new connection IDs until the peer holds as many as its
// active_connection_id_limit allows (RFC 9000 §5.1.1).
func (s *cidState) issueUpTo(c *Conn) {
	limit := maxLocalCIDs
	if c.hasPeerTP {
		limit = int(min(uint64(maxLocalCIDs), c.peerTP.activeCIDLimit))
	}
	// IDs below our Retire Prior To are on their way out and do not count
	// (RFC 9000 §5.1.1 lets the peer hold them past its limit meanwhile).
	n := 0
	for i := range s.local {
		if s.local[i].seq >= uint64(s.localRetirePriorTo) {
			n++
		}
	}
	for ; n < limit && len(s.local) < maxLocalKept; n++ {
		c.issueLocalCID(true)
	}
}

// onPeerUsedLocal is told the Destination Connection ID of each 1-RTT
// packet. When the server moves to a newer one of a client's IDs, as a
// server following the client's NAT rebinding does when it takes a fresh
// ID for every new client address (RFC 9000 §9.5; quiche and MsQuic do),
// the client asks it with Retire Prior To to retire the older IDs, which
// belong to paths the NAT has left, and issues replacements, so that the
// server holds a spare ID for the next rebinding. A server that retires
// nothing on its own otherwise runs out after its
// active_connection_id_limit less one rebindings and stops following the
// client (MsQuic 2.7, limit 4: after the third). Not with a peer whose
// limit is 2: the one spare a retirement leaves it can go at once to the
// path it left, as quiche 0.18 gives it (which then probes that dead
// path and sends nothing else, a stall at the first rebinding instead of
// the second).
func (c *Conn) onPeerUsedLocal(dcid []byte) {
	s := &c.cids
	if c.side != Client || !c.life.handshakeConfirmed || c.life.closing() || !c.hasPeerTP || c.peerTP.activeCIDLimit < 3 {
		return
	}
	for i := range s.local {
		l := &s.local[i]
		if l.seq > uint64(s.localRetirePriorTo) && l.seq <= math.MaxUint32 && bytes.Equal(l.id(), dcid) {
			s.localRetirePriorTo = uint32(l.seq)
			s.issueUpTo(c)
			return
		}
	}
}

// isLocal reports whether cid is one of our active connection IDs.
func (s *cidState) isLocal(cid []byte) bool {
	for i := range s.local {
		if bytes.Equal(s.local[i].id(), cid) {
			return true
		}
	}
	return false
}

// dcid returns the connection ID to put in packets we send.
func (s *cidState) dcid() []byte {
	if len(s.remote) == 0 {
		return nil
	}
	return s.remote[0].id()
}

// scid returns our Source Connection ID for long headers.
func (s *cidState) scid() []byte { return s.local[0].id() }

// setPeerResetToken records the stateless reset token of the peer's
// handshake connection ID (from the stateless_reset_token parameter).
func (s *cidState) setPeerResetToken(c *Conn, token [16]byte) {
	if len(s.remote) == 0 || s.remote[0].seq != 0 {
		return
	}
	s.remote[0].token = token
	s.remote[0].hasToken = true
	c.host.AddResetToken(token)
}

// onNewConnectionID handles a NEW_CONNECTION_ID frame (RFC 9000 §19.15).
func (c *Conn) onNewConnectionID(seq, retirePriorTo uint64, cid []byte, token [16]byte) error {
	s := &c.cids
	for i := range s.remote {
		r := &s.remote[i]
		if r.seq == seq {
			if !bytes.Equal(r.id(), cid) || r.token != token {
				return &wire.Error{Code: wire.ProtocolViolation, FrameType: wire.FrameNewConnectionID,
					Reason: "NEW_CONNECTION_ID reuses a sequence number for a different ID"}
			}
			return nil
		}
	}
	if seq < s.retirePriorTo {
		// Already retired by an earlier retire_prior_to (§5.1.2).
		s.queueRetire(c, seq)
		return s.checkRetiring()
	}
	if retirePriorTo > s.retirePriorTo {
		s.retirePriorTo = retirePriorTo
		kept := s.remote[:0]
		for _, r := range s.remote {
			if r.seq < retirePriorTo {
				s.dropRemote(c, r)
				continue
			}
			kept = append(kept, r)
		}
		s.remote = kept
	}
	if seq < s.retirePriorTo {
		s.queueRetire(c, seq)
		return s.checkRetiring()
	}
	if err := s.checkRetiring(); err != nil {
		return err
	}
	if len(s.remote) >= maxRemoteCIDs {
		return &wire.Error{Code: wire.ConnectionIDLimitError, FrameType: wire.FrameNewConnectionID,
			Reason: "peer exceeded active_connection_id_limit"}
	}
	r := remoteCID{seq: seq, cid: makeConnID(cid), token: token, hasToken: true}
	s.remote = append(s.remote, r)
	c.host.AddResetToken(token)
	c.publishIfMigratable()
	return nil
}

// dropRemote retires a remote connection ID.
func (s *cidState) dropRemote(c *Conn, r remoteCID) {
	if r.hasToken {
		c.host.RemoveResetToken(r.token)
	}
	s.queueRetire(c, r.seq)
}

// queueRetire retires the peer's ID seq: a RETIRE_CONNECTION_ID is due,
// unless one for seq is already owed (RFC 9000 §5.1.2: a repeated
// announcement of an ID retired already is not retired again).
func (s *cidState) queueRetire(c *Conn, seq uint64) {
	for i := range s.retiring {
		if s.retiring[i].seq == seq {
			return
		}
	}
	if s.retiring == nil {
		s.retiring = make([]retiring, 0, maxRetiring+maxRemoteCIDs)
	}
	s.retiring = append(s.retiring, retiring{seq: seq, unsent: true})
	c.flags |= flagRetireCID
}

// checkRetiring fails the connection when the peer made it retire more IDs
// than maxRetiring without acknowledging the retirements: they cannot be
// forgotten unretired (RFC 9000 §5.1.2).
func (s *cidState) checkRetiring() error {
	if len(s.retiring) > maxRetiring {
		return &wire.Error{Code: wire.ConnectionIDLimitError, FrameType: wire.FrameNewConnectionID,
			Reason: "too many connection IDs retired without acknowledgment"}
	}
	return nil
}

// onRetireLost makes the RETIRE_CONNECTION_ID for seq due again, if it is
// not acknowledged yet (RFC 9000 §13.3).
func (s *cidState) onRetireLost(c *Conn, seq uint64) {
	for i := range s.retiring {
		if s.retiring[i].seq == seq {
			s.retiring[i].unsent = true
			c.flags |= flagRetireCID
		}
	}
}

// onRetireAcked forgets the retirement of seq.
func (s *cidState) onRetireAcked(seq uint64) {
	for i := range s.retiring {
		if s.retiring[i].seq == seq {
			s.retiring = append(s.retiring[:i], s.retiring[i+1:]...)
			return
		}
	}
}

// onRetireConnectionID handles a RETIRE_CONNECTION_ID frame
// (RFC 9000 §19.16). dcid is the Destination Connection ID of the packet
// that carried it.
func (c *Conn) onRetireConnectionID(seq uint64, dcid []byte) error {
	s := &c.cids
	if seq >= s.nextLocalSeq {
		return &wire.Error{Code: wire.ProtocolViolation, FrameType: wire.FrameRetireConnectionID,
			Reason: "RETIRE_CONNECTION_ID for an ID never issued"}
	}
	for i := range s.local {
		l := &s.local[i]
		if l.seq != seq {
			continue
		}
		if bytes.Equal(l.id(), dcid) {
			return &wire.Error{Code: wire.ProtocolViolation, FrameType: wire.FrameRetireConnectionID,
				Reason: "RETIRE_CONNECTION_ID for the ID the packet was sent to"}
		}
		c.host.RemoveCID(l.id())
		s.local = append(s.local[:i], s.local[i+1:]...)
		if c.life.handshakeComplete && !c.life.closing() {
			s.issueUpTo(c)
		}
		return nil
	}
	return nil
}

// onNewCIDAcked and onNewCIDLost track NEW_CONNECTION_ID delivery.
func (s *cidState) onNewCIDAcked(seq uint64) {
	for i := range s.local {
		if s.local[i].seq == seq {
			s.local[i].acked = true
		}
	}
}

func (s *cidState) onNewCIDLost(c *Conn, seq uint64) {
	for i := range s.local {
		if l := &s.local[i]; l.seq == seq && !l.acked {
			l.needSend = true
			c.flags |= flagNewCID
		}
	}
}

// removeAll unroutes every local ID (connection terminated).
func (s *cidState) removeAll(c *Conn) {
	for i := range s.local {
		c.host.RemoveCID(s.local[i].id())
	}
	if s.initialDCID != nil {
		c.host.RemoveCID(s.initialDCID)
		s.initialDCID = nil
	}
	for i := range s.remote {
		if s.remote[i].hasToken {
			c.host.RemoveResetToken(s.remote[i].token)
		}
	}
}

// SetCIDPrefix makes every connection ID the connection issues from now on
// start with prefix (at most CIDLen-4 bytes, so four random bytes remain).
// On a server that has sent nothing yet, the handshake connection ID is
// replaced too, so the client never sees an ID without the prefix; a
// server that already acknowledged part of a ClientHello (idleAckDeadline)
// keeps it, since the client may have seen it. It may be called from any
// goroutine.
func (c *Conn) SetCIDPrefix(prefix []byte) {
	p := bytes.Clone(prefix)
	c.Do(func(c *Conn, _ mono.Time) {
		c.cidPrefix = p
		if c.side != Server || c.life.state != stateIdle || len(c.cids.local) != 1 || c.stats.SendTotalPackets > 0 {
			return
		}
		l := &c.cids.local[0]
		c.host.RemoveCID(l.id())
		l.cid = c.newLocalCID()
		l.token = c.resetKey(l.id())
		c.host.AddCID(l.id())
	})
}

// remoteBySeq returns the peer's connection ID with sequence number seq.
func (s *cidState) remoteBySeq(seq uint64) *remoteCID {
	for i := range s.remote {
		if s.remote[i].seq == seq {
			return &s.remote[i]
		}
	}
	return nil
}

// switchRemote makes the peer's connection ID seq the one in use and
// retires the one used before (RFC 9000 §9.5: an ID is never used on two
// paths).
func (s *cidState) switchRemote(c *Conn, seq uint64) {
	for i := range s.remote {
		if s.remote[i].seq != seq || i == 0 {
			continue
		}
		old := s.remote[0]
		c.stats.DestCIDUpdates++
		s.remote[0] = s.remote[i]
		s.remote = append(s.remote[:i], s.remote[i+1:]...)
		s.dropRemote(c, old)
		return
	}
}
