package conn

import (
	"bytes"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// Resumption events of the pair harness's endpoints.

func (e *endpoint) ResumptionTicketReceived(ticket []byte) {
	e.record(event{name: "Ticket", data: ticket})
}

func (e *endpoint) Resumed(appData []byte) error {
	e.record(event{name: "Resumed", data: bytes.Clone(appData)})
	if e.rejectResume {
		return errors.New("resumption declined")
	}
	return nil
}

// resumeServer is a server TLS configuration whose ticket keys survive
// from one pair to the next.
func resumeServer() *tls.Config {
	cert, _ := certOnce()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	cfg.SetSessionTicketKeys([][32]byte{{7}})
	return cfg
}

// withResumption gives the server cfg and level, and the client ticket.
func withResumption(cfg *tls.Config, level ResumptionLevel, ticket []byte) pairOption {
	return func(p *pair, cc *Config, _ *tls.Config) {
		p.serverTLS = cfg
		p.serverSettings.ServerResumption = level
		cc.ResumptionTicket = ticket
	}
}

// getTicket runs a first connection whose server issues a ticket carrying
// appData, and returns the ticket the client received.
func getTicket(t testing.TB, cfg *tls.Config, level ResumptionLevel, appData string, opts ...pairOption) []byte {
	t.Helper()
	p := newPair(t, append([]pairOption{withResumption(cfg, level, nil)}, opts...)...)
	p.handshake()
	if p.client.c.ConnectionState().DidResume {
		t.Fatal("first connection resumed")
	}
	p.server.c.SendResumptionTicket([]byte(appData))
	if !p.runUntil(time.Second, func() bool { return p.client.has("Ticket") }) {
		t.Fatalf("no ticket: client %v", p.client.names())
	}
	ev, _ := p.client.find("Ticket")
	if _, err := ParseResumptionTicket(ev.data); err != nil {
		t.Fatalf("the ticket does not parse: %v", err)
	}
	return ev.data
}

// zeroRTTCounter counts the client's 0-RTT packets through the pair's drop
// hook.
func zeroRTTCounter(p *pair) *int {
	n := new(int)
	p.drop = func(from *endpoint, _ int, data []byte) bool {
		if from == p.client {
			for _, pt := range longPacketTypes(data) {
				if pt == wire.Packet0RTT {
					*n++
				}
			}
		}
		return false
	}
	return n
}

// longPacketTypes lists the types of the long-header packets coalesced at
// the start of a datagram.
func longPacketTypes(d []byte) []wire.PacketType {
	var ts []wire.PacketType
	for len(d) > 0 && wire.IsLongHeader(d[0]) {
		h, ok := wire.ParseLongHeader(d)
		if !ok {
			break
		}
		ts = append(ts, h.Type)
		d = d[h.Len:]
	}
	return ts
}

// openEarlyStream opens a unidirectional client stream and queues data
// (and a FIN) on it before the connection starts.
func openEarlyStream(c *Conn, data []byte, flags uint32) *Stream {
	s := c.NewStream(StreamOpenUnidirectional)
	c.StreamSend(s, [][]byte{data}, SendFlagStart|SendFlagFIN|flags, "early")
	return s
}

// serverStreams returns the server's streams by ID, with their 0-RTT
// reception.
func serverStreams(p *pair) map[uint64]*Stream {
	m := map[uint64]*Stream{}
	for _, ev := range p.server.events {
		if ev.name == "PeerStreamStarted" {
			m[ev.s.ID()] = ev.s
		}
	}
	return m
}

func TestResumedConnectionSendsZeroRTT(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "app-data")

	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
	early := zeroRTTCounter(p)
	s := openEarlyStream(p.client.c, []byte("hello 0-RTT"), SendFlagAllow0RTT)
	p.handshake()
	if !p.runUntil(time.Second, func() bool { return p.client.has("StreamShutdownComplete") }) {
		t.Fatalf("stream did not complete: client %v", p.client.names())
	}

	if !p.client.c.ConnectionState().DidResume || !p.server.c.ConnectionState().DidResume {
		t.Fatal("the session was not resumed")
	}
	if ev, ok := p.server.find("Resumed"); !ok || string(ev.data) != "app-data" {
		t.Fatalf("Resumed event %v, %q; want the ticket's app data", ok, ev.data)
	}
	if *early == 0 {
		t.Fatal("the client sent no 0-RTT packet")
	}
	if got := p.server.received[s.ID()]; string(got) != "hello 0-RTT" {
		t.Fatalf("server received %q", got)
	}
	started, _ := p.server.find("PeerStreamStarted")
	if started.b&StreamOpen0RTT == 0 {
		t.Errorf("PeerStreamStarted flags %#x, want StreamOpen0RTT", started.b)
	}
	recv, _ := p.server.find("Receive")
	if recv.c != 1 {
		t.Error("the data was not indicated as 0-RTT")
	}
	// It arrived with the client's first flight, before the handshake
	// completed on the server.
	names := p.server.names()
	if slices.Index(names, "Receive") > slices.Index(names, "Connected") {
		t.Errorf("server events %v: 0-RTT data after Connected", names)
	}
	if sc, ok := p.client.find("SendComplete"); !ok || sc.a != 0 {
		t.Errorf("SendComplete %v canceled=%d", ok, sc.a)
	}
}

// TestZeroRTTNeedsAllowFlag: data sent without SendFlagAllow0RTT waits for
// 1-RTT even on a resumed connection.
func TestZeroRTTNeedsAllowFlag(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "")
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
	early := zeroRTTCounter(p)
	s := openEarlyStream(p.client.c, []byte("1-RTT only"), 0)
	p.handshake()
	p.runUntil(time.Second, func() bool { return p.client.has("StreamShutdownComplete") })
	if *early != 0 {
		t.Errorf("%d 0-RTT packets without SendFlagAllow0RTT", *early)
	}
	if got := string(p.server.received[s.ID()]); got != "1-RTT only" {
		t.Fatalf("server received %q", got)
	}
	if recv, _ := p.server.find("Receive"); recv.c != 0 {
		t.Error("1-RTT data indicated as 0-RTT")
	}
}

// TestZeroRTTAllowedPrefix: 0-RTT carries a stream up to the end of the
// latest send that allowed it; what follows waits for 1-RTT.
func TestZeroRTTAllowedPrefix(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "")
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
	c := p.client.c
	s := c.NewStream(StreamOpenUnidirectional)
	c.StreamSend(s, [][]byte{[]byte("early.")}, SendFlagStart|SendFlagAllow0RTT, 1)
	c.StreamSend(s, [][]byte{[]byte("late")}, SendFlagFIN, 2)
	p.handshake()
	p.runUntil(time.Second, func() bool { return p.client.has("StreamShutdownComplete") })
	if got := string(p.server.received[s.ID()]); got != "early.late" {
		t.Fatalf("server received %q", got)
	}
	if end := serverStreams(p)[s.ID()].zeroRTTRecvEnd; end != 6 {
		t.Errorf("0-RTT covered %d bytes, want the 6 allowed", end)
	}
}

// TestZeroRTTRejectedResentIn1RTT: when the server declines 0-RTT (its
// level no longer allows it, or its application says no), the 0-RTT
// packets are lost and their data arrives once, in 1-RTT packets; the
// session is still resumed.
func TestZeroRTTRejectedResentIn1RTT(t *testing.T) {
	for _, tc := range []struct {
		name   string
		level  ResumptionLevel
		reject bool
	}{
		{"ResumeOnly", ResumeOnly, false},
		{"Resumed handler error", ResumeZeroRTT, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := resumeServer()
			ticket := getTicket(t, cfg, ResumeZeroRTT, "")
			p := newPair(t, withResumption(cfg, tc.level, ticket))
			p.server.rejectResume = tc.reject
			early := zeroRTTCounter(p)
			data := bytes.Repeat([]byte("0123456789"), 300) // several packets
			s := openEarlyStream(p.client.c, data, SendFlagAllow0RTT)
			p.handshake()
			if !p.runUntil(2*time.Second, func() bool { return p.client.has("StreamShutdownComplete") }) {
				t.Fatalf("stream did not complete: client %v", p.client.names())
			}
			if *early == 0 {
				t.Fatal("the client sent no 0-RTT packet")
			}
			if !p.client.c.zeroRTT.rejected {
				t.Error("the client did not see the rejection")
			}
			if !p.client.c.ConnectionState().DidResume {
				t.Error("not resumed")
			}
			if got := p.server.received[s.ID()]; !bytes.Equal(got, data) {
				t.Fatalf("server received %d bytes, want the %d sent, once", len(got), len(data))
			}
			for _, ev := range p.server.events {
				if ev.name == "Receive" && ev.c != 0 {
					t.Fatal("data indicated as 0-RTT")
				}
				if ev.name == "PeerStreamStarted" && ev.b&StreamOpen0RTT != 0 {
					t.Fatal("stream flagged as opened in 0-RTT")
				}
			}
			if n := p.client.count("SendComplete"); n != 1 {
				t.Errorf("%d SendComplete events", n)
			}
			if p.client.c.loss.Stats().CongestionEvents != 0 {
				t.Error("the rejected flight counted as congestion")
			}
		})
	}
}

// TestZeroRTTRememberedLimits: 0-RTT stays within the limits the server
// had when it issued the ticket (RFC 9000 §7.4.1): the stream count, the
// per-stream window and the connection window; the rest follows in 1-RTT.
func TestZeroRTTRememberedLimits(t *testing.T) {
	small := func(p *pair, _ *Config, _ *tls.Config) {
		p.serverSettings.PeerUniStreamCount = 2
		p.serverSettings.StreamRecvWindowUni = 1000
		p.serverSettings.ConnFlowControlWindow = 1500
	}
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "", small)
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket), small)
	data := bytes.Repeat([]byte{'x'}, 1200)
	var streams []*Stream
	for range 3 {
		streams = append(streams, openEarlyStream(p.client.c, data, SendFlagAllow0RTT))
	}
	p.handshake()
	if !p.runUntil(5*time.Second, func() bool { return p.client.count("StreamShutdownComplete") == 3 }) {
		t.Fatalf("streams did not complete: client %v", p.client.names())
	}
	var total uint64
	n0RTT := 0
	for _, s := range serverStreams(p) {
		if end := s.zeroRTTRecvEnd; end > 0 {
			n0RTT++
			total += end
			if end > 1000 {
				t.Errorf("stream %d: %d bytes in 0-RTT, above the 1000-byte window", s.ID(), end)
			}
		}
	}
	if n0RTT == 0 || n0RTT > 2 {
		t.Errorf("%d streams opened in 0-RTT, want 1 or 2", n0RTT)
	}
	if total > 1500 {
		t.Errorf("%d bytes in 0-RTT, above the 1500-byte connection window", total)
	}
	for _, s := range streams {
		if got := p.server.received[s.ID()]; !bytes.Equal(got, data) {
			t.Errorf("stream %d: server received %d bytes", s.ID(), len(got))
		}
	}
}

// TestZeroRTTDeclinedWhenLimitsShrink: a server whose limits are now below
// those in the ticket declines 0-RTT but resumes (RFC 9001 §4.6.1).
func TestZeroRTTDeclinedWhenLimitsShrink(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "")
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket), func(p *pair, _ *Config, _ *tls.Config) {
		p.serverSettings.PeerUniStreamCount = 10
	})
	s := openEarlyStream(p.client.c, []byte("data"), SendFlagAllow0RTT)
	p.handshake()
	p.runUntil(time.Second, func() bool { return p.client.has("StreamShutdownComplete") })
	if !p.client.c.zeroRTT.rejected || !p.server.c.ConnectionState().DidResume {
		t.Fatalf("rejected %v, resumed %v; want 0-RTT rejected and the session resumed",
			p.client.c.zeroRTT.rejected, p.server.c.ConnectionState().DidResume)
	}
	if got := string(p.server.received[s.ID()]); got != "data" {
		t.Fatalf("server received %q", got)
	}
}

// TestResumeOnlyTicketHasNoZeroRTT: a ticket issued at ResumeOnly resumes
// the session without 0-RTT.
func TestResumeOnlyTicketHasNoZeroRTT(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeOnly, "")
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
	early := zeroRTTCounter(p)
	openEarlyStream(p.client.c, []byte("data"), SendFlagAllow0RTT)
	p.handshake()
	p.runUntil(time.Second, func() bool { return p.client.has("StreamShutdownComplete") })
	if *early != 0 {
		t.Errorf("%d 0-RTT packets", *early)
	}
	if !p.client.c.ConnectionState().DidResume {
		t.Error("not resumed")
	}
}

// TestNoResumeServer issues no ticket and ignores one.
func TestNoResumeServer(t *testing.T) {
	cfg := resumeServer()
	p := newPair(t, withResumption(cfg, ResumeNone, nil))
	p.handshake()
	p.server.c.SendResumptionTicket(nil)
	p.runUntil(200*time.Millisecond, func() bool { return false })
	if p.client.has("Ticket") {
		t.Fatal("a ResumeNone server issued a ticket")
	}

	ticket := getTicket(t, cfg, ResumeZeroRTT, "")
	p = newPair(t, withResumption(cfg, ResumeNone, ticket))
	p.handshake()
	if p.server.c.ConnectionState().DidResume || p.server.has("Resumed") {
		t.Fatal("a ResumeNone server resumed")
	}
}

// TestOneTicketPerConnection: crypto/tls issues one ticket per connection;
// a second request does nothing (and does not break the connection).
func TestOneTicketPerConnection(t *testing.T) {
	p := newPair(t, withResumption(resumeServer(), ResumeZeroRTT, nil))
	p.handshake()
	p.server.c.SendResumptionTicket([]byte("a"))
	p.server.c.SendResumptionTicket([]byte("b"))
	p.runUntil(300*time.Millisecond, func() bool { return false })
	if n := p.client.count("Ticket"); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	if p.client.has("ShutdownByTransport") || p.server.has("ShutdownByTransport") {
		t.Fatal("the connection closed")
	}
}

// TestResumptionTicketVersionMismatch: a ticket from a QUIC version 1
// connection resumes a version 2 connection without 0-RTT.
func TestResumptionTicketVersionMismatch(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "")
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket), func(_ *pair, cc *Config, _ *tls.Config) {
		cc.Version = wire.Version2
	})
	early := zeroRTTCounter(p)
	openEarlyStream(p.client.c, []byte("data"), SendFlagAllow0RTT)
	p.handshake()
	if *early != 0 {
		t.Errorf("%d 0-RTT packets across versions", *early)
	}
	if !p.client.c.ConnectionState().DidResume {
		t.Error("not resumed")
	}
}

func TestParseResumptionTicketRejectsDamage(t *testing.T) {
	ticket := getTicket(t, resumeServer(), ResumeZeroRTT, "x")
	for i := range ticket {
		if _, err := ParseResumptionTicket(ticket[:i]); err == nil {
			t.Fatalf("ticket truncated to %d bytes accepted", i)
		}
	}
	for _, bad := range [][]byte{nil, {ticketFormat + 1}, append([]byte{ticketFormat, 0, 0, 0, 9}, ticket[5:]...)} {
		if _, err := ParseResumptionTicket(bad); err == nil {
			t.Fatalf("ticket %x accepted", bad)
		}
	}
}

func TestResumeEntryRoundTrip(t *testing.T) {
	p := wire.DefaultTransportParameters()
	p.InitialMaxData = 1 << 20
	p.InitialMaxStreamsBidi = 7
	p.HasMaxDatagramFrameSize, p.MaxDatagramFrameSize = true, 1200
	b := appendResumeEntry(nil, wire.Version2, []byte("state"), &p)
	e, ok := findResumeEntry([][]byte{[]byte("other"), b})
	if !ok || e.version != wire.Version2 || string(e.appData) != "state" || e.params.InitialMaxData != 1<<20 ||
		e.params.InitialMaxStreamsBidi != 7 || e.params.MaxDatagramFrameSize != 1200 {
		t.Fatalf("decoded %+v, %v", e, ok)
	}
	cur := p
	if limitsReduced(&p, &cur) {
		t.Error("equal limits reported as reduced")
	}
	cur.HasMaxDatagramFrameSize = false
	if !limitsReduced(&p, &cur) {
		t.Error("datagrams turned off not reported as reduced")
	}
}

func FuzzParseResumptionTicket(f *testing.F) {
	f.Add(getTicket(f, resumeServer(), ResumeZeroRTT, "seed"))
	f.Add([]byte{ticketFormat, 0, 0, 0, 1, 1, 0})
	pb := wire.DefaultTransportParameters()
	f.Add(append([]byte{ticketFormat, 0, 0, 0, 1, 1, 'x'}, appendResumeEntry(nil, 1, nil, &pb)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := ParseResumptionTicket(b)
		if err == nil && (tk.session == nil || !wire.IsSupportedVersion(tk.Version)) {
			t.Fatal("accepted ticket without a session or with an unsupported version")
		}
		findResumeEntry([][]byte{b, append([]byte(resumeTag), b...)})
	})
}

// zeroRTTEcho starts a resumed connection with data bytes of 0-RTT on a
// bidirectional stream the server echoes, and runs until the echo is back.
func zeroRTTEcho(t *testing.T, p *pair, data []byte) {
	t.Helper()
	p.server.echo = true
	s := p.client.c.NewStream(0)
	p.client.c.StreamSend(s, [][]byte{data}, SendFlagStart|SendFlagFIN|SendFlagAllow0RTT, "early")
	p.client.c.Start()
	if !p.runUntil(10*time.Second, func() bool { return p.client.streamFinished(s) }) || p.client.has("ShutdownComplete") {
		t.Fatalf("echo did not finish: client %v server %v", p.client.names(), p.server.names())
	}
	if got := p.client.received[s.ID()]; !bytes.Equal(got, data) {
		t.Fatalf("echoed %d bytes, want %d intact", len(got), len(data))
	}
	if !p.client.c.ConnectionState().DidResume {
		t.Fatal("the session was not resumed")
	}
}

// The client's Initial packets are lost while 0-RTT packets fill its
// congestion window. Those cannot be acknowledged before the handshake,
// nor probed for (RFC 9002 §6.2.1), so they must neither stop the
// client's anti-deadlock probe timer (both Initial datagrams lost: no
// acknowledgment ever comes) nor hold back the lost CRYPTO data (one
// lost: the other's acknowledgment declares it lost).
func TestZeroRTTFillingTheWindowDoesNotStallALostInitial(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "app")
	for _, lost := range []int{1, 2} {
		p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
		p.drop = func(from *endpoint, n int, data []byte) bool {
			return from == p.client && n < lost && slices.Contains(longPacketTypes(data), wire.PacketInitial)
		}
		zeroRTTEcho(t, p, payload(1, 40<<10))
	}
}

// The server's first two datagrams with Handshake packets (its
// EncryptedExtensions and Finished) are lost while its 0.5-RTT
// echo of the client's 0-RTT data fills its congestion window: the lost
// handshake data is sent again all the same.
func TestHalfRTTDataFillingTheWindowDoesNotStallLostHandshakeData(t *testing.T) {
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "app")
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
	dropped := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from != p.server || dropped == 2 {
			return false
		}
		if slices.Contains(longPacketTypes(data), wire.PacketHandshake) {
			dropped++
			return true
		}
		return false
	}
	zeroRTTEcho(t, p, payload(2, 40<<10))
	if dropped != 2 {
		t.Fatalf("dropped %d datagrams with Handshake packets, want 2", dropped)
	}
}

// Resumed connections sending up to five 0-RTT echo streams, under loss
// and reordering from their first packet: every echo completes intact and
// each send completes once. Before 0-RTT and 0.5-RTT data stopped
// stalling the handshake, about one in ten of these idled out.
func TestRandomZeroRTTUnderLoss(t *testing.T) {
	t.Parallel() // a seed sweep of independent pairs; sequential tests count allocations alone
	cfg := resumeServer()
	ticket := getTicket(t, cfg, ResumeZeroRTT, "app")
	for seed := uint64(1); seed <= sweepSeeds(300); seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket))
		p.rng = rand.New(rand.NewPCG(seed, 3))
		p.server.echo = true
		p.delay = time.Duration(1+r.IntN(40)) * time.Millisecond
		p.lossRate = []float64{0, 0.05, 0.2}[r.IntN(3)]
		p.reorderRate = []float64{0, 0.1, 0.3}[r.IntN(3)]
		want := map[*Stream][]byte{}
		for i := range 1 + r.IntN(5) {
			data := payload(seed<<4|uint64(i), r.IntN(40<<10))
			s := p.client.c.NewStream(0)
			p.client.c.StreamSend(s, [][]byte{data}, SendFlagStart|SendFlagFIN|SendFlagAllow0RTT, i)
			want[s] = data
		}
		p.client.c.Start()
		done := p.runUntil(3*time.Minute, func() bool { return p.client.streamsFinished(want) })
		if !done || p.client.has("ShutdownComplete") || p.server.has("ShutdownComplete") {
			t.Fatalf("seed %d (loss %v, reorder %v): finished %v: client %v", seed, p.lossRate, p.reorderRate, done, p.client.names())
		}
		sends := p.client.sendCompletes()
		for s, data := range want {
			if got := p.client.received[s.ID()]; !bytes.Equal(got, data) {
				t.Fatalf("seed %d: stream %d echoed %d bytes, want %d intact", seed, s.ID(), len(got), len(data))
			}
		}
		for i := range len(want) {
			if sends[i] != 1 {
				t.Fatalf("seed %d: send %d completed %d times", seed, i, sends[i])
			}
		}
	}
}
