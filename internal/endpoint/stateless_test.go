package endpoint

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/udp"
	"github.com/hquic/quic/internal/wire"
)

// peerN is the n-th of many distinct client addresses.
func peerN(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(n >> 8), byte(n)}), 4000)
}

// A flood gets one Retry per Initial, far beyond any fixed rate: in one
// second 2000 Initials from 2000 addresses draw 2000 Retries and no state.
func TestRetriesKeepUpWithAFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, true)
		const n = 2000
		for i := range n {
			tb.sendFrom(initial(wire.Version1, testDCID, testSCID, nil, 1200), peerN(i))
			time.Sleep(time.Second / n)
		}
		synctest.Wait()
		out := tb.sock.written()
		if len(out) != n {
			t.Fatalf("%d answers to %d Initials in one second", len(out), n)
		}
		for i, m := range out {
			if _, _, _, _, _, ok := wire.ParseRetry(m.Buf); !ok || m.Addr != peerN(i) {
				t.Fatalf("answer %d is no Retry to %v", i, peerN(i))
			}
			if len(m.Buf) >= 1200 {
				t.Fatalf("a Retry of %d bytes answers a 1200-byte Initial", len(m.Buf))
			}
		}
		if len(tb.h.infos) != 0 || tb.b.RetriesSent.Load() != n {
			t.Errorf("%d connections created, %d Retries counted", len(tb.h.infos), tb.b.RetriesSent.Load())
		}
	})
}

// One address is answered at most once per StatelessOperationExpiration,
// whatever it sends.
func TestStatelessAnswersSpacedPerPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, true)
		spacing := tb.b.stateless.Limits().Spacing
		pkt := initial(wire.Version1, testDCID, testSCID, nil, 1200)
		tb.send(t, pkt)
		if tb.recv(t) == nil {
			t.Fatal("first Initial not answered")
		}
		time.Sleep(spacing - time.Millisecond)
		tb.send(t, pkt)
		reset := make([]byte, 100)
		reset[0] = 0x40
		tb.send(t, reset)
		if resp := tb.recv(t); resp != nil {
			t.Fatalf("answered again %v after the last answer", spacing-time.Millisecond)
		}
		if got := tb.b.Drops[DropStatelessSpacing].Load(); got != 2 {
			t.Errorf("%d drops for spacing, want 2", got)
		}
		tb.sendFrom(pkt, peerN(1))
		if tb.recv(t) == nil {
			t.Fatal("another peer was not answered")
		}
		time.Sleep(time.Millisecond)
		tb.send(t, pkt)
		if tb.recv(t) == nil {
			t.Fatalf("not answered again after %v", spacing)
		}
	})
}

// stalledWorkers returns a binding whose stateless workers never run, so
// queued answers stay queued.
func stalledWorkers(t *testing.T, l StatelessLimits) (*Binding, *statelessWorker) {
	s := NewStateless(1, l)
	w := s.workers[0]
	w.running = true
	b := &Binding{cfg: Config{CIDLen: 8, ResetKey: token.NewResetKey([32]byte{1}), Versions: []uint32{wire.Version1}},
		local: netip.MustParseAddrPort("127.0.0.1:443"), stateless: s}
	return b, w
}

func TestStatelessWorkerQueueLimit(t *testing.T) {
	b, w := stalledWorkers(t, StatelessLimits{WorkerQueue: 3, PerBinding: 100})
	reset := make([]byte, 100)
	reset[0] = 0x40
	for i := range 5 {
		b.handleUnknownShort(reset, peerN(i), b.local, mono.Time(time.Hour))
	}
	if w.n != 3 || b.Drops[DropStatelessQueueFull].Load() != 2 {
		t.Fatalf("%d queued, %d dropped for a full queue; want 3 and 2", w.n, b.Drops[DropStatelessQueueFull].Load())
	}
	if b.statelessInFlight.Load() != 3 {
		t.Errorf("%d answers in flight, want 3", b.statelessInFlight.Load())
	}
}

func TestStatelessBindingLimit(t *testing.T) {
	b, w := stalledWorkers(t, StatelessLimits{WorkerQueue: 100, PerBinding: 2})
	reset := make([]byte, 100)
	reset[0] = 0x40
	for i := range 5 {
		b.handleUnknownShort(reset, peerN(i), b.local, mono.Time(time.Hour))
	}
	if w.n != 2 || b.Drops[DropStatelessBindingLimit].Load() != 3 {
		t.Fatalf("%d queued, %d dropped for the binding limit; want 2 and 3", w.n, b.Drops[DropStatelessBindingLimit].Load())
	}
}

// discardConn is a udp.Conn that drops what it is given.
type discardConn struct{ memConn }

func (*discardConn) WriteBatch(msgs []udp.Msg) (int, error) { return len(msgs), nil }

// An answer as large as the datagram that drew it is never sent, and its
// slot in flight is given back.
func TestAnswerNeverAmplifies(t *testing.T) {
	s := NewStateless(1, DefaultStatelessLimits)
	b := &Binding{cfg: Config{CIDLen: 8, ResetKey: token.NewResetKey([32]byte{1}), Versions: []uint32{wire.Version1, wire.Version2}},
		sock: &discardConn{}, stateless: s}
	op := statelessOp{kind: answerVersionNegotiation, b: b, peer: peerN(1), size: 40}
	op.setCIDs(make([]byte, 20), make([]byte, 20))
	b.statelessInFlight.Add(1)
	s.workers[0].batch = make([]statelessOp, statelessBatch)
	s.workers[0].out = make([]byte, 0, statelessBatch*maxAnswer)
	s.workers[0].answer([]statelessOp{op})
	if b.VNSent.Load() != 0 || b.statelessInFlight.Load() != 0 {
		t.Fatalf("%d VN sent for a 40-byte trigger, %d in flight", b.VNSent.Load(), b.statelessInFlight.Load())
	}
}

// The reader queues a Retry, and a worker writes a batch of them, without
// allocating.
func TestRetryPathDoesNotAllocate(t *testing.T) {
	s := NewStateless(1, StatelessLimits{WorkerQueue: 64, PerBinding: 64})
	w := s.workers[0]
	w.running = true // the test drains the queue itself
	w.batch = make([]statelessOp, statelessBatch)
	w.out = make([]byte, 0, statelessBatch*maxAnswer)
	b := &Binding{cfg: Config{CIDLen: 8, ResetKey: token.NewResetKey([32]byte{1}), Versions: []uint32{wire.Version1},
		Handler: &recordingHandler{got: make(chan struct{}, 1)}, Tokens: token.NewSealer([32]byte{2}), Guard: NewGuard(1, 0, nil)},
		sock: &discardConn{}, local: netip.MustParseAddrPort("127.0.0.1:443"), stateless: s}
	b.accepting.Store(true)
	pkt := initial(wire.Version1, testDCID, testSCID, nil, 1200)
	peer := 0
	round := func() {
		for range statelessBatch {
			peer++
			b.handleUnknown(pkt, peerN(peer), b.local, 0, nopReleaser{})
		}
		k := copy(w.batch, w.ring[:w.n])
		w.head, w.n = 0, 0
		w.answer(w.batch[:k])
	}
	round()
	if got := testing.AllocsPerRun(20, round); got != 0 && !raceEnabled {
		t.Errorf("%v allocations per %d Retries", got, statelessBatch)
	}
	if b.RetriesSent.Load() != 22*statelessBatch { // AllocsPerRun adds a warm-up round
		t.Errorf("%d Retries sent, want %d", b.RetriesSent.Load(), 22*statelessBatch)
	}
}

// nopReleaser releases nothing.
type nopReleaser struct{}

func (nopReleaser) Release() {}

var _ conn.Releaser = nopReleaser{}

// Every way an unknown datagram is dropped is counted under its reason.
func TestDropReasons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, false)
		handshake, lenOff := wire.AppendLongHeader(nil, wire.PacketHandshake, wire.Version1, testDCID, testSCID, nil, 1)
		handshake = wire.AppendPacketNumber(handshake, 0, 1)
		handshake = append(handshake, make([]byte, 1200-len(handshake))...)
		wire.PutVarint2(handshake[lenOff:], uint64(len(handshake)-lenOff-2))
		retryTok := tb.sealer.Seal(nil, &token.Token{Kind: token.KindRetry, Version: wire.Version1, Addr: tb.peer,
			OriginalDCID: testDCID, RetrySCID: []byte{5, 5, 5, 5, 5, 5, 5, 5}, IssuedAt: time.Now().Add(-time.Hour)})
		overloaded := false
		tb.b.cfg.Overloaded = func(netip.AddrPort) bool { return overloaded }
		var (
			toldMu sync.Mutex
			told   []DropReason
		)
		tb.b.cfg.OnDrop = func(local netip.AddrPort, r DropReason) {
			toldMu.Lock()
			defer toldMu.Unlock()
			if local != tb.b.LocalAddr() {
				t.Errorf("%v reported for %v, the binding is on %v", r, local, tb.b.LocalAddr())
			}
			told = append(told, r)
		}
		var want []DropReason
		for _, c := range []struct {
			why  DropReason
			pkt  []byte
			prep func()
		}{
			{DropMalformed, []byte{0xc0, 0, 0, 0, 1, 30}, nil},
			{DropUnknownConnection, handshake, nil},
			{DropTooSmall, initial(wire.Version1, testDCID, testSCID, nil, 1199), nil},
			{DropShortDCID, initial(wire.Version1, []byte{1, 2, 3}, testSCID, nil, 1200), nil},
			{DropInvalidToken, initial(wire.Version1, []byte{5, 5, 5, 5, 5, 5, 5, 5}, testSCID, retryTok, 1200), nil},
			{DropOverloaded, initial(wire.Version1, testDCID, testSCID, nil, 1200), func() { overloaded = true }},
			{DropRefused, initial(wire.Version1, testDCID, testSCID, nil, 1200), func() { overloaded = false }},
			{DropNoReset, []byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, nil},
			{DropNotAccepting, initial(wire.Version1, testDCID, testSCID, nil, 1200), func() { tb.b.SetAccepting(false) }},
		} {
			if c.prep != nil {
				c.prep()
			}
			before := tb.b.Drops[c.why].Load()
			tb.send(t, c.pkt)
			if tb.b.Drops[c.why].Load() != before+1 {
				t.Errorf("%v: not counted", c.why)
			}
			want = append(want, c.why)
		}
		toldMu.Lock()
		if !slices.Equal(told, want) {
			t.Errorf("OnDrop told %v, want %v", told, want)
		}
		toldMu.Unlock()
		var total uint64
		for i := range NumDropReasons {
			total += tb.b.Drops[i].Load()
		}
		if total != tb.b.Dropped.Load() || total != 9 {
			t.Errorf("%d drops by reason, %d in all; want 9", total, tb.b.Dropped.Load())
		}
		if got := tb.b.TokenRejections[TokenExpired].Load(); got != 1 {
			t.Errorf("%d expired tokens counted, want 1", got)
		}
	})
}

// Initials that fail validation are dropped without allocating.
func TestRejectedInitialsDoNotAllocate(t *testing.T) {
	sealer := token.NewSealer([32]byte{2})
	b := &Binding{cfg: Config{CIDLen: 8, Versions: []uint32{wire.Version1},
		Handler: &recordingHandler{got: make(chan struct{}, 1)}, Tokens: sealer, Guard: NewGuard(1, 0, nil)},
		local: netip.MustParseAddrPort("127.0.0.1:443"), stateless: NewStateless(1, DefaultStatelessLimits)}
	b.accepting.Store(true)
	peer := peerN(1)
	scid := []byte{5, 5, 5, 5, 5, 5, 5, 5}
	expired := sealer.Seal(nil, &token.Token{Kind: token.KindRetry, Version: wire.Version1, Addr: peer,
		OriginalDCID: testDCID, RetrySCID: scid, IssuedAt: time.Now().Add(-time.Hour)})
	for _, c := range []struct {
		name string
		pkt  []byte
	}{
		{"expired Retry token", initial(wire.Version1, scid, testSCID, expired, 1200)},
		{"too small", initial(wire.Version1, testDCID, testSCID, nil, 1199)},
		{"short DCID", initial(wire.Version1, []byte{1}, testSCID, nil, 1200)},
	} {
		if got := testing.AllocsPerRun(50, func() { b.handleUnknown(c.pkt, peer, b.local, 0, nopReleaser{}) }); got != 0 && !raceEnabled {
			t.Errorf("%s: %v allocations", c.name, got)
		}
	}
}
