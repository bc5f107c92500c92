package quic

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/netsim"
)

// These tests show every Statistics field against what happened on the
// wire: a few transfers over netsim in virtual time (a clean link, a
// lossy and reordering one, a blackout, key updates, an idle pause), and
// for the fields those cannot reach (ECN, which netsim does not carry;
// Retry, Version Negotiation, migration, tracing) the test that shows the
// field elsewhere. TestEveryStatisticHasARow fails for a field without a
// row.

// statSides are both ends' statistics at one moment.
type statSides struct{ client, server Statistics }

// statRun is what one scenario saw.
type statRun struct {
	started  time.Time  // when the client called Start
	mid      Statistics // the client's, at the first echoed bytes that found it probe-worthy
	settled  statSides  // after the echo and a quiet second
	injected statSides  // after a duplicate and a corrupted copy of a client packet reached the server
	again    Statistics // the client's, after an idle pause and a second echo
	net      netsim.Stats
	size     int // stream bytes sent each way
}

// statScenario is a transfer to run.
type statScenario struct {
	link   netsim.Link
	size   int       // bytes echoed on one stream
	client *Settings // applied to the client configuration
	server *Settings // applied to the server configuration
	// pause, if set, is an idle pause before a second echo of size bytes.
	pause time.Duration
	// probe, if set, chooses the mid-transfer sample: the client's
	// statistics when echoed bytes arrive, the first that probe accepts.
	probe func(Statistics) bool
}

// statPeer is the address the injected datagrams come from.
var statPeer = netip.MustParseAddr("10.0.0.9")

// runStatScenario runs sc and returns what both sides counted.
func runStatScenario(t *testing.T, sc statScenario) statRun {
	t.Helper()
	e := newE2E(t, "echo", nil)
	for _, s := range []struct {
		cfg *Configuration
		s   *Settings
	}{{e.cliCfg, sc.client}, {e.srvCfg, sc.server}} {
		if err := s.cfg.SetSettings(s.s); err != nil {
			t.Fatal(err)
		}
	}
	servers := make(chan *Connection, 1)
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			servers <- ev.Connection
			ev.Connection.SetHandler(echoServerConn)
			return ev.Connection.SetConfiguration(e.srvCfg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	e.listener = l
	e.addr, _ = l.LocalAddr()
	// The link keeps a copy of the client's last 1-RTT datagram to the
	// server, to be sent again from elsewhere.
	var mu sync.Mutex
	var last []byte
	link := sc.link
	drop := link.Drop
	link.Drop = func(d netsim.Datagram) bool {
		if d.To == e.addr && d.Data[0]&0x80 == 0 {
			mu.Lock()
			last = bytes.Clone(d.Data)
			mu.Unlock()
		}
		return drop != nil && drop(d)
	}
	e.net.SetDefaultLink(link)

	run := statRun{started: time.Now(), size: sc.size}
	c, closed := e.connect(t, nil)
	srv := <-servers
	statEcho(t, c, sc.size, sc.probe, &run.mid)
	time.Sleep(time.Second) // virtual: every acknowledgment arrives
	run.settled = statSides{statsOf(t, c), statsOf(t, srv)}

	mu.Lock()
	dup := last
	mu.Unlock()
	s, err := e.net.Host(statPeer).Listen("udp4", netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(dup)
	corrupt[len(corrupt)-1] ^= 0xff
	for _, d := range [][]byte{dup, corrupt} {
		if _, err := s.WriteToUDPAddrPort(d, e.addr); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	run.injected = statSides{statsOf(t, c), statsOf(t, srv)}

	if sc.pause > 0 {
		time.Sleep(sc.pause)
		statEcho(t, c, sc.size, nil, nil)
		time.Sleep(time.Second)
		run.again = statsOf(t, c)
	}
	run.net = e.net.Stats()
	c.Shutdown(ConnectionShutdownNone, 0)
	wait(t, closed, "shutdown")
	return run
}

func statsOf(t *testing.T, c *Connection) Statistics {
	t.Helper()
	s, err := c.Statistics()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// statEcho echoes size bytes on a new stream of c; mid, if not nil,
// receives c's statistics when echoed bytes arrive, the first sample that
// probe accepts (nil: the first).
func statEcho(t *testing.T, c *Connection, size int, probe func(Statistics) bool, mid *Statistics) {
	t.Helper()
	got, sampled := 0, false
	done := make(chan struct{})
	s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
		switch ev := ev.(type) {
		case *ReceiveEvent:
			if !sampled && mid != nil {
				st, _ := c.Statistics()
				if probe == nil || probe(st) {
					*mid, sampled = st, true
				}
			}
			got += int(ev.TotalBufferLength)
		case *StreamShutdownCompleteEvent:
			s.Close()
			close(done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([][]byte{make([]byte, size)}, SendStart|SendFIN, nil); err != nil {
		t.Fatal(err)
	}
	wait(t, done, "echo")
	if got != size {
		t.Fatalf("echoed %d bytes of %d", got, size)
	}
}

// statRuns are the scenarios' results.
type statRuns struct {
	clean, lossy, blackout, keys, pause, grease statRun
}

const statLatency = 10 * time.Millisecond

func runStatScenarios(t *testing.T) *statRuns {
	r := &statRuns{}
	for _, s := range []struct {
		name string
		sc   statScenario
		into *statRun
	}{
		{"clean", statScenario{link: netsim.Link{Latency: statLatency}, size: 64 << 10}, &r.clean},
		{"lossy", statScenario{link: netsim.Link{Latency: statLatency, Loss: 0.02, Reorder: 0.05, ReorderDelay: 3 * statLatency,
			Duplicate: 0.05}, size: 512 << 10}, &r.lossy},
		{"blackout", statScenario{link: blackout(200*time.Millisecond, 2*time.Second),
			size: 512 << 10, probe: func(s Statistics) bool { return s.SendPersistentCongestionCount > 0 }}, &r.blackout},
		{"key updates", statScenario{link: netsim.Link{Latency: statLatency}, size: 64 << 10,
			client: &Settings{MaxBytesPerKey: Some[uint64](16 << 10)}}, &r.keys},
		{"idle pause", statScenario{link: netsim.Link{Latency: statLatency}, size: 1000, pause: 2 * time.Second,
			client: &Settings{DestCIDUpdateIdleTimeout: Some(time.Second)}}, &r.pause},
		{"grease", statScenario{link: netsim.Link{Latency: statLatency}, size: 1000,
			client: &Settings{GreaseQUICBitEnabled: Some(true)}, server: &Settings{GreaseQUICBitEnabled: Some(true)}}, &r.grease},
	} {
		t.Run("scenario/"+s.name, func(t *testing.T) {
			simTest(t, func(t *testing.T) { *s.into = runStatScenario(t, s.sc) })
		})
	}
	return r
}

// blackout is a 10 Mbit/s link that drops everything from 'from' after
// the start of the bubble's clock (certTime) for length.
func blackout(from, length time.Duration) netsim.Link {
	return netsim.Link{Latency: statLatency, Bandwidth: 10e6, Drop: func(netsim.Datagram) bool {
		d := time.Since(certTime)
		return d >= from && d < from+length
	}}
}

// statRow shows one Statistics field: check runs on the scenarios here;
// test ("dir:TestName") names the test elsewhere that asserts the field.
type statRow struct {
	check    func(t *testing.T, r *statRuns)
	test     string
	mentions string // what the test's source names, if not the field
}

func statRows() map[string]statRow {
	check := func(f func(t *testing.T, r *statRuns)) statRow { return statRow{check: f} }
	elsewhere := func(test string) statRow { return statRow{test: test} }
	return map[string]statRow{
		"RTT": check(func(t *testing.T, r *statRuns) {
			// A 20 ms round trip, plus at most the peer's 25 ms ack delay.
			for _, s := range []Statistics{r.clean.settled.client, r.clean.settled.server} {
				if s.RTT < 2*statLatency || s.RTT > 2*statLatency+25*time.Millisecond {
					t.Errorf("RTT %v on a 20 ms path", s.RTT)
				}
			}
		}),
		"MinRTT": check(func(t *testing.T, r *statRuns) {
			if s := r.clean.settled.client; s.MinRTT != 2*statLatency {
				t.Errorf("MinRTT %v, want the path's 20 ms", s.MinRTT)
			}
		}),
		"MaxRTT": check(func(t *testing.T, r *statRuns) {
			c := r.clean.settled.client
			if c.MaxRTT < c.RTT || c.MaxRTT < c.MinRTT || c.MaxRTT > 2*statLatency+25*time.Millisecond {
				t.Errorf("MaxRTT %v with RTT %v, MinRTT %v", c.MaxRTT, c.RTT, c.MinRTT)
			}
			if b := r.blackout.settled.client; b.MaxRTT <= c.MaxRTT {
				t.Errorf("MaxRTT %v behind a 10 Mbit/s queue, not above the clean path's %v", b.MaxRTT, c.MaxRTT)
			}
		}),
		"RTTVariance": check(func(t *testing.T, r *statRuns) {
			if v := r.blackout.settled.client.RTTVariance; v == 0 {
				t.Error("RTTVariance 0 on a path whose queue varied the round trip")
			}
			if c := r.clean.settled.client; c.RTTVariance > c.RTT {
				t.Errorf("RTTVariance %v above RTT %v on a steady path", c.RTTVariance, c.RTT)
			}
		}),
		"VersionNegotiation":  elsewhere(".:TestVersionNegotiationRestartsTransparently"),
		"ResumptionAttempted": elsewhere(".:TestResumptionAndZeroRTT"),
		"ResumptionSucceeded": elsewhere(".:TestResumptionAndZeroRTT"),
		"GreaseBitNegotiated": check(func(t *testing.T, r *statRuns) {
			if g := r.grease.settled; !g.client.GreaseBitNegotiated || !g.server.GreaseBitNegotiated {
				t.Errorf("GreaseBitNegotiated client %v, server %v with grease_quic_bit on both sides", g.client.GreaseBitNegotiated, g.server.GreaseBitNegotiated)
			}
			if c := r.clean.settled.client; c.GreaseBitNegotiated {
				t.Error("GreaseBitNegotiated without grease_quic_bit")
			}
		}),
		"EncryptionOffloaded": check(func(t *testing.T, r *statRuns) {
			for _, run := range []statRun{r.clean, r.lossy, r.blackout, r.keys, r.pause, r.grease} {
				if run.settled.client.EncryptionOffloaded || run.settled.server.EncryptionOffloaded {
					t.Error("EncryptionOffloaded: hquic encrypts every packet itself")
				}
			}
		}),
		"StatelessRetry": elsewhere(".:TestStatelessRetryThenNewToken"),
		"ECNCapable":     elsewhere("internal/conn:TestECNCapableMeansValidated"),
		// The engine's ECNFailures, shown on a path that clears the marks.
		"ECNValidationFailures": {test: "internal/conn:TestECNCapableMeansValidated", mentions: "ECNFailures"},
		"TimingStart": check(func(t *testing.T, r *statRuns) {
			if s := r.clean.settled.client; !s.TimingStart.Equal(r.clean.started) {
				t.Errorf("TimingStart %v, want the Start call at %v", s.TimingStart, r.clean.started)
			}
		}),
		"TimingInitialFlightEnd": check(func(t *testing.T, r *statRuns) {
			// The client reads the server's Initial one round trip after
			// it starts.
			if d := r.clean.settled.client.TimingInitialFlightEnd; d != 2*statLatency {
				t.Errorf("client TimingInitialFlightEnd %v, want one 20 ms round trip", d)
			}
		}),
		"TimingHandshakeFlightEnd": check(func(t *testing.T, r *statRuns) {
			c, s := r.clean.settled.client, r.clean.settled.server
			if c.TimingHandshakeFlightEnd != 2*statLatency {
				t.Errorf("client TimingHandshakeFlightEnd %v, want the server's one flight, a round trip after Start", c.TimingHandshakeFlightEnd)
			}
			if d := s.TimingHandshakeFlightEnd - s.TimingInitialFlightEnd; d != 2*statLatency {
				t.Errorf("server flights end %v apart, want a round trip", d)
			}
		}),
		"HandshakeClientFlight1Bytes": check(func(t *testing.T, r *statRuns) { flightBytes(t, r, "HandshakeClientFlight1Bytes") }),
		"HandshakeServerFlight1Bytes": check(func(t *testing.T, r *statRuns) { flightBytes(t, r, "HandshakeServerFlight1Bytes") }),
		"HandshakeClientFlight2Bytes": check(func(t *testing.T, r *statRuns) { flightBytes(t, r, "HandshakeClientFlight2Bytes") }),
		"SendPathMTU": check(func(t *testing.T, r *statRuns) {
			// DPLPMTUD finds netsim's 1500-byte MTU; hquic counts 48
			// bytes of headers, as MsQuic does.
			if m := r.clean.settled.client.SendPathMTU; m != 1500 {
				t.Errorf("SendPathMTU %d on a 1500-byte link", m)
			}
		}),
		"SendTotalPackets": check(func(t *testing.T, r *statRuns) {
			c, s := r.clean.settled.client, r.clean.settled.server
			if c.SendTotalPackets != s.RecvTotalPackets || s.SendTotalPackets != c.RecvTotalPackets {
				t.Errorf("packets sent %d/%d, received by the peer %d/%d on a lossless link",
					c.SendTotalPackets, s.SendTotalPackets, s.RecvTotalPackets, c.RecvTotalPackets)
			}
		}),
		"SendRetransmittablePackets": check(func(t *testing.T, r *statRuns) {
			s := r.clean.settled.server
			// The server acknowledges most of the upload in ACK-only
			// packets.
			if s.SendRetransmittablePackets == 0 || s.SendRetransmittablePackets >= s.SendTotalPackets {
				t.Errorf("server: %d ack-eliciting of %d packets", s.SendRetransmittablePackets, s.SendTotalPackets)
			}
		}),
		"SendSuspectedLostPackets": check(func(t *testing.T, r *statRuns) {
			if n := r.clean.settled.client.SendSuspectedLostPackets; n != 0 {
				t.Errorf("%d packets lost on a lossless link", n)
			}
			if n := r.lossy.settled.client.SendSuspectedLostPackets; n == 0 {
				t.Error("no packet lost on a 2% loss link")
			}
		}),
		"SendSpuriousLostPackets": check(func(t *testing.T, r *statRuns) {
			l := r.lossy.settled.client
			// Packets held back by reordering are declared lost when
			// three later ones are acknowledged, then acknowledged.
			if l.SendSpuriousLostPackets == 0 || l.SendSpuriousLostPackets > l.SendSuspectedLostPackets {
				t.Errorf("spurious losses %d of %d", l.SendSpuriousLostPackets, l.SendSuspectedLostPackets)
			}
			if n := r.clean.settled.client.SendSpuriousLostPackets; n != 0 {
				t.Errorf("%d spurious losses on a clean link", n)
			}
		}),
		"SendTotalBytes": check(func(t *testing.T, r *statRuns) {
			c, s := r.clean.settled.client, r.clean.settled.server
			if c.SendTotalBytes != s.RecvTotalBytes || s.SendTotalBytes != c.RecvTotalBytes {
				t.Errorf("bytes sent %d/%d, received by the peer %d/%d on a lossless link",
					c.SendTotalBytes, s.SendTotalBytes, s.RecvTotalBytes, c.RecvTotalBytes)
			}
			if c.SendTotalBytes < uint64(r.clean.size) {
				t.Errorf("%d UDP bytes sent for %d stream bytes", c.SendTotalBytes, r.clean.size)
			}
		}),
		"SendTotalStreamBytes": check(func(t *testing.T, r *statRuns) {
			if n := r.clean.settled.client.SendTotalStreamBytes; n != uint64(r.clean.size) {
				t.Errorf("SendTotalStreamBytes %d, want the %d bytes sent once", n, r.clean.size)
			}
			if n := r.lossy.settled.client.SendTotalStreamBytes; n <= uint64(r.lossy.size) {
				t.Errorf("SendTotalStreamBytes %d over a lossy link, want more than %d (retransmissions count)", n, r.lossy.size)
			}
		}),
		"SendCongestionCount": check(func(t *testing.T, r *statRuns) {
			if n := r.clean.settled.client.SendCongestionCount; n != 0 {
				t.Errorf("%d congestion events on a clean link", n)
			}
			if n := r.lossy.settled.client.SendCongestionCount; n == 0 {
				t.Error("no congestion event on a lossy link")
			}
		}),
		"SendPersistentCongestionCount": check(func(t *testing.T, r *statRuns) {
			if n := r.lossy.settled.client.SendPersistentCongestionCount; n != 0 {
				t.Errorf("%d persistent congestion events with scattered losses", n)
			}
			if n := r.blackout.settled.client.SendPersistentCongestionCount; n == 0 {
				t.Error("no persistent congestion after a 2 s blackout")
			}
		}),
		"SendECNCongestionCount": elsewhere("internal/conn:TestSendECNCongestionCountCountsCEResponses"),
		"SendCongestionWindow": check(func(t *testing.T, r *statRuns) {
			c, b := r.clean.settled.client, r.blackout.mid
			// The clean transfer grew the window in slow start beyond
			// its initial 10 packets; persistent congestion collapsed it
			// to the minimum of 2 (RFC 9002 §7.6.2).
			if c.SendCongestionWindow <= 10*1200 {
				t.Errorf("window %d after a clean transfer", c.SendCongestionWindow)
			}
			if mss := uint64(c.SendPathMTU) - 48; b.SendCongestionWindow == 0 || b.SendCongestionWindow > 2*mss {
				t.Errorf("window %d just after persistent congestion, want at most 2 packets of %d", b.SendCongestionWindow, mss)
			}
		}),
		"SendBytesInFlight": check(func(t *testing.T, r *statRuns) {
			if n := r.lossy.mid.SendBytesInFlight; n == 0 {
				t.Error("nothing in flight in the middle of a transfer")
			}
			if n := r.clean.settled.client.SendBytesInFlight; n != 0 {
				t.Errorf("%d bytes in flight once everything was acknowledged", n)
			}
		}),
		"RecvTotalPackets": check(func(t *testing.T, r *statRuns) {
			before, after := r.clean.settled.server, r.clean.injected.server
			if after.RecvTotalPackets != before.RecvTotalPackets+2 {
				t.Errorf("RecvTotalPackets %d → %d after two datagrams", before.RecvTotalPackets, after.RecvTotalPackets)
			}
		}),
		"RecvReorderedPackets": check(func(t *testing.T, r *statRuns) {
			if n := r.clean.settled.server.RecvReorderedPackets; n != 0 {
				t.Errorf("%d reordered packets on an in-order link", n)
			}
			if n := r.lossy.settled.server.RecvReorderedPackets; n == 0 {
				t.Error("no reordered packet on a reordering link")
			}
		}),
		"RecvDroppedPackets": check(func(t *testing.T, r *statRuns) {
			before, after := r.clean.settled.server, r.clean.injected.server
			if before.RecvDroppedPackets != 0 || after.RecvDroppedPackets != 2 {
				t.Errorf("RecvDroppedPackets %d → %d, want 0 → 2 (a duplicate, a packet that fails to decrypt)",
					before.RecvDroppedPackets, after.RecvDroppedPackets)
			}
			if l := r.lossy.settled.server; l.RecvDroppedPackets < l.RecvDuplicatePackets+l.RecvDecryptionFailures {
				t.Errorf("dropped %d, fewer than duplicates %d and decryption failures %d",
					l.RecvDroppedPackets, l.RecvDuplicatePackets, l.RecvDecryptionFailures)
			}
		}),
		"RecvDuplicatePackets": check(func(t *testing.T, r *statRuns) {
			before, after := r.clean.settled.server, r.clean.injected.server
			if before.RecvDuplicatePackets != 0 || after.RecvDuplicatePackets != 1 {
				t.Errorf("RecvDuplicatePackets %d → %d, want 0 → 1", before.RecvDuplicatePackets, after.RecvDuplicatePackets)
			}
			if r.lossy.settled.server.RecvDuplicatePackets == 0 || r.lossy.net.Duplicated == 0 {
				t.Errorf("%d duplicates counted of the %d the link made", r.lossy.settled.server.RecvDuplicatePackets, r.lossy.net.Duplicated)
			}
		}),
		"RecvTotalBytes": check(func(t *testing.T, r *statRuns) {
			before, after := r.clean.settled.server, r.clean.injected.server
			if r.clean.settled.server.RecvTotalBytes == 0 || after.RecvTotalBytes <= before.RecvTotalBytes {
				t.Errorf("RecvTotalBytes %d → %d after two datagrams", before.RecvTotalBytes, after.RecvTotalBytes)
			}
		}),
		"RecvTotalStreamBytes": check(func(t *testing.T, r *statRuns) {
			c, s := r.clean.settled.client, r.clean.settled.server
			if c.RecvTotalStreamBytes != uint64(r.clean.size) || s.RecvTotalStreamBytes != uint64(r.clean.size) {
				t.Errorf("stream bytes received: client %d, server %d; want %d each", c.RecvTotalStreamBytes, s.RecvTotalStreamBytes, r.clean.size)
			}
		}),
		"RecvDecryptionFailures": check(func(t *testing.T, r *statRuns) {
			before, after := r.clean.settled.server, r.clean.injected.server
			if before.RecvDecryptionFailures != 0 || after.RecvDecryptionFailures != 1 {
				t.Errorf("RecvDecryptionFailures %d → %d, want 0 → 1", before.RecvDecryptionFailures, after.RecvDecryptionFailures)
			}
		}),
		"RecvValidAckFrames": check(func(t *testing.T, r *statRuns) {
			c := r.clean.settled.client
			// The upload needs acknowledgments; there are never more
			// ACK frames than packets.
			if c.RecvValidAckFrames == 0 || c.RecvValidAckFrames > c.RecvTotalPackets {
				t.Errorf("RecvValidAckFrames %d of %d packets", c.RecvValidAckFrames, c.RecvTotalPackets)
			}
		}),
		"KeyUpdateCount": check(func(t *testing.T, r *statRuns) {
			// 64 KiB each way under a 16 KiB key limit on the client.
			if n := r.keys.settled.client.KeyUpdateCount; n < 3 {
				t.Errorf("KeyUpdateCount %d, want at least 3", n)
			}
			if n := r.clean.settled.client.KeyUpdateCount; n != 0 {
				t.Errorf("KeyUpdateCount %d without a key limit", n)
			}
		}),
		"DestCIDUpdateCount": check(func(t *testing.T, r *statRuns) {
			if a, b := r.pause.settled.client.DestCIDUpdateCount, r.pause.again.DestCIDUpdateCount; a != 0 || b != 1 {
				t.Errorf("DestCIDUpdateCount %d, then %d after an idle pause over DestCIDUpdateIdleTimeout; want 0, 1", a, b)
			}
		}),
		"PathChanges":            elsewhere(".:TestClientMigratesMidStream"),
		"PathValidationFailures": elsewhere("internal/conn:TestMigrationToDeadPathFallsBack"),
		// Statistics reports the connection's trace's Dropped count;
		// the tracing tests see it 0 when nothing was dropped.
		"TraceEventsDropped": {test: "internal/qlog:TestTraceDropsAndCountsWhenTheWriterStalls", mentions: "Dropped()"},
	}
}

// flightBytes checks a handshake flight size: known, and the same on
// both sides.
func flightBytes(t *testing.T, r *statRuns, field string) {
	c := reflect.ValueOf(r.clean.settled.client).FieldByName(field).Uint()
	s := reflect.ValueOf(r.clean.settled.server).FieldByName(field).Uint()
	if c == 0 || c != s {
		t.Errorf("%s: client %d, server %d; want the same known size", field, c, s)
	}
}

func TestEveryStatisticHasARow(t *testing.T) {
	rows := statRows()
	runs := runStatScenarios(t)
	typ := reflect.TypeOf(Statistics{})
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		row, ok := rows[name]
		if !ok {
			t.Errorf("Statistics.%s has no row", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			if row.check != nil {
				row.check(t, runs)
				return
			}
			dir, test, _ := strings.Cut(row.test, ":")
			want := name
			if row.mentions != "" {
				want = row.mentions
			}
			if body := testBody(t, dir, test); !strings.Contains(body, want) {
				t.Errorf("%s does not look at %s", row.test, want)
			}
		})
	}
}

// testBody returns the source of the test function name in dir, from its
// declaration to the next top-level declaration.
func testBody(t *testing.T, dir, name string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		i := strings.Index(src, "\nfunc "+name+"(")
		if i < 0 {
			continue
		}
		body := src[i+1:]
		if j := strings.Index(body, "\n}\n"); j >= 0 {
			body = body[:j]
		}
		return body
	}
	t.Fatalf("no test %s in %s", name, dir)
	return ""
}
