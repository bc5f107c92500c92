package conn

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/protect"
)

// appKeys holds the 1-RTT keys and their key phases (RFC 9001 §6).
// The read and write keys always advance together: generation n is read
// with readCur and written with write, and readNext/writeNext hold
// generation n+1, derived ahead so that a peer-initiated update costs no
// derivation on the receive path. readPrev keeps generation n-1 for a while
// to open reordered packets.
type appKeys struct {
	readPrev, readCur, readNext *protect.Keys
	write, writeNext            *protect.Keys

	phase bool // key phase bit of the current generation

	// recvFirstPN is the lowest packet number received in the current
	// phase, -1 until one arrives.
	recvFirstPN int64
	// sentFirstPN is the first packet number sent in the current phase,
	// -1 until one is sent; an update may not be started until it is
	// acknowledged (RFC 9001 §6.1).
	sentFirstPN int64
	sentAcked   bool
	// awaitingPeer is set when we started an update and have not yet
	// received a packet in the new phase; until then packets in the old
	// phase are opened with readPrev.
	awaitingPeer bool
	// prevDiscardAt is when readPrev is dropped (RFC 9001 §6.5), zero
	// while no packet with the current keys has been received.
	prevDiscardAt mono.Time

	packetsSealed uint64 // packets sealed with the current generation
	bytesSealed   uint64
	failedOpens   uint64 // authentication failures with any 1-RTT key
	updates       uint32 // completed key updates, for statistics
}

func (k *appKeys) installRead(r *protect.Keys) {
	k.readCur = r
	k.recvFirstPN = -1
}

func (k *appKeys) installWrite(w *protect.Keys) {
	k.write = w
	k.sentFirstPN = -1
}

// readKeys picks the keys to open a 1-RTT packet with phase bit phase and
// packet number pn, deriving the next generation on demand.
func (k *appKeys) readKeys(phase bool, pn int64) (keys *protect.Keys, next bool) {
	if phase == k.phase {
		return k.readCur, false
	}
	if k.awaitingPeer || (k.recvFirstPN >= 0 && pn < k.recvFirstPN) {
		return k.readPrev, false
	}
	if k.readNext == nil {
		n, err := k.readCur.Next()
		if err != nil {
			return nil, false
		}
		k.readNext = n
	}
	return k.readNext, true
}

// onOpened records a packet that authenticated with the keys readKeys
// chose; next says they were the next generation, which means the peer
// started a key update.
func (c *Conn) onOpened(now mono.Time, phase bool, pn int64, next bool) {
	k := &c.app
	if next {
		// The peer started a key update (RFC 9001 §6.2): follow it.
		c.rotateKeys()
		c.traceKeyUpdate(true)
		k.recvFirstPN = pn
		c.keepPrevReadKeys(now)
		return
	}
	if phase == k.phase {
		if k.awaitingPeer {
			// The peer answered our update.
			k.awaitingPeer = false
			c.keepPrevReadKeys(now)
		}
		if k.recvFirstPN < 0 || pn < k.recvFirstPN {
			k.recvFirstPN = pn
		}
	}
}

// keepPrevReadKeys schedules the discarding of the previous read keys
// three PTOs after the first packet protected with the current ones was
// received (RFC 9001 §6.5). Until such a packet arrives, the previous keys
// are all the peer may be using: an update we started keeps them, however
// long the peer takes to answer.
func (c *Conn) keepPrevReadKeys(now mono.Time) {
	k := &c.app
	k.prevDiscardAt = now.Add(3 * c.loss.PTO())
	c.timers[timerKeyDiscard] = k.prevDiscardAt
}

// rotateKeys moves both directions to the next key generation. The
// previous read keys are kept until keepPrevReadKeys schedules their end.
func (c *Conn) rotateKeys() {
	k := &c.app
	if k.readNext == nil {
		n, err := k.readCur.Next()
		if err != nil {
			return
		}
		k.readNext = n
	}
	if k.writeNext == nil {
		n, err := k.write.Next()
		if err != nil {
			return
		}
		k.writeNext = n
	}
	k.readPrev, k.readCur, k.readNext = k.readCur, k.readNext, nil
	k.write, k.writeNext = k.writeNext, nil
	k.phase = !k.phase
	k.recvFirstPN = -1
	k.sentFirstPN = -1
	k.sentAcked = false
	k.packetsSealed, k.bytesSealed = 0, 0
	k.updates++
	k.prevDiscardAt = 0
	c.timers[timerKeyDiscard] = 0
}

// maybeStartKeyUpdate starts a key update when the current keys have
// protected MaxBytesPerKey bytes or approach the cipher's confidentiality
// limit (RFC 9001 §6.6). Updates wait for handshake confirmation and for
// the acknowledgment of a packet of the current phase (§6.1).
func (c *Conn) maybeStartKeyUpdate(now mono.Time) {
	k := &c.app
	if !c.life.handshakeConfirmed || k.write == nil || !k.sentAcked {
		return
	}
	limit := protect.ConfidentialityLimit(k.write.Suite())
	if k.bytesSealed < c.set.MaxBytesPerKey && k.packetsSealed < limit-limit/8 {
		return
	}
	c.rotateKeys()
	c.traceKeyUpdate(false)
	k.awaitingPeer = true
}

// forceKeyUpdate starts a key update now if it is allowed; tests and the
// public API's key-update request use it. Any update but the first waits
// for the acknowledgment of a packet sent with the current keys
// (RFC 9001 §6.1), even when none was sent yet: otherwise two updates in a
// row, or one right after following the peer's, put us two generations
// ahead of a peer that can then read nothing we send.
func (c *Conn) forceKeyUpdate(now mono.Time) bool {
	k := &c.app
	if !c.life.handshakeConfirmed || k.write == nil || !k.sentAcked && k.updates > 0 {
		return false
	}
	c.rotateKeys()
	c.traceKeyUpdate(false)
	k.awaitingPeer = true
	return true
}

// onSealed accounts a 1-RTT packet sealed with the current keys.
func (k *appKeys) onSealed(pn int64, size int) {
	if k.sentFirstPN < 0 {
		k.sentFirstPN = pn
	}
	k.packetsSealed++
	k.bytesSealed += uint64(size)
}

// onAcked notes the acknowledgment of a 1-RTT packet.
func (k *appKeys) onAcked(pn int64) {
	if k.sentFirstPN >= 0 && pn >= k.sentFirstPN {
		k.sentAcked = true
	}
}

// onOpenFailed counts an authentication failure and reports whether the
// integrity limit was reached (RFC 9001 §6.6).
func (k *appKeys) onOpenFailed() bool {
	k.failedOpens++
	return k.readCur != nil && k.failedOpens >= protect.IntegrityLimit(k.readCur.Suite())
}

// discardPrev drops the previous read keys once their time is up.
func (k *appKeys) discardPrev(now mono.Time) {
	if !k.prevDiscardAt.IsZero() && now >= k.prevDiscardAt {
		k.readPrev = nil
		k.prevDiscardAt = 0
	}
}

// zeroRTTKeys are the 0-RTT keys (RFC 9001 §4.6).
type zeroRTTKeys struct {
	read, write *protect.Keys
	rejected    bool
}
