package conn

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// Wire inspection for scenario tests: datagrams are decrypted with the
// receiving connection's keys as they are sent, so tests can assert which
// frames went on the wire without touching the sender's internals.

// wireFrame is one frame seen on the wire.
type wireFrame struct {
	pt wire.PacketType
	n  int // index of the datagram among those its sender sent
	f  wire.DebugFrame
}

func (w wireFrame) String() string { return fmt.Sprintf("#%d %v %v", w.n, w.pt, w.f) }

// decode opens every packet of a datagram addressed to `to` that its
// current keys can open and returns their frames. Packets it cannot open
// are skipped.
func (p *pair) decode(to *endpoint, n int, data []byte) []wireFrame {
	c := to.c
	data = bytes.Clone(data)
	var out []wireFrame
	add := func(pt wire.PacketType, payload []byte) {
		fs, _ := wire.ParseDebugFrames(payload)
		for _, f := range fs {
			out = append(out, wireFrame{pt: pt, n: n, f: f})
		}
	}
	for len(data) > 0 {
		if !wire.IsLongHeader(data[0]) {
			if c == nil {
				return out
			}
			if payload := openShort(c, data); payload != nil {
				add(wire.Packet1RTT, payload)
			}
			return out
		}
		h, ok := wire.ParseLongHeader(data)
		if !ok || h.Len <= 0 || h.Len > len(data) {
			return out
		}
		pkt := data[:h.Len]
		data = data[h.Len:]
		var keys *protect.Keys
		largest := int64(-1)
		switch {
		case h.Type == wire.PacketInitial:
			// Initial keys derive from the client's first Destination
			// Connection ID, so they work even before the receiver
			// exists or after it discarded them.
			_, keys = protect.InitialKeys(h.Version, p.client.c.cids.originalDCID, to == p.client)
			if c != nil && !c.spaces[recovery.SpaceInitial].discarded {
				largest = c.spaces[recovery.SpaceInitial].acks.LargestReceived()
			}
		case h.Type == wire.PacketHandshake && c != nil:
			keys = c.spaces[recovery.SpaceHandshake].read
			largest = c.spaces[recovery.SpaceHandshake].acks.LargestReceived()
		}
		if keys == nil {
			continue
		}
		pn, hdrLen, ok := packet.Unprotect(pkt, h.PNOffset, &keys.HP, largest)
		if !ok {
			continue
		}
		if payload, err := packet.Open(pkt, hdrLen, pn, &keys.AEAD); err == nil {
			add(h.Type, payload)
		}
	}
	return out
}

// openShort opens a 1-RTT packet with any of c's read key generations.
func openShort(c *Conn, pkt []byte) []byte {
	k := &c.app
	if k.readCur == nil || len(pkt) < 1+c.cidLen+4+packet.TagLen {
		return nil
	}
	pn, hdrLen, ok := packet.Unprotect(pkt, 1+c.cidLen, &k.readCur.HP, c.spaces[recovery.SpaceApp].acks.LargestReceived())
	if !ok {
		return nil
	}
	cands := []*protect.Keys{k.readCur, k.readPrev, k.readNext}
	if next, err := k.readCur.Next(); err == nil {
		cands = append(cands, next)
	}
	for _, keys := range cands {
		if keys == nil {
			continue
		}
		if payload, err := packet.Open(bytes.Clone(pkt), hdrLen, pn, &keys.AEAD); err == nil {
			return payload
		}
	}
	return nil
}

// tap records the frames of every datagram from sends (before any drop
// decision) into the returned log. It wraps the current p.drop, so set
// p.drop first.
func (p *pair) tap(from *endpoint) *[]wireFrame {
	log := new([]wireFrame)
	prev := p.drop
	p.drop = func(e *endpoint, n int, data []byte) bool {
		if e == from {
			*log = append(*log, p.decode(from.peer, n, data)...)
		}
		return prev != nil && prev(e, n, data)
	}
	return log
}

// framesOf returns the frames of type T in log.
func framesOf[T wire.DebugFrame](log []wireFrame) []T {
	var out []T
	for _, w := range log {
		if f, ok := w.f.(T); ok {
			out = append(out, f)
		}
	}
	return out
}

// frameSummary lists the frame kinds of a log, for failure messages.
func frameSummary(log []wireFrame) string {
	var b strings.Builder
	for i, w := range log {
		if i > 0 {
			b.WriteString(", ")
		}
		s := fmt.Sprint(w.f)
		if j := strings.IndexByte(s, ' '); j > 0 {
			s = s[:j]
		}
		fmt.Fprintf(&b, "#%d:%s", w.n, s)
	}
	return b.String()
}

// The client's Finished goes in a datagram without STREAM frames; the
// request queued before the handshake completes follows in the next
// datagram. A server whose application layer learns of the handshake's
// completion only after that datagram is processed (the @matrixai/quic
// server over quiche) refuses streams whose first frames arrived in it.
func TestClientFinishedDatagramCarriesNoStreamData(t *testing.T) {
	p := newPair(t)
	p.server.echo = true
	s := openSend(p, []byte("GET /index.html\r\n"), true)
	finished, request := -1, -1
	var sent [][]byte
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from != p.client {
			return false
		}
		sent = append(sent, bytes.Clone(data))
		for _, f := range p.decode(p.server, n, data) {
			if _, ok := f.f.(wire.DebugCrypto); ok && f.pt == wire.PacketHandshake {
				finished = n
			}
		}
		return false
	}
	p.handshake()
	if !p.runUntil(time.Second, func() bool { return p.client.has("PeerSendShutdown") }) {
		t.Fatalf("no echo: client %v", tail(p.client.names()))
	}
	// 1-RTT packets open with the server's keys once it has them.
	for n, data := range sent {
		for _, f := range p.decode(p.server, n, data) {
			if _, ok := f.f.(wire.DebugStream); ok && request < 0 {
				request = n
			}
		}
	}
	if finished < 0 || request != finished+1 {
		t.Errorf("Finished in client datagram #%d, the request's first STREAM frame in #%d; want it in the next one", finished, request)
	}
	if got := string(p.client.received[s.ID()]); got != "GET /index.html\r\n" {
		t.Errorf("echo %q", got)
	}
}
