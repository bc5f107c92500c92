package conn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/wire"
)

// The pair harness runs a client and a server connection against each
// other over an in-memory network with a synthetic clock. Nothing sleeps:
// time jumps to the next delivery or timer.

var (
	clientAddr = netip.MustParseAddrPort("10.0.0.1:1000")
	serverAddr = netip.MustParseAddrPort("10.0.0.2:443")
)

var certOnce = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

func defaultSettings() Settings {
	return Settings{
		IdleTimeout:                30 * time.Second,
		HandshakeIdleTimeout:       10 * time.Second,
		DisconnectTimeout:          16 * time.Second,
		MaxAckDelay:                25 * time.Millisecond,
		InitialRTT:                 333 * time.Millisecond,
		ConnFlowControlWindow:      16 << 20,
		StreamRecvWindowBidiLocal:  64 << 10,
		StreamRecvWindowBidiRemote: 64 << 10,
		StreamRecvWindowUni:        64 << 10,
		StreamRecvBuffer:           4096,
		PeerBidiStreamCount:        100,
		PeerUniStreamCount:         100,
		MinimumMTU:                 1288,
		MaximumMTU:                 1500,
		InitialWindowPackets:       10,
		Pacing:                     true,
		SendIdleTimeout:            time.Second,
		MaxBytesPerKey:             1 << 38,
		SendBuffering:              true,
		MigrationEnabled:           true,
	}
}

// event is one recorded event.
type event struct {
	name string
	a, b uint64
	c    uint64 // third value: appCloseInProgress, peerAccepted, 0-RTT receive
	s    *Stream
	data []byte
	r    CloseReason
	ctx  any       // SendComplete's context
	fin  bool      // Receive's FIN flag
	at   mono.Time // virtual time of the event
}

func (e event) String() string { return fmt.Sprintf("%s(%d,%d)", e.name, e.a, e.b) }

// endpoint is one side of the pair: its connection and what it saw.
type endpoint struct {
	t      testing.TB
	name   string
	c      *Conn
	addr   netip.AddrPort
	peer   *endpoint
	p      *pair
	events []event
	counts map[string]int // events recorded, by name
	closed bool
	cids   map[string]bool

	// Behaviour knobs.
	rejectStreams bool
	rejectResume  bool // server: the Resumed handler fails (resume_test.go)
	echo          bool // server: echo stream data back, FIN after FIN
	consumeNone   bool
	// cancelOnLossCode is returned from StreamCancelOnLoss.
	cancelOnLossCode uint64
	received         map[uint64][]byte
	handler          func(ev event) // optional extra hook
	// recvFn, if set, replaces the RECEIVE behaviour above (received is
	// then not filled in).
	recvFn func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult)

	// Lifecycle checker: no event may follow the SHUTDOWN_COMPLETE of its
	// object, and every live stream must finish before the connection.
	connDone     bool
	streamDone   map[*Stream]bool
	handleClosed map[*Stream]bool
	live         map[*Stream]bool
}

func (e *endpoint) record(ev event) {
	ev.at = e.p.now
	e.check(ev)
	e.events = append(e.events, ev)
	e.counts[ev.name]++
	if e.handler != nil {
		e.handler(ev)
	}
}

// check fails the test on an event after the SHUTDOWN_COMPLETE of the
// connection or of the event's stream, and on a connection
// SHUTDOWN_COMPLETE that precedes a live stream's.
func (e *endpoint) check(ev event) {
	e.t.Helper()
	if e.connDone {
		e.t.Errorf("%s: %v after the connection's ShutdownComplete", e.name, ev)
	}
	if ev.s != nil && e.streamDone[ev.s] {
		e.t.Errorf("%s: %v after stream %d's ShutdownComplete", e.name, ev, ev.s.ID())
	}
	if ev.s != nil && e.handleClosed[ev.s] && ev.name != "SendComplete" {
		e.t.Errorf("%s: %v after stream %d's handle was closed", e.name, ev, ev.s.ID())
	}
	switch ev.name {
	case "ShutdownComplete":
		e.connDone = true
		for s := range e.live {
			e.t.Errorf("%s: connection ShutdownComplete before stream %d's", e.name, s.ID())
		}
	case "StreamShutdownComplete":
		e.streamDone[ev.s] = true
		delete(e.live, ev.s)
	case "StartComplete":
		if ev.a == uint64(StartOK) {
			e.live[ev.s] = true
		}
	case "PeerStreamStarted":
		if !e.rejectStreams {
			e.live[ev.s] = true
		}
	}
}

// closeStream closes the application's handle of s: only the SEND_COMPLETE
// of sends still pending may follow, and the stream is no longer expected
// to finish.
func (e *endpoint) closeStream(s *Stream) {
	delete(e.live, s)
	e.handleClosed[s] = true
	e.c.StreamClose(s)
}

// Host implementation.

func (e *endpoint) Send(b *OutBatch) {
	seg := b.SegSize
	if seg == 0 {
		seg = len(b.Buf)
	}
	limit := e.c.path.maxDatagramSize()
	if m := &e.c.mtu; m.inFlight {
		limit = max(limit, m.probeSize)
	}
	if seg > limit {
		// A packet that outgrows its datagram is cut short by a
		// peer reading no more than its max_udp_payload_size.
		e.p.t.Errorf("%s sent a %d-byte datagram; the limit is %d", e.name, seg, limit)
	}
	for off := 0; off < len(b.Buf); off += seg {
		end := min(off+seg, len(b.Buf))
		e.p.ecn = b.ECN
		e.p.transmitFrom(e, bytes.Clone(b.Buf[off:end]), b.Local, b.Addr)
		e.p.ecn = 0
	}
}
func (e *endpoint) AddCID(cid []byte)             { e.cids[string(cid)] = true }
func (e *endpoint) RemoveCID(cid []byte)          { delete(e.cids, string(cid)) }
func (e *endpoint) AddResetToken(tok [16]byte)    {}
func (e *endpoint) RemoveResetToken(tok [16]byte) {}
func (e *endpoint) Closed()                       { e.closed = true }

// Acceptor implementation (server).
func (e *endpoint) Accept(c *Conn, info *NewConnectionInfo) (Events, string, error) {
	e.record(event{name: "NewConnection"})
	if e.p.rejectConn {
		return nil, "", fmt.Errorf("rejected")
	}
	if e.p.serverCIDPrefix != nil {
		c.SetCIDPrefix(e.p.serverCIDPrefix)
	}
	for _, a := range info.ClientALPNs {
		if a == "test" {
			c.SetConfiguration(&ServerConfig{TLS: e.p.serverTLS, Settings: e.p.serverSettings, DecideCertificate: e.p.serverDecide})
			return e, a, nil
		}
	}
	return nil, "", ErrNoALPN
}

// Events implementation.
func (e *endpoint) Connected(resumed bool, alpn string) { e.record(event{name: "Connected"}) }
func (e *endpoint) ShutdownInitiatedByTransport(r CloseReason) {
	e.record(event{name: "ShutdownByTransport", a: r.Code, r: r})
}
func (e *endpoint) ShutdownInitiatedByPeer(code uint64) {
	e.record(event{name: "ShutdownByPeer", a: code})
}
func (e *endpoint) ShutdownComplete(hs, peerAck, appClose bool) {
	e.record(event{name: "ShutdownComplete", a: b2u(hs), b: b2u(peerAck), c: b2u(appClose)})
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
func (e *endpoint) PeerAddressChanged(addr netip.AddrPort) {
	e.record(event{name: "PeerAddressChanged"})
}
func (e *endpoint) LocalAddressChanged(addr netip.AddrPort) {
	e.record(event{name: "LocalAddressChanged"})
}
func (e *endpoint) StreamsAvailable(bidi, uni uint64) {
	e.record(event{name: "StreamsAvailable", a: bidi, b: uni})
}
func (e *endpoint) PeerNeedsStreams(bidi bool) { e.record(event{name: "PeerNeedsStreams"}) }
func (e *endpoint) DatagramStateChanged(enabled bool, n int) {
	e.record(event{name: "DatagramStateChanged", a: uint64(n)})
}
func (e *endpoint) DatagramReceived(data []byte, zeroRTT bool) {
	e.record(event{name: "DatagramReceived", data: bytes.Clone(data), c: b2u(zeroRTT)})
}
func (e *endpoint) DatagramSendStateChanged(ctx any, st DatagramState) any {
	e.record(event{name: "DatagramSendState", a: uint64(st), ctx: ctx})
	return ctx
}

func (e *endpoint) PeerStreamStarted(s *Stream, flags uint32) error {
	e.record(event{name: "PeerStreamStarted", a: s.ID(), b: uint64(flags), s: s})
	if e.rejectStreams {
		return fmt.Errorf("no")
	}
	return nil
}
func (e *endpoint) StreamStartComplete(s *Stream, st StartStatus, id uint64, accepted bool) {
	e.record(event{name: "StartComplete", a: uint64(st), b: id, c: b2u(accepted), s: s})
}
func (e *endpoint) StreamReceive(s *Stream, off uint64, bufs [][]byte, fin, zeroRTT bool) (uint64, ReceiveResult) {
	if e.recvFn != nil {
		var n uint64
		for _, b := range bufs {
			n += uint64(len(b))
		}
		e.record(event{name: "Receive", a: off, b: n, c: b2u(zeroRTT), s: s, fin: fin})
		return e.recvFn(s, off, bufs, fin)
	}
	got := e.received[s.ID()]
	start := len(got)
	for _, b := range bufs {
		got = append(got, b...)
	}
	e.received[s.ID()] = got
	n := uint64(len(got) - start)
	e.record(event{name: "Receive", a: off, b: n, c: b2u(zeroRTT), s: s, fin: fin})
	if e.echo && n > 0 && !s.Unidirectional() {
		e.c.StreamSend(s, [][]byte{bytes.Clone(got[start:])}, 0, nil)
	}
	if e.echo && fin && !s.Unidirectional() {
		e.c.StreamShutdown(s, StreamShutdownGraceful, 0)
	}
	if e.consumeNone {
		return 0, ReceiveDone
	}
	return n, ReceiveDone
}
func (e *endpoint) StreamSendComplete(s *Stream, ctx any, canceled bool) {
	var c uint64
	if canceled {
		c = 1
	}
	e.record(event{name: "SendComplete", a: c, s: s, ctx: ctx})
}
func (e *endpoint) StreamPeerSendShutdown(s *Stream) {
	e.record(event{name: "PeerSendShutdown", a: s.ID(), s: s})
}
func (e *endpoint) StreamPeerSendAborted(s *Stream, code uint64) {
	e.record(event{name: "PeerSendAborted", a: code, s: s})
}
func (e *endpoint) StreamPeerReceiveAborted(s *Stream, code uint64) {
	e.record(event{name: "PeerReceiveAborted", a: code, s: s})
}
func (e *endpoint) StreamSendShutdownComplete(s *Stream, graceful bool) {
	var g uint64
	if graceful {
		g = 1
	}
	e.record(event{name: "SendShutdownComplete", a: g, s: s})
}
func (e *endpoint) StreamShutdownComplete(s *Stream, info StreamShutdownInfo) {
	var cs uint64
	if info.ConnectionShutdown {
		cs = 1
	}
	e.record(event{name: "StreamShutdownComplete", a: s.ID(), b: cs, s: s})
}
func (e *endpoint) StreamIdealSendBufferSize(s *Stream, n uint64) {
	e.record(event{name: "IdealSendBuffer", a: n, s: s})
}
func (e *endpoint) StreamCancelOnLoss(s *Stream) uint64 {
	e.record(event{name: "CancelOnLoss", s: s})
	return e.cancelOnLossCode
}
func (e *endpoint) StreamPeerAccepted(s *Stream) { e.record(event{name: "PeerAccepted", s: s}) }

// has reports whether an event with name was recorded.
func (e *endpoint) has(name string) bool { return e.count(name) > 0 }

func (e *endpoint) count(name string) int { return e.counts[name] }

func (e *endpoint) find(name string) (event, bool) {
	for _, ev := range e.events {
		if ev.name == name {
			return ev, true
		}
	}
	return event{}, false
}

func (e *endpoint) names() []string {
	var s []string
	for _, ev := range e.events {
		s = append(s, ev.name)
	}
	return s
}

type nopSched struct{}

func (nopSched) Wake() {}

// inFlight is a datagram on the wire.
type inFlight struct {
	at       mono.Time
	seq      int
	to       *endpoint
	data     []byte
	src, dst netip.AddrPort // as the receiver sees them
	ecn      uint8          // the ECN codepoint it carries
	// sentTo is the address a server datagram was sent to, before the
	// NAT (natForgets).
	sentTo netip.AddrPort
}

// pair is the two endpoints plus the network between them.
type pair struct {
	t              testing.TB
	now            mono.Time
	client, server *endpoint
	// wire holds the datagrams in flight, a min-heap by delivery time
	// and then sending order: add with put, remove with take.
	wire           []inFlight
	seq            int
	delay          time.Duration // one-way
	rng            *rand.Rand
	lossRate       float64
	reorderRate    float64
	drop           func(from *endpoint, n int, data []byte) bool
	sentCount      map[*endpoint]int
	sentBytes      map[*endpoint]int
	recvBytes      map[*endpoint]int // bytes delivered to each endpoint
	rejectConn     bool
	serverTLS      *tls.Config
	serverSettings Settings
	// serverStart are the server connection's settings until its
	// configuration arrives (the listener's).
	serverStart Settings
	// nat maps a client socket address to the address the server sees
	// (NAT rebinding); unmapped addresses are seen as they are.
	nat map[netip.AddrPort]netip.AddrPort
	// natForgets places that NAT next to the client: a server datagram
	// is lost if, when it arrives, the address it was sent to no longer
	// leads to the client socket (the NAT forgot the old mapping while
	// the datagram was on its way).
	natForgets bool
	// rate, if set, is a bottleneck in bits per second in each direction,
	// with a drop-tail queue of queueLimit datagrams (25 if 0); queued
	// holds the departure times of each sender's queued datagrams.
	rate       int64
	queueLimit int
	queued     map[*endpoint][]mono.Time
	// spoofSrc, if set, makes an on-path attacker forward a copy of every
	// client datagram from that address, arriving first (RFC 9000 §9.3.3);
	// nothing sent to it arrives.
	spoofSrc netip.AddrPort
	// dead lists client socket addresses whose path does not work: nothing
	// sent from or to them arrives.
	dead           map[netip.AddrPort]bool
	serverVersions []uint32 // server Config.Versions
	// serverRetryODCID, if set, creates the server as after a Retry.
	serverRetryODCID []byte
	// serverCIDPrefix, if set, is applied in the server's Accept.
	serverCIDPrefix []byte
	// serverPreferred is the server's Config.PreferredAddress.
	serverPreferred PreferredAddress
	// serverDecide is the server's ServerConfig.DecideCertificate.
	serverDecide CertificateDecision
	// serverOpenTrace is the server's Config.OpenTrace.
	serverOpenTrace func(odcid []byte, server bool) *qlog.Trace
	steps           int // simulation steps taken by runUntil
	// ecn is the codepoint of the datagram being transmitted (Send sets
	// it).
	ecn uint8
}

// pairSeed seeds the network's randomness (loss, reordering). Tests are
// deterministic with the default; exploratory runs may vary it.
var pairSeed uint64 = 1

type pairOption func(p *pair, cc *Config, clientTLS *tls.Config)

func newPair(t testing.TB, opts ...pairOption) *pair {
	t.Helper()
	cert, pool := certOnce()
	p := &pair{
		t:         t,
		now:       mono.Time(time.Hour),
		delay:     10 * time.Millisecond,
		rng:       rand.New(rand.NewPCG(pairSeed, 2)),
		sentCount: map[*endpoint]int{},
		sentBytes: map[*endpoint]int{},
		recvBytes: map[*endpoint]int{},
		serverTLS: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}},
	}
	p.serverSettings = defaultSettings()
	p.serverStart = defaultSettings()
	resetKey := token.NewResetKey([32]byte{1})
	clientTLS := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "localhost", RootCAs: pool, NextProtos: []string{"test"}}
	cc := Config{Side: Client, Version: wire.Version1, Settings: defaultSettings(), ResetKey: resetKey.Token,
		CIDLen: 8, Peer: serverAddr, Local: clientAddr}
	for _, o := range opts {
		o(p, &cc, clientTLS)
	}
	cc.TLS = clientTLS
	p.client = newEndpoint(p, "client", clientAddr)
	p.server = newEndpoint(p, "server", serverAddr)
	p.client.peer, p.server.peer = p.server, p.client
	p.client.c = NewClient(cc, p.client, p.client)
	p.client.c.SetScheduler(nopSched{})
	return p
}

func newEndpoint(p *pair, name string, addr netip.AddrPort) *endpoint {
	return &endpoint{t: p.t, name: name, addr: addr, p: p, cids: map[string]bool{}, received: map[uint64][]byte{}, counts: map[string]int{},
		streamDone: map[*Stream]bool{}, handleClosed: map[*Stream]bool{}, live: map[*Stream]bool{}}
}

// transmitFrom puts a datagram sent from local to dst on the wire. Client
// datagrams pass through p.nat, which maps a client socket address to the
// address the server sees; a server datagram to an address no client
// socket maps to is lost (a NAT binding that changed).
func (p *pair) transmitFrom(from *endpoint, data []byte, local, dst netip.AddrPort) {
	if !local.IsValid() {
		local = from.addr
	}
	if from == p.client && p.dead[local] || from == p.server && p.dead[dst] {
		return
	}
	var src, sentTo netip.AddrPort
	if from == p.client {
		src = p.natted(local)
		if !dst.IsValid() {
			dst = serverAddr
		}
	} else {
		src, sentTo = local, dst
		sock, ok := p.clientSocketFor(dst)
		if !ok || dst == p.spoofSrc {
			return
		}
		dst = sock
	}
	if from == p.client && p.spoofSrc.IsValid() {
		p.seq++
		p.put(inFlight{at: p.now.Add(p.delay - time.Millisecond), seq: p.seq, to: p.server,
			data: bytes.Clone(data), src: p.spoofSrc, dst: serverAddr})
	}
	if len(data) < minInitialDatagram && p.client.c != nil {
		p.checkInitialPadding(from, data)
	}
	n := p.sentCount[from]
	p.sentCount[from]++
	p.sentBytes[from] += len(data)
	if p.drop != nil && p.drop(from, n, data) {
		return
	}
	if p.lossRate > 0 && p.rng.Float64() < p.lossRate {
		return
	}
	at, ok := p.bottleneck(from, len(data))
	if !ok {
		return
	}
	at = at.Add(p.delay)
	if p.reorderRate > 0 && p.rng.Float64() < p.reorderRate {
		at = at.Add(time.Duration(p.rng.IntN(20)) * time.Millisecond)
	}
	p.seq++
	p.put(inFlight{at: at, seq: p.seq, to: from.peer, data: data, src: src, dst: dst, ecn: p.ecn, sentTo: sentTo})
}

// before orders datagrams by delivery time, then by sending order (seq
// is unique).
func (d *inFlight) before(o *inFlight) bool {
	if d.at != o.at {
		return d.at < o.at
	}
	return d.seq < o.seq
}

// put adds d to the wire.
func (p *pair) put(d inFlight) {
	w := append(p.wire, d)
	for i := len(w) - 1; i > 0; {
		up := (i - 1) / 2
		if !w[i].before(&w[up]) {
			break
		}
		w[i], w[up] = w[up], w[i]
		i = up
	}
	p.wire = w
}

// take removes and returns the datagram due first; the wire must not be
// empty.
func (p *pair) take() inFlight {
	w := p.wire
	d, n := w[0], len(w)-1
	w[0], w[n] = w[n], inFlight{}
	w = w[:n]
	for i := 0; ; {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && w[r].before(&w[m]) {
			m = r
		}
		if !w[m].before(&w[i]) {
			break
		}
		w[i], w[m] = w[m], w[i]
		i = m
	}
	p.wire = w
	return d
}

// bottleneck returns when a datagram of size bytes that from sends now
// leaves its bottleneck (now without one), or false if the queue is full.
// On the wire a datagram also carries 28 bytes of IP and UDP headers.
func (p *pair) bottleneck(from *endpoint, size int) (mono.Time, bool) {
	if p.rate <= 0 {
		return p.now, true
	}
	if p.queued == nil {
		p.queued = map[*endpoint][]mono.Time{}
	}
	q := p.queued[from]
	for len(q) > 0 && q[0] <= p.now {
		q = q[1:]
	}
	limit := p.queueLimit
	if limit == 0 {
		limit = 25
	}
	if len(q) >= limit {
		p.queued[from] = q
		return 0, false
	}
	start := p.now
	if len(q) > 0 {
		start = q[len(q)-1]
	}
	depart := start.Add(time.Duration(int64(size+28) * 8 * int64(time.Second) / p.rate))
	p.queued[from] = append(q, depart)
	return depart, true
}

// checkInitialPadding enforces RFC 9000 §14.1 on a datagram smaller than
// 1200 bytes: a client's may carry no Initial packet, a server's no
// ack-eliciting one.
func (p *pair) checkInitialPadding(from *endpoint, data []byte) {
	h, ok := wire.ParseLongHeader(data)
	if !ok || h.Type != wire.PacketInitial {
		return
	}
	if from == p.client {
		p.t.Errorf("client sent a %d-byte datagram with an Initial packet", len(data))
		return
	}
	for _, f := range p.decode(p.client, 0, data) {
		switch f.f.(type) {
		case wire.DebugAck, wire.DebugPadding, wire.DebugConnectionClose:
		default:
			if f.pt == wire.PacketInitial {
				p.t.Errorf("server sent a %d-byte datagram with an ack-eliciting Initial packet (%v)", len(data), f.f)
				return
			}
		}
	}
}

// natted returns the address the server sees for the client socket local.
func (p *pair) natted(local netip.AddrPort) netip.AddrPort {
	if m, ok := p.nat[local]; ok {
		return m
	}
	return local
}

// clientSocketFor finds the client socket whose datagrams the server sees
// as coming from addr.
func (p *pair) clientSocketFor(addr netip.AddrPort) (netip.AddrPort, bool) {
	if !addr.IsValid() {
		return clientAddr, true
	}
	for local, seen := range p.nat {
		if seen == addr {
			return local, true
		}
	}
	if _, remapped := p.nat[addr]; remapped {
		return netip.AddrPort{}, false
	}
	return addr, true
}

// deliver hands a datagram to its destination, creating the server
// connection for the first one.
func (p *pair) deliver(d inFlight) {
	to := d.to
	if to == p.server && to.c == nil {
		h, ok := wire.ParseLongHeader(d.data)
		if !ok || h.Type != wire.PacketInitial {
			return
		}
		cfg := Config{Side: Server, Version: h.Version, Versions: p.serverVersions, RetryODCID: p.serverRetryODCID, PreferredAddress: p.serverPreferred, Settings: p.serverStart, OpenTrace: p.serverOpenTrace, ResetKey: token.NewResetKey([32]byte{2}).Token,
			CIDLen: 8, Peer: clientAddr, Local: serverAddr}
		to.c = NewServer(cfg, to, to, h.DCID, h.SCID)
		to.c.SetScheduler(nopSched{})
	}
	if to.c == nil || to.closed {
		return
	}
	if p.natForgets && to == p.client && d.sentTo.IsValid() {
		if sock, ok := p.clientSocketFor(d.sentTo); !ok || sock != d.dst {
			return
		}
	}
	p.recvBytes[to] += len(d.data)
	to.c.QueueDatagram(Datagram{Data: d.data, Peer: d.src, Local: d.dst, ECN: d.ecn})
}

// step runs both connections once at the current time.
func (p *pair) step() {
	for _, e := range []*endpoint{p.client, p.server} {
		if e.c == nil {
			continue
		}
		for {
			more, _ := e.c.Run(p.now)
			if !more {
				break
			}
		}
	}
}

// next returns the time of the next network delivery or timer.
func (p *pair) next() mono.Time {
	var t mono.Time
	if len(p.wire) > 0 {
		t = p.wire[0].at
	}
	for _, e := range []*endpoint{p.client, p.server} {
		if e.c != nil && !e.closed {
			t = mono.Min(t, e.c.deadline())
		}
	}
	return t
}

// runUntil advances the simulation until cond holds or limit of virtual
// time passes. It reports whether cond held.
func (p *pair) runUntil(limit time.Duration, cond func() bool) bool {
	end := p.now.Add(limit)
	p.step()
	stuck := 0
	for !cond() {
		p.steps++
		t := p.next()
		if t.IsZero() || t > end {
			p.now = end
			p.step()
			return cond()
		}
		if t > p.now {
			p.now = t
			stuck = 0
		} else if stuck++; stuck > 10000 {
			p.t.Fatalf("virtual time stuck at %v: client %s; server %s", p.now, p.client.deadlines(), p.server.deadlines())
		}
		for len(p.wire) > 0 && p.wire[0].at <= p.now {
			p.deliver(p.take())
		}
		p.step()
	}
	return true
}

// deadlines describes an endpoint's pending deadlines, for a stuck clock.
func (e *endpoint) deadlines() string {
	if e.c == nil {
		return "no connection"
	}
	c := e.c
	s := fmt.Sprintf("state %d timers %v loss %v", c.life.state, c.timers, c.loss.LossDetectionDeadline())
	for sp := range c.spaces {
		s += fmt.Sprintf(" ack[%d] %v", sp, c.spaces[sp].acks.AckDeadline())
	}
	return s
}

// handshake starts the client and runs until both sides are connected.
func (p *pair) handshake() {
	p.t.Helper()
	p.client.c.Start()
	if !p.runUntil(10*time.Second, func() bool {
		return p.client.has("Connected") && p.server.has("Connected") && p.client.c.life.handshakeConfirmed
	}) {
		p.t.Fatalf("handshake did not complete: client %v, server %v", p.client.names(), p.server.names())
	}
}
