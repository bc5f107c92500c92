package conn

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Session resumption and 0-RTT (RFC 9001 §4.5, §4.6; RFC 9000 §7.4.1) with
// MsQuic's API shape. A server issues one ticket on request
// (SendResumptionTicket); it carries the application's data and the
// server's limits at that time in the session state's Extra. A client
// turns each ticket TLS receives into an opaque, self-contained blob for
// the application (ResumptionTicketReceived): the QUIC version, the TLS
// ticket and the client's session state, whose Extra remembers the
// server's transport parameters. A later connection given that blob
// (Config.ResumptionTicket) offers the session, applies the remembered
// limits and sends 0-RTT packets until the handshake completes.

// ResumptionLevel says what a server does with session tickets (MsQuic
// QUIC_SERVER_RESUMPTION_LEVEL).
type ResumptionLevel uint8

// Server resumption levels.
const (
	ResumeNone    ResumptionLevel = iota // no ticket is issued or accepted
	ResumeOnly                           // tickets resume sessions, without 0-RTT
	ResumeZeroRTT                        // tickets resume sessions and allow 0-RTT
)

// ResumptionEvents is implemented by an Events value that wants the
// session resumption events; the connection checks for it with a type
// assertion, so other Events implementations need not change.
type ResumptionEvents interface {
	// ResumptionTicketReceived delivers, on a client, a ticket for a
	// later connection's Config.ResumptionTicket (MsQuic
	// RESUMPTION_TICKET_RECEIVED). The slice belongs to the callee.
	ResumptionTicketReceived(ticket []byte)
	// Resumed reports, on a server, that the client is resuming a session,
	// with the application data its ticket carries (MsQuic RESUMED); the
	// slice is valid only during the call. An error declines 0-RTT; the
	// session is resumed regardless.
	Resumed(appData []byte) error
}

// resumeState is the connection's part in resumption.
type resumeState struct {
	// ticket is a client's ticket to resume, nil if none.
	ticket *ResumptionTicket
	// ticketSent is set once a server issued its ticket: crypto/tls
	// issues at most one per connection.
	ticketSent bool
}

// ResumptionTicket is a decoded client resumption ticket.
type ResumptionTicket struct {
	// Version is the QUIC version of the connection that received it.
	Version uint32
	session *tls.ClientSessionState
	early   bool                     // the ticket allows 0-RTT
	params  wire.TransportParameters // the server's remembered limits
}

// ticketFormat is the first byte of the blobs EncodeTicket produces.
const ticketFormat = 1

// maxTLSTicket bounds the TLS ticket in a blob (a NewSessionTicket's
// ticket is at most 2^16-1 bytes, RFC 8446 §4.6.1).
const maxTLSTicket = 1<<16 - 1

var errBadTicket = errors.New("quic: malformed resumption ticket")

// ParseResumptionTicket decodes a ticket from ResumptionTicketReceived. It
// fails for anything else, including a ticket without the server's
// transport parameters.
func ParseResumptionTicket(b []byte) (*ResumptionTicket, error) {
	if len(b) < 5 || b[0] != ticketFormat {
		return nil, errBadTicket
	}
	t := &ResumptionTicket{Version: binary.BigEndian.Uint32(b[1:5])}
	if !wire.IsSupportedVersion(t.Version) {
		return nil, errBadTicket
	}
	b = b[5:]
	l, n := wire.ConsumeVarint(b)
	if n < 0 || l == 0 || l > maxTLSTicket || uint64(len(b)-n) < l {
		return nil, errBadTicket
	}
	label := bytes.Clone(b[n : n+int(l)])
	state, err := tls.ParseSessionState(b[n+int(l):])
	if err != nil {
		return nil, errBadTicket
	}
	e, ok := findResumeEntry(state.Extra)
	if !ok || e.version != t.Version {
		return nil, errBadTicket
	}
	t.params, t.early = e.params, state.EarlyData
	if t.session, err = tls.NewResumptionState(label, state); err != nil {
		return nil, errBadTicket
	}
	return t, nil
}

// encodeTicket builds the blob ParseResumptionTicket reads.
func encodeTicket(version uint32, label, state []byte) []byte {
	b := make([]byte, 0, 5+4+len(label)+len(state))
	b = append(b, ticketFormat)
	b = binary.BigEndian.AppendUint32(b, version)
	b = wire.AppendVarint(b, uint64(len(label)))
	b = append(b, label...)
	return append(b, state...)
}

// resumeTag starts the entry hquic adds to a session state's Extra: the
// QUIC version, the application's data and transport parameters, which
// are the server's limits when the ticket was issued (server side) or the
// server's parameters (client side).
const resumeTag = "hquic-resume/1"

// resumeEntry is a decoded Extra entry.
type resumeEntry struct {
	version uint32
	appData []byte
	params  wire.TransportParameters
}

func appendResumeEntry(b []byte, version uint32, appData []byte, p *wire.TransportParameters) []byte {
	b = append(b, resumeTag...)
	b = binary.BigEndian.AppendUint32(b, version)
	b = wire.AppendVarint(b, uint64(len(appData)))
	b = append(b, appData...)
	return p.Append(b)
}

// findResumeEntry finds and decodes hquic's entry in a session's Extra.
func findResumeEntry(extra [][]byte) (resumeEntry, bool) {
	for _, x := range extra {
		if !bytes.HasPrefix(x, []byte(resumeTag)) {
			continue
		}
		x = x[len(resumeTag):]
		if len(x) < 4 {
			return resumeEntry{}, false
		}
		e := resumeEntry{version: binary.BigEndian.Uint32(x)}
		x = x[4:]
		l, n := wire.ConsumeVarint(x)
		if n < 0 || uint64(len(x)-n) < l {
			return resumeEntry{}, false
		}
		e.appData = x[n : n+int(l)]
		p, err := wire.ParseTransportParameters(x[n+int(l):], true)
		if err != nil {
			return resumeEntry{}, false
		}
		e.params = p
		return e, true
	}
	return resumeEntry{}, false
}

// rememberedParams keeps the transport parameters a client remembers for
// 0-RTT (RFC 9000 §7.4.1, RFC 9221 §3): the limits, not the connection
// IDs, tokens, addresses or ACK parameters.
func rememberedParams(p *wire.TransportParameters) wire.TransportParameters {
	r := wire.DefaultTransportParameters()
	r.ActiveConnectionIDLimit = p.ActiveConnectionIDLimit
	r.InitialMaxData = p.InitialMaxData
	r.InitialMaxStreamDataBidiLocal = p.InitialMaxStreamDataBidiLocal
	r.InitialMaxStreamDataBidiRemote = p.InitialMaxStreamDataBidiRemote
	r.InitialMaxStreamDataUni = p.InitialMaxStreamDataUni
	r.InitialMaxStreamsBidi = p.InitialMaxStreamsBidi
	r.InitialMaxStreamsUni = p.InitialMaxStreamsUni
	r.MaxDatagramFrameSize = p.MaxDatagramFrameSize
	r.HasMaxDatagramFrameSize = p.HasMaxDatagramFrameSize
	return r
}

// limitsReduced reports whether cur lowers a limit of old, which forbids
// accepting 0-RTT sent under old (RFC 9000 §7.4.1, RFC 9001 §4.6.1).
func limitsReduced(old, cur *wire.TransportParameters) bool {
	return cur.ActiveConnectionIDLimit < old.ActiveConnectionIDLimit ||
		cur.InitialMaxData < old.InitialMaxData ||
		cur.InitialMaxStreamDataBidiLocal < old.InitialMaxStreamDataBidiLocal ||
		cur.InitialMaxStreamDataBidiRemote < old.InitialMaxStreamDataBidiRemote ||
		cur.InitialMaxStreamDataUni < old.InitialMaxStreamDataUni ||
		cur.InitialMaxStreamsBidi < old.InitialMaxStreamsBidi ||
		cur.InitialMaxStreamsUni < old.InitialMaxStreamsUni ||
		old.HasMaxDatagramFrameSize && (!cur.HasMaxDatagramFrameSize || cur.MaxDatagramFrameSize < old.MaxDatagramFrameSize)
}

// sessionCache is a client connection's tls.ClientSessionCache: Get offers
// the session of the connection's resumption ticket, Put turns a session
// the connection stored into a ticket for the application. TLS calls Get,
// and Put with nil to forget an expired session, on its own goroutine
// while the connection's waits; Put with a session comes only from
// StoreSession, on the connection's goroutine.
type sessionCache struct {
	c      *Conn
	resume *tls.ClientSessionState // immutable
}

// Get implements tls.ClientSessionCache.
func (sc *sessionCache) Get(string) (*tls.ClientSessionState, bool) {
	return sc.resume, sc.resume != nil
}

// Put implements tls.ClientSessionCache.
func (sc *sessionCache) Put(_ string, cs *tls.ClientSessionState) {
	if cs != nil {
		sc.c.onSessionStored(cs)
	}
}

// clientTLSConfig returns a copy of a client's TLS configuration whose
// session cache offers the resumption ticket, if it decodes, and captures
// the tickets the server issues.
func (c *Conn) clientTLSConfig(cfg *tls.Config, ticket []byte) *tls.Config {
	if cfg == nil {
		return nil
	}
	cfg = cfg.Clone()
	sc := &sessionCache{c: c}
	if len(ticket) > 0 {
		if t, err := ParseResumptionTicket(ticket); err == nil {
			c.resume.ticket = t
			sc.resume = t.session
		}
	}
	cfg.ClientSessionCache = sc
	return cfg
}

// StoreSession implements handshake.Callbacks: a client adds the server's
// transport parameters to the session (RFC 9000 §7.4.1) and stores it,
// which hands the application a ticket through the session cache.
func (c *Conn) StoreSession(s *tls.SessionState) {
	if c.side != Client || c.peerParams == nil || c.hs == nil {
		return
	}
	p := rememberedParams(c.peerParams)
	s.Extra = append(s.Extra, appendResumeEntry(nil, c.version, nil, &p))
	// A ticket is best effort: a session TLS cannot store is dropped.
	_ = c.hs.StoreSession(s)
}

// onSessionStored encodes a stored session as a ticket for the application.
func (c *Conn) onSessionStored(cs *tls.ClientSessionState) {
	label, state, err := cs.ResumptionState()
	if err != nil || state == nil {
		return
	}
	b, err := state.Bytes()
	if err != nil {
		return
	}
	if ev, ok := c.events.(ResumptionEvents); ok {
		ev.ResumptionTicketReceived(encodeTicket(c.version, label, b))
	}
}

// ResumeSession implements handshake.Callbacks.
//
// A client about to offer its ticket's session allows 0-RTT only with the
// ticket's QUIC version, and then applies the remembered limits to what it
// sends in 0-RTT until the server's parameters arrive (RFC 9000 §7.4.1).
//
// A server declines 0-RTT unless its resumption level allows it, the
// ticket is one of its own for this QUIC version, its current limits are
// not below those in the ticket (RFC 9000 §7.4.1, RFC 9001 §4.6.1), and
// the application's Resumed handler accepts.
func (c *Conn) ResumeSession(s *tls.SessionState) {
	if c.side == Client {
		t := c.resume.ticket
		s.EarlyData = t != nil && t.early && t.Version == c.version
		if s.EarlyData && !c.hasPeerTP {
			c.streams.onPeerParameters(c, &t.params)
			c.datagrams.onEarlyParameters(c, &t.params)
		}
		return
	}
	e, ok := findResumeEntry(s.Extra)
	cur := c.localLimits()
	early := s.EarlyData && ok && c.set.ServerResumption == ResumeZeroRTT &&
		e.version == c.version && !limitsReduced(&e.params, &cur)
	if ev, isRE := c.events.(ResumptionEvents); isRE && ev.Resumed(e.appData) != nil {
		early = false
	}
	s.EarlyData = early
}

// SendResumptionTicket makes a server issue a session ticket carrying
// appData (MsQuic ConnectionSendResumptionTicket), once its handshake is
// complete. The ticket allows 0-RTT when the resumption level does.
// crypto/tls issues one ticket per connection: later calls do nothing, as
// do calls on a client, before completion or with ResumeNone. The public
// package checks the arguments.
func (c *Conn) SendResumptionTicket(appData []byte) {
	c.Do(func(c *Conn, _ mono.Time) { c.sendResumptionTicket(appData) })
}

func (c *Conn) sendResumptionTicket(appData []byte) {
	if c.side != Server || c.hs == nil || !c.life.handshakeComplete || c.life.closing() ||
		c.resume.ticketSent || c.set.ServerResumption == ResumeNone {
		return
	}
	c.resume.ticketSent = true
	p := c.localLimits()
	entry := appendResumeEntry(nil, c.version, appData, &p)
	// A ticket is best effort: failing to issue one leaves the connection
	// as it is.
	_ = c.hs.SendSessionTicket(c.set.ServerResumption == ResumeZeroRTT, [][]byte{entry})
}

// onZeroRTTLost hands every 0-RTT packet in flight to loss handling, so
// that their frames are sent again: the server rejected 0-RTT (RFC 9001
// §4.6.2) or discarded the packets with its Retry.
func (c *Conn) onZeroRTTLost() {
	if c.side == Client && c.app.write == nil {
		c.loss.DeclareAllLost(recovery.SpaceApp, c)
	}
}
