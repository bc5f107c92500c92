package main

import (
	"encoding/binary"

	"github.com/hquic/quic"
)

// The perf protocol's stream pieces, shared by server and client.

// alpn is the perf protocol's ALPN.
const alpn = "perf"

// headerLen is the length of the request header: the big-endian count of
// bytes the client wants back.
const headerLen = 8

// chunkSize is the size of one Send of bulk data; sendWindow is how many
// bytes a sender keeps queued (at least; it follows the stream's ideal
// send buffer size when that is larger).
const (
	chunkSize  = 256 << 10
	sendWindow = 4 << 20
)

// payload is the bulk data every sender sends: read-only, so any number of
// sends may reference it at once.
var payload = func() []byte {
	b := make([]byte, chunkSize)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// header encodes a request header.
func header(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, headerLen), n)
}

// headerParser collects the 8-byte header at the start of a request stream
// and counts the bytes after it.
type headerParser struct {
	buf  [headerLen]byte
	have int
	body uint64 // bytes after the header
}

// feed consumes received bytes.
func (h *headerParser) feed(bufs [][]byte) {
	for _, b := range bufs {
		if h.have < headerLen {
			n := copy(h.buf[h.have:], b)
			h.have += n
			b = b[n:]
		}
		h.body += uint64(len(b))
	}
}

// complete reports whether the header has been read.
func (h *headerParser) complete() bool { return h.have == headerLen }

// value returns the header's byte count.
func (h *headerParser) value() uint64 { return binary.BigEndian.Uint64(h.buf[:]) }

// sender sends a prefix and then n bytes of payload on a stream, followed by
// FIN, keeping a bounded number of bytes queued. Its methods run in the
// stream's event handler, so they need no lock.
type sender struct {
	s      *quic.Stream
	prefix []byte
	left   uint64   // payload bytes not yet queued
	queued uint64   // bytes queued and not yet completed
	sizes  []uint64 // sizes of the queued sends, oldest first
	window uint64
	start  bool // the first send starts the stream
	fin    bool // FIN queued
}

func newSender(s *quic.Stream, prefix []byte, n uint64, start bool) *sender {
	return &sender{s: s, prefix: prefix, left: n, window: sendWindow, start: start}
}

// pump queues sends until the window is full or everything is queued.
func (x *sender) pump() error {
	for !x.fin && x.queued < x.window {
		n := min(x.left, chunkSize)
		var bufs [][]byte
		if len(x.prefix) > 0 {
			bufs = append(bufs, x.prefix)
		}
		if n > 0 {
			bufs = append(bufs, payload[:n])
		}
		flags := quic.SendNone
		if x.start {
			flags |= quic.SendStart
			x.start = false
		}
		if x.left == n {
			flags |= quic.SendFIN
			x.fin = true
		}
		size := n + uint64(len(x.prefix))
		if err := x.s.Send(bufs, flags, nil); err != nil {
			return err
		}
		x.prefix = nil
		x.left -= n
		x.queued += size
		x.sizes = append(x.sizes, size)
	}
	return nil
}

// onEvent handles the sender's stream events; it reports whether ev was
// one of them.
func (x *sender) onEvent(ev quic.StreamEvent) (bool, error) {
	switch ev := ev.(type) {
	case *quic.SendCompleteEvent:
		if len(x.sizes) > 0 {
			x.queued -= x.sizes[0]
			x.sizes = x.sizes[1:]
		}
		if ev.Canceled {
			return true, nil
		}
		return true, x.pump()
	case *quic.IdealSendBufferSizeEvent:
		x.window = max(sendWindow, ev.ByteCount)
		return true, x.pump()
	}
	return false, nil
}
