package recovery

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// simNet is a simulated path on the synthetic clock, shared by one or more
// flows: a FIFO bottleneck of a given rate with a drop-tail queue, random
// loss before the bottleneck, optional CE marking above a queue length,
// and a fixed one-way delay each way. Everything is deterministic.
type simNet struct {
	t   *testing.T
	now mono.Time

	rate  int64         // bottleneck, bits per second
	owd   time.Duration // one-way delay
	queue int           // drop-tail queue, packets
	loss  float64       // random loss before the bottleneck
	// burst, when above 1, makes the losses come in runs of 1 to burst
	// packets (uniformly), at the event rate that keeps the loss rate.
	burst    int
	lossLeft int // packets the current run still drops
	ceAt     int // CE-mark packets that find at least this many queued (0: never)
	rng      *rand.Rand

	free   mono.Time   // when the bottleneck is free
	queued []mono.Time // departure times of queued packets
	flows  []*pathSim
}

// pathSim is one flow over a simNet: a bulk sender driving a State that
// always has data, and a receiver that acknowledges every packet at once
// (one ACK frame per packet, so losses are detected by the packet
// threshold).
type pathSim struct {
	*simNet
	l State

	size    int
	nextPN  int64
	pending []simAck  // ACK frames on their way back, in arrival order
	counts  ECNCounts // the receiver's counts once every packet in flight arrived
	rec     nopHandler

	// appLimitedUntil, when set, makes the sender send nothing before it
	// (it tells the State it is application-limited).
	appLimitedUntil mono.Time
	// onAck, when set, runs after every ACK frame.
	onAck func()

	delivered int64 // bytes that reached the receiver
	dropped   int
}

type simAck struct {
	at     mono.Time
	pn     int64
	counts ECNCounts // the receiver's counts once this packet arrived
}

// newSharedPath returns a path without flows.
func newSharedPath(t *testing.T, rate int64, rtt time.Duration, queue int) *simNet {
	return &simNet{t: t, now: t0, rate: rate, owd: rtt / 2, queue: queue, rng: rand.New(rand.NewPCG(1, 2))}
}

// newPathSim returns a path with one flow using cfg.
func newPathSim(t *testing.T, cfg Config, rate int64, rtt time.Duration, queue int) *pathSim {
	t.Helper()
	return newSharedPath(t, rate, rtt, queue).addFlow(cfg)
}

// addFlow starts a flow using cfg now.
func (n *simNet) addFlow(cfg Config) *pathSim {
	s := &pathSim{simNet: n, size: 1200}
	if cfg.InitialRTT == 0 {
		cfg.InitialRTT = 2 * n.owd
	}
	s.l.Init(cfg, true)
	s.l.OnHandshakeConfirmed()
	n.flows = append(n.flows, s)
	return s
}

// bdpPackets is the path's bandwidth-delay product in packets of 1200
// bytes.
func (n *simNet) bdpPackets() int {
	return int(float64(n.rate) / 8 * (2 * n.owd).Seconds() / 1200)
}

// linkBytes is the bottleneck rate in bytes per second.
func (n *simNet) linkBytes() float64 { return float64(n.rate) / 8 }

// send sends one packet of s now through the path.
func (s *pathSim) send() {
	p := s.l.NewSent()
	p.PN, p.Space, p.Size = s.nextPN, SpaceApp, s.size
	p.AckEliciting, p.InFlight = true, true
	p.ECT = s.l.ECNMarking()
	s.nextPN++
	s.l.OnPacketSent(s.now, p)
	n := s.simNet
	if n.lose() {
		s.dropped++
		return
	}
	for len(n.queued) > 0 && n.queued[0] <= n.now {
		n.queued = n.queued[1:]
	}
	if len(n.queued) >= n.queue {
		s.dropped++
		return
	}
	ce := p.ECT && n.ceAt > 0 && len(n.queued) >= n.ceAt
	depart := max(n.now, n.free).Add(time.Duration(int64(s.size) * 8 * int64(time.Second) / n.rate))
	n.free = depart
	n.queued = append(n.queued, depart)
	if ce {
		s.counts.CE++
	} else if p.ECT {
		s.counts.ECT0++
	}
	s.pending = append(s.pending, simAck{at: depart.Add(2 * n.owd), pn: p.PN, counts: s.counts})
	s.delivered += int64(s.size)
}

// lose decides whether the next packet is lost at random.
func (n *simNet) lose() bool {
	switch {
	case n.lossLeft > 0:
		n.lossLeft--
		return true
	case n.loss <= 0:
		return false
	case n.burst <= 1:
		return n.rng.Float64() < n.loss
	}
	mean := float64(n.burst+1) / 2
	if n.rng.Float64() < n.loss/mean {
		n.lossLeft = n.rng.IntN(n.burst)
		return true
	}
	return false
}

// sendAllowed sends what the window, the pacer and the probes allow now.
func (s *pathSim) sendAllowed() {
	for s.l.ProbesNeeded(SpaceApp) > 0 {
		s.send()
	}
	if s.now < s.appLimitedUntil {
		s.l.OnAppLimited()
		return
	}
	for s.l.CongestionWindowAvailable() >= s.size && s.l.BurstPackets(s.now) > 0 {
		s.send()
	}
}

// nextEvent returns the flow's next event time, no later than end.
func (s *pathSim) nextEvent(end mono.Time) mono.Time {
	next := end
	if len(s.pending) > 0 {
		next = min(next, s.pending[0].at)
	}
	if dl := s.l.LossDetectionDeadline(); dl != 0 {
		next = min(next, max(dl, s.now))
	}
	if s.now < s.appLimitedUntil {
		next = min(next, s.appLimitedUntil)
	} else if s.l.CongestionWindowAvailable() >= s.size {
		if nt := s.l.NextSendTime(s.now); nt > s.now {
			next = min(next, nt)
		}
	}
	return next
}

// handleEvents delivers the ACK frames due now and fires the loss timer.
func (s *pathSim) handleEvents() {
	for len(s.pending) > 0 && s.pending[0].at <= s.now {
		a := s.pending[0]
		s.pending = s.pending[1:]
		var ecn *ECNCounts
		if a.counts != (ECNCounts{}) {
			ecn = &a.counts
		}
		r := [1]AckRange{{Smallest: a.pn, Largest: a.pn}}
		if err := s.l.OnAckReceived(s.now, SpaceApp, r[:], 0, ecn, &s.rec); err != nil {
			s.t.Fatal(err)
		}
		if s.onAck != nil {
			s.onAck()
		}
	}
	if dl := s.l.LossDetectionDeadline(); dl != 0 && dl <= s.now {
		s.l.OnLossDetectionTimeout(s.now, &s.rec)
	}
}

// run simulates d of time for every flow.
func (n *simNet) run(d time.Duration) {
	n.t.Helper()
	end := n.now.Add(d)
	for n.now < end {
		next := end
		for _, s := range n.flows {
			s.sendAllowed()
			next = min(next, s.nextEvent(end))
		}
		n.now = max(next, n.now)
		for _, s := range n.flows {
			s.handleEvents()
		}
	}
}

// goodput returns the bytes per second of s that reached the receiver
// during d of simulated time.
func (s *pathSim) goodput(d time.Duration) float64 {
	before := s.delivered
	s.run(d)
	return float64(s.delivered-before) / d.Seconds()
}
