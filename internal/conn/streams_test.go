package conn

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

// openSend opens a client stream, starts it and sends data with FIN.
func openSend(p *pair, data []byte, fin bool) *Stream {
	c := p.client.c
	s := c.NewStream(0)
	c.StreamStart(s, 0)
	flags := uint32(0)
	if fin {
		flags = SendFlagFIN
	}
	c.StreamSend(s, [][]byte{data}, flags, "ctx")
	return s
}

func TestStreamEcho(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	msg := []byte("hello, echo")
	s := openSend(p, msg, true)
	ok := p.runUntil(5*time.Second, func() bool {
		return p.client.count("StreamShutdownComplete") == 1 && p.server.count("StreamShutdownComplete") == 1
	})
	if !ok {
		t.Fatalf("stream did not finish: client %v server %v", p.client.names(), p.server.names())
	}
	if got := p.client.received[s.ID()]; !bytes.Equal(got, msg) {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
	for _, name := range []string{"StartComplete", "SendComplete", "Receive", "PeerSendShutdown", "SendShutdownComplete"} {
		if !p.client.has(name) {
			t.Errorf("client missing %s: %v", name, p.client.names())
		}
	}
	if p.client.count("SendComplete") != 1 {
		t.Errorf("client got %d SEND_COMPLETE, want 1", p.client.count("SendComplete"))
	}
}

func TestBulkTransferUnderLossAndReordering(t *testing.T) {
	p := newPair(t)
	p.server.echo = false
	p.handshake()
	p.lossRate = 0.05
	p.reorderRate = 0.05
	data := make([]byte, 10<<20)
	for i := range data {
		data[i] = byte(i * 31 >> 3)
	}
	s := openSend(p, data, true)
	ok := p.runUntil(600*time.Second, func() bool {
		return p.server.has("PeerSendShutdown") && p.client.has("SendShutdownComplete")
	})
	if !ok {
		t.Fatalf("transfer did not finish: got %d of %d bytes; client %v", len(p.server.received[s.ID()]), len(data), tail(p.client.names()))
	}
	got := p.server.received[s.ID()]
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("received %d bytes, checksum mismatch", len(got))
	}
	st := p.client.c.statistics()
	t.Logf("virtual time %v, lost %d packets, sent %d, cwnd %d, srtt %v",
		p.now.Sub(0)-time.Hour, st.SendSuspectedLostPackets, st.SendTotalPackets, st.SendCongestionWindow, st.RTT)
}

func tail(s []string) []string {
	if len(s) > 20 {
		return s[len(s)-20:]
	}
	return s
}

func TestManyConcurrentStreams(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.serverSettings.PeerBidiStreamCount = 1000
	p.handshake()
	var streams []*Stream
	for i := 0; i < 1000; i++ {
		streams = append(streams, openSend(p, []byte(fmt.Sprintf("stream %d", i)), true))
	}
	ok := p.runUntil(60*time.Second, func() bool {
		return p.client.count("StreamShutdownComplete") == 1000
	})
	if !ok {
		t.Fatalf("only %d of 1000 streams finished", p.client.count("StreamShutdownComplete"))
	}
	for i, s := range streams {
		if got := string(p.client.received[s.ID()]); got != fmt.Sprintf("stream %d", i) {
			t.Fatalf("stream %d echoed %q", i, got)
		}
	}
}

// STREAM frames of every length around a packet's room: whether a frame
// fits with its length field, only without it, or only in part, no
// datagram outgrows its limit (the harness checks each one) and every
// echo comes back intact with its FIN.
func TestStreamFramesFillPacketsExactly(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	p.handshake()
	want := map[*Stream][]byte{}
	for n := 1100; n <= 1500; n++ {
		data := bytes.Repeat([]byte{byte(n)}, n)
		want[openSend(p, data, true)] = data
	}
	ok := p.runUntil(30*time.Second, func() bool { return p.client.streamsFinished(want) })
	if !ok {
		t.Fatalf("echoes did not finish: client %v", p.client.names())
	}
	for s, data := range want {
		if got := p.client.received[s.ID()]; !bytes.Equal(got, data) {
			t.Errorf("stream %d: echoed %d bytes, want %d intact", s.ID(), len(got), len(data))
		}
	}
}
