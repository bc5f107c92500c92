// Package endpoint implements a binding: one UDP socket shared by
// listeners and client connections (MsQuic's QUIC_BINDING). Its reader
// goroutine demultiplexes datagrams to connections by destination
// connection ID, answers what no connection owns (Version Negotiation,
// stateless reset) and hands first Initial packets to its Handler, which
// creates server connections. Connections write through the binding's
// socket on their own goroutine or, with Config.SendQueue, hand their
// datagrams to the binding's sender goroutine (udp.Sender), which writes
// them while the connection builds the next ones. With
// Config.InlineReceive, a read for one connection only runs that
// connection on the reader (conn.Conn.Kick). Sharing is the table of
// listening bindings a library's listeners share by local address.
package endpoint

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/udp"
)

// Handler creates server connections for a binding.
type Handler interface {
	// NewConnection is called on the reader goroutine for a client's first
	// Initial packet (a supported version, at least 1200 bytes, addressed to
	// an unknown connection ID). It creates the connection with a Host from
	// b.NewHost, routes the client's DCID to it (Host.Attach), schedules it
	// and returns it; nil drops the packet.
	NewConnection(b *Binding, info *InitialInfo) *conn.Conn
}

// InitialInfo describes a client's first Initial packet.
type InitialInfo struct {
	Version uint32
	DCID    []byte
	SCID    []byte
	Peer    netip.AddrPort
	Local   netip.AddrPort
	// RetryODCID is the client's original Destination Connection ID when
	// the packet carries a valid Retry token (DCID is then the Retry's
	// Source Connection ID); nil otherwise.
	RetryODCID []byte
	// AddressValidated is set when the packet carries a valid Retry or
	// NEW_TOKEN token for the client's address (RFC 9000 §8.1).
	AddressValidated bool
}

// Config configures a binding.
type Config struct {
	// CIDLen is the length of the connection IDs our connections issue;
	// short-header packets are routed by that many bytes.
	CIDLen int
	// ResetKey derives stateless reset tokens.
	ResetKey *token.ResetKey
	// Handler creates server connections; nil means the binding serves only
	// client connections.
	Handler Handler
	// Versions lists the QUIC versions we accept, in preference order, for
	// Version Negotiation.
	Versions []uint32
	// UDP tunes the socket.
	UDP udp.Options
	// Tokens seals and opens Retry and NEW_TOKEN tokens (RFC 9000 §8.1);
	// nil disables Retry and token validation.
	Tokens *token.Sealer
	// Guard, if set, decides whether a client without a valid token must
	// be sent a Retry before any state is created (RFC 9000 §8.1.2); nil
	// never requires one.
	Guard *Guard
	// Stateless are the workers that send the binding's Version
	// Negotiation, Retry and stateless reset packets, shared by a
	// library's bindings; nil gives the binding a set of its own with
	// DefaultStatelessLimits.
	Stateless *Stateless
	// Overloaded, if set, reports whether the worker a new connection from
	// peer would run on is overloaded (its queue delay exceeds
	// MaxWorkerQueueDelay); the client's Initial is then dropped before any
	// state is created.
	Overloaded func(peer netip.AddrPort) bool
	// ServerCIDPrefix, if set, returns the prefix of the connection IDs
	// server connections issue to a client that reached local (for load
	// balancers); a Retry's Source Connection ID starts with it too, so
	// the client's next Initial is routed like the rest of the connection.
	ServerCIDPrefix func(local netip.Addr) []byte
	// SendQueue, if positive, gives the binding a sender goroutine with a
	// queue of that many socket writes (MsQuic's MaxThroughput datapath):
	// Host.Send copies a connection's batch into a pooled buffer, queues it
	// and returns without waiting for the system call, blocking only while
	// the queue is full. Zero writes on the connection's goroutine
	// (LowLatency).
	SendQueue int
	// InlineReceive lets the reader goroutine run a connection itself
	// (conn.Conn.Kick) when a read brings a few datagrams (maxInlineRead)
	// for that connection only, which means the socket is not busy
	// (MsQuic's low-latency datapath); the connections of larger or
	// busier reads run on their workers.
	InlineReceive bool
	// OnDrop, if set, is told of every datagram the binding drops, with
	// the reason it counts the drop under (Binding.Drops), on the goroutine
	// that dropped it: the reader's, or a stateless worker's. It must
	// return quickly.
	OnDrop func(local netip.AddrPort, r DropReason)
	// OnWriteError, if set, is told of every failed socket write
	// (Binding.WriteErr), on the goroutine that wrote. It must return
	// quickly.
	OnWriteError func(local netip.AddrPort, err error)
}

// DefaultStatelessLimits are the library's defaults for
// MaxStatelessOperations, MaxBindingStatelessOperations and
// StatelessOperationExpiration.
var DefaultStatelessLimits = StatelessLimits{WorkerQueue: 1024, PerBinding: 2048, Spacing: 100 * time.Millisecond}

// DefaultSendQueue is a SendQueue deep enough for a connection's worker to
// run a flush ahead of the sender, and small enough (at most 2 MiB of
// GSO-class buffers queued and as many being written) not to hide much
// delay from congestion control.
const DefaultSendQueue = 16

// Binding is one UDP socket and the connections that use it.
type Binding struct {
	cfg      Config
	sock     udp.Conn
	local    netip.AddrPort
	pool     *udp.Pool
	small    *udp.Pool       // MTU-class copies of lone datagrams read into GSO-class buffers
	refs     sync.Pool       // *sharedBuf wrappers for GRO batches
	batch    []conn.Datagram // reader scratch: segments queued together
	tokenBuf []byte          // reader scratch: decrypted tokens
	// kicks are the connections the reader queued datagrams for, to be
	// kicked once the whole read is queued (reader scratch).
	kicks []*conn.Conn

	// With Config.SendQueue: the sender goroutine and the pools of the
	// copies it writes (one datagram, or a GSO batch).
	sender    *udp.Sender
	sendSmall *udp.Pool
	sendLarge *udp.Pool

	routes            lookup
	stateless         *Stateless
	statelessInFlight atomic.Int64 // answers queued or being written

	accepting atomic.Bool
	closed    atomic.Bool
	done      chan struct{}

	// Counters.
	Dropped         atomic.Uint64                     // datagrams no connection or handler took
	Drops           [NumDropReasons]atomic.Uint64     // Dropped, by reason
	TokenRejections [NumTokenRejections]atomic.Uint64 // TokensRejected, by reason
	Resets          atomic.Uint64                     // stateless resets sent
	VNSent          atomic.Uint64                     // Version Negotiation packets sent
	RetriesSent     atomic.Uint64                     // Retry packets sent
	TokensAccepted  atomic.Uint64                     // Initial packets with a valid token
	TokensRejected  atomic.Uint64                     // Initial packets with an invalid token
	WriteErr        atomic.Uint64                     // failed socket writes
}

// Listen opens a binding on laddr ("udp", "udp4" or "udp6" network).
func Listen(network string, laddr netip.AddrPort, cfg Config) (*Binding, error) {
	s, err := udp.Listen(network, laddr, cfg.UDP)
	if err != nil {
		return nil, err
	}
	return newBinding(s, cfg), nil
}

// New makes a binding over an existing socket, taking ownership of it.
func New(s udp.Conn, cfg Config) *Binding { return newBinding(s, cfg) }

func newBinding(s udp.Conn, cfg Config) *Binding {
	b := &Binding{cfg: cfg, sock: s, local: s.LocalAddr(), done: make(chan struct{}), stateless: cfg.Stateless}
	if b.stateless == nil {
		b.stateless = NewStateless(1, DefaultStatelessLimits)
	}
	size := udp.MTUClass
	if s.Capabilities().GRO {
		size = udp.GSOClass
	}
	b.pool = udp.NewPool(size)
	b.small = udp.NewPool(udp.MTUClass)
	b.refs.New = func() any { return &sharedBuf{} }
	b.routes.init()
	if cfg.SendQueue > 0 {
		b.sendSmall = udp.NewPool(udp.MTUClass)
		b.sendLarge = udp.NewPool(udp.GSOClass)
		b.sender = udp.NewSender(s, cfg.SendQueue, b.writeFailed)
	}
	go b.readLoop()
	return b
}

// writeFailed counts a failed socket write and reports it.
func (b *Binding) writeFailed(err error) {
	b.WriteErr.Add(1)
	if b.cfg.OnWriteError != nil {
		b.cfg.OnWriteError(b.local, err)
	}
}

// LocalAddr returns the socket's address.
func (b *Binding) LocalAddr() netip.AddrPort { return b.local }

// Capabilities reports the socket's features.
func (b *Binding) Capabilities() udp.Capabilities { return b.sock.Capabilities() }

// SetAccepting turns creation of server connections on or off.
func (b *Binding) SetAccepting(on bool) { b.accepting.Store(on) }

// Close closes the socket and waits for the reader goroutine to exit. A
// sender goroutine first writes what is queued (a connection's last
// CONNECTION_CLOSE may be among it) and exits. Connections still using the
// binding can no longer send.
func (b *Binding) Close() error {
	if b.closed.Swap(true) {
		<-b.done
		return nil
	}
	if b.sender != nil {
		b.sender.Close()
	}
	err := b.sock.Close()
	<-b.done
	return err
}

// SendQueued reports whether the binding writes through a sender goroutine
// (Config.SendQueue).
func (b *Binding) SendQueued() bool { return b.sender != nil }

// Outstanding returns the receive and send buffers not yet released, for
// leak tests.
func (b *Binding) Outstanding() int64 {
	n := b.pool.Outstanding() + b.small.Outstanding()
	if b.sender != nil {
		n += b.sendSmall.Outstanding() + b.sendLarge.Outstanding()
	}
	return n
}

// readLoop reads datagrams in batches and dispatches them.
func (b *Binding) readLoop() {
	defer close(b.done)
	// With GRO a slot may hold a whole batch of segments, so fewer slots
	// of the larger class read as much per system call.
	batch := 32
	if b.pool.Size() > udp.MTUClass {
		batch = 8
	}
	msgs := make([]udp.Msg, batch)
	bufs := make([]*udp.Buf, batch)
	for i := range bufs {
		bufs[i] = b.pool.Get()
		msgs[i].Buf = bufs[i].B[:0:b.pool.Size()]
	}
	defer func() {
		for _, buf := range bufs {
			buf.Release()
		}
	}()
	for {
		n, err := b.sock.ReadBatch(msgs)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || b.closed.Load() {
				return
			}
			continue
		}
		small := n <= maxInlineRead
		for i := 0; i < n; i++ {
			m := &msgs[i]
			small = small && len(m.Buf) <= maxInlineRead*udp.MTUClass
			switch {
			case len(m.Buf) == 0:
			case b.copyable(m):
				// A lone datagram, or a short GRO batch, would pin a
				// GSO-class buffer until its connection processed it
				// (during a burst of handshakes, one per connection): its
				// datagrams move to small buffers and the large one stays
				// in its slot.
				b.dispatchCopies(m)
			default:
				b.dispatchMsg(m, bufs[i])
				bufs[i] = b.pool.Get()
			}
			m.Buf = bufs[i].B[:0:b.pool.Size()]
			m.SegSize = 0
		}
		b.kickAll(small)
	}
}

// maxInlineRead bounds the reads whose connection may run on the reader
// (Config.InlineReceive): at most this many datagrams, or MTU-class
// datagrams' worth of GRO segments. A request or a response of a few
// datagrams is processed at once; a bulk transfer's large reads are left to
// the worker, so that reading the next batch overlaps with processing this
// one.
const maxInlineRead = 4

// kickAll kicks the connections a read queued datagrams for. A small read
// for one connection only means the socket is quiet: with
// Config.InlineReceive that connection may run on the reader.
func (b *Binding) kickAll(small bool) {
	inline := b.cfg.InlineReceive && small && len(b.kicks) == 1
	for i, c := range b.kicks {
		c.Kick(inline)
		b.kicks[i] = nil
	}
	b.kicks = b.kicks[:0]
}

// dispatchMsg hands every datagram of a (possibly GRO-coalesced) read to
// its connection. It takes ownership of buf. Consecutive segments addressed
// to the connection ID of the segment before them (a GRO batch normally
// holds one flow) are queued together: one lookup, one lock and at most one
// wake-up for the batch.
func (b *Binding) dispatchMsg(m *udp.Msg, buf *udp.Buf) {
	seg := m.SegSize
	if seg <= 0 || seg >= len(m.Buf) {
		b.dispatch(m.Buf, m, buf)
		return
	}
	sb := b.refs.Get().(*sharedBuf)
	sb.buf, sb.pool = buf, &b.refs
	count := (len(m.Buf) + seg - 1) / seg
	sb.refs.Store(int32(count))
	local := b.localOf(m)
	var (
		c    *conn.Conn // connection of the pending batch
		dcid cidKey     // its connection ID
	)
	batch := b.batch[:0]
	for off := 0; off < len(m.Buf); off += seg {
		data := m.Buf[off:min(off+seg, len(m.Buf))]
		id, ok := parseDCID(data, b.cfg.CIDLen)
		if c != nil && ok && keyOf(id) == dcid {
			batch = append(batch, conn.Datagram{Data: data, Peer: m.Addr, Local: local, ECN: m.ECN, Buf: sb})
			continue
		}
		if c != nil {
			b.queue(c, batch)
			batch, c = batch[:0], nil
		}
		if ok {
			if c = b.routes.get(id); c != nil {
				dcid = keyOf(id)
				batch = append(batch, conn.Datagram{Data: data, Peer: m.Addr, Local: local, ECN: m.ECN, Buf: sb})
				continue
			}
		}
		b.handleUnknown(data, m.Addr, local, m.ECN, sb)
	}
	if c != nil {
		b.queue(c, batch)
	}
	clear(batch)
	b.batch = batch[:0]
}

// maxCopiedRead is the largest read whose datagrams are copied out of the
// GSO-class receive buffer (four MTU-class datagrams).
const maxCopiedRead = 4 * udp.MTUClass

// copyable reports whether the datagrams of a read should move to small
// buffers: they were read into GSO-class buffers, are few (at most
// maxCopiedRead bytes in all) and each fits a small buffer.
func (b *Binding) copyable(m *udp.Msg) bool {
	seg := m.SegSize
	if seg <= 0 {
		seg = len(m.Buf)
	}
	return b.pool.Size() > b.small.Size() && len(m.Buf) <= maxCopiedRead && seg <= b.small.Size()
}

// dispatchCopies dispatches each datagram of m in a small buffer of its
// own.
func (b *Binding) dispatchCopies(m *udp.Msg) {
	seg := m.SegSize
	if seg <= 0 {
		seg = len(m.Buf)
	}
	all := m.Buf
	for off := 0; off < len(all); off += seg {
		d := all[off:min(off+seg, len(all))]
		sb := b.small.Get()
		sb.B = append(sb.B, d...)
		b.dispatch(sb.B, m, sb)
	}
}

// queue hands ds to c; what c does not take is dropped.
func (b *Binding) queue(c *conn.Conn, ds []conn.Datagram) {
	n, kick := c.QueueDatagramsLater(ds)
	if kick {
		b.kicks = append(b.kicks, c)
	}
	for _, d := range ds[n:] {
		b.drop(DropQueueFull)
		d.Buf.Release()
	}
}

// localOf returns the local address a datagram arrived on.
func (b *Binding) localOf(m *udp.Msg) netip.AddrPort {
	if !m.Local.IsValid() {
		return b.local
	}
	return netip.AddrPortFrom(m.Local, b.local.Port())
}

// dispatch routes one datagram. It takes ownership of rel.
func (b *Binding) dispatch(data []byte, m *udp.Msg, rel conn.Releaser) {
	local := b.localOf(m)
	dcid, ok := parseDCID(data, b.cfg.CIDLen)
	if ok {
		if c := b.routes.get(dcid); c != nil {
			d := conn.Datagram{Data: data, Peer: m.Addr, Local: local, ECN: m.ECN, Buf: rel}
			b.queue(c, []conn.Datagram{d})
			return
		}
	}
	b.handleUnknown(data, m.Addr, local, m.ECN, rel)
}

// sharedBuf lets the segments of one GRO read share a pooled buffer; the
// last Release returns it.
type sharedBuf struct {
	buf  *udp.Buf
	refs atomic.Int32
	pool *sync.Pool
}

// Release drops one segment's reference.
func (s *sharedBuf) Release() {
	if s.refs.Add(-1) == 0 {
		s.buf.Release()
		s.buf = nil
		s.pool.Put(s)
	}
}
