package conn

import (
	"net/netip"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// DPLPMTUD scenarios (RFC 8899, RFC 9000 §14.3): the pair's network drops
// every datagram longer than a path MTU, and the search must find it.

// withPathMTU makes the pair's network drop datagrams whose UDP payload is
// larger than payload bytes, in both directions, and counts the drops.
func withPathMTU(p *pair, payload int) *int {
	dropped := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if len(data) > payload {
			dropped++
			return true
		}
		return false
	}
	return &dropped
}

// exchangeData echoes a stream of full-size datagrams both ways, which is
// what starts the search on each side.
func exchangeData(p *pair) {
	p.server.echo = true
	openSend(p, payload(9, 32<<10), true)
}

// searchDone reports whether both sides finished their search.
func (p *pair) searchDone() bool {
	return p.client.c.mtu.done && p.server.c != nil && p.server.c.mtu.done
}

func TestMTUSearchReachesMaximumWithOneProbe(t *testing.T) {
	p := newPair(t)
	p.handshake()
	exchangeData(p)
	if !p.runUntil(5*time.Second, p.searchDone) {
		t.Fatal("search did not complete")
	}
	for _, e := range []*endpoint{p.client, p.server} {
		c := e.c
		if got, want := c.path.mtu, 1500-udpOverhead; got != want {
			t.Errorf("%s: datagram size %d, want %d", e.name, got, want)
		}
		if c.mtu.probesSent != 1 || c.mtu.probesAcked != 1 {
			t.Errorf("%s: %d probes sent, %d acknowledged; want 1, 1", e.name, c.mtu.probesSent, c.mtu.probesAcked)
		}
		if got := c.statistics().SendPathMTU; got != 1500 {
			t.Errorf("%s: SendPathMTU %d", e.name, got)
		}
		if !c.timers[timerMTURaise].IsZero() {
			t.Errorf("%s: raise timer armed after reaching the ceiling", e.name)
		}
	}
}

func TestMTUSearchConvergesOnPathMTUWithoutCongestionResponse(t *testing.T) {
	const pathPayload = 1400 - udpOverhead
	p := newPair(t)
	dropped := withPathMTU(p, pathPayload)
	p.handshake()
	before := p.client.c.loss.Stats()
	exchangeData(p)
	if !p.runUntil(30*time.Second, p.searchDone) {
		t.Fatalf("search did not complete: client %+v", p.client.c.mtu)
	}
	if *dropped == 0 {
		t.Fatal("no probe was dropped")
	}
	for _, e := range []*endpoint{p.client, p.server} {
		c := e.c
		got := c.path.mtu
		if got > pathPayload || got < pathPayload-mtuSearchGranularity {
			t.Errorf("%s: datagram size %d, want within %d below %d", e.name, got, mtuSearchGranularity, pathPayload)
		}
		if c.mtu.probesLost == 0 {
			t.Errorf("%s: no probe declared lost", e.name)
		}
		st := c.loss.Stats()
		if st.CongestionEvents != 0 || st.PersistentCongestionEvents != 0 {
			t.Errorf("%s: %d congestion events, %d persistent, after losing only probes",
				e.name, st.CongestionEvents, st.PersistentCongestionEvents)
		}
		if e == p.client && st.CongestionWindow < before.CongestionWindow {
			t.Errorf("client: congestion window shrank from %d to %d", before.CongestionWindow, st.CongestionWindow)
		}
		if c.timers[timerMTURaise].IsZero() {
			t.Errorf("%s: raise timer not armed after a search that ended below the ceiling", e.name)
		}
	}

	// Data still flows at the discovered size.
	data := payload(1, 200<<10)
	s := startStream(p, data, true, "data")
	if !p.runUntil(10*time.Second, func() bool { return p.client.sendCompletes()["data"] == 1 }) {
		t.Fatal("transfer did not finish")
	}
	if got := p.server.received[s.ID()]; string(got) != string(data) {
		t.Errorf("server received %d bytes, want %d intact", len(got), len(data))
	}
	if st := p.client.c.loss.Stats(); st.CongestionEvents != 0 {
		t.Errorf("client: %d congestion events on a lossless path", st.CongestionEvents)
	}
}

func TestMTUSizeFailsAfterMissingProbeCount(t *testing.T) {
	for _, count := range []int{1, 3, 5} {
		p := newPair(t, withClientSettings(func(s *Settings) { s.MTUDiscoveryMissingProbeCount = count }))
		probesAtCeiling := 0
		p.drop = func(from *endpoint, n int, data []byte) bool {
			if from == p.client && len(data) == 1500-udpOverhead {
				probesAtCeiling++
			}
			return len(data) > 1300
		}
		p.handshake()
		exchangeData(p)
		if !p.runUntil(30*time.Second, func() bool { return p.client.c.mtu.done }) {
			t.Fatalf("count %d: search did not complete", count)
		}
		if probesAtCeiling != count {
			t.Errorf("count %d: %d probes of the ceiling size, want %d", count, probesAtCeiling, count)
		}
		if got := p.client.c.path.mtu; got > 1300 || got < 1300-mtuSearchGranularity {
			t.Errorf("count %d: datagram size %d", count, got)
		}
	}
}

func TestMTUSearchRestartsAfterSearchCompleteTimeout(t *testing.T) {
	const timeout = 20 * time.Second
	p := newPair(t, withClientSettings(func(s *Settings) {
		s.MTUDiscoverySearchCompleteTimeout = timeout
		s.KeepAliveInterval = 5 * time.Second
	}))
	withPathMTU(p, 1300)
	p.handshake()
	exchangeData(p)
	if !p.runUntil(30*time.Second, func() bool { return p.client.c.mtu.done }) {
		t.Fatal("search did not complete")
	}
	low := p.client.c.path.mtu
	raiseAt := p.client.c.timers[timerMTURaise]
	if raiseAt.IsZero() {
		t.Fatal("raise timer not armed")
	}
	// The path now carries full-size datagrams: the next search finds it.
	p.drop = nil
	if !p.runUntil(timeout+10*time.Second, func() bool { return p.client.c.path.mtu > low }) {
		t.Fatalf("datagram size stayed %d after the raise timer", low)
	}
	if p.now < raiseAt {
		t.Errorf("size raised at %v, before the raise timer at %v", p.now, raiseAt)
	}
	if got := p.client.c.path.mtu; got != 1500-udpOverhead {
		t.Errorf("datagram size %d after the second search, want %d", got, 1500-udpOverhead)
	}
}

func TestMTUSearchCappedByPeerMaxUDPPayload(t *testing.T) {
	p := newPair(t)
	p.serverSettings.MaximumMTU = 1400
	p.handshake()
	exchangeData(p)
	if !p.runUntil(5*time.Second, p.searchDone) {
		t.Fatal("search did not complete")
	}
	if got, want := p.client.c.path.mtu, 1400-udpOverhead; got != want {
		t.Errorf("client: datagram size %d, want the server's max_udp_payload_size %d", got, want)
	}
	if got, want := p.server.c.path.mtu, 1400-udpOverhead; got != want {
		t.Errorf("server: datagram size %d, want its own maximum %d", got, want)
	}
}

func TestMTUNoSearchWhenMinimumEqualsMaximum(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.MinimumMTU, s.MaximumMTU = 1280, 1280 }))
	p.handshake()
	sent := p.sentCount[p.client]
	p.runUntil(5*time.Second, func() bool { return false })
	if p.client.c.mtu.probesSent != 0 {
		t.Errorf("%d probes sent with MinimumMTU = MaximumMTU", p.client.c.mtu.probesSent)
	}
	if got := p.sentCount[p.client] - sent; got > 1 {
		t.Errorf("idle client sent %d datagrams after the handshake", got)
	}
}

func TestMTUProbeIsPingAndPaddingOnly(t *testing.T) {
	p := newPair(t)
	probes := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from != p.client || len(data) != 1500-udpOverhead {
			return false
		}
		probes++
		frames := p.decode(p.server, n, data)
		if len(frames) == 0 {
			t.Error("probe could not be decoded")
		}
		for _, f := range frames {
			switch f.f.(type) {
			case wire.DebugPing, wire.DebugPadding:
			default:
				t.Errorf("probe carries %v", f.f)
			}
		}
		return false
	}
	p.handshake()
	exchangeData(p)
	p.runUntil(time.Second, func() bool { return p.client.c.mtu.done })
	if probes != 1 {
		t.Errorf("%d probes of the ceiling size, want 1", probes)
	}
}

func TestMTUNoSearchWithoutFullSizeDatagrams(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	for i := range 20 {
		s := openSend(p, payload(uint64(i), 600), true)
		if !p.runUntil(time.Second, func() bool { return len(p.client.received[s.ID()]) == 600 }) {
			t.Fatal("echo failed")
		}
	}
	p.runUntil(5*time.Second, func() bool { return false })
	for _, e := range []*endpoint{p.client, p.server} {
		if n := e.c.mtu.probesSent; n != 0 {
			t.Errorf("%s: %d probes sent by a connection exchanging only small messages", e.name, n)
		}
	}
}

func TestMTUSearchRestartsOnNewPath(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	if !echoTransfer(t, p, 256<<10, nil) {
		t.Fatal("transfer failed")
	}
	if got := p.client.c.path.mtu; got != 1500-udpOverhead {
		t.Fatalf("datagram size %d before the migration", got)
	}
	newLocal := netip.MustParseAddrPort("10.0.0.3:2000")
	var atMove int
	p.client.handler = func(ev event) {
		if ev.name == "LocalAddressChanged" {
			atMove = p.client.c.path.mtu
		}
	}
	if !echoTransfer(t, p, 1<<20, func() { p.client.c.MigrateTo(newLocal) }) {
		t.Fatal("transfer across the migration failed")
	}
	if want := 1288 - udpOverhead; atMove != want {
		t.Errorf("datagram size %d right after the move, want the minimum %d", atMove, want)
	}
	for _, e := range []*endpoint{p.client, p.server} {
		c := e.c
		if c.mtu.gen != 1 {
			t.Errorf("%s: path generation %d, want 1", e.name, c.mtu.gen)
		}
		if c.path.mtu != 1500-udpOverhead {
			t.Errorf("%s: datagram size %d after the new search, want %d", e.name, c.path.mtu, 1500-udpOverhead)
		}
	}
	// An acknowledgment of a probe sent on the old path proves nothing.
	c := p.client.c
	c.resetMTU()
	c.onMTUProbeAcked(1500-udpOverhead, c.mtu.gen-1)
	if c.path.mtu != 1288-udpOverhead {
		t.Errorf("a probe of the old path raised the datagram size to %d", c.path.mtu)
	}
}

func TestMTUBlackHoleFallsBackAndSearchesAgain(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	if !echoTransfer(t, p, 256<<10, nil) || p.client.c.path.mtu != 1500-udpOverhead {
		t.Fatalf("setup: datagram size %d", p.client.c.path.mtu)
	}
	// The path now drops everything above 1300 bytes.
	withPathMTU(p, 1300)
	if !echoTransfer(t, p, 1<<20, nil) {
		t.Fatal("transfer through the shrunken path failed")
	}
	for _, e := range []*endpoint{p.client, p.server} {
		if got := e.c.path.mtu; got > 1300 || got < 1300-mtuSearchGranularity {
			t.Errorf("%s: datagram size %d, want just under 1300", e.name, got)
		}
	}
}
