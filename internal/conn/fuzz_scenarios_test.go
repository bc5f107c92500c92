package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// FuzzConnRecv (DESIGN.md §3.5) feeds hostile input to a handshaken pair.
// mode selects the target and the form of data:
//
//	mode&1 == 0: the client receives it, else the server;
//	mode>>1%3 == 0: data is a raw datagram;
//	mode>>1%3 == 1: data is a 1-RTT payload (frames) that the peer seals
//	                with its real keys, so it reaches frame processing;
//	mode>>1%3 == 2: data is several raw datagrams, each prefixed by a
//	                one-byte length.
//
// Whatever arrives, nothing panics or hangs, no event follows a
// SHUTDOWN_COMPLETE, and the connection either still carries an echo or
// both sides shut down completely.
func FuzzConnRecv(f *testing.F) {
	for _, s := range fuzzConnRecvSeeds(f) {
		f.Add(s.mode, s.data)
	}
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		if len(data) > 4096 {
			return
		}
		p := newPair(t, withClientSettings(func(s *Settings) { s.IdleTimeout = 5 * time.Second }))
		p.serverSettings.IdleTimeout = 5 * time.Second
		p.server.echo = true
		defer func() {
			if p.steps > maxFuzzSteps {
				t.Errorf("%d simulation steps: a timer fires without progress", p.steps)
			}
		}()
		p.handshake()
		s := openSend(p, []byte("warm-up"), false)
		p.runUntil(time.Second, func() bool { return len(p.client.received[s.ID()]) > 0 })

		to := p.client
		if mode&1 != 0 {
			to = p.server
		}
		var dgrams [][]byte
		switch mode >> 1 % 3 {
		case 0:
			dgrams = append(dgrams, data)
		case 1:
			if d := seal1RTT(p, to.peer, data); d != nil {
				dgrams = append(dgrams, d)
			}
		case 2:
			for len(data) > 0 {
				n := min(int(data[0]), len(data)-1)
				dgrams = append(dgrams, data[1:1+n])
				data = data[1+n:]
			}
		}
		for _, d := range dgrams {
			to.c.QueueDatagram(Datagram{Data: bytes.Clone(d), Peer: to.peer.addr})
		}
		p.runUntil(time.Second, func() bool { return false })

		if !p.client.has("ShutdownComplete") && !p.server.has("ShutdownComplete") &&
			!p.client.has("ShutdownByTransport") && !p.server.has("ShutdownByTransport") {
			msg := []byte("after the storm")
			s2 := openSend(p, msg, true)
			if p.runUntil(20*time.Second, func() bool { return bytes.Equal(p.client.received[s2.ID()], msg) }) {
				return
			}
		}
		if !p.runUntil(5*time.Minute, p.bothDone) {
			t.Fatalf("connection neither works nor closes: client %v server %v", tail(p.client.names()), tail(p.server.names()))
		}
	})
}

// maxFuzzSteps bounds the simulation steps of one input: a clean run
// takes a few dozen.
const maxFuzzSteps = 5000

// seal1RTT protects payload as a 1-RTT packet from `from` with its current
// keys and a packet number it records as sent (not ack-eliciting), so the
// receiver's acknowledgment of it is legitimate. It returns nil when the
// payload does not fit one datagram.
func seal1RTT(p *pair, from *endpoint, payload []byte) []byte {
	c := from.c
	if c.app.write == nil || len(payload) == 0 || len(payload) > 1300 {
		return nil
	}
	sp := c.spaces[recovery.SpaceApp]
	pn := sp.nextPN
	var b packet.Builder
	b.Reset(make([]byte, 0, 1500))
	b.StartDatagram(1500)
	if !b.StartShort(c.cids.dcid(), pn, sp.largestAcked, packet.ShortBits{KeyPhase: c.app.phase}, c.app.write) {
		return nil
	}
	b.Buf = append(b.Buf, payload...)
	size := b.Finish()
	_, n := b.EndDatagram(0)
	sp.nextPN++
	rec := c.loss.NewSent()
	rec.PN, rec.Space, rec.Size = pn, recovery.SpaceApp, size
	c.loss.OnPacketSent(p.now, rec)
	return bytes.Clone(b.Buf[:n])
}

type fuzzSeed struct {
	mode byte
	data []byte
}

// fuzzConnRecvSeeds captures every datagram of a real handshake and echo
// (raw, both directions), their decrypted 1-RTT payloads, and one of each
// frame type as a sealed payload.
func fuzzConnRecvSeeds(tb testing.TB) []fuzzSeed {
	p := newPair(tb)
	p.server.echo = true
	var seeds []fuzzSeed
	p.drop = func(from *endpoint, n int, data []byte) bool {
		mode := byte(0) // delivered to the client
		if from == p.client {
			mode = 1
		}
		seeds = append(seeds, fuzzSeed{mode, bytes.Clone(data)})
		var payload []byte
		for _, w := range p.decode(from.peer, n, data) {
			if w.pt == wire.Packet1RTT {
				payload = w.f.Append(payload)
			}
		}
		if len(payload) > 0 {
			seeds = append(seeds, fuzzSeed{mode | 2, payload})
		}
		return false
	}
	p.handshake()
	openSend(p, []byte("seed stream"), true)
	p.runUntil(time.Second, func() bool { return false })
	var multi []byte
	for _, s := range seeds[:min(len(seeds), 4)] {
		if len(s.data) < 256 {
			multi = append(append(multi, byte(len(s.data))), s.data...)
		}
	}
	multi = append(multi, 20, 0x40)
	seeds = append(seeds, fuzzSeed{4, append(multi, make([]byte, 19)...)})

	frames := []wire.DebugFrame{
		wire.DebugPing{},
		wire.DebugAck{Ranges: []wire.DebugAckRange{{Smallest: 0, Largest: 3}}},
		wire.DebugResetStream{ID: 0, Code: 7, FinalSize: 5},
		wire.DebugStopSending{ID: 0, Code: 8},
		wire.DebugCrypto{Off: 0, Data: []byte{4, 0, 0, 1, 0}},
		wire.DebugNewToken{Token: []byte("token")},
		wire.DebugStream{ID: 4, Off: 0, Fin: true, Data: []byte("peer stream")},
		wire.DebugStream{ID: 0, Off: 1 << 20, Data: []byte("far")},
		wire.DebugMaxData{Max: 1 << 40},
		wire.DebugMaxStreamData{ID: 0, Max: 1 << 30},
		wire.DebugMaxStreams{Bidi: true, Max: 1 << 20},
		wire.DebugDataBlocked{Limit: 10},
		wire.DebugStreamDataBlocked{ID: 0, Limit: 10},
		wire.DebugStreamsBlocked{Bidi: false, Limit: 3},
		wire.DebugNewConnectionID{Seq: 9, RetirePriorTo: 2, CID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Token: [16]byte{1}},
		wire.DebugRetireConnectionID{Seq: 1},
		wire.DebugPathChallenge{Data: [8]byte{1}},
		wire.DebugPathResponse{Data: [8]byte{2}},
		wire.DebugHandshakeDone{},
		wire.DebugDatagram{Data: []byte("dgram")},
		wire.DebugConnectionClose{App: true, Code: 3, Reason: "bye"},
		wire.DebugConnectionClose{Code: 0xa, FrameType: 8, Reason: "violation"},
	}
	for _, fr := range frames {
		seeds = append(seeds, fuzzSeed{2, fr.Append(nil)}, fuzzSeed{3, fr.Append(nil)})
	}
	return seeds
}

// TestFuzzSealedPayloadReachesFrameProcessing checks the fuzz target's
// sealing: a sealed CONNECTION_CLOSE is taken as the peer's.
func TestFuzzSealedPayloadReachesFrameProcessing(t *testing.T) {
	p := newPair(t)
	p.handshake()
	d := seal1RTT(p, p.server, wire.DebugConnectionClose{App: true, Code: 3}.Append(nil))
	p.client.c.QueueDatagram(Datagram{Data: d, Peer: serverAddr})
	if !p.runUntil(time.Second, func() bool { return p.client.has("ShutdownByPeer") }) {
		t.Fatalf("sealed close ignored: %v", p.client.names())
	}
	if ev, _ := p.client.find("ShutdownByPeer"); ev.a != 3 {
		t.Errorf("code %d, want 3", ev.a)
	}
}
