package endpoint

import (
	"hash/maphash"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// recentSlots is the size of the table of peers recently sent a
// stateless packet. A flood of n packets per second with a spacing of d
// keeps about n·d peers in it: 16384 slots hold a 100ms window of a
// 160,000/s flood with few collisions, in 128 KiB.
const recentSlots = 1 << 14

// recentPeers spaces the stateless packets sent to one remote address
// (MsQuic's StatelessOperationExpiration): a peer answered less than the
// spacing ago is not answered again, so spoofed Initials cannot make us
// reflect more than one small packet per spacing at any victim.
//
// It is a direct-mapped, lock-free table of 8-byte slots: 32 bits of a
// keyed hash of the address and port, and the time of the last answer in
// milliseconds. A peer hashing to a slot another peer holds takes it over,
// so memory stays fixed whatever the number of sources; the hash key is
// random, so an attacker cannot choose addresses that evict a victim.
type recentPeers struct {
	seed  maphash.Seed
	slots [recentSlots]atomic.Uint64
}

func newRecentPeers() *recentPeers {
	return &recentPeers{seed: maphash.MakeSeed()}
}

// allow reports whether peer may be sent a stateless packet at now given
// the spacing, and if so records the send. A zero spacing allows every
// packet.
func (r *recentPeers) allow(peer netip.AddrPort, now mono.Time, spacing time.Duration) bool {
	if spacing <= 0 {
		return true
	}
	var key [18]byte
	a := peer.Addr().Unmap().As16()
	copy(key[:], a[:])
	key[16], key[17] = byte(peer.Port()>>8), byte(peer.Port())
	sum := maphash.Bytes(r.seed, key[:])
	slot := &r.slots[sum%recentSlots]
	tag := sum >> 32
	ms := uint64(uint32(int64(now) / int64(time.Millisecond)))
	for {
		old := slot.Load()
		if old>>32 == tag && old != 0 {
			// uint32 arithmetic: the millisecond clock wraps every 49 days.
			if elapsed := uint32(ms) - uint32(old); time.Duration(elapsed)*time.Millisecond < spacing {
				return false
			}
		}
		if slot.CompareAndSwap(old, tag<<32|ms) {
			return true
		}
	}
}
