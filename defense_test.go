package quic

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"net/netip"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/testutil"
	"github.com/hquic/quic/internal/wire"
	"github.com/hquic/quic/netsim"
)

// clientInitial returns a client's first Initial datagram: a real TLS
// ClientHello for alpn (X25519 only, so it fits one packet) sent to dcid,
// whose transport parameters name scid.
func clientInitial(t testing.TB, alpn string, dcid, scid []byte) []byte {
	t.Helper()
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: &tls.Config{
		ServerName: "localhost", NextProtos: []string{alpn}, MinVersion: tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519}, InsecureSkipVerify: true,
	}})
	defer q.Close()
	tp := wire.TransportParameters{InitialSourceCID: scid, HasInitialSourceCID: true, InitialMaxData: 1 << 20,
		InitialMaxStreamDataBidiLocal: 1 << 16, InitialMaxStreamsBidi: 10}
	q.SetTransportParameters(tp.Append(nil))
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var hello []byte
	for ev := q.NextEvent(); ev.Kind != tls.QUICNoEvent; ev = q.NextEvent() {
		if ev.Kind == tls.QUICWriteData && ev.Level == tls.QUICEncryptionLevelInitial {
			hello = append(hello, ev.Data...)
		}
	}
	write, _ := protect.InitialKeys(wire.Version1, dcid, true)
	var b packet.Builder
	b.Reset(make([]byte, 0, 1500))
	b.StartDatagram(1452)
	if !b.StartLong(wire.PacketInitial, wire.Version1, dcid, scid, nil, 0, -1, write) {
		t.Fatal("no room for the Initial")
	}
	b.Buf = wire.AppendCryptoHeader(b.Buf, 0, len(hello))
	b.Buf = append(b.Buf, hello...)
	b.Finish()
	b.EndDatagram(1200)
	return b.Buf
}

// randomCID returns a random 8-byte connection ID.
func randomCID() []byte {
	c := make([]byte, 8)
	rand.Read(c)
	return c
}

// liveMemory returns the heap in use and the goroutine stacks after a
// collection.
func liveMemory() uint64 {
	m := collectedStats()
	return m.HeapAlloc + m.StackInuse
}

// liveHeap returns the heap in use after a collection. Checks that memory
// came back use it with the goroutine count: the runtime keeps the stack
// spans of exited goroutines for reuse, so StackInuse wanders by hundreds
// of kilobytes with scheduling, while every stack still held belongs to a
// goroutine still running.
func liveHeap() uint64 { return collectedStats().HeapAlloc }

// bubbleGoroutines counts the goroutines of the test's synctest bubble,
// where the library runs. runtime.NumGoroutine would also count the
// runtime's cleanup goroutines, which run for a moment after each
// collection (and liveHeap collects).
func bubbleGoroutines(t *testing.T) int {
	t.Helper()
	n, _, err := testutil.BubbleGoroutines()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func collectedStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// Each half-open server connection, one that answered a real ClientHello
// and waits for a client that never returns, holds at most
// handshakeMemoryEstimate, and gives it all back at the handshake idle
// timeout.
func TestHalfOpenConnectionMemory(t *testing.T) {
	simTest(t, func(t *testing.T) {
		if testing.Short() {
			t.Skip("opens 200 half-open connections")
		}
		e := newE2EGlobal(t, "echo", &Settings{PeerBidiStreamCount: Some[uint16](100), HandshakeIdleTimeout: Some(time.Second)},
			&GlobalSettings{RetryMemoryLimit: Some[uint16](65535)})
		e.listenEcho()
		sock, err := e.host.Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		const n = 200
		initials := make([][]byte, n)
		scids := make(map[string]bool, n)
		for i := range initials {
			scid := randomCID()
			scids[string(scid)] = false
			initials[i] = clientInitial(t, "echo", randomCID(), scid)
		}
		// Read until every connection's first flight arrived: the server's
		// Initial is addressed to our SCID.
		answered := make(chan struct{})
		go func() {
			buf := make([]byte, 2048)
			left := n
			for left > 0 {
				m, _, err := sock.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				h, ok := wire.ParseLongHeader(buf[:m])
				if ok && h.Type == wire.PacketInitial {
					if seen, ours := scids[string(h.DCID)]; ours && !seen {
						scids[string(h.DCID)] = true
						left--
					}
				}
			}
			close(answered)
		}()
		goroutines, heapBefore := bubbleGoroutines(t), liveHeap()
		before := liveMemory()
		for _, p := range initials {
			if _, err := sock.WriteToUDPAddrPort(p, e.addr); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-answered:
		case <-time.After(30 * time.Second):
			t.Fatal("the server did not answer every ClientHello")
		}
		if got := e.lib.defense.guard.HalfOpen(); got != n {
			t.Fatalf("%d half-open connections, want %d", got, n)
		}
		during := liveMemory()
		per := (int64(during) - int64(before)) / n
		t.Logf("%d bytes per half-open connection (estimate %d)", per, handshakeMemoryEstimate)
		if per > handshakeMemoryEstimate && !raceEnabled {
			t.Errorf("a half-open connection holds %d bytes, more than the %d RetryMemoryLimit counts", per, handshakeMemoryEstimate)
		}
		deadline := time.Now().Add(30 * time.Second)
		for e.lib.defense.guard.HalfOpen() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := e.lib.defense.guard.HalfOpen(); got != 0 {
			t.Fatalf("%d half-open connections left after the handshake idle timeout", got)
		}
		e.listener.Close()
		e.listener = nil
		sock.Close()
		synctest.Wait() // the binding's goroutines have exited
		if left := (int64(liveHeap()) - int64(heapBefore)) / n; left > 1024 {
			t.Errorf("%d heap bytes per connection still held after the handshake idle timeout", left)
		}
		if g := bubbleGoroutines(t); g > goroutines {
			t.Errorf("%d goroutines after the handshake idle timeout, %d before the connections", g, goroutines)
		}
	})
}

// A flood of real ClientHellos in DoS mode draws one Retry each and
// creates no connection; a legitimate client still connects, through a
// Retry.
func TestFloodInDoSModeCreatesNoState(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2EGlobal(t, "echo", nil, &GlobalSettings{StatelessRetryEnabled: Some(true)})
		e.listenEcho()
		const n = 100
		for i := range n {
			sock, err := e.host.Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sock.WriteToUDPAddrPort(clientInitial(t, "echo", randomCID(), randomCID()), e.addr); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2048)
			sock.SetReadDeadline(time.Now().Add(10 * time.Second))
			m, _, err := sock.ReadFromUDPAddrPort(buf)
			sock.Close()
			if err != nil {
				t.Fatalf("Initial %d: no answer: %v", i, err)
			}
			if _, _, _, _, _, ok := wire.ParseRetry(buf[:m]); !ok {
				t.Fatalf("Initial %d answered with something other than a Retry", i)
			}
		}
		if got := e.lib.defense.guard.HalfOpen(); got != 0 {
			t.Errorf("%d connections created in DoS mode", got)
		}
		if st := e.dialEcho(t, "in DoS mode"); !st.StatelessRetry {
			t.Error("the legitimate client was not sent a Retry")
		}
		if ls := e.listener.Statistics(); ls.RetriesSent < n+1 || ls.TokensAccepted != 1 {
			t.Errorf("%d Retries sent and %d tokens accepted; want ≥ %d and 1", ls.RetriesSent, ls.TokensAccepted, n+1)
		}
	})
}

// A listener that asked for DoS mode events hears each change of mode,
// and hears the mode at once if it asks while DoS mode is on.
func TestDoSModeEvents(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		events := make(chan bool, 8)
		l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
			switch ev := ev.(type) {
			case *DoSModeChangedEvent:
				events <- ev.Enabled
			case *NewConnectionEvent:
				ev.Connection.SetHandler(echoServerConn)
				return ev.Connection.SetConfiguration(e.srvCfg)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.listener = l
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		e.addr, _ = l.LocalAddr()
		want := func(on bool) {
			t.Helper()
			select {
			case got := <-events:
				if got != on {
					t.Fatalf("DoSModeChangedEvent{Enabled: %v}, want %v", got, on)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no DoSModeChangedEvent{Enabled: %v}", on)
			}
			if e.lib.DoSMode() != on {
				t.Fatalf("Library.DoSMode() = %v after the event", !on)
			}
		}
		if err := e.lib.SetGlobalSettings(&GlobalSettings{StatelessRetryEnabled: Some(true)}); err != nil {
			t.Fatal(err)
		}
		if !e.lib.DoSMode() {
			t.Fatal("StatelessRetryEnabled does not turn DoS mode on")
		}
		l.SetDoSModeEvents(true) // already on: reported at once
		want(true)
		if err := e.lib.SetGlobalSettings(&GlobalSettings{StatelessRetryEnabled: Some(false)}); err != nil {
			t.Fatal(err)
		}
		want(false)
		if err := e.lib.SetGlobalSettings(&GlobalSettings{RetryMemoryLimit: Some[uint16](0)}); err != nil {
			t.Fatal(err)
		}
		want(true)
		if st := e.dialEcho(t, "RetryMemoryLimit 0"); !st.StatelessRetry {
			t.Error("RetryMemoryLimit 0 did not make the client go through a Retry")
		}
		l.SetDoSModeEvents(false)
		if err := e.lib.SetGlobalSettings(&GlobalSettings{RetryMemoryLimit: Some[uint16](65)}); err != nil {
			t.Fatal(err)
		}
		if e.lib.DoSMode() {
			t.Fatal("DoS mode still on with the default limit and no half-open connections")
		}
		// Events are off: the listener's stop completes with nothing else
		// queued.
		l.Close()
		e.listener = nil
		select {
		case on := <-events:
			t.Errorf("DoSModeChangedEvent{Enabled: %v} with events turned off", on)
		default:
		}
	})
}

// The stateless settings of Library.SetSettings reach the stateless
// workers and the overload check.
func TestStatelessSettingsApply(t *testing.T) {
	simTest(t, func(t *testing.T) {
		l, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if got := l.defense.stateless.Limits(); got != endpoint.DefaultStatelessLimits {
			t.Errorf("default limits %+v, want %+v", got, endpoint.DefaultStatelessLimits)
		}
		if err := l.SetSettings(&Settings{MaxStatelessOperations: Some[uint32](7), MaxBindingStatelessOperations: Some[uint16](5),
			StatelessOperationExpiration: Some(3 * time.Millisecond), MaxWorkerQueueDelay: Some(time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		want := endpoint.StatelessLimits{WorkerQueue: 7, PerBinding: 5, Spacing: 3 * time.Millisecond}
		if got := l.defense.stateless.Limits(); got != want {
			t.Errorf("limits %+v, want %+v", got, want)
		}
		if got := time.Duration(l.defense.maxQueueDelay.Load()); got != time.Millisecond {
			t.Errorf("MaxWorkerQueueDelay in use %v, want 1ms", got)
		}
	})
}

// peerAffinity spreads the clients of one port over the workers.
func TestPeerAffinitySpreadsOnePort(t *testing.T) {
	simTest(t, func(t *testing.T) {
		seen := map[uint32]int{}
		for i := range 256 {
			a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, 0, byte(i)}), 4433)
			seen[peerAffinity(a)%4]++
		}
		for w := uint32(0); w < 4; w++ {
			if seen[w] < 32 {
				t.Errorf("worker %d of 4 gets %d of 256 clients of one port", w, seen[w])
			}
		}
	})
}

// A short churn (the CI form of the flood tool's 10-minute soak):
// connections that open, echo and close; connections abandoned after their
// echo, which the server idles out; and handshakes abandoned after the
// ClientHello, which it drops at the handshake idle timeout. Afterwards the
// goroutines, the half-open count and the live heap are back where they
// started.
func TestChurnReturnsToBaseline(t *testing.T) {
	simTest(t, func(t *testing.T) {
		if testing.Short() {
			t.Skip("churns connections for two seconds")
		}
		e := newE2E(t, "echo", &Settings{PeerBidiStreamCount: Some[uint16](100),
			IdleTimeout: Some(500 * time.Millisecond), HandshakeIdleTimeout: Some(500 * time.Millisecond)})
		// The churn runs for a span of the bubble's clock, which moves only
		// while datagrams are on their way.
		e.net.SetDefaultLink(netsim.Link{Latency: 5 * time.Millisecond})
		e.listenEcho()
		sock, err := e.host.Listen("udp4", netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		opened, abandoned, halfOpen := 0, 0, 0
		churn := func(d time.Duration) {
			for start := time.Now(); time.Since(start) < d; {
				e.dialEcho(t, "churn")
				opened++
				c, closed := e.connect(t, nil)
				echoOn(t, c, "then silence")
				c.Shutdown(ConnectionShutdownSilent, 0) // the server hears nothing more
				wait(t, closed, "silent shutdown")
				c.Close()
				abandoned++
				if _, err := sock.WriteToUDPAddrPort(clientInitial(t, "echo", randomCID(), randomCID()), e.addr); err != nil {
					t.Fatal(err)
				}
				halfOpen++
			}
		}
		// settle waits until every connection of the churn is gone and
		// reports the goroutines and live heap then.
		settle := func(what string, goroutines int, heap uint64) (int, uint64) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				g, h := bubbleGoroutines(t), liveHeap()
				if e.lib.HalfOpenConnections() == 0 && g <= goroutines && int64(h)-int64(heap) < 256<<10 {
					return g, h
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d goroutines (baseline %d), %d half-open, live heap %+d bytes over the baseline",
						what, g, goroutines, e.lib.HalfOpenConnections(), int64(h)-int64(heap))
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		// A first round of each kind makes the one-time allocations (pools,
		// token keys, the stateless workers' buffers, map growth) before the
		// baseline.
		churn(500 * time.Millisecond)
		goroutines, heap := settle("warm-up", 1<<20, 1<<40)
		churn(2 * time.Second)
		t.Logf("%d connections closed, %d abandoned, %d handshakes abandoned", opened, abandoned, halfOpen)
		settle("after the churn", goroutines, heap)
	})
}
