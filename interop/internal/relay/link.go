package relay

// The link model: one direction's bottleneck queue, delay line, loss and
// corruption.

import (
	"math/rand/v2"
	"sync"
	"time"
)

// link is one direction's bottleneck and delay line.
type link struct {
	imp      Impairment
	mu       sync.Mutex
	rng      *rand.Rand
	index    int
	lossLeft int // datagrams still to drop in the current loss burst
	corrLeft int
	lossRun  int // datagrams lost in a row (LossRunMax)
	corrRun  int
	queue    []time.Time // departure times of datagrams still in the queue
	nextFree time.Time   // when the bottleneck is free
	out      chan delivery
}

type delivery struct {
	at   time.Time
	data []byte
	ecn  uint8
	send func([]byte, uint8)
}

func newLink(imp Impairment, seed uint64) *link {
	if imp.Queue == 0 {
		imp.Queue = 25
	}
	return &link{imp: imp, rng: rand.New(rand.NewPCG(seed, seed^0xda942042e4dd58b5)), out: make(chan delivery, 1<<14)}
}

// admit decides a datagram's fate and, unless dropped, schedules it.
func (l *link) admit(now time.Time, data []byte, ecn uint8, send func([]byte, uint8)) (Fate, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.index++
	for _, i := range l.imp.Drop {
		if i == l.index {
			return DroppedIndex, time.Time{}
		}
	}
	if l.hit(&l.lossLeft, &l.lossRun, l.imp.LossRate, l.imp.LossBurst, l.imp.LossRunMax) {
		return Lost, time.Time{}
	}
	fate := Delivered
	if l.imp.CorruptRunMax > 0 && isVersionNegotiation(data) {
		l.corrRun = 0
	} else if l.hit(&l.corrLeft, &l.corrRun, l.imp.CorruptRate, l.imp.CorruptBurst, l.imp.CorruptRunMax) && len(data) > 0 {
		fate = Corrupted
		data[l.corruptAt(len(data))] ^= byte(1 + l.rng.IntN(255))
	}
	depart := now
	if l.imp.Rate > 0 {
		for len(l.queue) > 0 && !l.queue[0].After(now) {
			l.queue = l.queue[1:]
		}
		if len(l.queue) >= l.imp.Queue {
			return QueueFull, time.Time{}
		}
		if l.nextFree.After(now) {
			depart = l.nextFree
		}
		// On the wire a datagram also carries IP and UDP headers.
		bits := int64(len(data)+28) * 8
		depart = depart.Add(time.Duration(bits * int64(time.Second) / l.imp.Rate))
		l.nextFree = depart
		l.queue = append(l.queue, depart)
	}
	at := depart.Add(l.imp.Delay)
	select {
	case l.out <- delivery{at: at, data: data, ecn: ecn, send: send}:
	default:
		return QueueFull, time.Time{}
	}
	return fate, at
}

// corruptAt picks the byte to change: anywhere, or with the runner's
// model one of the first 51, which often hits the QUIC header.
func (l *link) corruptAt(n int) int {
	if l.imp.CorruptRunMax > 0 {
		n = min(n, 51)
	}
	return l.rng.IntN(n)
}

// isVersionNegotiation reports a long header with version 0, which the
// runner's model never corrupts (a client ignores one that lists the
// version it offered, so corrupting it would test nothing).
func isVersionNegotiation(b []byte) bool {
	return len(b) >= 5 && b[0]&0x80 != 0 && b[1]|b[2]|b[3]|b[4] == 0
}

// hit decides whether the next datagram is lost (or corrupted): by the
// runner's capped runs when runMax is set, else by bursts.
func (l *link) hit(left, run *int, rate float64, maxBurst, runMax int) bool {
	if runMax > 0 {
		return l.capped(run, rate, runMax)
	}
	return l.burst(left, rate, maxBurst)
}

// capped is the runner's error model: independent hits at rate, but after
// runMax hits in a row (counted in run) the next datagram passes.
func (l *link) capped(run *int, rate float64, runMax int) bool {
	if *run >= runMax || l.rng.Float64() >= rate {
		*run = 0
		return false
	}
	*run++
	return true
}

// burst decides whether the next datagram is hit by a bursty event of
// long-run rate with bursts of 1 to maxBurst datagrams.
func (l *link) burst(left *int, rate float64, maxBurst int) bool {
	if *left > 0 {
		*left--
		return true
	}
	if rate <= 0 {
		return false
	}
	if maxBurst < 1 {
		maxBurst = 1
	}
	// A burst start consumes mean m datagrams; starting with probability
	// p per datagram not in a burst gives a long-run rate of
	// p*m / (1 + p*(m-1)), solved here for p.
	m := float64(1+maxBurst) / 2
	p := rate / (m - rate*(m-1))
	if l.rng.Float64() >= p {
		return false
	}
	*left = l.rng.IntN(maxBurst)
	return true
}

// deliverLoop hands datagrams on at their delivery times, which are
// non-decreasing per direction, until done; then it discards the rest.
func (l *link) deliverLoop(done <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for d := range l.out {
		if wait := time.Until(d.at); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-done:
				continue
			}
		}
		d.send(d.data, d.ecn)
	}
}
