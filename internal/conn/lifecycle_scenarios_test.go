package conn

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/wire"
)

// Connection lifecycle scenarios: graceful, silent and
// handshake-time shutdown, key update, connection IDs, the closing state
// and stateless reset.

// sides returns (initiator, peer) for a subtest.
func sides(p *pair, clientFirst bool) (*endpoint, *endpoint) {
	if clientFirst {
		return p.client, p.server
	}
	return p.server, p.client
}

func TestAppShutdownDeliversCodeToPeerAndCompletesBothSides(t *testing.T) {
	for _, clientFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("clientInitiates=%v", clientFirst), func(t *testing.T) {
			p := newPair(t)
			p.handshake()
			ini, peer := sides(p, clientFirst)
			// A stream with unfinished data in flight on each side.
			s := ini.c.NewStream(0)
			ini.c.StreamStart(s, 0)
			ini.c.StreamSend(s, [][]byte{make([]byte, 200<<10)}, 0, "pending")
			if !p.runUntil(5*time.Second, func() bool { return peer.has("Receive") }) {
				t.Fatal("stream never reached the peer")
			}
			var peerSent []time.Duration // send times of the peer's datagrams
			p.drop = func(from *endpoint, n int, data []byte) bool {
				if from == peer {
					peerSent = append(peerSent, p.now.Sub(0))
				}
				return false
			}
			ini.c.Shutdown(false, 0x1234)
			if !p.runUntil(10*time.Second, p.bothDone) {
				t.Fatalf("not closed: %s %v / %s %v", ini.name, ini.names(), peer.name, peer.names())
			}
			draining, _ := peer.find("ShutdownByPeer")
			n := 0
			for _, at := range peerSent {
				if at >= draining.at.Sub(0) {
					n++
				}
			}
			if n > 1 {
				t.Errorf("peer sent %d datagrams after the close; a draining endpoint sends at most one (RFC 9000 §10.2.2)", n)
			}
			if ini.has("ShutdownByTransport") || ini.has("ShutdownByPeer") {
				t.Errorf("initiator got a shutdown-initiated event: %v", ini.names())
			}
			if ev, ok := peer.find("ShutdownByPeer"); !ok || ev.a != 0x1234 || peer.has("ShutdownByTransport") {
				t.Errorf("peer events %v, want ShutdownByPeer(0x1234)", peer.names())
			}
			isc, _ := ini.find("ShutdownComplete")
			psc, _ := peer.find("ShutdownComplete")
			if isc.a != 1 || psc.a != 1 {
				t.Errorf("handshakeCompleted = %d/%d, want 1/1", isc.a, psc.a)
			}
			if isc.b != 1 {
				t.Errorf("initiator PeerAcknowledgedShutdown = %d, want 1 (the peer answered)", isc.b)
			}
			for _, e := range []*endpoint{ini, peer} {
				if e.lastEvent() != "ShutdownComplete" {
					t.Errorf("%s: last event %s", e.name, e.lastEvent())
				}
				ssc, ok := e.find("StreamShutdownComplete")
				if !ok || ssc.b != 1 {
					t.Errorf("%s: stream ShutdownComplete missing or not ConnectionShutdown: %v", e.name, e.names())
				}
			}
			if ev, ok := ini.find("SendComplete"); !ok || ev.a != 1 || ini.count("SendComplete") != 1 {
				t.Errorf("initiator SendComplete events %d (first %v), want one canceled", ini.count("SendComplete"), ev)
			}
		})
	}
}

func TestSilentShutdownSendsNothingAndPeerTimesOut(t *testing.T) {
	for _, clientFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("clientInitiates=%v", clientFirst), func(t *testing.T) {
			p := newPair(t, withClientSettings(func(s *Settings) { s.IdleTimeout = 3 * time.Second }))
			p.serverSettings.IdleTimeout = 3 * time.Second
			p.handshake()
			ini, peer := sides(p, clientFirst)
			before := p.sentCount[ini]
			ini.c.Shutdown(true, 9)
			p.runUntil(0, func() bool { return ini.has("ShutdownComplete") })
			sc, ok := ini.find("ShutdownComplete")
			if !ok || sc.b != 0 || len(ini.names()) == 0 || ini.has("ShutdownByTransport") {
				t.Fatalf("initiator events %v, want an immediate ShutdownComplete without peer ack", ini.names())
			}
			// The peer keeps talking into the void.
			s := peer.c.NewStream(0)
			peer.c.StreamStart(s, 0)
			peer.c.StreamSend(s, [][]byte{[]byte("anyone?")}, SendFlagFIN, nil)
			if !p.runUntil(time.Minute, func() bool { return peer.has("ShutdownComplete") }) {
				t.Fatalf("peer never noticed: %v", peer.names())
			}
			if p.sentCount[ini] != before {
				t.Errorf("silent shutdown sent %d datagrams", p.sentCount[ini]-before)
			}
			if ev, _ := peer.find("ShutdownByTransport"); ev.r.Local != ReasonIdle {
				t.Errorf("peer close %+v, want idle timeout", ev.r)
			}
		})
	}
}

func TestCloseHandleOnLiveConnectionShutsDownSilentlyWithAppCloseInProgress(t *testing.T) {
	p := newPair(t)
	p.handshake()
	before := p.sentCount[p.client]
	p.client.c.CloseHandle()
	p.runUntil(time.Second, func() bool { return p.client.has("ShutdownComplete") })
	sc, ok := p.client.find("ShutdownComplete")
	if !ok || sc.c != 1 || sc.b != 0 {
		t.Fatalf("client events %v, ShutdownComplete %+v; want AppCloseInProgress", p.client.names(), sc)
	}
	if p.client.has("ShutdownByTransport") || p.sentCount[p.client] != before {
		t.Errorf("close of the handle was not silent: events %v, %d datagrams", p.client.names(), p.sentCount[p.client]-before)
	}
}

func TestAppCloseDuringHandshakeIsSentAsTransportApplicationError(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		p := newPair(t)
		frames := p.tap(p.client)
		p.client.c.Start()
		p.runUntil(time.Second, func() bool { return p.sentCount[p.client] > 0 })
		p.client.c.Shutdown(false, 0x77)
		if !p.runUntil(10*time.Second, p.bothDone) {
			t.Fatalf("not closed: client %v server %v", p.client.names(), p.server.names())
		}
		ev, ok := p.server.find("ShutdownByTransport")
		if !ok || !ev.r.Remote || ev.r.App || ev.r.Code != uint64(wire.ApplicationError) {
			t.Errorf("server saw %v %+v, want transport APPLICATION_ERROR (RFC 9000 §10.2.3)", p.server.names(), ev.r)
		}
		checkNoAppCloseOutside1RTT(t, *frames)
		if len(framesOf[wire.DebugConnectionClose](*frames)) == 0 {
			t.Errorf("no CONNECTION_CLOSE on the wire: %s", frameSummary(*frames))
		}
	})
	t.Run("server", func(t *testing.T) {
		p := newPair(t)
		// The client's second flight never arrives: the server's handshake
		// stays unconfirmed.
		start := p.now
		p.drop = func(from *endpoint, n int, data []byte) bool { return from == p.client && p.now != start }
		frames := p.tap(p.server)
		p.client.c.Start()
		if !p.runUntil(time.Second, func() bool { return p.sentCount[p.server] > 0 }) {
			t.Fatal("server never answered")
		}
		p.server.c.Shutdown(false, 0x77)
		if !p.runUntil(10*time.Second, func() bool { return p.client.has("ShutdownComplete") }) {
			t.Fatalf("client not closed: %v", p.client.names())
		}
		checkNoAppCloseOutside1RTT(t, *frames)
		if len(framesOf[wire.DebugConnectionClose](*frames)) == 0 {
			t.Errorf("no CONNECTION_CLOSE seen: %s", frameSummary(*frames))
		}
		ev, _ := p.client.find("ShutdownByTransport")
		peerEv, byPeer := p.client.find("ShutdownByPeer")
		switch {
		case byPeer && peerEv.a == 0x77:
		case ev.r.Remote && !ev.r.App && ev.r.Code == uint64(wire.ApplicationError):
		default:
			t.Errorf("client saw %v %+v, want APPLICATION_ERROR or the app's code", p.client.names(), ev.r)
		}
	})
}

// checkNoAppCloseOutside1RTT enforces RFC 9000 §10.2.3: an application
// CONNECTION_CLOSE in an Initial or Handshake packet becomes a transport
// close with APPLICATION_ERROR and no reason.
func checkNoAppCloseOutside1RTT(t *testing.T, log []wireFrame) {
	t.Helper()
	for _, w := range log {
		cc, ok := w.f.(wire.DebugConnectionClose)
		if !ok || w.pt == wire.Packet1RTT {
			continue
		}
		if cc.App || cc.Code != uint64(wire.ApplicationError) || cc.Reason != "" {
			t.Errorf("%v packet carries %v", w.pt, cc)
		}
	}
}

func TestKeyUpdatesDuringTransferThreeGenerationsBothSides(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.reorderRate = 0.1
	data := make([]byte, 2<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	s := openSend(p, data, true)
	for gen := uint32(1); gen <= 3; gen++ {
		ini := p.client
		if gen == 2 {
			ini = p.server
		}
		want := len(data) * int(gen) / 4
		p.runUntil(time.Minute, func() bool { return len(p.server.received[s.ID()]) >= want })
		ok := false
		for try := 0; try < 100 && !ok; try++ {
			ini.c.ForceKeyUpdate()
			ok = p.runUntil(50*time.Millisecond, func() bool {
				return p.client.c.app.updates >= gen && p.server.c.app.updates >= gen
			})
		}
		if !ok {
			t.Fatalf("generation %d: key updates client %d server %d", gen, p.client.c.app.updates, p.server.c.app.updates)
		}
	}
	if !p.runUntil(time.Minute, func() bool { return p.server.has("PeerSendShutdown") && p.client.has("SendShutdownComplete") }) {
		t.Fatalf("transfer stalled at %d bytes", len(p.server.received[s.ID()]))
	}
	if !bytes.Equal(p.server.received[s.ID()], data) {
		t.Fatal("data corrupted across key updates")
	}
	cs, ss := p.client.c.statistics(), p.server.c.statistics()
	if cs.KeyUpdateCount != 3 || ss.KeyUpdateCount != 3 || p.client.c.app.phase != p.server.c.app.phase {
		t.Errorf("KeyUpdateCount client %d server %d, phases %v/%v", cs.KeyUpdateCount, ss.KeyUpdateCount, p.client.c.app.phase, p.server.c.app.phase)
	}
	if cs.RecvDecryptionFailures != 0 || ss.RecvDecryptionFailures != 0 {
		t.Errorf("decryption failures client %d server %d", cs.RecvDecryptionFailures, ss.RecvDecryptionFailures)
	}
}

func TestConnectionIDsRespectLimitCarryResetTokensAndRetire(t *testing.T) {
	p := newPair(t)
	frames := p.tap(p.server)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	serverKey := token.NewResetKey([32]byte{2})
	for _, e := range []*endpoint{p.client, p.server} {
		limit := int(e.peer.c.peerTP.activeCIDLimit) // what e advertised, as its peer saw it
		if n := len(e.c.cids.remote); n > limit || n < 2 {
			t.Errorf("%s holds %d peer connection IDs, limit %d", e.name, n, limit)
		}
		if n := len(e.peer.c.cids.local); n > limit {
			t.Errorf("%s issued %d connection IDs beyond %s's limit %d", e.peer.name, n, e.name, limit)
		}
		for _, r := range e.c.cids.remote {
			// A client's handshake ID has no token: only servers send
			// stateless_reset_token (RFC 9000 §18.2).
			if !r.hasToken && (e == p.client || r.seq != 0) {
				t.Errorf("%s: peer connection ID %d has no stateless reset token", e.name, r.seq)
			}
		}
	}
	for _, r := range p.client.c.cids.remote {
		if r.token != serverKey.Token(r.id()) {
			t.Errorf("server CID %d token %x, want %x", r.seq, r.token, serverKey.Token(r.id()))
		}
	}
	ncids := framesOf[wire.DebugNewConnectionID](*frames)
	if len(ncids) != len(p.client.c.cids.remote)-1 {
		t.Errorf("server sent %d NEW_CONNECTION_ID frames, client holds %d IDs", len(ncids), len(p.client.c.cids.remote))
	}

	// The server issues a new ID that retires everything before sequence
	// 2 (the engine never sends retire_prior_to itself, so the frame is
	// fed to the client directly).
	var fresh localCID
	p.server.c.Do(func(c *Conn, _ mono.Time) { fresh = *c.issueLocalCID(false) })
	p.runUntil(0, func() bool { return false })
	clientFrames := p.tap(p.client)
	var ferr error
	p.client.c.Do(func(c *Conn, _ mono.Time) { ferr = c.onNewConnectionID(fresh.seq, 2, fresh.id(), fresh.token) })
	if !p.runUntil(5*time.Second, func() bool { return p.server.c.cids.local[0].seq >= 2 }) || ferr != nil {
		t.Fatalf("retirement not processed (err %v)", ferr)
	}
	p.runUntil(time.Second, func() bool { return false })
	retired := framesOf[wire.DebugRetireConnectionID](*clientFrames)
	if len(retired) != 2 || retired[0].Seq != 0 || retired[1].Seq != 1 {
		t.Errorf("client sent RETIRE_CONNECTION_ID %v, want sequence numbers 0 and 1", retired)
	}
	for _, l := range p.server.c.cids.local {
		if l.seq < 2 {
			t.Errorf("server still uses retired connection ID %d", l.seq)
		}
	}
	for _, r := range p.client.c.cids.remote {
		if r.seq < 2 {
			t.Errorf("client still holds retired connection ID %d", r.seq)
		}
	}
	if n := len(p.client.c.cids.remote); n > maxRemoteCIDs || n < 3 {
		t.Errorf("client holds %d IDs after retirement", n)
	}
	echoWorks(t, p)

	// One more ID than the limit is a CONNECTION_ID_LIMIT_ERROR
	// (RFC 9000 §5.1.1).
	for len(p.client.c.cids.remote) < maxRemoteCIDs {
		next := p.client.c.cids.remote[len(p.client.c.cids.remote)-1].seq + 1
		p.client.c.cids.remote = append(p.client.c.cids.remote, remoteCID{seq: next, cid: makeConnID([]byte{byte(next), 1, 2, 3}), hasToken: true})
	}
	err := p.client.c.onNewConnectionID(99, 0, []byte{9, 9, 9, 9}, [16]byte{9})
	if we, ok := err.(*wire.Error); !ok || we.Code != wire.ConnectionIDLimitError {
		t.Errorf("NEW_CONNECTION_ID beyond the limit: %v", err)
	}
}

func TestClosingEndpointRepeatsConnectionCloseWithBackoff(t *testing.T) {
	p := newPair(t)
	p.handshake()
	// The server streams data; the client closes and its close is lost,
	// so the server keeps sending into the closing client.
	s := p.server.c.NewStream(0)
	p.server.c.StreamStart(s, 0)
	p.server.c.StreamSend(s, [][]byte{make([]byte, 1<<20)}, 0, nil)
	p.runUntil(5*time.Second, func() bool { return p.client.has("Receive") })
	var closeAt int
	closing := false
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && closing {
			if closeAt < 0 {
				closeAt = n
			}
			return true
		}
		return false
	}
	frames := p.tap(p.client)
	closeAt = -1
	closing = true
	received := p.recvBytes[p.client]
	p.client.c.Shutdown(false, 5)
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("ShutdownComplete") }) {
		t.Fatalf("client never completed: %v", p.client.names())
	}
	sent := p.sentCount[p.client] - closeAt
	closes := framesOf[wire.DebugConnectionClose](*frames)
	if len(closes) != sent {
		t.Errorf("%d datagrams sent while closing, %d CONNECTION_CLOSE frames: %s", sent, len(closes), frameSummary(*frames))
	}
	for _, cc := range closes {
		if !cc.App || cc.Code != 5 {
			t.Errorf("close frame %v, want application code 5", cc)
		}
	}
	pkts := (p.recvBytes[p.client] - received) / 1000
	if sent < 2 || sent > 2+bits.Len(uint(pkts)) {
		t.Errorf("client answered %d times to ≈%d packets in the closing state; want repeats, rate limited", sent, pkts)
	}
	if sc, _ := p.client.find("ShutdownComplete"); sc.b != 0 {
		t.Error("PeerAcknowledgedShutdown set though the peer never saw the close")
	}
	t.Logf("client sent %d CONNECTION_CLOSE datagrams while receiving %d bytes", sent, p.recvBytes[p.client]-received)
}

func TestStatelessResetClosesConnectionSilently(t *testing.T) {
	for _, withOwnCID := range []bool{false, true} {
		t.Run(fmt.Sprintf("dcidIsLocal=%v", withOwnCID), func(t *testing.T) {
			p := newPair(t)
			p.handshake()
			p.runUntil(time.Second, func() bool { return false })
			c := p.client.c
			mk := func(tok [16]byte) []byte {
				b := make([]byte, 43)
				for i := range b {
					b[i] = byte(p.rng.Uint32())
				}
				b[0] = 0x40 | b[0]&0x3f
				if withOwnCID {
					copy(b[1:], c.cids.local[0].id())
				}
				copy(b[len(b)-16:], tok[:])
				return b
			}
			// A wrong token changes nothing.
			c.QueueDatagram(Datagram{Data: mk([16]byte{1, 2, 3}), Peer: serverAddr})
			p.runUntil(100*time.Millisecond, func() bool { return false })
			if p.client.has("ShutdownComplete") {
				t.Fatalf("closed by a datagram without the token: %v", p.client.names())
			}
			before := p.sentCount[p.client]
			c.QueueDatagram(Datagram{Data: mk(c.cids.remote[0].token), Peer: serverAddr})
			p.runUntil(time.Second, func() bool { return p.client.has("ShutdownComplete") })
			ev, ok := p.client.find("ShutdownByTransport")
			if !ok || ev.r.Local != ReasonStatelessReset || !p.client.has("ShutdownComplete") {
				t.Fatalf("client events %v (%+v), want a stateless-reset close", p.client.names(), ev.r)
			}
			if p.sentCount[p.client] != before {
				t.Errorf("client sent %d datagrams after a stateless reset", p.sentCount[p.client]-before)
			}
		})
	}
}

func TestKeepAliveKeepsIdleConnectionOpen(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) {
		s.IdleTimeout = 5 * time.Second
		s.KeepAliveInterval = 2 * time.Second
	}))
	p.serverSettings.IdleTimeout = 5 * time.Second
	p.handshake()
	p.runUntil(time.Minute, func() bool { return p.client.has("ShutdownComplete") || p.server.has("ShutdownComplete") })
	if p.client.has("ShutdownComplete") || p.server.has("ShutdownComplete") {
		t.Fatalf("keep-alive did not keep the connection: client %v server %v", p.client.names(), p.server.names())
	}
	if n := p.sentCount[p.client]; n < 25 {
		t.Errorf("client sent %d datagrams in a minute with a 2s keep-alive", n)
	}
	echoWorks(t, p)
}

func TestDisconnectTimeoutClosesWhenPeerStopsAcknowledging(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.DisconnectTimeout = 3 * time.Second }))
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	p.drop = func(from *endpoint, n int, data []byte) bool { return from == p.server }
	start := p.now
	openSend(p, make([]byte, 10<<10), true)
	if !p.runUntil(time.Minute, func() bool { return p.client.has("ShutdownComplete") }) {
		t.Fatalf("client never gave up: %v", p.client.names())
	}
	ev, _ := p.client.find("ShutdownByTransport")
	if ev.r.Local != ReasonDisconnect {
		t.Errorf("close %+v, want the disconnect timeout", ev.r)
	}
	if d := ev.at.Sub(start); d != 3*time.Second {
		t.Errorf("gave up after %v, want the 3s disconnect timeout", d)
	}
}

// TestOperationsQueuedBeforeShutdownReportBeforeShutdownComplete: a send or
// start the application queued before the shutdown (which runs in the
// priority lane, ahead of them) is reported before SHUTDOWN_COMPLETE of
// its stream and of the connection, exactly once.
func TestOperationsQueuedBeforeShutdownReportBeforeShutdownComplete(t *testing.T) {
	for _, how := range []string{"silent", "graceful", "closeHandle", "peerClose"} {
		t.Run(how, func(t *testing.T) {
			p := newPair(t)
			p.handshake()
			c := p.client.c
			s := startStream(p, []byte("a"), false, "a")
			p.runUntil(100*time.Millisecond, func() bool { return false })
			c.StreamSend(s, [][]byte{[]byte("b")}, 0, "b")
			s2 := c.NewStream(0)
			c.StreamStart(s2, 0)
			c.StreamSend(s2, [][]byte{[]byte("c")}, 0, "c")
			switch how {
			case "silent":
				c.Shutdown(true, 1)
			case "graceful":
				c.Shutdown(false, 1)
			case "closeHandle":
				c.CloseHandle()
			case "peerClose":
				p.server.c.Shutdown(false, 1)
				p.runUntil(10*time.Millisecond, func() bool { return false })
				c.StreamSend(s, [][]byte{[]byte("d")}, 0, "d")
				p.runUntil(0, func() bool { return false })
			}
			if !p.runUntil(10*time.Second, func() bool { return p.client.has("ShutdownComplete") }) {
				t.Fatalf("not closed: %v", p.client.names())
			}
			sc := p.client.sendCompletes()
			want := map[any]int{"a": 1, "b": 1, "c": 1}
			if how == "peerClose" {
				// Sent after the stream's SHUTDOWN_COMPLETE: nothing may
				// follow that event (the public API rejects the call).
				want["d"] = 0
			}
			for ctx, n := range want {
				if sc[ctx] != n {
					t.Errorf("send %v completed %d times, want %d: %v", ctx, sc[ctx], n, p.client.names())
				}
			}
			if _, ok := p.client.streamEvent(s2, "StartComplete"); !ok {
				t.Errorf("queued start never completed: %v", p.client.names())
			}
		})
	}
}

func TestSimultaneousAppShutdownCompletesBothWithoutPeerEvents(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.client.c.Shutdown(false, 1)
	p.server.c.Shutdown(false, 2)
	if !p.runUntil(10*time.Second, p.bothDone) {
		t.Fatalf("not closed: client %v server %v", p.client.names(), p.server.names())
	}
	for _, e := range []*endpoint{p.client, p.server} {
		if e.has("ShutdownByPeer") || e.has("ShutdownByTransport") {
			t.Errorf("%s got a shutdown-initiated event though it initiated: %v", e.name, e.names())
		}
		if sc, _ := e.find("ShutdownComplete"); sc.b != 1 {
			t.Errorf("%s PeerAcknowledgedShutdown = %d; both closes crossed and were seen", e.name, sc.b)
		}
	}
}

// TestRepeatedKeyUpdateRequestsNeverDesynchronize: both applications ask
// for key updates in quick succession, before the previous ones were
// acknowledged; the updates that are allowed keep both sides within one
// generation of each other (RFC 9001 §6.1), so the echo completes intact.
func TestRepeatedKeyUpdateRequestsNeverDesynchronize(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			p := newPair(t)
			p.rng = rand.New(rand.NewPCG(seed, 2))
			p.server.echo = true
			p.handshake()
			p.lossRate, p.reorderRate = 0.05, 0.3
			data := payload(seed, 200<<10)
			s := openSend(p, data, true)
			for i := 0; i < 5; i++ {
				p.runUntil(time.Duration(seed%5+1)*7*time.Millisecond, func() bool { return false })
				p.client.c.ForceKeyUpdate()
				p.server.c.ForceKeyUpdate()
				p.server.c.ForceKeyUpdate()
			}
			if !p.runUntil(time.Minute, func() bool { return p.client.streamFinished(s) }) || !bytes.Equal(p.client.received[s.ID()], data) {
				ev, _ := p.client.find("ShutdownByTransport")
				t.Fatalf("echo failed (%d of %d bytes, close %+v)", len(p.client.received[s.ID()]), len(data), ev.r)
			}
			cu, su := p.client.c.app.updates, p.server.c.app.updates
			if cu != su || cu == 0 {
				t.Errorf("key updates client %d server %d", cu, su)
			}
		})
	}
}

// An endpoint that started a key update keeps its previous read keys until
// the peer answers with the new ones (RFC 9001 §6.5 counts three PTOs from
// the first packet received with the new keys): here the server updates
// while it has nothing to send, the client hears nothing for longer than
// three PTOs, and its next packets, still with the old keys, must be read.
// Dropping the old keys three PTOs after starting the update left the two
// sides unable to read each other until the client's disconnect timeout.
func TestInitiatorKeepsOldReadKeysUntilThePeerAnswers(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	if !p.server.c.forceKeyUpdate(p.now) {
		t.Fatal("the server could not start a key update")
	}
	p.runUntil(10*time.Second, func() bool { return false })
	if p.client.c.app.updates != 0 {
		t.Fatalf("the client followed an update the server had no packet to announce")
	}
	msg := []byte("still the old keys")
	s := openSend(p, msg, true)
	if !p.runUntil(5*time.Second, func() bool { return p.client.streamFinished(s) }) {
		t.Fatalf("echo did not finish: client %v server %v", p.client.names(), p.server.names())
	}
	if got := p.client.received[s.ID()]; !bytes.Equal(got, msg) {
		t.Fatalf("echo %q", got)
	}
	if cu, su := p.client.c.app.updates, p.server.c.app.updates; cu != 1 || su != 1 {
		t.Errorf("key updates client %d server %d, want 1 each", cu, su)
	}
}
