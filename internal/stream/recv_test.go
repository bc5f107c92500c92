package stream

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

const testRTT = 10 * time.Millisecond

func newRecv(window uint64) *RecvState {
	r := new(RecvState)
	r.Init(window, 4*window, 4096)
	return r
}

// pattern returns n bytes of a recognisable stream content starting at off.
func pattern(off uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		x := off + uint64(i)
		b[i] = byte(x*7 + x>>8)
	}
	return b
}

func joined(bufs [][]byte) []byte {
	var out []byte
	for _, b := range bufs {
		out = append(out, b...)
	}
	return out
}

func wantCode(t *testing.T, err error, code uint64) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want transport error 0x%x", err, code)
	}
	if want := fmt.Sprintf("(transport error 0x%x)", code); !strings.HasSuffix(e.Error(), want) {
		t.Fatalf("Error() = %q", e.Error())
	}
}

// recvOp is one step of a receive-state transition test.
type recvOp struct {
	kind      string // data, reset, consume, resetRead, stop
	off       uint64
	n         int
	fin       bool
	wantPhase RecvPhase
	wantEvent Event
}

func TestRecvTransitions(t *testing.T) {
	cases := []struct {
		name string
		ops  []recvOp
	}{
		{"Recv to DataRecvd to DataRead in order", []recvOp{
			{kind: "data", off: 0, n: 10, wantPhase: RecvReceiving},
			{kind: "data", off: 10, n: 5, fin: true, wantPhase: RecvDataRecvd},
			{kind: "consume", n: 15, wantPhase: RecvDataRead, wantEvent: EventPeerSendShutdown},
		}},
		{"Recv to SizeKnown to DataRecvd", []recvOp{
			{kind: "data", off: 10, n: 5, fin: true, wantPhase: RecvSizeKnown},
			{kind: "data", off: 0, n: 10, wantPhase: RecvDataRecvd},
			{kind: "consume", n: 4, wantPhase: RecvDataRecvd},
			{kind: "consume", n: 11, wantPhase: RecvDataRead, wantEvent: EventPeerSendShutdown},
		}},
		{"FIN-only stream completes with Consume(0)", []recvOp{
			{kind: "data", off: 0, n: 0, fin: true, wantPhase: RecvDataRecvd},
			{kind: "consume", n: 0, wantPhase: RecvDataRead, wantEvent: EventPeerSendShutdown},
		}},
		{"Recv to ResetRecvd to ResetRead", []recvOp{
			{kind: "data", off: 0, n: 10, wantPhase: RecvReceiving},
			{kind: "reset", off: 20, wantPhase: RecvResetRecvd, wantEvent: EventPeerSendAborted},
			{kind: "resetRead", wantPhase: RecvResetRead},
			{kind: "data", off: 10, n: 10, wantPhase: RecvResetRead},
		}},
		{"SizeKnown to ResetRecvd", []recvOp{
			{kind: "data", off: 5, n: 5, fin: true, wantPhase: RecvSizeKnown},
			{kind: "reset", off: 10, wantPhase: RecvResetRecvd, wantEvent: EventPeerSendAborted},
		}},
		{"reset in DataRecvd is ignored and data still delivered", []recvOp{
			{kind: "data", off: 0, n: 8, fin: true, wantPhase: RecvDataRecvd},
			{kind: "reset", off: 8, wantPhase: RecvDataRecvd},
			{kind: "consume", n: 8, wantPhase: RecvDataRead, wantEvent: EventPeerSendShutdown},
			{kind: "reset", off: 8, wantPhase: RecvDataRead},
		}},
		{"local abort in Recv discards and ends with the reset", []recvOp{
			{kind: "data", off: 0, n: 8, wantPhase: RecvReceiving},
			{kind: "stop", wantPhase: RecvReceiving},
			{kind: "data", off: 8, n: 8, wantPhase: RecvReceiving},
			{kind: "reset", off: 30, wantPhase: RecvResetRecvd, wantEvent: EventPeerSendAborted},
		}},
		{"local abort then all data arrives: DataRead without event", []recvOp{
			{kind: "stop", wantPhase: RecvReceiving},
			{kind: "data", off: 4, n: 4, fin: true, wantPhase: RecvSizeKnown},
			{kind: "data", off: 0, n: 4, wantPhase: RecvDataRead},
		}},
		{"local abort in DataRecvd goes to DataRead", []recvOp{
			{kind: "data", off: 0, n: 4, fin: true, wantPhase: RecvDataRecvd},
			{kind: "stop", wantPhase: RecvDataRead},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecv(1000)
			for i, op := range tc.ops {
				var err error
				switch op.kind {
				case "data":
					_, _, err = r.OnData(op.off, pattern(op.off, op.n), op.fin)
				case "reset":
					_, _, err = r.OnReset(42, op.off)
				case "consume":
					err = r.Consume(1, uint64(op.n), testRTT)
				case "resetRead":
					r.OnResetRead()
				case "stop":
					r.StopSending(7)
				}
				if err != nil {
					t.Fatalf("step %d (%s): %v", i, op.kind, err)
				}
				if r.Phase() != op.wantPhase {
					t.Fatalf("step %d (%s): phase %v, want %v", i, op.kind, r.Phase(), op.wantPhase)
				}
				if ev := r.TakeEvents(); ev != op.wantEvent {
					t.Fatalf("step %d (%s): events %b, want %b", i, op.kind, ev, op.wantEvent)
				}
			}
		})
	}
}

func TestRecvFinalSizeErrors(t *testing.T) {
	type step struct {
		reset bool
		off   uint64
		n     int
		fin   bool
	}
	cases := []struct {
		name  string
		setup []step
		bad   step
	}{
		{"FIN changes the final size (larger)", []step{{off: 0, n: 10, fin: true}}, step{off: 10, n: 2, fin: true}},
		{"FIN changes the final size (smaller)", []step{{off: 5, n: 5, fin: true}}, step{off: 0, n: 8, fin: true}},
		{"data beyond the final size", []step{{off: 0, n: 10, fin: true}}, step{off: 8, n: 4}},
		{"FIN below data received", []step{{off: 10, n: 10}}, step{off: 0, n: 15, fin: true}},
		{"reset final size differs from FIN", []step{{off: 0, n: 10, fin: true}}, step{reset: true, off: 12}},
		{"reset final size below data received", []step{{off: 0, n: 10}}, step{reset: true, off: 9}},
		{"data beyond final size after reset", []step{{reset: true, off: 10}}, step{off: 5, n: 6}},
		{"FIN changes final size after reset", []step{{reset: true, off: 10}}, step{off: 0, n: 5, fin: true}},
		{"second reset changes final size", []step{{reset: true, off: 10}}, step{reset: true, off: 11}},
		{"data beyond final size after everything was read", []step{{off: 0, n: 4, fin: true}, {reset: true, off: 4}}, step{off: 4, n: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecv(1000)
			do := func(s step) (err error) {
				if s.reset {
					_, _, err = r.OnReset(1, s.off)
				} else {
					_, _, err = r.OnData(s.off, pattern(s.off, s.n), s.fin)
				}
				return err
			}
			for _, s := range tc.setup {
				if err := do(s); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			if r.Phase() == RecvDataRecvd {
				r.Consume(1, 4, 0)
			}
			before := *r
			wantCode(t, do(tc.bad), FinalSizeError)
			if r.Phase() != before.phase || r.Highest() != before.highest {
				t.Fatal("a rejected frame changed the state")
			}
		})
	}
}

func TestRecvFlowControlErrors(t *testing.T) {
	r := newRecv(100)
	if _, _, err := r.OnData(90, pattern(90, 10), false); err != nil {
		t.Fatalf("data up to the window: %v", err)
	}
	_, _, err := r.OnData(95, pattern(95, 6), false)
	wantCode(t, err, FlowControlError)
	_, _, err = r.OnReset(0, 101)
	wantCode(t, err, FlowControlError)
	_, _, err = r.OnData(MaxOffset-2, pattern(0, 5), false)
	wantCode(t, err, FlowControlError)
	_, _, err = r.OnData(1<<63, nil, false)
	wantCode(t, err, FlowControlError)
	if r.Highest() != 100 || r.Phase() != RecvReceiving {
		t.Fatalf("rejected frames changed the state: highest %d, %v", r.Highest(), r.Phase())
	}
	var none RecvState
	_, _, err = none.OnData(0, []byte{1}, false)
	wantCode(t, err, StreamStateError)
	_, _, err = none.OnReset(0, 0)
	wantCode(t, err, StreamStateError)
	if none.Consume(0, 0, 0) != ErrNoRecv {
		t.Fatal("Consume on a stream without a receiving part")
	}
}

func TestRecvConsumeReturnsCreditAndUpdatesLimit(t *testing.T) {
	r := new(RecvState)
	r.Init(100, 100, 4096)
	r.OnData(0, pattern(0, 100), false)
	if r.NeedsMaxStreamData() {
		t.Fatal("MAX_STREAM_DATA due before any consumption")
	}
	off, bufs, fin := r.Readable()
	if off != 0 || !bytes.Equal(joined(bufs), pattern(0, 100)) || fin {
		t.Fatalf("Readable = %d, %d bytes, %v", off, len(joined(bufs)), fin)
	}
	if err := r.Consume(1, 101, testRTT); err != ErrConsumeTooMuch {
		t.Fatalf("consume beyond readable: %v", err)
	}
	if err := r.Consume(1, 20, testRTT); err != nil {
		t.Fatal(err)
	}
	if r.NeedsMaxStreamData() {
		t.Fatal("MAX_STREAM_DATA due with 80% of the window left")
	}
	off, bufs, _ = r.Readable()
	if off != 20 || !bytes.Equal(joined(bufs), pattern(20, 80)) {
		t.Fatal("partial consumption: the rest is not re-offered")
	}
	r.Consume(1, 30, testRTT)
	lim, ok := r.MaxStreamData(2)
	if !ok || lim != 150 {
		t.Fatalf("MaxStreamData = %d, %v; want 150, true", lim, ok)
	}
	r.OnMaxStreamDataLost(lim)
	if lim2, ok := r.MaxStreamData(3); !ok || lim2 != lim {
		t.Fatal("lost MAX_STREAM_DATA not resent")
	}
	// Once the final size is known no more updates are sent.
	r.OnData(100, pattern(100, 50), true)
	r.Consume(1, 90, testRTT)
	if r.NeedsMaxStreamData() {
		t.Fatal("MAX_STREAM_DATA due in Size Known / Data Recvd")
	}
}

func TestRecvDuplicatesNeverDeliveredTwice(t *testing.T) {
	r := newRecv(1000)
	r.OnData(0, pattern(0, 10), false)
	r.Consume(1, 10, 0)
	// Retransmission of consumed bytes, and overlap with new ones.
	if grown, _, _ := r.OnData(0, pattern(0, 10), false); grown != 0 {
		t.Fatalf("duplicate grew the highest offset by %d", grown)
	}
	r.OnData(5, pattern(5, 10), false)
	off, bufs, _ := r.Readable()
	if off != 10 || !bytes.Equal(joined(bufs), pattern(10, 5)) {
		t.Fatalf("Readable after overlap = %d %v", off, joined(bufs))
	}
}

func TestRecvIndicatedBytesStayStable(t *testing.T) {
	r := new(RecvState)
	r.Init(1<<20, 1<<20, 4096)
	r.OnData(0, pattern(0, 3000), false)
	_, bufs, _ := r.Readable()
	held := bufs[0] // the application pends the RECEIVE and keeps this
	heldCopy := bytes.Clone(held)
	// The peer retransmits the same range with different bytes (hostile),
	// then sends far more than the initial 4 KiB buffer, forcing growth.
	evil := bytes.Repeat([]byte{0xEE}, 3000)
	r.OnData(0, evil, false)
	for off := uint64(3000); off < 100000; off += 1000 {
		if _, _, err := r.OnData(off, pattern(off, 1000), false); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(held, heldCopy) {
		t.Fatal("bytes indicated to the application changed before they were consumed")
	}
	r.Consume(1, 1000, 0) // partial ReceiveComplete
	if !bytes.Equal(held[1000:], heldCopy[1000:]) {
		t.Fatal("unconsumed indicated bytes changed after a partial consume")
	}
	off, bufs, _ := r.Readable()
	if off != 1000 || !bytes.Equal(joined(bufs), pattern(1000, 99000)) {
		t.Fatal("stream content wrong after growth")
	}
}

func TestRecvBufferBoundedByWindow(t *testing.T) {
	r := new(RecvState)
	r.Init(64<<10, 64<<10, 4096)
	// Worst case: only the last byte of the window arrives.
	if _, _, err := r.OnData(64<<10-1, []byte{1}, false); err != nil {
		t.Fatal(err)
	}
	if got := len(r.buf.c.b); got != 64<<10 {
		t.Fatalf("buffer %d bytes for a 64 KiB window", got)
	}
}

func TestRecvResetFreesUnreadBytes(t *testing.T) {
	r := newRecv(1000)
	grown, freed, _ := r.OnData(0, pattern(0, 100), false)
	if grown != 100 || freed != 0 {
		t.Fatalf("OnData grown %d freed %d", grown, freed)
	}
	r.Consume(1, 40, 0)
	r.OnData(200, pattern(200, 10), false) // highest 210, gap 100..200
	grown, freed, err := r.OnReset(9, 300)
	if err != nil || grown != 90 || freed != 260 {
		t.Fatalf("OnReset grown %d freed %d err %v; want 90, 260", grown, freed, err)
	}
	if r.ResetCode() != 9 {
		t.Fatal("reset code lost")
	}
	if _, bufs, _ := r.Readable(); bufs != nil {
		t.Fatal("data readable after reset")
	}
	if err := r.Consume(1, 0, 0); err != ErrRecvClosed {
		t.Fatalf("Consume after reset = %v", err)
	}
}

func TestRecvStopSending(t *testing.T) {
	r := newRecv(1000)
	r.OnData(0, pattern(0, 50), false)
	r.OnData(60, pattern(60, 10), false)
	r.Consume(1, 20, 0)
	if freed := r.StopSending(77); freed != 30 {
		t.Fatalf("StopSending freed %d, want the 30 contiguous unread bytes", freed)
	}
	if r.StopSending(78) != 0 {
		t.Fatal("second StopSending did something")
	}
	code, ok := r.StopSendingPending()
	if !ok || code != 77 {
		t.Fatalf("StopSendingPending = %d, %v", code, ok)
	}
	r.OnStopSendingSent()
	if _, ok := r.StopSendingPending(); ok {
		t.Fatal("pending while in flight")
	}
	r.OnStopSendingLost()
	if _, ok := r.StopSendingPending(); !ok {
		t.Fatal("not pending after loss")
	}
	r.OnStopSendingSent()
	r.OnStopSendingAcked()
	r.OnStopSendingLost()
	if _, ok := r.StopSendingPending(); ok {
		t.Fatal("pending after acknowledgement")
	}
	// Data keeps being counted; the gap fill frees it and what follows.
	grown, freed, _ := r.OnData(50, pattern(50, 10), false)
	if grown != 0 || freed != 20 {
		t.Fatalf("OnData after abort: grown %d freed %d; want 0, 20", grown, freed)
	}
	if err := r.Consume(1, 0, 0); err != ErrRecvClosed {
		t.Fatal("Consume allowed after abort")
	}
	// Once the peer's reset arrives STOP_SENDING is no longer needed.
	r2 := newRecv(1000)
	r2.StopSending(1)
	r2.OnReset(1, 10)
	if _, ok := r2.StopSendingPending(); ok {
		t.Fatal("STOP_SENDING pending after the peer's reset")
	}
}

func TestRecvCloseAndReinit(t *testing.T) {
	r := newRecv(1000)
	r.OnData(0, pattern(0, 10), false)
	r.Close()
	if r.Phase() != RecvResetRead {
		t.Fatalf("phase after Close: %v", r.Phase())
	}
	r.Init(1000, 1000, 4096)
	if r.Phase() != RecvReceiving || r.Highest() != 0 {
		t.Fatal("Init did not reset the state")
	}
	if RecvDataRead.String() != "DataRead" || RecvPhase(99).String() != "RecvPhase(?)" {
		t.Fatal("RecvPhase.String")
	}
}

func TestRecvSteadyStateDoesNotAllocate(t *testing.T) {
	r := new(RecvState)
	r.Init(64<<10, 64<<10, 4096)
	data := pattern(0, 1200)
	off := uint64(0)
	now := mono.Time(1)
	step := func() {
		// One in-order frame, one out-of-order frame filled next round.
		r.OnData(off+1200, data, false)
		r.OnData(off, data, false)
		_, bufs, _ := r.Readable()
		n := 0
		for _, b := range bufs {
			n += len(b)
		}
		r.Consume(now, uint64(n), testRTT)
		r.MaxStreamData(now)
		off += 2400
		now += 1000
	}
	for range 100 {
		step()
	}
	if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
		t.Fatalf("OnData+Readable+Consume allocated %v times per run", allocs)
	}
}

func BenchmarkRecvReassembly(b *testing.B) {
	b.ReportAllocs()
	r := new(RecvState)
	r.Init(1<<20, 1<<20, 4096)
	data := make([]byte, 1200)
	b.SetBytes(4 * 1200)
	off := uint64(0)
	now := mono.Time(1)
	for b.Loop() {
		// Four packets arriving as 2, 1, 4, 3.
		r.OnData(off+1200, data, false)
		r.OnData(off, data, false)
		r.OnData(off+3600, data, false)
		r.OnData(off+2400, data, false)
		r.Consume(now, 4800, testRTT)
		r.MaxStreamData(now)
		off += 4800
		now += 1000
	}
}

func asError(err error, target **Error) bool { return errors.As(err, target) }
