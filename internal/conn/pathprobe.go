package conn

import (
	"crypto/rand"
	"math"
	"net/netip"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// pathProbe is the bookkeeping of one path validation (RFC 9000 §8.2):
// the path being validated, the challenges sent on it, when the next one
// is due, when validation gives up, and how much may be sent there before
// the peer's address is validated. It reads no clock and sends nothing:
// the connection tells it the time and what happened, and asks it what is
// due (migration.go), so every rule has a table test.
type pathProbe struct {
	peer, local netip.AddrPort
	// challenges are the data of the PATH_CHALLENGE frames sent, the
	// latest maxChallenges of them; each frame has new data (RFC 9000
	// §8.2.1, §13.3) and a response to any of them validates the path.
	challenges  [maxChallenges][8]byte
	nChallenges int
	client      bool   // we move our local socket (active migration)
	dcidSeq     uint64 // client: the peer's connection ID used on the new path
	attempts    int
	next        mono.Time // next PATH_CHALLENGE
	deadline    mono.Time // validation fails after this
	recvd, sent uint64    // anti-amplification accounting on the new path
}

// maxChallenges is how many of a probe's latest PATH_CHALLENGE payloads a
// PATH_RESPONSE may answer; a validation sends about five in its time.
const maxChallenges = 8

// maxChallengeBackoff caps the exponent of the PTO multiple between two
// PATH_CHALLENGEs of one validation.
const maxChallengeBackoff = 6

// newPathProbe starts validating the path (peer, local) at now: the first
// challenge is due at once and validation fails timeout later.
func newPathProbe(now mono.Time, peer, local netip.AddrPort, timeout time.Duration) *pathProbe {
	return &pathProbe{peer: peer, local: local, next: now, deadline: now.Add(timeout)}
}

// on reports whether (peer, local) is the path being validated.
func (pr *pathProbe) on(peer, local netip.AddrPort) bool {
	return pr.peer == peer && sameLocal(pr.local, local)
}

// challengeDue reports whether a PATH_CHALLENGE is to be sent at now.
func (pr *pathProbe) challengeDue(now mono.Time) bool { return now >= pr.next }

// expired reports whether validation has failed by now.
func (pr *pathProbe) expired(now mono.Time) bool { return now >= pr.deadline }

// timer returns when the probe next needs the connection: the next
// challenge or the deadline, whichever is first.
func (pr *pathProbe) timer() mono.Time { return mono.Min(pr.next, pr.deadline) }

// onChallengeSent records a PATH_CHALLENGE sent at now: the next one is
// due pto later, doubled with each attempt (RFC 9000 §8.2.1 leaves the
// schedule to the endpoint; this is the PTO backoff of RFC 9002 §6.2.1).
func (pr *pathProbe) onChallengeSent(now mono.Time, pto time.Duration) {
	pr.attempts++
	pr.next = now.Add(pto << min(pr.attempts, maxChallengeBackoff))
}

// newChallenge returns fresh unpredictable data for the next PATH_CHALLENGE
// and remembers it.
func (pr *pathProbe) newChallenge() [8]byte {
	d := &pr.challenges[pr.nChallenges%maxChallenges]
	rand.Read(d[:])
	pr.nChallenges++
	return *d
}

// answers reports whether data is the payload of one of the latest
// maxChallenges challenges sent.
func (pr *pathProbe) answers(data [8]byte) bool {
	for i := range min(pr.nChallenges, maxChallenges) {
		if pr.challenges[i] == data {
			return true
		}
	}
	return false
}

// onReceived and onSent count the bytes of a datagram that arrived from or
// went to the path being validated.
func (pr *pathProbe) onReceived(n int) { pr.recvd += uint64(n) }
func (pr *pathProbe) onSent(n int)     { pr.sent += uint64(n) }

// sendBudget returns how many bytes a server may still send on the path
// before the peer's address there is validated: three times what arrived
// from it, less what it sent there (RFC 9000 §8.2.1, §9.3).
func (pr *pathProbe) sendBudget() int {
	limit := amplificationFactor * pr.recvd
	return int(min(limit-min(pr.sent, limit), math.MaxInt32))
}

// pathChange is what a move from one path to another changed, which
// decides the congestion and MTU response and the events raised.
type pathChange struct {
	// addr is set when an IP address changed (not only a port): the new
	// path is a different network path, so congestion control, the RTT
	// estimate and the path MTU start afresh (RFC 9000 §9.4).
	addr bool
	// local and peer are set when the application can see that our
	// socket address or the peer's address changed.
	local, peer bool
}

// changeBetween returns what moving from the path (oldPeer, oldLocal) to
// (newPeer, newLocal) changes. A local address that is the wildcard a
// socket was bound to matches any address on the same port.
func changeBetween(oldPeer, oldLocal, newPeer, newLocal netip.AddrPort) pathChange {
	oldWild := !oldLocal.Addr().IsValid() || oldLocal.Addr().IsUnspecified()
	localAddr := oldLocal.Addr() != newLocal.Addr() && !oldWild
	return pathChange{
		addr:  oldPeer.Addr() != newPeer.Addr() || localAddr,
		local: !sameLocal(oldLocal, newLocal) || localAddr,
		peer:  oldPeer != newPeer,
	}
}
