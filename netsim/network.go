package netsim

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Link is one direction of the path between two addresses. The zero Link
// delivers every datagram at once, in order, with a 1500-byte MTU.
type Link struct {
	// Latency is the one-way propagation delay.
	Latency time.Duration
	// Jitter adds a delay drawn uniformly from [0, Jitter) to each
	// datagram, so datagrams sent less than Jitter apart may arrive out of
	// order.
	Jitter time.Duration
	// Reorder is the probability that a datagram is held back by
	// ReorderDelay (Latency if zero) on top of its delay, so that the
	// datagrams sent after it overtake it.
	Reorder      float64
	ReorderDelay time.Duration
	// Loss is the probability that a datagram is dropped: the long-run
	// fraction of datagrams lost.
	Loss float64
	// LossBurst, when above 1, makes the losses of Loss come in bursts
	// of LossBurst consecutive datagrams on average, as on a radio link
	// that fades (a two-state Gilbert model: in the bad state every
	// datagram is lost, and the state lasts a geometrically distributed
	// number of datagrams). The loss rate stays Loss. Zero or 1 means
	// independent losses.
	LossBurst float64
	// Duplicate is the probability that a datagram is delivered twice, the
	// copy with a delay of its own.
	Duplicate float64
	// Bandwidth is the link's rate in bits per second, counting the IP and
	// UDP headers; zero means unlimited. Datagrams wait in a queue while
	// the ones before them are serialised.
	Bandwidth int64
	// QueueBytes bounds that queue, the datagram being serialised
	// included: a datagram that would make it hold more is dropped (a
	// drop-tail bottleneck buffer). Zero means unbounded.
	QueueBytes int
	// MTU is the largest IP packet the link carries; a larger datagram is
	// dropped, as when the don't-fragment bit is set. Zero means 1500.
	MTU int
	// Drop, if set, sees every datagram before anything else and drops
	// those for which it returns true. It runs with the network locked: it
	// must not call the network, and d.Data is valid only during the call.
	Drop func(d Datagram) bool
}

// Datagram is a datagram on the wire, as Link.Drop sees it: From is the
// sender's external address.
type Datagram struct {
	From, To netip.AddrPort
	Data     []byte
}

// Config configures a Network.
type Config struct {
	// Seed seeds the random loss, jitter, reordering and duplication.
	// Each link draws from a generator of its own, seeded from Seed and
	// the link's two addresses, so the fate of the nth datagram on a link
	// does not depend on the traffic of other links.
	Seed uint64
	// Link is the default link, used between every pair of addresses that
	// SetLink did not configure.
	Link Link
	// RecvBuffer is the number of payload bytes a socket queues before it
	// drops datagrams, like a socket's receive buffer; zero means 4 MiB.
	RecvBuffer int
}

// Stats counts what happened to the datagrams sent on a network.
type Stats struct {
	Sent       uint64 // datagrams written by sockets
	Delivered  uint64 // datagrams queued on a receiving socket (copies included)
	Duplicated uint64 // extra copies made (Link.Duplicate)
	Reordered  uint64 // datagrams held back (Link.Reorder)
	Filtered   uint64 // dropped by Link.Drop
	Lost       uint64 // dropped at random (Link.Loss)
	TooBig     uint64 // dropped for exceeding the MTU
	QueueFull  uint64 // dropped by a full bottleneck queue (Link.QueueBytes)
	NoSocket   uint64 // arrived at an address no socket has
	RecvFull   uint64 // dropped by a full socket receive buffer
}

// Network is an in-memory network of UDP sockets. Its methods are safe for
// concurrent use.
type Network struct {
	recvBuffer int

	seed uint64

	mu     sync.Mutex
	rng    *rand.Rand // port choice
	def    Link
	links  map[linkKey]*linkState
	bound  map[netip.AddrPort]*Conn // by the address the socket was bound to
	routes map[netip.AddrPort]*Conn // by external address
	names  map[string][]netip.Addr
	stats  Stats

	events  eventQueue
	seq     uint64
	timer   *time.Timer
	timerAt time.Time
}

type linkKey struct{ from, to netip.Addr }

// linkState is a link's configuration and its queue.
type linkState struct {
	custom    bool // set by SetLink; otherwise the default link applies
	cfg       Link
	busyUntil time.Time // when the datagrams queued so far are serialised
	rng       *rand.Rand
	fading    bool // in the bad state of the LossBurst model
}

// New returns a network with no sockets.
func New(cfg Config) *Network {
	rb := cfg.RecvBuffer
	if rb <= 0 {
		rb = 4 << 20
	}
	return &Network{
		recvBuffer: rb,
		seed:       cfg.Seed,
		rng:        rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		def:        cfg.Link,
		links:      make(map[linkKey]*linkState),
		bound:      make(map[netip.AddrPort]*Conn),
		routes:     make(map[netip.AddrPort]*Conn),
		names:      make(map[string][]netip.Addr),
	}
}

// SetLink configures the link from one address to another (one
// direction; configure the other with a second call). It applies to
// datagrams sent afterwards; datagrams already queued keep their timing.
func (n *Network) SetLink(from, to netip.Addr, l Link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.link(from.Unmap(), to.Unmap())
	s.custom, s.cfg = true, l
}

// SetDefaultLink replaces the default link of Config.Link for every pair
// of addresses that SetLink did not configure.
func (n *Network) SetDefaultLink(l Link) {
	n.mu.Lock()
	n.def = l
	n.mu.Unlock()
}

// Stats returns the counters so far.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// link returns the state of the link from→to; n.mu is held.
func (n *Network) link(from, to netip.Addr) *linkState {
	k := linkKey{from, to}
	s := n.links[k]
	if s == nil {
		seed := linkSeed(n.seed, from, to)
		s = &linkState{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
		n.links[k] = s
	}
	return s
}

// linkSeed derives the seed of the link from→to from the network's
// (FNV-1a over both addresses).
func linkSeed(seed uint64, from, to netip.Addr) uint64 {
	h := uint64(14695981039346656037) ^ seed
	f, t := from.As16(), to.As16()
	for _, b := range append(f[:], t[:]...) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

// lose decides whether the link drops the next datagram at random
// (Loss, LossBurst); n.mu is held.
func (s *linkState) lose(l *Link) bool {
	if l.Loss <= 0 {
		return false
	}
	if l.LossBurst <= 1 {
		return s.rng.Float64() < l.Loss
	}
	if l.Loss >= 1 {
		return true
	}
	// A bad state lasts 1/r datagrams on average; entering it with
	// probability p from the good state makes it last a fraction
	// p/(p+r) = Loss of the time.
	r := 1 / l.LossBurst
	if s.fading {
		s.fading = s.rng.Float64() >= r
	} else {
		s.fading = s.rng.Float64() < l.Loss*r/(1-l.Loss)
	}
	return s.fading
}

// headerBytes is the IP and UDP header size of a datagram to a.
func headerBytes(a netip.Addr) int {
	if a.Is4() {
		return 20 + 8
	}
	return 40 + 8
}

// maxPayload is the largest UDP payload a socket accepts.
const maxPayload = 65535 - 20 - 8

// send carries a datagram written by c to to; the network copies data.
func (n *Network) send(c *Conn, data []byte, to netip.AddrPort) error {
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	switch {
	case len(data) > maxPayload:
		return &sendError{to: to, err: syscall.EMSGSIZE}
	case !to.IsValid() || to.Port() == 0 || to.Addr().IsUnspecified():
		return &sendError{to: to, err: syscall.EDESTADDRREQ}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.closed {
		return errClosed
	}
	from := c.ext
	n.stats.Sent++
	s := n.link(from.Addr(), to.Addr())
	l := s.cfg
	if !s.custom {
		l = n.def
	}
	if l.Drop != nil && l.Drop(Datagram{From: from, To: to, Data: data}) {
		n.stats.Filtered++
		return nil
	}
	size := len(data) + headerBytes(to.Addr())
	mtu := l.MTU
	if mtu <= 0 {
		mtu = 1500
	}
	if size > mtu {
		n.stats.TooBig++
		return nil
	}
	if s.lose(&l) {
		n.stats.Lost++
		return nil
	}
	now := time.Now()
	depart := now
	if l.Bandwidth > 0 {
		start := now
		if s.busyUntil.After(now) {
			start = s.busyUntil
			queued := int64(start.Sub(now)) * l.Bandwidth / 8 / int64(time.Second)
			if l.QueueBytes > 0 && queued+int64(size) > int64(l.QueueBytes) {
				n.stats.QueueFull++
				return nil
			}
		}
		depart = start.Add(time.Duration(int64(size) * 8 * int64(time.Second) / l.Bandwidth))
		s.busyUntil = depart
	}
	b := append([]byte(nil), data...)
	n.schedule(n.arrival(s.rng, depart, &l), from, to, b)
	if l.Duplicate > 0 && s.rng.Float64() < l.Duplicate {
		n.stats.Duplicated++
		n.schedule(n.arrival(s.rng, depart, &l), from, to, b)
	}
	return nil
}

// arrival draws the arrival time of a datagram that left at depart from
// its link's generator; n.mu is held.
func (n *Network) arrival(rng *rand.Rand, depart time.Time, l *Link) time.Time {
	at := depart.Add(l.Latency)
	if l.Jitter > 0 {
		at = at.Add(time.Duration(rng.Int64N(int64(l.Jitter))))
	}
	if l.Reorder > 0 && rng.Float64() < l.Reorder {
		n.stats.Reordered++
		d := l.ReorderDelay
		if d <= 0 {
			d = l.Latency
		}
		at = at.Add(d)
	}
	return at
}

// schedule queues the delivery of data at at; n.mu is held. Datagrams due
// at the same time arrive in the order they were sent.
func (n *Network) schedule(at time.Time, from, to netip.AddrPort, data []byte) {
	n.seq++
	heap.Push(&n.events, &event{at: at, seq: n.seq, from: from, to: to, data: data})
	n.arm()
}

// arm sets the timer for the earliest event; n.mu is held.
func (n *Network) arm() {
	if len(n.events) == 0 {
		return
	}
	at := n.events[0].at
	if n.timer != nil && n.timerAt.Equal(at) {
		return
	}
	n.timerAt = at
	d := time.Until(at)
	if n.timer == nil {
		n.timer = time.AfterFunc(d, n.fire)
		return
	}
	n.timer.Reset(d)
}

// fire delivers every datagram that is due and rearms the timer.
func (n *Network) fire() {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for len(n.events) > 0 && !n.events[0].at.After(now) {
		e := heap.Pop(&n.events).(*event)
		c := n.routes[e.to]
		switch {
		case c == nil:
			n.stats.NoSocket++
		case !c.deliver(e.from, e.data, n.recvBuffer):
			n.stats.RecvFull++
		default:
			n.stats.Delivered++
		}
	}
	n.timerAt = time.Time{}
	n.arm()
}

// event is a datagram on its way.
type event struct {
	at       time.Time
	seq      uint64
	from, to netip.AddrPort
	data     []byte
}

// eventQueue is a min-heap of events by arrival time, then send order.
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// sendError is a failed write, shaped like the standard library's.
type sendError struct {
	to  netip.AddrPort
	err error
}

func (e *sendError) Error() string { return fmt.Sprintf("netsim: write to %v: %v", e.to, e.err) }
func (e *sendError) Unwrap() error { return e.err }

var errUnspecified = errors.New("netsim: bind a specific address, or listen through a Host")

// Listen binds a socket to laddr, which must have a specific address; port
// 0 picks a free port. It fails with an error wrapping syscall.EADDRINUSE
// if a socket has that address.
func (n *Network) Listen(laddr netip.AddrPort) (*Conn, error) {
	a := laddr.Addr().Unmap()
	if !a.IsValid() || a.IsUnspecified() {
		return nil, errUnspecified
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	port := laddr.Port()
	if port == 0 {
		var ok bool
		if port, ok = n.freePort(a); !ok {
			return nil, &bindError{addr: laddr, err: syscall.EADDRINUSE}
		}
	}
	ap := netip.AddrPortFrom(a, port)
	if n.bound[ap] != nil || n.routes[ap] != nil {
		return nil, &bindError{addr: ap, err: syscall.EADDRINUSE}
	}
	c := newConn(n, ap)
	n.bound[ap] = c
	n.routes[ap] = c
	return c, nil
}

// freePort returns an unused port of a from the dynamic range; n.mu is
// held.
func (n *Network) freePort(a netip.Addr) (uint16, bool) {
	const first, count = 49152, 16384
	start := n.rng.IntN(count)
	for i := range count {
		p := uint16(first + (start+i)%count)
		ap := netip.AddrPortFrom(a, p)
		if n.bound[ap] == nil && n.routes[ap] == nil {
			return p, true
		}
	}
	return 0, false
}

// Rebind gives the socket that the network knows as external a new
// external address, as a NAT does when it maps a flow afresh: peers see
// its datagrams come from the new address, and datagrams sent to the old
// one are dropped. The socket's own LocalAddr does not change. A zero port
// in to picks a free one, and an invalid address in to keeps external's.
// It returns the new external address.
func (n *Network) Rebind(external, to netip.AddrPort) (netip.AddrPort, error) {
	external = netip.AddrPortFrom(external.Addr().Unmap(), external.Port())
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.routes[external]
	if c == nil {
		return netip.AddrPort{}, fmt.Errorf("netsim: no socket at %v", external)
	}
	a := to.Addr().Unmap()
	if !a.IsValid() || a.IsUnspecified() {
		a = external.Addr()
	}
	port := to.Port()
	if port == 0 {
		var ok bool
		if port, ok = n.freePort(a); !ok {
			return netip.AddrPort{}, &bindError{addr: to, err: syscall.EADDRINUSE}
		}
	}
	nap := netip.AddrPortFrom(a, port)
	if o := n.routes[nap]; o != nil && o != c || n.bound[nap] != nil && n.bound[nap] != c {
		return netip.AddrPort{}, &bindError{addr: nap, err: syscall.EADDRINUSE}
	}
	delete(n.routes, external)
	n.routes[nap] = c
	c.ext = nap
	return nap, nil
}

// closeConn takes c off the network.
func (n *Network) closeConn(c *Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if n.bound[c.local] == c {
		delete(n.bound, c.local)
	}
	if n.routes[c.ext] == c {
		delete(n.routes, c.ext)
	}
}

// bindError is a failed bind, shaped like the standard library's.
type bindError struct {
	addr netip.AddrPort
	err  error
}

func (e *bindError) Error() string { return fmt.Sprintf("netsim: bind %v: %v", e.addr, e.err) }
func (e *bindError) Unwrap() error { return e.err }
