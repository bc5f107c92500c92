package recovery

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// t0 is the start of every synthetic clock: far from zero so that
// "now - delay" never reaches the unset time.
const t0 = mono.Time(time.Hour)

// event is one Handler call.
type event struct {
	lost    bool // OnPacketLost (else OnPacketAcked)
	space   Space
	pn      int64
	wasLost bool
}

func (e event) String() string {
	kind := "acked"
	if e.lost {
		kind = "lost"
	}
	if e.wasLost {
		kind += "(spurious)"
	}
	return fmt.Sprintf("%v %v %d", kind, e.space, e.pn)
}

// recorder is a Handler that logs calls.
type recorder struct{ events []event }

func (r *recorder) OnPacketAcked(p *Sent) {
	r.events = append(r.events, event{space: p.Space, pn: p.PN, wasLost: p.WasLost()})
}

func (r *recorder) OnPacketLost(p *Sent) {
	r.events = append(r.events, event{lost: true, space: p.Space, pn: p.PN})
}

// lossTest drives a State with a synthetic clock, in the style of
// test.send / test.ack / test.advance / test.want.
type lossTest struct {
	t   *testing.T
	l   State
	now mono.Time
	rec recorder
	// defaults for send
	size int
}

func newLossTest(t *testing.T, cfg Config, isServer bool) *lossTest {
	t.Helper()
	tt := &lossTest{t: t, now: t0, size: 1200}
	tt.l.Init(cfg, isServer)
	return tt
}

// advance moves the clock forward.
func (tt *lossTest) advance(d time.Duration) { tt.now = tt.now.Add(d) }

// send sends ack-eliciting, in-flight packets of the default size.
func (tt *lossTest) send(space Space, pns ...int64) {
	tt.t.Helper()
	for _, pn := range pns {
		tt.sendPacket(Sent{PN: pn, Space: space, Size: tt.size, AckEliciting: true, InFlight: true})
	}
}

// sendPacket sends a packet described by proto.
func (tt *lossTest) sendPacket(proto Sent) {
	tt.t.Helper()
	p := tt.l.NewSent()
	frames := p.Frames
	*p = proto
	p.Frames = append(frames, byte(proto.PN))
	tt.l.OnPacketSent(tt.now, p)
}

// rng builds an ACK range.
func rng(lo, hi int64) AckRange { return AckRange{Smallest: lo, Largest: hi} }

// ack delivers an ACK frame with no ack delay and no ECN counts.
func (tt *lossTest) ack(space Space, ranges ...AckRange) {
	tt.t.Helper()
	tt.ackFull(space, 0, nil, ranges...)
}

// ackFull delivers an ACK frame; ranges may be given in any order.
func (tt *lossTest) ackFull(space Space, delay time.Duration, ecn *ECNCounts, ranges ...AckRange) {
	tt.t.Helper()
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b AckRange) int { return int(b.Largest - a.Largest) })
	if err := tt.l.OnAckReceived(tt.now, space, rs, delay, ecn, &tt.rec); err != nil {
		tt.t.Fatalf("OnAckReceived(%v, %v): %v", space, rs, err)
	}
}

// advanceToTimer moves the clock to the loss detection deadline and fires it.
func (tt *lossTest) advanceToTimer() {
	tt.t.Helper()
	d := tt.l.LossDetectionDeadline()
	if d == 0 {
		tt.t.Fatalf("advanceToTimer: no timer armed")
	}
	if d > tt.now {
		tt.now = d
	}
	tt.l.OnLossDetectionTimeout(tt.now, &tt.rec)
}

// wantEvents checks the Handler calls since the last check.
func (tt *lossTest) wantEvents(why string, want ...event) {
	tt.t.Helper()
	got := tt.rec.events
	tt.rec.events = nil
	if !slices.Equal(got, want) {
		tt.t.Errorf("%s: events\n got %v\nwant %v", why, got, want)
	}
}

func acked(space Space, pns ...int64) []event {
	var es []event
	for _, pn := range pns {
		es = append(es, event{space: space, pn: pn})
	}
	return es
}

func lost(space Space, pns ...int64) []event {
	var es []event
	for _, pn := range pns {
		es = append(es, event{lost: true, space: space, pn: pn})
	}
	return es
}

// wantVar compares one named value.
func wantVar[T comparable](t *testing.T, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

// wantDeadline checks the loss detection deadline relative to t0.
func (tt *lossTest) wantDeadline(why string, want time.Duration) {
	tt.t.Helper()
	got := tt.l.LossDetectionDeadline()
	if want < 0 {
		if got != 0 {
			tt.t.Errorf("%s: deadline = t0+%v, want none", why, got.Sub(t0))
		}
		return
	}
	if got != t0.Add(want) {
		if got == 0 {
			tt.t.Errorf("%s: deadline = none, want t0+%v", why, want)
			return
		}
		tt.t.Errorf("%s: deadline = t0+%v, want t0+%v", why, got.Sub(t0), want)
	}
}

// since returns the clock relative to t0.
func (tt *lossTest) since() time.Duration { return tt.now.Sub(t0) }

// roundTrip waits 1µs, sends as many full-size packets as the congestion
// window allows in space App, waits rtt and acknowledges all of them in one
// ACK frame, except the packet numbers in drop (declared lost when at least
// three later packets are acknowledged). It returns the number sent.
func (tt *lossTest) roundTrip(next *int64, rtt time.Duration, drop ...int64) int {
	tt.t.Helper()
	tt.advance(time.Microsecond)
	first := *next
	n := tt.l.CongestionWindowAvailable() / tt.size
	for range n {
		tt.send(SpaceApp, *next)
		*next++
	}
	tt.advance(rtt)
	if n == 0 {
		return 0
	}
	var rs []AckRange
	lo := first
	for pn := first; pn < *next; pn++ {
		if slices.Contains(drop, pn) {
			if pn > lo {
				rs = append(rs, rng(lo, pn-1))
			}
			lo = pn + 1
		}
	}
	if lo < *next {
		rs = append(rs, rng(lo, *next-1))
	}
	tt.ack(SpaceApp, rs...)
	tt.rec.events = nil
	return n
}
