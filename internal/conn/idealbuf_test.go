package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/stream"
)

func TestIdealSendBufferGrowsWithBytesInFlight(t *testing.T) {
	p := newPair(t)
	p.serverSettings.StreamRecvWindowBidiRemote = 16 << 20
	p.delay = 50 * time.Millisecond // a large bandwidth-delay product
	p.handshake()
	data := payload(9, 8<<20)
	s := startStream(p, data, true, "d")
	if !p.runUntil(60*time.Second, func() bool { return p.client.streamFinished(s) }) {
		t.Fatal("transfer did not finish")
	}
	var sizes []uint64
	for _, ev := range p.client.events {
		if ev.name == "IdealSendBuffer" && ev.s == s {
			sizes = append(sizes, ev.a)
		}
	}
	if len(sizes) == 0 {
		t.Fatal("no IDEAL_SEND_BUFFER_SIZE event for an 8 MiB transfer")
	}
	prev := uint64(stream.DefaultIdealSendBuffer)
	for _, n := range sizes {
		if n <= prev {
			t.Fatalf("ideal sizes %v do not grow from %d", sizes, stream.DefaultIdealSendBuffer)
		}
		prev = n
	}
	if last := sizes[len(sizes)-1]; last != p.client.c.streams.idealBuf {
		t.Fatalf("last ideal size %d, the connection's is %d", last, p.client.c.streams.idealBuf)
	}
}

func TestIdealSendBufferIsCappedByTheStreamWindow(t *testing.T) {
	p := newPair(t)
	p.handshake()
	st := &p.client.c.streams
	s := startStream(p, payload(1, 1000), false, "d")
	p.runUntil(time.Second, func() bool { return false })
	// The connection could use 1 MiB, but the peer allows this stream
	// only its 64 KiB window: the stream's size stays the default.
	st.idealBuf = 1 << 20
	st.adjustIdealSendBuffer(p.client.c, s)
	if got := s.send.IdealSendBuffer(); got != stream.DefaultIdealSendBuffer {
		t.Fatalf("ideal %d with a 64 KiB window, want %d", got, stream.DefaultIdealSendBuffer)
	}
	// A larger window lets it grow, and the change is indicated.
	if err := st.onMaxStreamData(p.client.c, s.ID(), 4<<20); err != nil {
		t.Fatal(err)
	}
	if got := s.send.IdealSendBuffer(); got != 1<<20 {
		t.Fatalf("ideal %d with a 4 MiB window, want the connection's 1 MiB", got)
	}
	if ev, ok := p.client.find("IdealSendBuffer"); !ok || ev.a != 1<<20 {
		t.Fatalf("event %+v, want 1 MiB", ev)
	}
}
