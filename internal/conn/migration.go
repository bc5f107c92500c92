package conn

import (
	"net/netip"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Path validation and connection migration (RFC 9000 §8.2, §9).
//
// A server that receives a non-probing packet, with the highest packet
// number so far, from a new peer address validates that address with
// PATH_CHALLENGE and moves to it once PATH_RESPONSE comes back. Until then
// data keeps going to the old address, so a spoofed or replayed packet
// from a third address can never redirect the connection (§9.3.2, §9.3.3):
// its challenge simply goes unanswered. This is a deliberate reading of
// §9.3, which has a recipient that permits a migration send to the new
// address at once and revert if validation fails: hquic permits a
// migration only once the new address is validated (as quic-go does). An
// attacker whose copies of the client's packets always arrive first would
// otherwise hold the connection on its own address for a validation
// timeout after every packet; the price is that during a NAT rebinding the
// data of one round trip goes to the old address and is retransmitted.
// A client migrates actively when
// the application gives it a new local socket (MigrateTo): it probes the
// new path with a fresh connection ID and moves once validated. Probing
// packets (only PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and
// PADDING) never cause a move (§9.1).

// minChallengeDatagram is the size a datagram carrying PATH_CHALLENGE is
// expanded to when the anti-amplification limit allows (RFC 9000 §8.2.1).
const minChallengeDatagram = 1200

// kInitialRTT is RFC 9002's initial RTT, for the validation timeout of a
// path without an RTT sample.
const kInitialRTT = 333 * time.Millisecond

// validationTimeout is how long a path is probed before giving up: three
// times the larger of the current PTO and a new path's initial PTO
// (RFC 9000 §8.2.4).
func (c *Conn) validationTimeout() time.Duration {
	return 3 * max(c.loss.PTO(), 2*kInitialRTT)
}

// onPeerPath runs for every authenticated 1-RTT packet after its frames:
// a non-probing packet with the highest packet number from an address other
// than the current path's starts validating that path on a server.
func (c *Conn) onPeerPath(now mono.Time, d *Datagram, pn int64, probing bool) {
	if c.path.is(d.Peer, d.Local) {
		return
	}
	if pr := c.path.probe; pr != nil && pr.on(d.Peer, d.Local) {
		return
	}
	if c.side != Server || probing || !c.life.handshakeConfirmed ||
		pn != c.spaces[recovery.SpaceApp].acks.LargestReceived() {
		return
	}
	c.startProbe(now, d.Peer, d.Local).onReceived(len(d.Data))
}

// startProbe begins validating the path (peer, local), replacing any
// validation under way.
func (c *Conn) startProbe(now mono.Time, peer, local netip.AddrPort) *pathProbe {
	pr := newPathProbe(now, peer, local, c.validationTimeout())
	c.path.probe = pr
	c.armPathTimer()
	return pr
}

// MigrateTo starts a client's active migration to the local socket
// address local, which the host must already serve (RFC 9000 §9.2). It
// does nothing before the handshake is confirmed, when the peer disabled
// active migration, or without a spare connection ID of the peer's (a new
// path needs one, §9.5). Success is reported with LocalAddressChanged. It
// may be called from any goroutine.
func (c *Conn) MigrateTo(local netip.AddrPort) {
	c.Do(func(c *Conn, now mono.Time) { c.migrateTo(now, local) })
}

func (c *Conn) migrateTo(now mono.Time, local netip.AddrPort) {
	if c.side != Client || !c.life.handshakeConfirmed || c.life.closing() ||
		c.hasPeerTP && c.peerTP.disableMigration || sameLocal(local, c.path.local) {
		return
	}
	if len(c.cids.remote) < 2 {
		c.stats.PathValidationFailures++
		return
	}
	pr := c.startProbe(now, c.path.peer, local)
	pr.client = true
	pr.dcidSeq = c.cids.remote[1].seq
}

// CanMigrate reports whether a client may start an active migration now:
// the handshake is confirmed, the peer allows it, and a spare connection ID
// is available. Published in the snapshot.
func (c *Conn) canMigrate() bool {
	return c.side == Client && c.life.handshakeConfirmed && !c.life.closing() &&
		!(c.hasPeerTP && c.peerTP.disableMigration) && len(c.cids.remote) >= 2
}

// publishIfMigratable publishes the snapshot as soon as a client becomes
// able to migrate, rather than at the end of the run: an event raised later
// in the same run (the first reply on a stream, say) may lead the
// application to call SetLocalAddr, which reads CanMigrate from the
// snapshot.
func (c *Conn) publishIfMigratable() {
	if c.side == Client && c.canMigrate() && !c.Snapshot().CanMigrate {
		c.publishSnapshot()
	}
}

// onPathResponse handles PATH_RESPONSE: a match validates the probed path,
// whichever path the response arrived on (RFC 9000 §8.2.3).
func (c *Conn) onPathResponse(now mono.Time, data [8]byte) {
	if pr := c.path.probe; pr == nil || !pr.answers(data) {
		return
	}
	c.migrate(now)
}

// migrate moves the connection to the validated probe path. Congestion
// control and RTT start afresh unless only the port changed, and what is
// still in flight on the old path is sent again on the new one (RFC 9000
// §9.4; see recovery.State.AbandonInFlight). A server that followed a NAT
// rebinding would otherwise wait for a probe timeout, a second with the
// RTT estimate reset, before its fresh window, full of packets sent into
// the forgotten mapping, let it send again; a NAT that moves the client
// every second would move it again first.
func (c *Conn) migrate(now mono.Time) {
	pr := c.path.probe
	c.path.probe = nil
	oldPeer, oldLocal := c.path.peer, c.path.local
	c.path.peer, c.path.local = pr.peer, pr.local
	c.path.validated = true
	c.path.bytesRecv, c.path.bytesSent = pr.recvd, pr.sent
	if pr.client {
		c.cids.switchRemote(c, pr.dcidSeq)
	}
	change := changeBetween(oldPeer, oldLocal, pr.peer, pr.local)
	if change.addr {
		c.loss.OnPathChanged(now, true)
		c.resetMTU()
	}
	c.loss.AbandonInFlight(now, recovery.SpaceApp, c.onAbandoned)
	c.stats.PathChanges++
	if c.events == nil {
		return
	}
	if change.local {
		c.events.LocalAddressChanged(pr.local)
	}
	if change.peer {
		c.events.PeerAddressChanged(pr.peer)
	}
}

// onAbandoned sends again the frames of a packet left in flight on the old
// path. It is not a loss on the new path: the path MTU's black-hole
// detection does not count it.
func (c *Conn) onAbandoned(p *recovery.Sent) {
	if c.qlog != nil {
		c.traceLost(p)
	}
	c.stats.SendSuspectedLostPackets++
	c.replayLost(p, false)
}

// usePreferredAddress starts a client's move to the server's preferred
// address (RFC 9000 §9.6.1) once the handshake is confirmed: the address
// of the current path's family is validated with the connection ID the
// server gave for it (sequence number 1), and the connection moves there
// when it answers. disable_active_migration does not forbid it.
func (c *Conn) usePreferredAddress(now mono.Time) {
	if c.side != Client || c.peerParams == nil || !c.peerParams.HasPreferredAddress || c.path.probe != nil {
		return
	}
	pa := &c.peerParams.PreferredAddress
	addr := pa.IPv4
	if c.path.peer.Addr().Is6() {
		addr = pa.IPv6
	}
	if !addr.IsValid() || addr.Addr().IsUnspecified() || addr.Port() == 0 || addr == c.path.peer {
		return
	}
	if c.cids.remoteBySeq(1) == nil {
		return
	}
	pr := c.startProbe(now, addr, c.path.local)
	pr.client = true
	pr.dcidSeq = 1
}

// onPathTimer retransmits a PATH_CHALLENGE or gives the validation up.
func (c *Conn) onPathTimer(now mono.Time) {
	pr := c.path.probe
	c.timers[timerPath] = 0
	if pr == nil {
		return
	}
	if pr.expired(now) {
		c.path.probe = nil
		c.stats.PathValidationFailures++
		return
	}
	c.armPathTimer()
}

// armPathTimer sets the path timer to the next challenge or the deadline.
func (c *Conn) armPathTimer() {
	pr := c.path.probe
	c.timers[timerPath] = pr.timer()
}

// flushProbes sends what must go on paths other than the current one: the
// PATH_CHALLENGE of the path under validation and PATH_RESPONSEs to
// challenges that arrived on other paths (RFC 9000 §8.2.2).
func (c *Conn) flushProbes(now mono.Time) {
	if c.app.write == nil || c.life.closing() {
		return
	}
	pr := c.path.probe
	if pr != nil && pr.challengeDue(now) {
		c.sendProbe(now, pr.peer, pr.local, true)
		pr.onChallengeSent(now, c.loss.PTO())
		c.armPathTimer()
	}
	for len(c.path.responses) > 0 {
		r := c.path.responses[0]
		if c.path.is(r.peer, r.local) {
			return // goes in the regular flush
		}
		n := len(c.path.responses)
		c.sendProbe(now, r.peer, r.local, false)
		if len(c.path.responses) == n {
			// No room under the path's limit: the challenge goes
			// unanswered rather than keeping the loop here.
			c.path.responses = c.path.responses[:copy(c.path.responses, c.path.responses[1:])]
		}
	}
}

// sendProbe sends one datagram on the path (peer, local) with the probe's
// PATH_CHALLENGE if challenge is set and the PATH_RESPONSEs due there,
// padded to 1200 bytes as the anti-amplification limit allows.
func (c *Conn) sendProbe(now mono.Time, peer, local netip.AddrPort, challenge bool) {
	pr := c.path.probe
	size := minChallengeDatagram
	switch {
	case c.side == Server && pr != nil && pr.peer == peer:
		size = min(size, pr.sendBudget())
	case peer != c.path.peer && (pr == nil || pr.peer != peer):
		// Responses to an address that is neither validated nor being
		// validated: at most three times the datagrams that carried
		// their challenges (RFC 9000 §8.2.2, §9.3).
		size = min(size, amplificationFactor*c.path.responseBytes(peer, local))
	}
	if size < minPacketRoom {
		return
	}
	dcid := c.cids.dcid()
	if pr != nil && pr.client {
		if r := c.cids.remoteBySeq(pr.dcidSeq); r != nil {
			dcid = r.id()
			r.used = true
		}
	}
	b := c.getSendScratch()
	defer c.putSendScratch()
	b.StartDatagram(size)
	s := c.spaces[recovery.SpaceApp]
	pn := s.nextPN
	if !b.StartShort(dcid, pn, s.largestAcked, packet.ShortBits{KeyPhase: c.app.phase}, c.app.write) {
		return
	}
	w := frameWriter{c: c, b: b, log: c.tx.log[:0], sp: recovery.SpaceApp, pt: wire.Packet1RTT, now: now}
	if challenge {
		w.b.Buf = wire.AppendPathChallenge(w.b.Buf, pr.newChallenge())
		w.ackEliciting = true
	}
	c.path.writeResponses(&w, peer, local)
	b.Finish()
	s.nextPN++
	_, n := b.EndDatagram(size)
	rec := c.loss.NewSent()
	rec.PN, rec.Space, rec.Size = pn, recovery.SpaceApp, n
	rec.AckEliciting, rec.InFlight = true, true
	c.app.onSealed(pn, n)
	c.loss.OnPacketSent(now, rec)
	if pr != nil && pr.peer == peer {
		pr.onSent(n)
	}
	c.tx.out = OutBatch{Buf: b.Buf[:n], Addr: peer, Local: local}
	c.host.Send(&c.tx.out)
	c.stats.SendTotalPackets++
	c.stats.SendTotalBytes += uint64(n)
	if len(c.path.responses) == 0 {
		c.flags &^= flagPathResponse
	}
}
