package interop

import (
	"context"
	"errors"
	"io"
	"testing"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

const abortCode = 0x51ab

// streamRec records an hquic stream's events on channels, copied (hquic
// reuses event values).
type streamRec struct {
	stream       *quic.Stream
	received     chan int // bytes of each ReceiveEvent
	sendAborted  chan uint64
	recvAborted  chan uint64
	sendComplete chan quic.SendCompleteEvent
	shutdown     chan quic.StreamShutdownCompleteEvent
}

func newStreamRec() *streamRec {
	return &streamRec{
		received:     make(chan int, 1<<12),
		sendAborted:  make(chan uint64, 1),
		recvAborted:  make(chan uint64, 1),
		sendComplete: make(chan quic.SendCompleteEvent, 16),
		shutdown:     make(chan quic.StreamShutdownCompleteEvent, 1),
	}
}

func (r *streamRec) handle(s *quic.Stream, ev quic.StreamEvent) error {
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		select {
		case r.received <- int(ev.TotalBufferLength):
		default:
		}
	case *quic.PeerSendAbortedEvent:
		r.sendAborted <- ev.ErrorCode
	case *quic.PeerReceiveAbortedEvent:
		r.recvAborted <- ev.ErrorCode
	case *quic.SendCompleteEvent:
		r.sendComplete <- *ev
	case *quic.StreamShutdownCompleteEvent:
		r.shutdown <- *ev
		if !ev.AppCloseInProgress {
			s.Close()
		}
	}
	return nil
}

// streamPair is one bidirectional stream seen from both ends.
type streamPair struct {
	hs *quic.Stream // hquic's handle
	r  *streamRec   // hquic's events
	gs *qgo.Stream  // quic-go's handle
}

// hello opens every pair's stream: the opener sends it, the other side
// reads it.
var hello = []byte("hello")

// hquicOpensPair connects an hquic client to a quic-go server and opens a
// stream from hquic.
func hquicOpensPair(t *testing.T) streamPair {
	h := newHQ(t)
	addr, conns := goListen(t, "abort", nil)
	c := h.dial(h.clientConfig("abort"), addr, newConnRec(nil))
	r := newStreamRec()
	hs, err := c.NewStream(quic.StreamOpenNone, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	r.stream = hs
	if err := hs.Send([][]byte{hello}, quic.SendStart, nil); err != nil {
		t.Fatal(err)
	}
	gc := wait(t, conns, "quic-go accepted connection")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gs, err := gc.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(gs, make([]byte, len(hello))); err != nil {
		t.Fatal(err)
	}
	return streamPair{hs: hs, r: r, gs: gs}
}

// goOpensPair connects a quic-go client to an hquic listener and opens a
// stream from quic-go.
func goOpensPair(t *testing.T) streamPair {
	h := newHQ(t)
	recs := make(chan *streamRec, 1)
	addr, _, _ := h.listen(h.serverConfig("abort"), "abort", func(s *quic.Stream) quic.StreamHandler {
		r := newStreamRec()
		r.stream = s
		recs <- r
		return r.handle
	})
	gc, err := goDial(t, addr, "abort")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := gc.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.Write(hello); err != nil {
		t.Fatal(err)
	}
	r := wait(t, recs, "hquic peer stream")
	wait(t, r.received, "hquic ReceiveEvent")
	return streamPair{hs: r.stream, r: r, gs: gs}
}

var pairings = []struct {
	name string
	open func(*testing.T) streamPair
}{
	{"HquicOpens", hquicOpensPair},
	{"GoOpens", goOpensPair},
}

// goStreamError checks err is a remote *qgo.StreamError with abortCode.
func goStreamError(t *testing.T, err error, what string) {
	t.Helper()
	var se *qgo.StreamError
	if !errors.As(err, &se) || !se.Remote || se.ErrorCode != abortCode {
		t.Errorf("quic-go %s error %v, want a remote stream error 0x%x", what, err, abortCode)
	}
}

// TestGoResetSeenByHquic: quic-go resets its sending side mid-stream
// (RESET_STREAM); hquic reports PeerSendAbortedEvent with the code.
func TestGoResetSeenByHquic(t *testing.T) {
	for _, p := range pairings {
		t.Run(p.name, func(t *testing.T) {
			sp := p.open(t)
			if _, err := sp.gs.Write(testData(1, 100<<10)); err != nil {
				t.Fatal(err)
			}
			wait(t, sp.r.received, "hquic ReceiveEvent")
			sp.gs.CancelWrite(abortCode)
			if code := wait(t, sp.r.sendAborted, "hquic PeerSendAbortedEvent"); code != abortCode {
				t.Errorf("PeerSendAbortedEvent code 0x%x, want 0x%x", code, abortCode)
			}
		})
	}
}

// TestHquicResetSeenByGo: hquic resets its sending side mid-stream
// (Shutdown(AbortSend)); quic-go's Read fails with *StreamError.
func TestHquicResetSeenByGo(t *testing.T) {
	for _, p := range pairings {
		t.Run(p.name, func(t *testing.T) {
			sp := p.open(t)
			if err := sp.hs.Send([][]byte{testData(2, 100<<10)}, quic.SendNone, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(sp.gs, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			if err := sp.hs.Shutdown(quic.StreamShutdownAbortSend, abortCode); err != nil {
				t.Fatal(err)
			}
			_, err := io.ReadAll(sp.gs)
			goStreamError(t, err, "read")
		})
	}
}

// TestGoStopSendingSeenByHquic: quic-go stops reading mid-stream
// (STOP_SENDING); hquic reports PeerReceiveAbortedEvent with the code and
// cancels its pending send.
func TestGoStopSendingSeenByHquic(t *testing.T) {
	for _, p := range pairings {
		t.Run(p.name, func(t *testing.T) {
			sp := p.open(t)
			// More than quic-go's initial stream window, so the send
			// cannot have completed when STOP_SENDING arrives.
			if err := sp.hs.Send([][]byte{testData(3, 8<<20)}, quic.SendNone, "big"); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(sp.gs, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			sp.gs.CancelRead(abortCode)
			if code := wait(t, sp.r.recvAborted, "hquic PeerReceiveAbortedEvent"); code != abortCode {
				t.Errorf("PeerReceiveAbortedEvent code 0x%x, want 0x%x", code, abortCode)
			}
			for {
				ev := wait(t, sp.r.sendComplete, "hquic SendCompleteEvent")
				if ev.SendContext == "big" {
					if !ev.Canceled {
						t.Error("SendCompleteEvent of the aborted send not Canceled")
					}
					break
				}
			}
		})
	}
}

// TestHquicStopSendingSeenByGo: hquic stops reading mid-stream
// (Shutdown(AbortReceive)); quic-go's Write fails with *StreamError.
func TestHquicStopSendingSeenByGo(t *testing.T) {
	for _, p := range pairings {
		t.Run(p.name, func(t *testing.T) {
			sp := p.open(t)
			werr := make(chan error, 1)
			go func() {
				chunk := testData(4, 64<<10)
				for {
					if _, err := sp.gs.Write(chunk); err != nil {
						werr <- err
						return
					}
				}
			}()
			wait(t, sp.r.received, "hquic ReceiveEvent")
			if err := sp.hs.Shutdown(quic.StreamShutdownAbortReceive, abortCode); err != nil {
				t.Fatal(err)
			}
			goStreamError(t, wait(t, werr, "quic-go Write error"), "write")
		})
	}
}
