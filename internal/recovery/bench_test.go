package recovery

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

type nopHandler struct{ acked, lost int }

func (h *nopHandler) OnPacketAcked(*Sent) { h.acked++ }
func (h *nopHandler) OnPacketLost(*Sent)  { h.lost++ }

// window100 sends 100 packets and acknowledges them, either with four ACK
// frames of one range each (inOrder) or with one frame of four ranges that
// leaves three holes (declared lost) followed by a frame that covers them
// (spurious losses).
type window100 struct {
	l      State
	h      nopHandler
	now    mono.Time
	next   int64
	ranges [4]AckRange
}

func newWindow100(algo Algorithm) *window100 {
	w := &window100{now: t0}
	w.l.Init(Config{InitialRTT: 20 * time.Millisecond, Pacing: true, HyStart: true, ECN: true, Algorithm: algo}, true)
	w.l.OnHandshakeConfirmed()
	return w
}

func (w *window100) send() int64 {
	first := w.next
	for range 100 {
		p := w.l.NewSent()
		p.PN = w.next
		p.Space = SpaceApp
		p.Size = 1200
		p.AckEliciting = true
		p.InFlight = true
		p.ECT = w.l.ECNMarking()
		p.Frames = append(p.Frames, 0x08, 0x04, 0x00, 0x10, 0x05, 0xdc)
		w.l.OnPacketSent(w.now, p)
		w.next++
		w.now = w.now.Add(10 * time.Microsecond)
	}
	w.now = w.now.Add(20 * time.Millisecond)
	return first
}

func (w *window100) mustAck(ranges []AckRange) {
	if err := w.l.OnAckReceived(w.now, SpaceApp, ranges, time.Millisecond, nil, &w.h); err != nil {
		panic(err)
	}
}

func (w *window100) inOrder() {
	first := w.send()
	for i := range int64(4) {
		w.ranges[0] = AckRange{Smallest: first + 25*i, Largest: first + 25*i + 24}
		w.mustAck(w.ranges[:1])
		w.now = w.now.Add(100 * time.Microsecond)
	}
}

func (w *window100) withHoles() {
	first := w.send()
	w.ranges = [4]AckRange{
		{first + 76, first + 99}, {first + 51, first + 74},
		{first + 26, first + 49}, {first, first + 24},
	}
	w.mustAck(w.ranges[:])
	w.now = w.now.Add(time.Millisecond)
	w.ranges[0] = AckRange{first, first + 99}
	w.mustAck(w.ranges[:1])
}

func BenchmarkSendAck100(b *testing.B) {
	for _, bc := range []struct {
		name string
		run  func(*window100)
	}{
		{"InOrder", (*window100).inOrder},
		{"HolesThenSpurious", (*window100).withHoles},
	} {
		for _, algo := range []Algorithm{Cubic, BBR} {
			b.Run(bc.name+"/"+algoName[algo], func(b *testing.B) {
				w := newWindow100(algo)
				for range 10 {
					bc.run(w)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					bc.run(w)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/packet")
			})
		}
	}
}

var algoName = map[Algorithm]string{Cubic: "CUBIC", NewReno: "NewReno", BBR: "BBR"}

func TestSendAckAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(*window100)
	}{
		{"InOrder", (*window100).inOrder},
		{"HolesThenSpurious", (*window100).withHoles},
	} {
		for _, algo := range []Algorithm{Cubic, NewReno, BBR} {
			t.Run(tc.name+"/"+algoName[algo], func(t *testing.T) {
				w := newWindow100(algo)
				for range 10 {
					tc.run(w)
				}
				if n := testing.AllocsPerRun(100, func() { tc.run(w) }); n != 0 {
					t.Errorf("%v allocs per 100-packet window, want 0", n)
				}
				if tc.name == "HolesThenSpurious" && w.l.Stats().PacketsSpuriouslyLost == 0 {
					t.Errorf("no spurious loss exercised")
				}
				w.l.NextSendTime(w.now)
				w.l.BurstPackets(w.now)
			})
		}
	}
}

// ackTrackerRound receives 100 packets with every tenth pair swapped,
// reads the ranges as an ACK writer would, and prunes on ACK-of-ACK.
func ackTrackerRound(a *AckTracker, now *mono.Time, next *int64) (sum int64) {
	base := *next
	for i := range int64(100) {
		pn := base + i
		switch i % 10 {
		case 3:
			pn++
		case 4:
			pn--
		}
		if !a.IsDuplicate(pn) {
			a.OnPacketReceived(*now, pn, true, ECNECT0)
		}
		*now = now.Add(10 * time.Microsecond)
		if a.ShouldSendAck(*now) {
			rs := a.Ranges()
			for k := rs.Len() - 1; k >= 0; k-- {
				sum += rs.At(k).End
			}
			a.OnAckSent(*now)
		}
	}
	*next += 100
	a.OnAckAcked(*next - 10)
	return sum
}

func BenchmarkAckTracker100(b *testing.B) {
	var a AckTracker
	a.Init(SpaceApp, 25*time.Millisecond, 0)
	now, next := t0, int64(0)
	for range 10 {
		ackTrackerRound(&a, &now, &next)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ackTrackerRound(&a, &now, &next)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/packet")
}

func TestAckTrackerAllocs(t *testing.T) {
	var a AckTracker
	a.Init(SpaceApp, 25*time.Millisecond, 0)
	now, next := t0, int64(0)
	for range 10 {
		ackTrackerRound(&a, &now, &next)
	}
	if n := testing.AllocsPerRun(100, func() { ackTrackerRound(&a, &now, &next) }); n != 0 {
		t.Errorf("%v allocs per 100 packets, want 0", n)
	}
}
