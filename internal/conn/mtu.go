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
//
// The search itself is the pure state machine pmtud (pmtud.go); this file
// feeds it the connection's events and applies its decisions to the path,
// the congestion controller and the raise timer.

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

// pmtudLimits returns the search's limits from the settings and the
// peer's max_udp_payload_size.
func (c *Conn) pmtudLimits() pmtudLimits {
	l := pmtudLimits{
		base:       c.minDatagramSize(),
		ceiling:    min(c.set.MaximumMTU-udpOverhead, c.path.peerMaxUDPPayload),
		maxProbes:  c.set.MTUDiscoveryMissingProbeCount,
		raiseAfter: c.set.MTUDiscoverySearchCompleteTimeout,
	}
	if l.maxProbes <= 0 {
		l.maxProbes = defaultMTUMissingProbes
	}
	if l.raiseAfter <= 0 {
		l.raiseAfter = defaultMTUSearchCompleteTime
	}
	return l
}

// setPathMTU applies a datagram size DPLPMTUD decided, and its raise
// timer.
func (c *Conn) setPathMTU(size int) {
	c.timers[timerMTURaise] = c.mtu.raiseAt
	if size != c.path.mtu {
		c.path.mtu = size
		c.loss.SetMaxDatagramSize(c.path.maxDatagramSize())
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
	if !c.mtu.wanted || !c.life.handshakeConfirmed || c.life.closing() || c.app.write == nil {
		return false
	}
	size := c.mtu.due(now, c.path.mtu, c.pmtudLimits())
	c.setPathMTU(c.path.mtu)
	if size == 0 {
		return false
	}
	if c.loss.ProbesNeeded(recovery.SpaceApp) > 0 || c.loss.CongestionWindowAvailable() < size {
		return false
	}
	if next := c.loss.NextSendTime(now); !next.IsZero() && next > now {
		c.timers[timerPacing] = next
		return false
	}
	return true
}

// buildMTUProbe writes a probe datagram of the probed size into b and
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
	m.onProbeSent()
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

// resetMTU returns the path to the minimum datagram size and forgets the
// search (the connection moved to a new path).
func (c *Conn) resetMTU() {
	c.mtu.reset()
	c.timers[timerMTURaise] = 0
	c.path.mtu = c.minDatagramSize()
	c.loss.SetMaxDatagramSize(c.path.maxDatagramSize())
}

// minDatagramSize is the datagram size every path is assumed to carry.
func (c *Conn) minDatagramSize() int {
	return max(c.set.MinimumMTU-udpOverhead, minInitialDatagram)
}

// onSizedAcked and onSizedLost feed the fate of packets other than probes
// to black hole detection.
func (c *Conn) onSizedAcked(p *recovery.Sent) {
	if !p.PMTUProbe {
		c.mtu.onLargeAcked(p.Size, c.pmtudLimits())
	}
}

func (c *Conn) onSizedLost(p *recovery.Sent) {
	if !p.PMTUProbe {
		c.setPathMTU(c.mtu.onLargeLost(c.now, c.path.mtu, p.Size, c.pmtudLimits()))
	}
}

// onMTUProbeAcked records that the path carried a probe of size bytes sent
// in path generation gen.
func (c *Conn) onMTUProbeAcked(size, gen int) {
	c.setPathMTU(c.mtu.onProbeAcked(c.now, c.path.mtu, size, gen, c.pmtudLimits()))
}

// onMTUProbeLost records the loss of a probe of size bytes sent in path
// generation gen.
func (c *Conn) onMTUProbeLost(size, gen int) {
	c.mtu.onProbeLost(c.now, c.path.mtu, size, gen, c.pmtudLimits())
	c.setPathMTU(c.path.mtu)
}

// onMTURaiseTimer restarts a search that ended below the ceiling.
func (c *Conn) onMTURaiseTimer(now mono.Time) {
	c.mtu.onRaiseTimer(now, c.path.mtu, c.pmtudLimits())
	c.setPathMTU(c.path.mtu)
}
