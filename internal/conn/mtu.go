package conn

import (
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Datagram packetization layer PMTU discovery (DPLPMTUD, RFC 8899 applied to
// QUIC by RFC 9000 §14.3).
//
// The search starts once the handshake is confirmed and the connection has
// sent a datagram of the current maximum size, that is once it carries
// data that larger datagrams would help; a connection that only exchanges
// small messages, or sits idle, never probes. It goes from the path's
// current datagram size (Settings.MinimumMTU less the IP and UDP headers)
// towards the ceiling: Settings.MaximumMTU less the headers, capped by the
// peer's max_udp_payload_size (RFC 9000 §18.2). The first probe tries the
// ceiling itself, which most paths carry; if it fails the search halves the
// interval between the largest size acknowledged and the smallest size
// that failed until it is narrower than mtuSearchGranularity.
//
// A probe is a datagram of exactly the probed size holding one 1-RTT packet
// with PING and PADDING only, so its loss costs no retransmission. Only one
// probe is outstanding at a time. It is sent when the congestion window has
// room for it and counts in bytes in flight, but its loss is not a
// congestion signal (RFC 9000 §14.4, RFC 8899 §3 item 7;
// recovery.Sent.PMTUProbe). A size fails after
// Settings.MTUDiscoveryMissingProbeCount probes of it were declared lost
// (MAX_PROBES, RFC 8899 §5.1.2). When the search ends below the ceiling it
// starts again after Settings.MTUDiscoverySearchCompleteTimeout
// (PMTU_RAISE_TIMER, RFC 8899 §5.1.1).
//
// An acknowledged probe raises the path's datagram size and the congestion
// controller's maximum datagram size at once. When packets above the
// minimum size keep being lost (blackHoleLosses in a row) the size falls
// back to the minimum and the search starts over (RFC 8899 §4.3); a move
// to a new path address does the same, and acknowledgments of probes sent
// on the old path are ignored.

// Defaults for zero settings (MsQuic's).
const (
	defaultMTUMissingProbes      = 3
	defaultMTUSearchCompleteTime = 600 * time.Second
)

// blackHoleLosses is how many packets larger than the minimum datagram
// size must be lost in a row, with none of that size acknowledged in
// between, for the path to count as no longer carrying them (RFC 8899
// §4.3, black hole detection).
const blackHoleLosses = 6

// mtuSearchGranularity ends the search when the interval between the
// largest working and the smallest failed size is at most this many bytes.
const mtuSearchGranularity = 16

// mtuState is the DPLPMTUD state of the connection's path.
type mtuState struct {
	wanted  bool // a full-size datagram was sent: larger ones would help
	started bool // the search has begun
	done    bool // search complete; the raise timer may restart it

	ceiling   int // largest UDP payload size the search may reach
	failed    int // smallest size that failed, 0 if none
	probeSize int // size of the current or next probe, 0 if none
	inFlight  bool
	missing   int // probes of probeSize declared lost

	building bool // the frame writer is filling a probe packet
	gen      int  // path generation: acknowledgments of older probes are ignored
	bigLost  int  // packets above the minimum size lost in a row

	// Counters for tests and statistics.
	probesSent, probesAcked, probesLost int
}

// maxMissingProbes returns MTUDiscoveryMissingProbeCount or its default.
func (c *Conn) maxMissingProbes() int {
	if n := c.set.MTUDiscoveryMissingProbeCount; n > 0 {
		return n
	}
	return defaultMTUMissingProbes
}

// mtuSearchCompleteTimeout returns MTUDiscoverySearchCompleteTimeout or its
// default.
func (c *Conn) mtuSearchCompleteTimeout() time.Duration {
	if t := c.set.MTUDiscoverySearchCompleteTimeout; t > 0 {
		return t
	}
	return defaultMTUSearchCompleteTime
}

// mtuCeiling returns the largest UDP payload the search may probe.
func (c *Conn) mtuCeiling() int {
	return min(c.set.MaximumMTU-udpOverhead, c.path.peerMaxUDPPayload)
}

// startMTUSearch begins (or restarts) the search from the path's current
// size.
func (c *Conn) startMTUSearch() {
	m := &c.mtu
	m.started = true
	m.done = false
	m.failed = 0
	m.missing = 0
	m.ceiling = c.mtuCeiling()
	c.nextMTUProbe()
}

// nextMTUProbe chooses the next probe size, or ends the search.
func (c *Conn) nextMTUProbe() {
	m := &c.mtu
	lo := c.path.mtu
	hi := m.ceiling + 1
	if m.failed > 0 {
		hi = min(hi, m.failed)
	}
	switch {
	case hi-1 <= lo || m.failed > 0 && hi-lo <= mtuSearchGranularity:
		m.probeSize = 0
		m.done = true
		if lo < m.ceiling {
			c.timers[timerMTURaise] = c.now.Add(c.mtuSearchCompleteTimeout())
		}
	case m.failed == 0:
		m.probeSize = m.ceiling
	default:
		m.probeSize = lo + (hi-lo)/2
	}
}

// onFullSizeSent records that a datagram of the current maximum size went
// out, which starts the search once the handshake is confirmed.
func (c *Conn) onFullSizeSent() {
	if c.life.handshakeConfirmed {
		c.mtu.wanted = true
	}
}

// mtuProbeDue reports whether a probe should be sent now: the search is
// wanted, no probe is outstanding, no loss-recovery probe is owed (a PTO
// probe must not be spent on a packet the path may drop) and the
// congestion window and pacer have room for the probe.
func (c *Conn) mtuProbeDue(now mono.Time) bool {
	m := &c.mtu
	if !m.wanted || !c.life.handshakeConfirmed || c.life.closing() || c.app.write == nil {
		return false
	}
	if !m.started {
		c.startMTUSearch()
	}
	if m.done || m.inFlight || m.probeSize <= c.path.mtu {
		return false
	}
	if c.loss.ProbesNeeded(recovery.SpaceApp) > 0 || c.loss.CongestionWindowAvailable() < m.probeSize {
		return false
	}
	if next := c.loss.NextSendTime(now); !next.IsZero() && next > now {
		c.timers[timerPacing] = next
		return false
	}
	return true
}

// buildMTUProbe writes a probe datagram of m.probeSize bytes into b and
// returns its size, 0 if none could be built.
func (c *Conn) buildMTUProbe(now mono.Time, b *packet.Builder) int {
	m := &c.mtu
	b.StartDatagram(m.probeSize)
	m.building = true
	sent, _ := c.buildPacket(now, b, recovery.SpaceApp)
	m.building = false
	if !sent {
		return 0
	}
	padded, size := b.EndDatagram(m.probeSize)
	rec := c.lastSent
	c.lastSent = nil
	rec.Size += padded
	rec.PMTUProbe = true
	c.commitSent(now, rec)
	m.inFlight = true
	m.probesSent++
	return size
}

// writeMTUProbe fills the probe packet: a PING, logged with the probed size
// and the path generation so that its acknowledgment or loss finds its way
// back here.
func (w *frameWriter) writeMTUProbe() {
	w.b.Buf = wire.AppendPing(w.b.Buf)
	w.ackEliciting = true
	w.log = logEntry(w.log, logPMTUProbe, uint64(w.c.mtu.probeSize), uint64(w.c.mtu.gen))
}

// resetMTU returns to the minimum datagram size and forgets the search:
// the connection moved to a new path, whose MTU is unknown (RFC 9000
// §14.2, RFC 8899 §5.2). Probes sent on the old path no longer count. A
// new search starts with the next full-size datagram.
func (c *Conn) resetMTU() {
	m := &c.mtu
	*m = mtuState{gen: m.gen + 1, probesSent: m.probesSent, probesAcked: m.probesAcked, probesLost: m.probesLost}
	c.timers[timerMTURaise] = 0
	c.path.mtu = c.minDatagramSize()
	c.loss.SetMaxDatagramSize(c.path.maxDatagramSize())
}

// minDatagramSize is the datagram size every path is assumed to carry.
func (c *Conn) minDatagramSize() int {
	return max(c.set.MinimumMTU-udpOverhead, minInitialDatagram)
}

// onSizedAcked and onSizedLost watch the fate of packets larger than the
// minimum datagram size (probes aside): when blackHoleLosses of them are
// lost in a row while the size is above the minimum, the path MTU has
// shrunk. The size drops to the minimum and the search starts again.
func (c *Conn) onSizedAcked(p *recovery.Sent) {
	if !p.PMTUProbe && p.Size > c.minDatagramSize() {
		c.mtu.bigLost = 0
	}
}

func (c *Conn) onSizedLost(p *recovery.Sent) {
	m := &c.mtu
	if p.PMTUProbe || p.Size <= c.minDatagramSize() || c.path.mtu <= c.minDatagramSize() {
		return
	}
	if m.bigLost++; m.bigLost < blackHoleLosses {
		return
	}
	m.bigLost = 0
	c.path.mtu = c.minDatagramSize()
	c.loss.SetMaxDatagramSize(c.path.maxDatagramSize())
	if m.started {
		m.inFlight = false
		c.timers[timerMTURaise] = 0
		c.startMTUSearch()
	}
}

// onMTUProbeAcked records that the path carried a probe of size bytes sent
// in path generation gen.
func (c *Conn) onMTUProbeAcked(size, gen int) {
	m := &c.mtu
	m.probesAcked++
	if gen != m.gen {
		return
	}
	if size > c.path.mtu {
		c.path.mtu = size
		c.loss.SetMaxDatagramSize(c.path.maxDatagramSize())
	}
	if m.probeSize == size && m.inFlight {
		m.inFlight = false
		m.missing = 0
		c.nextMTUProbe()
	}
}

// onMTUProbeLost records the loss of a probe of size bytes sent in path
// generation gen; after MTUDiscoveryMissingProbeCount losses of the current
// size it has failed (RFC 8899 §5.1.2, MAX_PROBES).
func (c *Conn) onMTUProbeLost(size, gen int) {
	m := &c.mtu
	m.probesLost++
	if gen != m.gen || m.probeSize != size || !m.inFlight {
		return
	}
	m.inFlight = false
	m.missing++
	if m.missing < c.maxMissingProbes() {
		return
	}
	m.missing = 0
	if m.failed == 0 || size < m.failed {
		m.failed = size
	}
	c.nextMTUProbe()
}

// onMTURaiseTimer restarts a search that ended below the ceiling
// (PMTU_RAISE_TIMER, RFC 8899 §5.1.1).
func (c *Conn) onMTURaiseTimer() {
	c.timers[timerMTURaise] = 0
	if c.mtu.done {
		c.startMTUSearch()
	}
}
