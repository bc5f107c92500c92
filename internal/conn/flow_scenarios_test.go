package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// Flow-control scenarios: a sender blocked by a receiver that
// reads nothing reports it and resumes when the receiver reads again.

// holdingReceiver makes the server read nothing while *hold is true (it
// pauses the stream), and everything otherwise; what it read is in got.
func holdingReceiver(p *pair, hold *bool) map[uint64][]byte {
	got := map[uint64][]byte{}
	p.server.recvFn = func(s *Stream, off uint64, bufs [][]byte, fin bool) (uint64, ReceiveResult) {
		if *hold {
			return 0, ReceiveDone
		}
		var n uint64
		for _, b := range bufs {
			got[s.ID()] = append(got[s.ID()], b...)
			n += uint64(len(b))
		}
		return n, ReceiveDone
	}
	return got
}

// sentExtent returns, per stream, the end of the highest STREAM frame sent.
func sentExtent(log []wireFrame) map[uint64]uint64 {
	m := map[uint64]uint64{}
	for _, f := range framesOf[wire.DebugStream](log) {
		m[f.ID] = max(m[f.ID], f.Off+uint64(len(f.Data)))
	}
	return m
}

func TestStreamFlowControlBlocksSenderUntilReceiverReads(t *testing.T) {
	const window = 16 << 10
	p := newPair(t)
	p.serverSettings.StreamRecvWindowBidiRemote = window
	hold := true
	got := holdingReceiver(p, &hold)
	p.handshake()
	frames := p.tap(p.client)
	serverFrames := p.tap(p.server)
	data := payload(5, 200<<10)
	s := startStream(p, data, true, "d")
	ss := waitPeerStream(t, p, s)
	p.runUntil(3*time.Second, func() bool { return false })

	if ext := sentExtent(*frames)[s.ID()]; ext != window {
		t.Errorf("sender sent up to %d, want exactly the %d-byte window", ext, window)
	}
	blocked := framesOf[wire.DebugStreamDataBlocked](*frames)
	if len(blocked) == 0 || blocked[0].ID != s.ID() || blocked[0].Limit != window {
		t.Errorf("STREAM_DATA_BLOCKED %v, want stream %d at %d", blocked, s.ID(), window)
	}
	if len(blocked) > 3 {
		t.Errorf("%d STREAM_DATA_BLOCKED frames for one limit", len(blocked))
	}
	if n := p.server.count("Receive"); n != 1 {
		t.Errorf("%d RECEIVE events while paused, want 1", n)
	}

	hold = false
	p.server.c.StreamSetReceiveEnabled(ss, true)
	if !p.runUntil(30*time.Second, func() bool { return p.client.streamFinished(s) || p.server.has("PeerSendShutdown") }) {
		t.Fatalf("transfer did not resume: %d of %d bytes", len(got[s.ID()]), len(data))
	}
	if !bytes.Equal(got[s.ID()], data) {
		t.Fatalf("received %d bytes, want %d intact", len(got[s.ID()]), len(data))
	}
	var raised bool
	for _, f := range framesOf[wire.DebugMaxStreamData](*serverFrames) {
		raised = raised || f.ID == s.ID() && f.Max > window
	}
	if !raised {
		t.Error("receiver never raised the stream limit with MAX_STREAM_DATA")
	}
}

func TestConnectionFlowControlBlocksAllStreamsUntilReceiverReads(t *testing.T) {
	const connWindow = 40 << 10
	p := newPair(t)
	p.serverSettings.StreamRecvWindowBidiRemote = 16 << 10
	p.serverSettings.ConnFlowControlWindow = connWindow
	hold := true
	got := holdingReceiver(p, &hold)
	p.handshake()
	frames := p.tap(p.client)
	var streams []*Stream
	var sent [][]byte
	for i := 0; i < 4; i++ {
		data := payload(uint64(10+i), 30<<10)
		sent = append(sent, data)
		streams = append(streams, startStream(p, data, true, i))
	}
	p.runUntil(3*time.Second, func() bool { return false })

	var total uint64
	for _, ext := range sentExtent(*frames) {
		total += ext
	}
	if total != connWindow {
		t.Errorf("sender sent %d stream bytes, want exactly the %d-byte connection window", total, connWindow)
	}
	blocked := framesOf[wire.DebugDataBlocked](*frames)
	if len(blocked) == 0 || blocked[0].Limit != connWindow {
		t.Errorf("DATA_BLOCKED %v, want limit %d; client sent %s", blocked, connWindow, frameSummary(*frames))
	}

	hold = false
	for _, s := range streams {
		if ss := p.server.peerStream(s.ID()); ss != nil {
			p.server.c.StreamSetReceiveEnabled(ss, true)
		}
	}
	if !p.runUntil(30*time.Second, func() bool { return p.server.count("PeerSendShutdown") == len(streams) }) {
		t.Fatalf("transfer did not resume: server events %v", tail(p.server.names()))
	}
	for i, s := range streams {
		if !bytes.Equal(got[s.ID()], sent[i]) {
			t.Fatalf("stream %d: %d bytes, want %d intact", i, len(got[s.ID()]), len(sent[i]))
		}
	}
}
