package conn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// Stream scenarios: concurrency, every RESET_STREAM and
// STOP_SENDING interaction, stream limits, and the RECEIVE contract.

// sweepSeeds is how many of a seed sweep's n seeds run: all of them, or a
// fifth under the race detector. The pair harness runs both connections
// and the network on the test's goroutine, so the detector has only the
// TLS handshake's goroutine to check the engine against, and the first
// seeds exercise that as every other does; the rest add simulation, which
// the run without -race covers in full.
func sweepSeeds(n uint64) uint64 {
	if raceEnabled {
		return max(1, n/5)
	}
	return n
}

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	r := rand.NewPCG(seed, 7)
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n:n]
}

// peerStream returns the stream e's peer opened with the given ID.
func (e *endpoint) peerStream(id uint64) *Stream {
	for _, ev := range e.events {
		if ev.name == "PeerStreamStarted" && ev.s.ID() == id {
			return ev.s
		}
	}
	return nil
}

// streamEvents returns the names of s's events at e.
func (e *endpoint) streamEvents(s *Stream) []string {
	var out []string
	for _, ev := range e.events {
		if ev.s == s {
			out = append(out, ev.name)
		}
	}
	return out
}

// streamEvent returns the first event called name for s.
func (e *endpoint) streamEvent(s *Stream, name string) (event, bool) {
	for _, ev := range e.events {
		if ev.s == s && ev.name == name {
			return ev, true
		}
	}
	return event{}, false
}

// streamFinished reports whether s got its SHUTDOWN_COMPLETE at e.
func (e *endpoint) streamFinished(s *Stream) bool { return e.streamDone[s] }

// streamsFinished reports whether every stream of want completed.
func (e *endpoint) streamsFinished(want map[*Stream][]byte) bool {
	for s := range want {
		if !e.streamFinished(s) {
			return false
		}
	}
	return true
}

// sendCompletes counts SEND_COMPLETE events per context.
func (e *endpoint) sendCompletes() map[any]int {
	m := map[any]int{}
	for _, ev := range e.events {
		if ev.name == "SendComplete" {
			m[ev.ctx]++
		}
	}
	return m
}

// startStream opens and starts a client stream and sends data (with ctx).
func startStream(p *pair, data []byte, fin bool, ctx any) *Stream {
	c := p.client.c
	s := c.NewStream(0)
	c.StreamStart(s, 0)
	var flags uint32
	if fin {
		flags = SendFlagFIN
	}
	c.StreamSend(s, [][]byte{data}, flags, ctx)
	return s
}

// waitPeerStream runs until the server sees the client stream s.
func waitPeerStream(t *testing.T, p *pair, s *Stream) *Stream {
	t.Helper()
	var ss *Stream
	if !p.runUntil(5*time.Second, func() bool { ss = p.server.peerStream(s.ID()); return ss != nil }) {
		t.Fatalf("server never saw stream %d", s.ID())
	}
	return ss
}

func TestThousandConcurrentStreamsEchoIntactBothWays(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.serverSettings.PeerBidiStreamCount = 1000
	p.handshake()
	p.lossRate = 0.01
	var streams []*Stream
	var sent [][]byte
	for i := 0; i < 1000; i++ {
		data := payload(uint64(i), 1+i*37%3000)
		sent = append(sent, data)
		streams = append(streams, startStream(p, data, true, i))
	}
	ok := p.runUntil(2*time.Minute, func() bool {
		return p.client.count("StreamShutdownComplete") == 1000 && p.server.count("StreamShutdownComplete") == 1000
	})
	if !ok {
		t.Fatalf("only %d/%d streams finished", p.client.count("StreamShutdownComplete"), p.server.count("StreamShutdownComplete"))
	}
	for i, s := range streams {
		if !bytes.Equal(p.server.received[s.ID()], sent[i]) {
			t.Fatalf("stream %d: server got %d bytes, want %d intact", i, len(p.server.received[s.ID()]), len(sent[i]))
		}
		if !bytes.Equal(p.client.received[s.ID()], sent[i]) {
			t.Fatalf("stream %d: echo %d bytes, want %d intact", i, len(p.client.received[s.ID()]), len(sent[i]))
		}
	}
	sc := p.client.sendCompletes()
	for i := range streams {
		if sc[i] != 1 {
			t.Fatalf("send %d completed %d times", i, sc[i])
		}
	}
}

// noStreamFrameAfterReset checks RFC 9000 §3.3: no STREAM or
// STREAM_DATA_BLOCKED frame for a stream once RESET_STREAM was sent.
func noStreamFrameAfterReset(t *testing.T, log []wireFrame, id uint64) (reset *wire.DebugResetStream) {
	t.Helper()
	for _, w := range log {
		switch f := w.f.(type) {
		case wire.DebugResetStream:
			if f.ID == id && reset == nil {
				reset = &f
			}
		case wire.DebugStream:
			if f.ID == id && reset != nil {
				t.Errorf("STREAM frame (off %d) after RESET_STREAM", f.Off)
			}
		case wire.DebugStreamDataBlocked:
			if f.ID == id && reset != nil {
				t.Errorf("STREAM_DATA_BLOCKED after RESET_STREAM")
			}
		}
	}
	return reset
}

func TestAbortSendResetsStreamAndPeerSeesPeerSendAbortedCode(t *testing.T) {
	p := newPair(t)
	p.server.handler = func(ev event) {
		if ev.name == "PeerSendAborted" {
			p.server.c.StreamShutdown(ev.s, StreamShutdownGraceful, 0)
		}
	}
	p.handshake()
	frames := p.tap(p.client)
	s := startStream(p, make([]byte, 300<<10), false, "big")
	ss := waitPeerStream(t, p, s)
	p.client.c.StreamShutdown(s, StreamShutdownAbortSend, 0x11)
	if !p.runUntil(10*time.Second, func() bool { return p.client.streamFinished(s) && p.server.streamFinished(ss) }) {
		t.Fatalf("not finished: client %v server %v", p.client.streamEvents(s), p.server.streamEvents(ss))
	}
	if ev, ok := p.server.streamEvent(ss, "PeerSendAborted"); !ok || ev.a != 0x11 {
		t.Errorf("server stream events %v, want PeerSendAborted(0x11)", p.server.streamEvents(ss))
	}
	if p.server.has("PeerSendShutdown") {
		t.Error("server got PeerSendShutdown for a reset stream")
	}
	if ev, ok := p.client.streamEvent(s, "SendShutdownComplete"); !ok || ev.a != 0 {
		t.Errorf("client SendShutdownComplete %v, want graceful=0", ev)
	}
	if ev, _ := p.client.streamEvent(s, "SendComplete"); ev.a != 1 || p.client.sendCompletes()["big"] != 1 {
		t.Errorf("send completed %d times, canceled=%d; want once, canceled", p.client.sendCompletes()["big"], ev.a)
	}
	if !p.client.has("PeerSendShutdown") {
		t.Errorf("client missed the server's FIN: %v", p.client.streamEvents(s))
	}
	reset := noStreamFrameAfterReset(t, *frames, s.ID())
	if reset == nil || reset.Code != 0x11 {
		t.Fatalf("RESET_STREAM %v, want code 0x11: %s", reset, frameSummary(*frames))
	}
	var maxOff uint64
	for _, f := range framesOf[wire.DebugStream](*frames) {
		if f.ID == s.ID() {
			maxOff = max(maxOff, f.Off+uint64(len(f.Data)))
		}
	}
	if reset.FinalSize != maxOff {
		t.Errorf("RESET_STREAM final size %d, want the %d bytes sent", reset.FinalSize, maxOff)
	}
}

func TestAbortReceiveSendsStopSendingAndPeerSendsAreCanceled(t *testing.T) {
	p := newPair(t)
	p.server.handler = func(ev event) {
		if ev.name == "PeerStreamStarted" {
			p.server.c.StreamSend(ev.s, [][]byte{make([]byte, 500<<10)}, 0, "reply")
		}
	}
	p.handshake()
	serverFrames := p.tap(p.server)
	s := startStream(p, []byte("hi"), false, "hi")
	ss := waitPeerStream(t, p, s)
	if !p.runUntil(5*time.Second, func() bool { _, ok := p.client.streamEvent(s, "Receive"); return ok }) {
		t.Fatal("no reply data")
	}
	p.client.c.StreamShutdown(s, StreamShutdownAbortReceive, 0x22)
	if !p.runUntil(5*time.Second, func() bool { return p.server.has("PeerReceiveAborted") }) {
		t.Fatalf("server stream events %v", p.server.streamEvents(ss))
	}
	if ev, _ := p.server.streamEvent(ss, "PeerReceiveAborted"); ev.a != 0x22 {
		t.Errorf("PeerReceiveAborted code %#x, want 0x22", ev.a)
	}
	p.client.c.StreamShutdown(s, StreamShutdownGraceful, 0)
	if !p.runUntil(10*time.Second, func() bool { return p.client.streamFinished(s) && p.server.streamFinished(ss) }) {
		t.Fatalf("not finished: client %v server %v", p.client.streamEvents(s), p.server.streamEvents(ss))
	}
	if ev, _ := p.server.streamEvent(ss, "SendComplete"); ev.a != 1 || p.server.sendCompletes()["reply"] != 1 {
		t.Errorf("server reply completed %d times (canceled=%d), want once canceled", p.server.sendCompletes()["reply"], ev.a)
	}
	if ev, ok := p.server.streamEvent(ss, "SendShutdownComplete"); !ok || ev.a != 0 {
		t.Errorf("server SendShutdownComplete %v, want graceful=0", ev)
	}
	if !p.server.has("PeerSendShutdown") {
		t.Errorf("server missed the client's FIN: %v", p.server.streamEvents(ss))
	}
	reset := noStreamFrameAfterReset(t, *serverFrames, s.ID())
	if reset == nil || reset.Code != 0x22 {
		t.Errorf("server RESET_STREAM %v, want one echoing the STOP_SENDING code 0x22", reset)
	}
	if p.client.has("PeerSendAborted") {
		t.Error("client got PeerSendAborted after aborting its own receive side")
	}
}

func TestAbortBothDirectionsDeliversBothCodesAndFinishesStreams(t *testing.T) {
	p := newPair(t)
	p.handshake()
	s := startStream(p, make([]byte, 100<<10), false, "x")
	ss := waitPeerStream(t, p, s)
	p.server.c.StreamSend(ss, [][]byte{make([]byte, 100<<10)}, 0, "y")
	p.runUntil(20*time.Millisecond, func() bool { return false })
	p.client.c.StreamShutdown(s, StreamShutdownAbortSend|StreamShutdownAbortReceive, 0x33)
	if !p.runUntil(10*time.Second, func() bool { return p.client.streamFinished(s) && p.server.streamFinished(ss) }) {
		t.Fatalf("not finished: client %v server %v", p.client.streamEvents(s), p.server.streamEvents(ss))
	}
	for _, name := range []string{"PeerSendAborted", "PeerReceiveAborted"} {
		if ev, ok := p.server.streamEvent(ss, name); !ok || ev.a != 0x33 {
			t.Errorf("server %s missing or wrong code: %v", name, p.server.streamEvents(ss))
		}
	}
	if p.client.sendCompletes()["x"] != 1 || p.server.sendCompletes()["y"] != 1 {
		t.Errorf("send completions client %v server %v", p.client.sendCompletes(), p.server.sendCompletes())
	}
}

func TestStopSendingAfterSendSideFinishedIsIgnored(t *testing.T) {
	p := newPair(t)
	// The server application reads nothing: the data waits unread.
	p.server.recvFn = func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult) {
		return 0, ReceiveDone
	}
	p.handshake()
	frames := p.tap(p.client)
	s := startStream(p, []byte("all of it"), true, "msg")
	ss := waitPeerStream(t, p, s)
	if !p.runUntil(5*time.Second, func() bool { _, ok := p.client.streamEvent(s, "SendShutdownComplete"); return ok }) {
		t.Fatalf("FIN never acknowledged: %v", p.client.streamEvents(s))
	}
	p.server.c.StreamShutdown(ss, StreamShutdownAbortReceive, 0x44)
	p.runUntil(time.Second, func() bool { return false })
	p.server.c.StreamShutdown(ss, StreamShutdownGraceful, 0)
	if !p.runUntil(10*time.Second, func() bool { return p.client.streamFinished(s) && p.server.streamFinished(ss) }) {
		t.Fatalf("not finished: client %v server %v", p.client.streamEvents(s), p.server.streamEvents(ss))
	}
	if n := p.client.count("SendShutdownComplete"); n != 1 {
		t.Errorf("client got %d SendShutdownComplete", n)
	}
	if ev, _ := p.client.streamEvent(s, "SendComplete"); ev.a != 0 || p.client.sendCompletes()["msg"] != 1 {
		t.Errorf("send completion %v (count %d), want one, not canceled", ev, p.client.sendCompletes()["msg"])
	}
	if p.client.has("PeerReceiveAborted") {
		t.Errorf("client reported PeerReceiveAborted for a stream whose data was all acknowledged: %v", p.client.streamEvents(s))
	}
	if r := framesOf[wire.DebugResetStream](*frames); len(r) != 0 {
		t.Errorf("client sent RESET_STREAM %v from the Data Recvd state (RFC 9000 §3.3)", r)
	}
}

func TestResetAfterFINKeepsFinalSizeAndConnection(t *testing.T) {
	for _, stage := range []string{"finQueued", "finSent", "finAcked"} {
		t.Run(stage, func(t *testing.T) {
			p := newPair(t)
			p.handshake()
			size := 50 << 10
			if stage != "finQueued" {
				size = 1000
			}
			data := payload(1, size)
			frames := p.tap(p.client)
			s := startStream(p, data, true, "d")
			switch stage {
			case "finQueued":
				waitPeerStream(t, p, s)
			case "finSent":
				// The server's acknowledgments are lost.
				prev := p.drop
				p.drop = func(from *endpoint, n int, d []byte) bool {
					return from == p.server || prev(from, n, d)
				}
				p.runUntil(100*time.Millisecond, func() bool { return false })
				p.drop = prev
			case "finAcked":
				p.runUntil(5*time.Second, func() bool { _, ok := p.client.streamEvent(s, "SendShutdownComplete"); return ok })
			}
			p.client.c.StreamShutdown(s, StreamShutdownAbortSend, 0x55)
			ss := waitPeerStream(t, p, s)
			p.server.c.StreamShutdown(ss, StreamShutdownGraceful, 0)
			if !p.runUntil(10*time.Second, func() bool { return p.client.streamFinished(s) && p.server.streamFinished(ss) }) {
				t.Fatalf("not finished: client %v server %v", p.client.streamEvents(s), p.server.streamEvents(ss))
			}
			if p.client.has("ShutdownByTransport") || p.server.has("ShutdownByTransport") {
				t.Fatalf("connection closed: client %v server %v", p.client.names(), p.server.names())
			}
			if p.client.sendCompletes()["d"] != 1 {
				t.Errorf("send completed %d times", p.client.sendCompletes()["d"])
			}
			resets := framesOf[wire.DebugResetStream](*frames)
			switch stage {
			case "finAcked":
				if len(resets) != 0 || p.server.has("PeerSendAborted") {
					t.Errorf("reset after an acknowledged FIN reached the wire: %v", resets)
				}
				if !bytes.Equal(p.server.received[s.ID()], data) {
					t.Error("data lost")
				}
			case "finSent":
				if len(resets) == 0 || resets[0].FinalSize != uint64(size) {
					t.Errorf("RESET_STREAM %v, want final size %d", resets, size)
				}
			}
			noStreamFrameAfterReset(t, *frames, s.ID())
			echoWorks(t, p)
		})
	}
}

func TestStreamLimitFailBlockedAndPeerAcceptedAfterMaxStreams(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 2
	p.server.echo = true
	p.handshake()
	frames := p.tap(p.client)
	c := p.client.c
	s1 := startStream(p, []byte("one"), false, 1)
	s2 := startStream(p, []byte("two"), false, 2)
	s3 := c.NewStream(0)
	c.StreamStart(s3, StreamStartFailBlocked)
	s4 := c.NewStream(0)
	c.StreamStart(s4, StreamStartIndicatePeerAccept)
	c.StreamSend(s4, [][]byte{[]byte("four")}, SendFlagFIN, 4)
	p.runUntil(time.Second, func() bool { return false })

	if ev, ok := p.client.streamEvent(s3, "StartComplete"); !ok || StartStatus(ev.a) != StartStreamLimitReached {
		t.Errorf("FAIL_BLOCKED start: %v, want StartStreamLimitReached", ev)
	}
	if got := p.client.streamEvents(s3); len(got) != 1 {
		t.Errorf("failed stream got events %v, want only StartComplete", got)
	}
	c.StreamClose(s3)
	ev, ok := p.client.streamEvent(s4, "StartComplete")
	if !ok || StartStatus(ev.a) != StartOK || ev.c != 0 {
		t.Fatalf("blocked start: %v, want OK with peerAccepted=false", ev)
	}
	if p.server.peerStream(s4.ID()) != nil {
		t.Fatal("server saw a stream beyond its limit")
	}
	if !p.server.has("PeerNeedsStreams") {
		t.Errorf("server not told the client is blocked; client sent %s", frameSummary(*frames))
	}
	if sb := framesOf[wire.DebugStreamsBlocked](*frames); len(sb) == 0 || !sb[0].Bidi || sb[0].Limit != 2 {
		t.Errorf("STREAMS_BLOCKED %v, want bidi limit 2", sb)
	}
	for _, f := range framesOf[wire.DebugStream](*frames) {
		if f.ID == s4.ID() {
			t.Errorf("STREAM frame for stream %d before the peer allowed it", f.ID)
		}
	}

	// Finishing stream 1 frees a slot: MAX_STREAMS, then PEER_ACCEPTED.
	c.StreamShutdown(s1, StreamShutdownGraceful, 0)
	if !p.runUntil(5*time.Second, func() bool { return p.client.streamFinished(s4) }) {
		t.Fatalf("stream 4 never finished: %v", p.client.streamEvents(s4))
	}
	if _, ok := p.client.streamEvent(s4, "PeerAccepted"); !ok {
		t.Errorf("no PeerAccepted: %v", p.client.streamEvents(s4))
	}
	if got := string(p.server.received[s4.ID()]); got != "four" {
		t.Errorf("stream 4 data %q", got)
	}
	if !p.client.streamFinished(s1) || p.client.streamFinished(s2) {
		t.Errorf("s1 finished %v, s2 finished %v", p.client.streamFinished(s1), p.client.streamFinished(s2))
	}
	if n := p.client.count("StreamsAvailable"); n < 2 {
		t.Errorf("%d StreamsAvailable events, want one more after MAX_STREAMS", n)
	}
}

func TestPendingReceiveCompletedLaterKeepsBuffersAndResumes(t *testing.T) {
	p := newPair(t)
	data := payload(3, 300<<10)
	var held [][]byte
	var heldOff uint64
	var got []byte
	pending := false
	p.server.recvFn = func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult) {
		if pending {
			t.Errorf("RECEIVE at %d while a pending one is outstanding", off)
		}
		held, heldOff, pending = bufs, off, true
		return 0, ReceivePending
	}
	p.handshake()
	s := startStream(p, data, true, "d")
	ss := waitPeerStream(t, p, s)
	for rounds := 0; !p.server.streamFinished(ss); rounds++ {
		if rounds > 1000 {
			t.Fatal("too many rounds")
		}
		if !p.runUntil(5*time.Second, func() bool { return pending }) {
			t.Fatalf("no RECEIVE: %v", tail(p.server.streamEvents(ss)))
		}
		// Time passes; nothing more is indicated and the buffers hold.
		p.runUntil(30*time.Millisecond, func() bool { return false })
		var n uint64
		for _, b := range held {
			n += uint64(len(b))
		}
		if heldOff != uint64(len(got)) {
			t.Fatalf("RECEIVE offset %d, want %d", heldOff, len(got))
		}
		for _, b := range held {
			got = append(got, b...)
		}
		if !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("pending buffers at %d changed before ReceiveComplete", heldOff)
		}
		pending = false
		p.server.c.StreamReceiveComplete(ss, n)
		p.runUntil(0, func() bool { return false })
		if p.server.streamFinished(ss) || p.server.has("PeerSendShutdown") && len(got) == len(data) {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("received %d bytes, want %d intact", len(got), len(data))
	}
	if !p.runUntil(5*time.Second, func() bool { return p.server.has("PeerSendShutdown") }) {
		t.Errorf("no PeerSendShutdown: %v", tail(p.server.streamEvents(ss)))
	}
}

func TestPartialReceivePausesUntilReceiveEnabledAndReindicatesRest(t *testing.T) {
	for _, mode := range []string{"done", "continue", "pendingPartial"} {
		t.Run(mode, func(t *testing.T) {
			p := newPair(t)
			data := payload(4, 100<<10)
			var got []byte
			var lastOff uint64
			calls := 0
			p.server.recvFn = func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult) {
				calls++
				if off != uint64(len(got)) {
					t.Errorf("RECEIVE offset %d, want %d (consumed so far)", off, len(got))
				}
				lastOff = off
				var all []byte
				for _, b := range bufs {
					all = append(all, b...)
				}
				n := min(len(all), 1000)
				got = append(got, all[:n]...)
				switch mode {
				case "continue":
					return uint64(n), ReceiveContinue
				case "pendingPartial":
					p.server.c.StreamReceiveComplete(s, uint64(n))
					return 0, ReceivePending
				}
				return uint64(n), ReceiveDone
			}
			p.handshake()
			s := startStream(p, data, true, "d")
			ss := waitPeerStream(t, p, s)
			for rounds := 0; len(got) < len(data); rounds++ {
				if rounds > 500 {
					t.Fatalf("stuck at %d bytes", len(got))
				}
				before := calls
				p.runUntil(50*time.Millisecond, func() bool { return false })
				if mode != "continue" && calls-before > 1 {
					t.Fatalf("%d RECEIVE events after a partial consumption without SetReceiveEnabled", calls-before)
				}
				if mode != "continue" {
					p.server.c.StreamSetReceiveEnabled(ss, true)
				}
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("received %d bytes, want %d intact", len(got), len(data))
			}
			if !p.runUntil(5*time.Second, func() bool { return p.server.has("PeerSendShutdown") }) {
				t.Errorf("no PeerSendShutdown after the last byte (last offset %d)", lastOff)
			}
			t.Logf("%d RECEIVE events", calls)
		})
	}
}

func TestSendCompleteExactlyOncePerSendOnEveryPath(t *testing.T) {
	paths := []string{"acknowledged", "abortSend", "appConnClose", "peerConnClose", "streamClose", "afterFIN", "peerStopSending"}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			p := newPair(t)
			p.handshake()
			c := p.client.c
			s := c.NewStream(0)
			c.StreamStart(s, 0)
			var ctxs []string
			for i := 0; i < 5; i++ {
				ctx := fmt.Sprintf("send%d", i)
				ctxs = append(ctxs, ctx)
				flags := uint32(0)
				if i == 4 && path != "streamClose" && path != "abortSend" && path != "peerStopSending" {
					flags = SendFlagFIN
				}
				c.StreamSend(s, [][]byte{make([]byte, 40<<10)}, flags, ctx)
			}
			if path == "afterFIN" {
				ctxs = append(ctxs, "late")
				c.StreamSend(s, [][]byte{[]byte("late")}, 0, "late")
			}
			ss := waitPeerStream(t, p, s)
			switch path {
			case "abortSend":
				c.StreamShutdown(s, StreamShutdownAbortSend, 1)
			case "appConnClose":
				c.Shutdown(false, 1)
			case "peerConnClose":
				p.server.c.Shutdown(false, 1)
			case "streamClose":
				p.client.closeStream(s)
			case "peerStopSending":
				p.server.c.StreamShutdown(ss, StreamShutdownAbortReceive, 1)
			}
			p.runUntil(20*time.Second, func() bool {
				n := 0
				for _, ctx := range ctxs {
					n += p.client.sendCompletes()[ctx]
				}
				return n >= len(ctxs) && (path != "acknowledged" || p.client.streamFinished(s))
			})
			p.runUntil(time.Second, func() bool { return false })
			sc := p.client.sendCompletes()
			for _, ctx := range ctxs {
				if sc[ctx] != 1 {
					t.Errorf("%s completed %d times", ctx, sc[ctx])
				}
			}
			if len(sc) != len(ctxs) {
				t.Errorf("completions %v", sc)
			}
			if path == "acknowledged" {
				for _, ev := range p.client.events {
					if ev.name == "SendComplete" && ev.a != 0 {
						t.Errorf("acknowledged send %v reported canceled", ev.ctx)
					}
				}
			}
			if path == "streamClose" {
				for _, name := range p.client.streamEvents(s)[1:] {
					if name != "SendComplete" {
						t.Errorf("event %s after StreamClose", name)
					}
				}
			}
		})
	}
}

func TestImmediateShutdownCompletesAtOnceAndNothingFollows(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	s := startStream(p, make([]byte, 100<<10), false, "big")
	ss := waitPeerStream(t, p, s)
	p.client.c.StreamShutdown(s, StreamShutdownAbortSend|StreamShutdownAbortReceive|StreamShutdownImmediate, 7)
	p.runUntil(0, func() bool { return false })
	evs := p.client.streamEvents(s)
	if len(evs) == 0 || evs[len(evs)-1] != "StreamShutdownComplete" {
		t.Fatalf("client stream events %v, want StreamShutdownComplete at once", evs)
	}
	if p.client.sendCompletes()["big"] != 1 {
		t.Errorf("send completed %d times before ShutdownComplete", p.client.sendCompletes()["big"])
	}
	// The peer's answers arrive later; the checker fails on any event.
	if !p.runUntil(5*time.Second, func() bool { return p.server.streamFinished(ss) }) {
		t.Fatalf("server stream unfinished: %v", p.server.streamEvents(ss))
	}
	p.runUntil(time.Second, func() bool { return false })
	echoWorks(t, p)
}

func TestFailBlockedStartWithShutdownOnFailDeliversShutdownComplete(t *testing.T) {
	p := newPair(t)
	p.serverSettings.PeerBidiStreamCount = 1
	p.handshake()
	startStream(p, []byte("one"), false, 1)
	s := p.client.c.NewStream(0)
	p.client.c.StreamStart(s, StreamStartFailBlocked|StreamStartShutdownOnFail)
	p.runUntil(time.Second, func() bool { return false })
	if got := p.client.streamEvents(s); len(got) != 2 || got[0] != "StartComplete" || got[1] != "StreamShutdownComplete" {
		t.Errorf("events %v, want StartComplete then StreamShutdownComplete", got)
	}
	if ev, _ := p.client.streamEvent(s, "StartComplete"); StartStatus(ev.a) != StartStreamLimitReached {
		t.Errorf("status %d", ev.a)
	}
}

func TestFINOnlyStreamAndUnidirectionalStreamsBothWays(t *testing.T) {
	p := newPair(t)
	p.handshake()
	c := p.client.c
	empty := c.NewStream(0)
	c.StreamStart(empty, 0)
	c.StreamSend(empty, nil, SendFlagFIN, "fin")
	cu := c.NewStream(StreamOpenUnidirectional)
	c.StreamStart(cu, 0)
	c.StreamSend(cu, [][]byte{[]byte("client uni")}, SendFlagFIN, "cu")
	su := p.server.c.NewStream(StreamOpenUnidirectional)
	p.server.c.StreamStart(su, 0)
	p.server.c.StreamSend(su, [][]byte{[]byte("server uni")}, SendFlagFIN, "su")
	p.runUntil(5*time.Second, func() bool {
		return p.client.streamFinished(cu) && p.server.streamFinished(su)
	})
	se := waitPeerStream(t, p, empty)
	if !p.server.has("PeerSendShutdown") {
		t.Errorf("server never saw the FIN-only stream end: %v", p.server.streamEvents(se))
	}
	if len(p.server.received[empty.ID()]) != 0 {
		t.Errorf("FIN-only stream delivered %d bytes", len(p.server.received[empty.ID()]))
	}
	if got := string(p.server.received[cu.ID()]); got != "client uni" {
		t.Errorf("client uni stream: %q", got)
	}
	if got := string(p.client.received[su.ID()]); got != "server uni" {
		t.Errorf("server uni stream: %q", got)
	}
	if cu.ID()&3 != 2 || su.ID()&3 != 3 {
		t.Errorf("uni stream IDs %d, %d", cu.ID(), su.ID())
	}
	for _, e := range []*endpoint{p.client, p.server} {
		for _, ev := range e.events {
			if ev.name == "PeerStreamStarted" && ev.s.Unidirectional() {
				if !e.streamFinished(ev.s) {
					t.Errorf("%s: peer uni stream %d unfinished: %v", e.name, ev.s.ID(), e.streamEvents(ev.s))
				}
			}
		}
	}
}

func TestReceiveDisabledHoldsLaterDataUntilEnabled(t *testing.T) {
	p := newPair(t)
	p.handshake()
	s := startStream(p, []byte("first"), false, "1")
	ss := waitPeerStream(t, p, s)
	p.runUntil(time.Second, func() bool { return len(p.server.received[s.ID()]) == 5 })
	p.server.c.StreamSetReceiveEnabled(ss, false)
	p.runUntil(0, func() bool { return false })
	n := p.server.count("Receive")
	p.client.c.StreamSend(s, [][]byte{[]byte("second")}, SendFlagFIN, "2")
	p.runUntil(time.Second, func() bool { return false })
	if got := p.server.count("Receive"); got != n {
		t.Errorf("%d RECEIVE events while disabled", got-n)
	}
	if _, ok := p.client.streamEvent(s, "SendComplete"); !ok {
		t.Error("data not acknowledged while the receiver was paused")
	}
	p.server.c.StreamSetReceiveEnabled(ss, true)
	p.runUntil(time.Second, func() bool { return p.server.has("PeerSendShutdown") })
	if got := string(p.server.received[s.ID()]); got != "firstsecond" {
		t.Errorf("received %q after enabling", got)
	}
}
