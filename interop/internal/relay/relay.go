// Package relay is a UDP relay between a QUIC client and server on one
// machine that reproduces the QUIC interop runner's network simulator:
// per-direction one-way delay, a bottleneck rate with a drop-tail packet
// queue, random and bursty loss and corruption, drops by packet index,
// periodic blackholes, and NAT-style rebinding of the client's port or
// address as the server sees it, optionally placed at a NAT next to the
// client (Config.NAT) with a jittered schedule. It records every datagram with the
// cleartext QUIC header fields it carries, so that tests can count
// handshakes, Retry packets and versions as the runner does from captures.
package relay

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Direction is the way a datagram travels.
type Direction uint8

// Directions.
const (
	ToServer Direction = iota
	ToClient
)

// String returns "to-server" or "to-client".
func (d Direction) String() string {
	if d == ToServer {
		return "to-server"
	}
	return "to-client"
}

// Impairment describes one direction of the link.
type Impairment struct {
	// Delay is the one-way propagation delay.
	Delay time.Duration
	// Rate is the bottleneck rate in bits per second; 0 means unlimited.
	Rate int64
	// Queue is the bottleneck's drop-tail queue in packets; 0 means the
	// runner's 25.
	Queue int
	// LossRate is the long-run fraction of datagrams dropped, 0 to 1.
	LossRate float64
	// LossBurst is the longest run of consecutive losses: each loss event
	// drops 1 to LossBurst datagrams (uniformly), and events start at the
	// rate that makes the long-run loss LossRate. 0 or 1: independent
	// losses.
	LossBurst int
	// CorruptRate and CorruptBurst are the same for corruption: a
	// corrupted datagram is delivered with one byte changed.
	CorruptRate  float64
	CorruptBurst int
	// LossRunMax and CorruptRunMax, if set, replace the bursts with the
	// interop runner's model (its drop-rate and corrupt-rate scenarios'
	// burst option): every datagram is hit independently with the rate,
	// except that after RunMax hits in a row the next one passes, so no
	// run is longer; a corrupted datagram has one of its first 51 bytes
	// changed, and Version Negotiation packets are never corrupted. Each
	// excludes the matching Burst above.
	LossRunMax, CorruptRunMax int
	// Drop lists datagram indices (1 is the first datagram in this
	// direction) that are dropped.
	Drop []int
}

// Config configures a relay.
type Config struct {
	// Listen is the address clients send to; port 0 picks one.
	Listen netip.AddrPort
	// Server is where datagrams from clients go.
	Server netip.AddrPort
	// ToServer and ToClient impair each direction.
	ToServer, ToClient Impairment
	// BlackholeOn and BlackholeOff, when both are set, make the link
	// alternate between working for BlackholeOn and dropping every
	// datagram in both directions for BlackholeOff, starting with a
	// working period.
	BlackholeOn, BlackholeOff time.Duration
	// RebindFirst and RebindEvery, when RebindFirst is set, give every
	// client a new source port, as the server sees it, RebindFirst after
	// the first client datagram (not the relay's start: a client that is
	// slow to start, as node is on a loaded machine, would otherwise be
	// moved during its handshake) and every RebindEvery afterwards (never
	// again if 0). Datagrams the server sends to an old binding are lost, as at a
	// NAT.
	RebindFirst, RebindEvery time.Duration
	// RebindAddr changes the client's IP address as well at each rebind,
	// cycling through 127.0.0.2 to 127.0.0.254 (IPv4 only).
	RebindAddr bool
	// RebindJitter, if set, lengthens each interval after the first by a
	// random part of up to RebindJitter (drawn from Seed), so rebinds come
	// every RebindEvery to RebindEvery+RebindJitter.
	RebindJitter time.Duration
	// NAT places the rebinding at a NAT next to the client, as real
	// networks do, rather than at the server: a client datagram takes the
	// binding current when it enters the relay and keeps it through the
	// delay line (so the server still receives datagrams from the old
	// binding for a one-way delay after a rebind), and a server datagram
	// is lost unless its binding is still current when it leaves the delay
	// line (the old mapping is forgotten at once, even for datagrams in
	// flight). Without NAT a client datagram leaves on whatever binding is
	// current at delivery and only server datagrams arriving after the
	// rebind are lost.
	NAT bool
	// Seed seeds the loss and corruption decisions.
	Seed uint64
}

// Fate is what the relay did with a datagram.
type Fate uint8

// Fates.
const (
	Delivered    Fate = iota
	Corrupted         // delivered with a byte changed
	Lost              // random or bursty loss
	DroppedIndex      // in the drop list
	QueueFull         // tail drop at the bottleneck
	Blackholed        // during a blackhole period
	Unroutable        // to a client binding that no longer exists

	// pending marks a record whose datagram is still being admitted.
	pending Fate = 255
)

var fateNames = [...]string{"delivered", "corrupted", "lost", "dropped-index", "queue-full", "blackholed", "unroutable"}

// String returns the fate's name.
func (f Fate) String() string {
	if int(f) < len(fateNames) {
		return fateNames[f]
	}
	return "unknown"
}

// Record is one datagram the relay saw.
type Record struct {
	Dir  Direction
	Time time.Time // arrival at the relay
	// DeliverAt is when it was (or would have been) handed to the peer;
	// zero if dropped before the bottleneck.
	DeliverAt time.Time
	Size      int
	Fate      Fate
	// ECN is the datagram's ECN codepoint (0 Not-ECT, 1 ECT(1), 2 ECT(0),
	// 3 CE), where the platform reports it.
	ECN uint8
	// Client is the client's address as the server sees it (its binding
	// at the relay).
	Client netip.AddrPort
	// Headers are the QUIC packets the datagram carries.
	Headers []Header
}

// Relay is a running relay.
type Relay struct {
	cfg     Config
	start   time.Time
	client  *udpConn // clients' side
	links   [2]*link
	mu      sync.Mutex
	flows   map[netip.AddrPort]*flow
	records []Record
	nextIP  int
	closed  bool
	// firstClient is closed when the first client datagram arrives.
	firstClient     chan struct{}
	firstClientOnce sync.Once
	done            chan struct{}
	wg              sync.WaitGroup // readers and timers
	dwg             sync.WaitGroup // delivery loops
}

// flow is one client's binding towards the server.
type flow struct {
	client netip.AddrPort // the client's real address
	conn   *udpConn       // current socket towards the server
	rebind int            // rebinding generation of conn
}

// Start starts a relay.
func Start(cfg Config) (*Relay, error) {
	if !cfg.Server.IsValid() {
		return nil, errors.New("relay: no server address")
	}
	for _, imp := range []Impairment{cfg.ToServer, cfg.ToClient} {
		if (imp.LossRunMax > 0 && imp.LossBurst > 1) || (imp.CorruptRunMax > 0 && imp.CorruptBurst > 1) {
			return nil, errors.New("relay: a RunMax and a Burst for the same impairment")
		}
	}
	c, err := listen(cfg.Listen)
	if err != nil {
		return nil, err
	}
	r := &Relay{
		cfg:    cfg,
		start:  time.Now(),
		client: c,
		flows:  make(map[netip.AddrPort]*flow),
		done:   make(chan struct{}),
		nextIP: 2,

		firstClient: make(chan struct{}),
	}
	r.links[ToServer] = newLink(cfg.ToServer, cfg.Seed)
	r.links[ToClient] = newLink(cfg.ToClient, cfg.Seed^0x9e3779b97f4a7c15)
	for _, l := range r.links {
		r.dwg.Add(1)
		go func() {
			defer r.dwg.Done()
			l.deliverLoop(r.done)
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readClients()
	}()
	if cfg.RebindFirst > 0 {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.rebindLoop()
		}()
	}
	return r, nil
}

// Addr is the address clients send to.
func (r *Relay) Addr() netip.AddrPort { return r.client.local }

// Records returns a copy of what the relay saw so far, in arrival order
// per direction.
func (r *Relay) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Close stops the relay and waits for its goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	conns := []*udpConn{r.client}
	for _, f := range r.flows {
		conns = append(conns, f.conn)
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	// Readers first: they feed the links.
	r.wg.Wait()
	for _, l := range r.links {
		close(l.out)
	}
	r.dwg.Wait()
	return nil
}

// maxDatagram bounds what the relay reads.
const maxDatagram = 65535

func (r *Relay) readClients() {
	buf := make([]byte, maxDatagram)
	for {
		n, ecn, from, err := r.client.read(buf)
		if err != nil {
			return
		}
		r.firstClientOnce.Do(func() { close(r.firstClient) })
		f, err := r.flowFor(from)
		if err != nil {
			continue
		}
		data := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		entry := f.conn
		r.mu.Unlock()
		r.ingress(ToServer, data, ecn, entry.local, func(b []byte, ecn uint8) bool {
			c := entry
			if !r.cfg.NAT {
				r.mu.Lock()
				c = f.conn
				r.mu.Unlock()
			}
			c.write(b, ecn, r.cfg.Server)
			return true
		})
	}
}

// flowFor returns the client's flow, opening its socket towards the server
// on its first datagram.
func (r *Relay) flowFor(client netip.AddrPort) (*flow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.flows[client]; f != nil {
		return f, nil
	}
	if r.closed {
		return nil, net.ErrClosed
	}
	c, err := listen(netip.AddrPortFrom(r.bindAddr(false), 0))
	if err != nil {
		return nil, err
	}
	f := &flow{client: client, conn: c}
	r.flows[client] = f
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readServer(f, c)
	}()
	return f, nil
}

// bindAddr is the address for a new server-side socket: the loopback of
// the server's family, or the next 127.0.0.x when rebinding addresses.
func (r *Relay) bindAddr(rebind bool) netip.Addr {
	if r.cfg.Server.Addr().Is6() {
		return netip.IPv6Loopback()
	}
	if !rebind || !r.cfg.RebindAddr {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	a := netip.AddrFrom4([4]byte{127, 0, 0, byte(r.nextIP)})
	if r.nextIP++; r.nextIP > 254 {
		r.nextIP = 2
	}
	return a
}

// readServer forwards the server's datagrams arriving on one binding of a
// flow; once the flow moved on, they are unroutable.
func (r *Relay) readServer(f *flow, c *udpConn) {
	buf := make([]byte, maxDatagram)
	for {
		n, ecn, _, err := c.read(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		current := f.conn == c
		r.mu.Unlock()
		data := append([]byte(nil), buf[:n]...)
		if !current {
			r.record(Record{Dir: ToClient, Time: time.Now(), Size: n, Fate: Unroutable, ECN: ecn,
				Client: c.local, Headers: Decode(data)})
			continue
		}
		r.ingress(ToClient, data, ecn, c.local, func(b []byte, ecn uint8) bool {
			if r.cfg.NAT {
				r.mu.Lock()
				current := f.conn == c
				r.mu.Unlock()
				if !current {
					return false
				}
			}
			r.client.write(b, ecn, f.client)
			return true
		})
	}
}

// ingress runs a datagram through its direction's impairments and
// schedules its delivery; client is the client's binding it concerns.
// send reports false if the datagram turned out unroutable when it left
// the delay line.
func (r *Relay) ingress(dir Direction, data []byte, ecn uint8, client netip.AddrPort, send func([]byte, uint8) bool) {
	now := time.Now()
	rec := Record{Dir: dir, Time: now, Size: len(data), ECN: ecn, Client: client, Headers: Decode(data)}
	if r.blackholed(now) {
		rec.Fate = Blackholed
		r.record(rec)
		return
	}
	// The record is in place before the datagram can be delivered, so
	// that a late drop can mark it.
	rec.Fate = pending
	r.mu.Lock()
	i := len(r.records)
	r.records = append(r.records, rec)
	r.mu.Unlock()
	fate, at := r.links[dir].admit(now, data, ecn, func(b []byte, ecn uint8) {
		if !send(b, ecn) {
			r.mu.Lock()
			r.records[i].Fate = Unroutable
			r.mu.Unlock()
		}
	})
	r.mu.Lock()
	if r.records[i].Fate == pending {
		r.records[i].Fate = fate
	}
	r.records[i].DeliverAt = at
	r.mu.Unlock()
}

func (r *Relay) blackholed(now time.Time) bool {
	on, off := r.cfg.BlackholeOn, r.cfg.BlackholeOff
	if on <= 0 || off <= 0 {
		return false
	}
	return now.Sub(r.start)%(on+off) >= on
}

func (r *Relay) record(rec Record) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// rebindLoop moves every client to a new binding on schedule.
func (r *Relay) rebindLoop() {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, r.cfg.Seed^0x2545f4914f6cdd1d))
	wait := r.cfg.RebindFirst
	select {
	case <-r.done:
		return
	case <-r.firstClient:
	}
	for {
		select {
		case <-r.done:
			return
		case <-time.After(wait):
		}
		r.Rebind()
		if r.cfg.RebindEvery <= 0 {
			return
		}
		wait = r.cfg.RebindEvery
		if j := r.cfg.RebindJitter; j > 0 {
			wait += time.Duration(rng.Int64N(int64(j)))
		}
	}
}

// Rebind moves every client to a new binding now: a new port, and a new
// address with Config.RebindAddr. The schedule in Config calls it too.
func (r *Relay) Rebind() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	for _, f := range r.flows {
		c, err := listen(netip.AddrPortFrom(r.bindAddr(true), 0))
		if err != nil {
			continue
		}
		old := f.conn
		f.conn = c
		f.rebind++
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.readServer(f, c)
		}()
		// The old binding still drains what the server sends to it, as
		// unroutable, until the relay closes.
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			<-r.done
			old.Close()
		}()
	}
}
