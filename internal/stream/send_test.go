package stream

import (
	"bytes"
	"testing"
	"unsafe"
)

const noConnLimit = ^uint64(0)

func newSend(limit uint64) *SendState {
	s := new(SendState)
	s.Init(limit, false)
	return s
}

// sendAll drains Pending into frames of at most max bytes, returning them.
func sendAll(t *testing.T, s *SendState, max uint64) []frame {
	t.Helper()
	var out []frame
	for {
		off, n, fin, ok := s.Pending(noConnLimit)
		if !ok {
			return out
		}
		if n > max {
			n, fin = max, false
		}
		buf := make([]byte, n)
		if got := s.WriteData(buf, off); got != int(n) {
			t.Fatalf("WriteData copied %d of %d", got, n)
		}
		s.OnSent(off, int(n), fin)
		out = append(out, frame{off, buf, fin})
	}
}

type frame struct {
	off  uint64
	data []byte
	fin  bool
}

func (f frame) n() int { return len(f.data) }

func completions(s *SendState) (ctxs []any, canceled []bool) {
	for {
		ctx, c, ok := s.PopCompleted()
		if !ok {
			return
		}
		ctxs = append(ctxs, ctx)
		canceled = append(canceled, c)
	}
}

func TestSendTransitions(t *testing.T) {
	type op struct {
		kind      string // queue, queueFin, send, ack, lost, reset, resetSent, resetAck, stop, blocked
		wantPhase SendPhase
		wantEvent Event
	}
	cases := []struct {
		name  string
		limit uint64
		ops   []op
	}{
		{"Ready-Send-DataSent-DataRecvd", 100, []op{
			{"queue", SendReady, 0},
			{"send", SendSending, 0},
			{"queueFin", SendSending, 0},
			{"send", SendDataSent, 0},
			{"ack", SendDataRecvd, EventSendComplete | EventSendShutdownComplete},
		}},
		{"Ready straight to DataSent with FIN in the first frame", 100, []op{
			{"queueFin", SendReady, 0},
			{"send", SendDataSent, 0},
			{"lost", SendDataSent, 0},
			{"send", SendDataSent, 0},
			{"ack", SendDataRecvd, EventSendComplete | EventSendShutdownComplete},
		}},
		{"Ready to Send by STREAM_DATA_BLOCKED", 0, []op{
			{"queue", SendReady, 0},
			{"blocked", SendSending, 0},
		}},
		{"Ready reset", 100, []op{
			{"queue", SendReady, 0},
			{"reset", SendResetSent, EventSendComplete},
			{"resetSent", SendResetSent, 0},
			{"resetAck", SendResetRecvd, EventSendShutdownComplete},
		}},
		{"Send reset", 100, []op{
			{"queue", SendReady, 0},
			{"send", SendSending, 0},
			{"reset", SendResetSent, EventSendComplete},
			{"ack", SendResetSent, 0},
			{"resetSent", SendResetSent, 0},
			{"resetAck", SendResetRecvd, EventSendShutdownComplete},
		}},
		{"DataSent reset", 100, []op{
			{"queueFin", SendReady, 0},
			{"send", SendDataSent, 0},
			{"reset", SendResetSent, EventSendComplete},
			{"resetSent", SendResetSent, 0},
			{"resetAck", SendResetRecvd, EventSendShutdownComplete},
		}},
		{"STOP_SENDING in Send resets", 100, []op{
			{"queue", SendReady, 0},
			{"send", SendSending, 0},
			{"stop", SendResetSent, EventSendComplete},
		}},
		{"STOP_SENDING after DataRecvd does nothing", 100, []op{
			{"queueFin", SendReady, 0},
			{"send", SendDataSent, 0},
			{"ack", SendDataRecvd, EventSendComplete | EventSendShutdownComplete},
			{"stop", SendDataRecvd, 0},
			{"reset", SendDataRecvd, 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSend(tc.limit)
			data := []byte("0123456789")
			var last []frame
			for i, o := range tc.ops {
				switch o.kind {
				case "queue":
					s.Queue([][]byte{data}, false, i)
				case "queueFin":
					s.Queue([][]byte{data}, true, i)
				case "send":
					last = append(last, sendAll(t, s, 1000)...)
				case "ack":
					for _, f := range last {
						s.OnAcked(f.off, f.n(), f.fin)
					}
				case "lost":
					for _, f := range last {
						s.OnLost(f.off, f.n(), f.fin)
					}
				case "reset":
					s.Reset(5)
				case "resetSent":
					s.OnResetSent()
				case "resetAck":
					s.OnResetAcked()
				case "stop":
					s.OnStopSending(9)
				case "blocked":
					if _, ok := s.DataBlocked(); !ok {
						t.Fatal("DataBlocked not reported")
					}
				}
				if s.Phase() != o.wantPhase {
					t.Fatalf("step %d (%s): phase %v, want %v", i, o.kind, s.Phase(), o.wantPhase)
				}
				if ev := s.TakeEvents(); ev != o.wantEvent {
					t.Fatalf("step %d (%s): events %b, want %b", i, o.kind, ev, o.wantEvent)
				}
			}
		})
	}
}

func TestSendReferencesAppBuffers(t *testing.T) {
	s := newSend(1 << 20)
	a, b := []byte("hello "), []byte("world")
	bufs := [][]byte{a, b}
	s.Queue(bufs, true, "ctx")
	r := s.q.front()
	if unsafe.SliceData(r.bufs) != unsafe.SliceData(bufs) ||
		unsafe.SliceData(r.bufs[0]) != unsafe.SliceData(a) ||
		unsafe.SliceData(r.bufs[1]) != unsafe.SliceData(b) {
		t.Fatal("Queue copied the application's buffers")
	}
	// The bytes are read from the application's memory at send time.
	a[0] = 'J'
	dst := make([]byte, 11)
	if n := s.WriteData(dst, 0); n != 11 || string(dst) != "Jello world" {
		t.Fatalf("WriteData = %d %q", n, dst)
	}
	// Partial writes across the buffer boundary, backwards too.
	for _, c := range []struct {
		off  uint64
		n    int
		want string
	}{{4, 4, "o wo"}, {0, 3, "Jel"}, {6, 5, "world"}, {5, 2, " w"}} {
		d := make([]byte, c.n)
		if s.WriteData(d, c.off); string(d) != c.want {
			t.Errorf("WriteData(%d, %d) = %q, want %q", c.off, c.n, d, c.want)
		}
	}
	if s.WriteData(make([]byte, 3), 20) != 0 {
		t.Fatal("WriteData beyond the queued data copied something")
	}
}

func TestSendCompletionExactlyOnce(t *testing.T) {
	s := newSend(1 << 20)
	s.Queue([][]byte{make([]byte, 100)}, false, 1)
	s.Queue([][]byte{make([]byte, 50), make([]byte, 50)}, false, 2)
	s.Queue(nil, true, 3) // FIN-only send
	frames := sendAll(t, s, 40)
	if len(frames) != 5 || !frames[4].fin {
		t.Fatalf("frames %+v", frames)
	}
	// Acks out of order, duplicated, and after a loss.
	s.OnLost(frames[1].off, frames[1].n(), false)
	s.OnAcked(frames[1].off, frames[1].n(), false) // late ack of the "lost" frame
	s.OnAcked(frames[2].off, frames[2].n(), false)
	s.OnAcked(frames[2].off, frames[2].n(), false)
	if c, _ := completions(s); len(c) != 0 {
		t.Fatalf("completed %v before the first bytes were acknowledged", c)
	}
	s.OnAcked(frames[0].off, frames[0].n(), false)
	if c, _ := completions(s); len(c) != 1 || c[0] != 1 {
		t.Fatalf("completions %v, want [1]", c)
	}
	// Nothing to retransmit: the lost range was acknowledged after all.
	if off, n, _, ok := s.Pending(noConnLimit); ok && n > 0 {
		t.Fatalf("retransmits acknowledged data at %d", off)
	}
	s.OnAcked(frames[4].off, frames[4].n(), true)
	s.OnAcked(frames[3].off, frames[3].n(), false)
	c, canceled := completions(s)
	if len(c) != 2 || c[0] != 2 || c[1] != 3 || canceled[0] || canceled[1] {
		t.Fatalf("completions %v %v, want [2 3] not canceled", c, canceled)
	}
	for _, f := range frames {
		s.OnAcked(f.off, f.n(), f.fin)
		s.OnLost(f.off, f.n(), f.fin)
	}
	if c, _ := completions(s); len(c) != 0 {
		t.Fatalf("duplicate acks completed %v again", c)
	}
	if s.Phase() != SendDataRecvd || s.Acked() != 200 {
		t.Fatalf("phase %v acked %d", s.Phase(), s.Acked())
	}
}

func TestSendZeroLengthSendCompletesInOrder(t *testing.T) {
	s := newSend(1000)
	s.Queue(nil, false, "empty")
	if c, _ := completions(s); len(c) != 1 {
		t.Fatal("an empty send with nothing before it did not complete")
	}
	s.Queue([][]byte{[]byte("abc")}, false, "a")
	s.Queue([][]byte{{}}, false, "b")
	if c, _ := completions(s); len(c) != 0 {
		t.Fatal("empty send completed before the data queued before it")
	}
	f := sendAll(t, s, 100)
	s.OnAcked(f[0].off, f[0].n(), false)
	if c, _ := completions(s); len(c) != 2 || c[0] != "a" || c[1] != "b" {
		t.Fatalf("completions %v", c)
	}
}

func TestSendRetransmitsLostBeforeNewData(t *testing.T) {
	s := newSend(1 << 20)
	s.Queue([][]byte{pattern(0, 1000)}, false, nil)
	frames := sendAll(t, s, 100)
	s.Queue([][]byte{pattern(1000, 500)}, true, nil)
	s.OnAcked(frames[2].off, frames[2].n(), false)
	// Lose 100-400: the acknowledged 200-300 must not be resent.
	for _, f := range frames[1:4] {
		if !s.OnLost(f.off, f.n(), f.fin) && f.off != 200 {
			t.Fatalf("OnLost(%d) reported nothing to resend", f.off)
		}
	}
	want := []struct{ off, n uint64 }{{100, 100}, {300, 100}, {1000, 500}}
	for i, w := range want {
		off, n, fin, ok := s.Pending(noConnLimit)
		if !ok || off != w.off || n != w.n {
			t.Fatalf("Pending #%d = %d+%d, want %d+%d", i, off, n, w.off, w.n)
		}
		if fin != (i == 2) {
			t.Fatalf("Pending #%d fin %v", i, fin)
		}
		d := make([]byte, n)
		s.WriteData(d, off)
		if !bytes.Equal(d, pattern(off, int(n))) {
			t.Fatalf("retransmitted bytes at %d differ", off)
		}
		if nb := s.OnSent(off, int(n), fin); (i < 2) != (nb == 0) {
			t.Fatalf("OnSent #%d counted %d new bytes", i, nb)
		}
	}
	if _, _, _, ok := s.Pending(noConnLimit); ok {
		t.Fatal("still pending")
	}
	// A lost FIN alone is resent alone; a loss after the ack is ignored.
	s.OnLost(1000, 500, true)
	off, n, fin, ok := s.Pending(noConnLimit)
	if !ok || off != 1000 || n != 500 || !fin {
		t.Fatalf("Pending after FIN loss = %d+%d %v", off, n, fin)
	}
	s.OnAcked(1000, 500, false)
	off, n, fin, ok = s.Pending(noConnLimit)
	if !ok || off != 1500 || n != 0 || !fin {
		t.Fatalf("FIN-only retransmission = %d+%d %v %v", off, n, fin, ok)
	}
	s.OnAcked(1500, 0, true)
	if s.OnLost(1500, 0, true) {
		t.Fatal("loss of an acknowledged FIN reported something to send")
	}
	if _, _, _, ok := s.Pending(noConnLimit); ok {
		t.Fatal("pending after the FIN was acknowledged")
	}
}

func TestSendFlowControl(t *testing.T) {
	s := newSend(100)
	s.Queue([][]byte{make([]byte, 300)}, true, nil)
	if off, n, fin, _ := s.Pending(30); off != 0 || n != 30 || fin {
		t.Fatalf("Pending(connCredit 30) = %d+%d %v", off, n, fin)
	}
	if _, _, _, ok := s.Pending(0); ok {
		t.Fatal("new data offered without connection credit")
	}
	_, n, _, _ := s.Pending(noConnLimit)
	if n != 100 {
		t.Fatalf("Pending = %d bytes with a stream limit of 100", n)
	}
	if _, ok := s.DataBlocked(); ok {
		t.Fatal("blocked reported while credit remains")
	}
	if nb := s.OnSent(0, 100, false); nb != 100 {
		t.Fatalf("OnSent new bytes = %d", nb)
	}
	if s.OnSent(100, 10, false) != 0 || s.Sent() != 100 {
		t.Fatal("OnSent accepted bytes beyond the stream limit")
	}
	if _, _, _, ok := s.Pending(noConnLimit); ok {
		t.Fatal("data offered beyond the stream limit")
	}
	// Lost data is resent without connection credit, even when blocked.
	s.OnLost(0, 50, false)
	if off, n, _, ok := s.Pending(0); !ok || off != 0 || n != 50 {
		t.Fatal("retransmission held back by connection credit")
	}
	s.OnSent(0, 50, false)
	lim, ok := s.DataBlocked()
	if !ok || lim != 100 {
		t.Fatalf("DataBlocked = %d, %v", lim, ok)
	}
	if _, ok := s.DataBlocked(); ok {
		t.Fatal("STREAM_DATA_BLOCKED reported twice for one limit")
	}
	s.OnDataBlockedLost(100)
	if _, ok := s.DataBlocked(); !ok {
		t.Fatal("lost STREAM_DATA_BLOCKED not reported again")
	}
	if s.OnMaxStreamData(90) {
		t.Fatal("a lower MAX_STREAM_DATA unblocked the stream")
	}
	if !s.OnMaxStreamData(250) || s.Limit() != 250 {
		t.Fatal("MAX_STREAM_DATA did not unblock")
	}
	if _, n, _, _ := s.Pending(noConnLimit); n != 150 {
		t.Fatalf("Pending after MAX_STREAM_DATA = %d bytes", n)
	}
	s.OnSent(100, 150, false)
	if lim, ok := s.DataBlocked(); !ok || lim != 250 {
		t.Fatal("blocked not reported again at the new limit")
	}
	// The FIN needs no credit: when only the FIN is left it goes at the limit.
	s.OnMaxStreamData(300)
	s.OnSent(250, 50, false)
	if off, n, fin, ok := s.Pending(0); !ok || off != 300 || n != 0 || !fin {
		t.Fatalf("FIN at the limit = %d+%d %v %v", off, n, fin, ok)
	}
}

func TestSendResetCancelsExactlyOnce(t *testing.T) {
	s := newSend(1 << 20)
	s.Queue([][]byte{make([]byte, 100)}, false, 1)
	s.Queue([][]byte{make([]byte, 100)}, false, 2)
	s.Queue([][]byte{make([]byte, 100)}, false, 3)
	frames := sendAll(t, s, 150)
	s.OnAcked(frames[0].off, frames[0].n(), false) // completes send 1
	if err := s.Reset(77); err != nil {
		t.Fatal(err)
	}
	s.Reset(78)
	s.OnStopSending(79)
	for _, f := range frames {
		s.OnAcked(f.off, f.n(), false)
		s.OnLost(f.off, f.n(), false)
	}
	c, canceled := completions(s)
	if len(c) != 3 || c[0] != 1 || canceled[0] || c[1] != 2 || !canceled[1] || c[2] != 3 || !canceled[2] {
		t.Fatalf("completions %v canceled %v; want 1 delivered, 2 and 3 canceled once", c, canceled)
	}
	code, final, ok := s.ResetPending()
	if !ok || code != 77 || final != 300 {
		t.Fatalf("ResetPending = %d %d %v; want 77 300 true", code, final, ok)
	}
	if _, _, _, ok := s.Pending(noConnLimit); ok {
		t.Fatal("STREAM data offered after reset")
	}
	if s.WriteData(make([]byte, 10), 150) != 0 {
		t.Fatal("WriteData after reset")
	}
	s.OnResetSent()
	if _, _, ok := s.ResetPending(); ok {
		t.Fatal("RESET_STREAM pending while in flight")
	}
	s.OnResetLost()
	if _, _, ok := s.ResetPending(); !ok {
		t.Fatal("lost RESET_STREAM not resent")
	}
	s.OnResetSent()
	s.OnResetAcked()
	s.OnResetLost()
	if _, _, ok := s.ResetPending(); ok || s.Phase() != SendResetRecvd {
		t.Fatal("RESET_STREAM resent after acknowledgement")
	}
}

func TestSendResetFinalSizeIsHighestSent(t *testing.T) {
	s := newSend(1 << 20)
	s.Queue([][]byte{make([]byte, 1000)}, true, nil)
	s.OnSent(0, 400, false)
	s.OnLost(0, 400, false)
	s.Reset(1)
	if _, final, _ := s.ResetPending(); final != 400 {
		t.Fatalf("final size %d, want 400 (bytes sent, not queued)", final)
	}
}

func TestSendMisuse(t *testing.T) {
	var none SendState
	if none.Queue(nil, true, nil) != ErrNoSend || none.Reset(0) != ErrNoSend {
		t.Fatal("send part missing not reported")
	}
	if none.OnStopSending(1) {
		t.Fatal("STOP_SENDING reset a missing send part")
	}
	s := newSend(100)
	s.Queue([][]byte{[]byte("x")}, true, 1)
	if s.Queue([][]byte{[]byte("y")}, false, 2) != ErrFinSent {
		t.Fatal("send after FIN accepted")
	}
	if s.Queue(nil, true, 2) != ErrFinSent {
		t.Fatal("second FIN accepted")
	}
	sendAll(t, s, 10)
	if s.Queue(nil, false, 2) != ErrFinSent {
		t.Fatal("send in Data Sent accepted")
	}
	if s.Queued() != 1 {
		t.Fatal("a refused send changed the queue")
	}
	s2 := newSend(100)
	s2.OnStopSending(12)
	if err := s2.Queue(nil, false, nil); err != ErrReset {
		t.Fatalf("send after STOP_SENDING: %v", err)
	}
	if code, ok := s2.PeerStopCode(); !ok || code != 12 {
		t.Fatal("STOP_SENDING code not kept")
	}
	if _, final, ok := s2.ResetPending(); !ok || final != 0 {
		t.Fatal("STOP_SENDING in Ready did not queue RESET_STREAM with final size 0")
	}
	s3 := newSend(100)
	s3.Queue([][]byte{make([]byte, 10)}, false, nil)
	s3.queued = MaxOffset - 5
	if s3.Queue([][]byte{make([]byte, 10)}, false, nil) != ErrTooLong {
		t.Fatal("offset overflow accepted")
	}
	// Bogus OnSent ranges are ignored.
	s4 := newSend(100)
	s4.Queue([][]byte{make([]byte, 50)}, false, nil)
	if s4.OnSent(10, 10, false) != 0 || s4.OnSent(0, 60, false) != 0 || s4.OnSent(0, -1, false) != 0 {
		t.Fatal("OnSent accepted a range that was never offered")
	}
	if s4.Phase() != SendReady || s4.Sent() != 0 {
		t.Fatal("bogus OnSent changed the state")
	}
	s4.OnSent(0, 50, false)
	s4.OnAcked(10, -1, false)
	if s4.OnLost(10, -1, false) || s4.Acked() != 0 {
		t.Fatal("negative lengths were applied")
	}
	if SendResetRecvd.String() != "ResetRecvd" || SendPhase(99).String() != "SendPhase(?)" {
		t.Fatal("SendPhase.String")
	}
}

func TestIdealSendBufferSize(t *testing.T) {
	for _, c := range []struct{ bdp, want uint64 }{
		{0, 128 << 10}, {100 << 10, 128 << 10}, {128 << 10, 256 << 10},
		{1 << 20, 2 << 20}, {1 << 40, 128 << 20},
	} {
		if got := IdealSendBufferSize(c.bdp); got != c.want {
			t.Errorf("IdealSendBufferSize(%d) = %d, want %d", c.bdp, got, c.want)
		}
	}
	s := newSend(0)
	if s.IdealSendBuffer() != DefaultIdealSendBuffer || s.SetIdealSendBuffer(DefaultIdealSendBuffer) {
		t.Fatal("default ideal size")
	}
	if !s.SetIdealSendBuffer(1<<20) || s.IdealSendBuffer() != 1<<20 {
		t.Fatal("SetIdealSendBuffer did not report the change")
	}
}

func TestSendClose(t *testing.T) {
	s := newSend(100)
	s.Queue([][]byte{make([]byte, 10)}, false, 1)
	s.Close()
	c, canceled := completions(s)
	if len(c) != 1 || !canceled[0] {
		t.Fatal("Close did not cancel the pending send")
	}
	if s.Phase() != SendResetRecvd {
		t.Fatalf("phase after Close %v", s.Phase())
	}
	if _, _, ok := s.ResetPending(); ok {
		t.Fatal("Close queued a RESET_STREAM")
	}
}
