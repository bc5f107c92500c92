package stream

import (
	"bytes"
	"testing"
)

func TestSendBuffering(t *testing.T) {
	s := new(SendState)
	s.Init(1<<20, true)
	s.SetIdealSendBuffer(10000)
	app := pattern(0, 6000)
	s.Queue([][]byte{app[:3000], app[3000:]}, false, "a")
	c, canceled := completions(s)
	if len(c) != 1 || c[0] != "a" || canceled[0] {
		t.Fatalf("buffered send did not complete at once: %v", c)
	}
	// The application may now reuse its buffer.
	for i := range app {
		app[i] = 0
	}
	big := pattern(6000, 6000) // exceeds the ideal size: referenced
	s.Queue([][]byte{big}, true, "b")
	if c, _ := completions(s); len(c) != 0 {
		t.Fatal("a send beyond the ideal buffer completed before acknowledgement")
	}
	if s.Buffered() != 6000 {
		t.Fatalf("Buffered = %d", s.Buffered())
	}
	frames := sendAll(t, s, 1000)
	got := make([]byte, 12000)
	for _, f := range frames {
		copy(got[f.off:], f.data)
	}
	if !bytes.Equal(got, pattern(0, 12000)) {
		t.Fatal("sent bytes differ from what was queued")
	}
	for _, f := range frames {
		s.OnAcked(f.off, f.n(), f.fin)
	}
	if c, _ := completions(s); len(c) != 1 || c[0] != "b" {
		t.Fatalf("completions after ack %v, want [b] only", c)
	}
	if s.Buffered() != 0 || s.Phase() != SendDataRecvd {
		t.Fatalf("Buffered %d, phase %v at the end", s.Buffered(), s.Phase())
	}
}

func TestSendBufferRingWrapsAndGrows(t *testing.T) {
	s := new(SendState)
	s.Init(1<<30, true)
	s.SetIdealSendBuffer(1 << 20)
	var off uint64
	var inflight []frame
	for round := range 200 {
		n := 1000 + round*37%3000
		s.Queue([][]byte{pattern(off, n)}, false, round)
		off += uint64(n)
		for _, f := range sendAll(t, s, 1200) {
			if !bytes.Equal(f.data, pattern(f.off, f.n())) {
				t.Fatalf("round %d: bytes at %d differ", round, f.off)
			}
			inflight = append(inflight, f)
		}
		// Acknowledge all but the last few frames: the ring wraps.
		for len(inflight) > 3+round%7 {
			f := inflight[0]
			inflight = inflight[1:]
			s.OnAcked(f.off, f.n(), false)
		}
		completions(s)
	}
	if s.Buffered() > 64<<10 {
		t.Fatalf("buffer holds %d bytes", s.Buffered())
	}
}

func TestSendSteadyStateDoesNotAllocate(t *testing.T) {
	for _, buffering := range []bool{false, true} {
		s := new(SendState)
		s.Init(1<<62, buffering)
		app := [][]byte{make([]byte, 3000), make([]byte, 1000)}
		pkt := make([]byte, 1200)
		var ctx any = &struct{}{}
		frames := 0
		step := func() {
			s.Queue(app, false, ctx)
			for {
				off, n, fin, ok := s.Pending(noConnLimit)
				if !ok {
					break
				}
				n = min(n, 1200)
				s.WriteData(pkt[:n], off)
				s.OnSent(off, int(n), fin)
				if frames++; frames%3 == 0 && s.OnLost(off, int(n), fin) {
					continue // retransmitted by the next Pending
				}
				s.OnAcked(off, int(n), fin)
				s.OnAcked(off, int(n), fin) // duplicate
			}
			for {
				if _, _, ok := s.PopCompleted(); !ok {
					break
				}
			}
		}
		for range 100 {
			step()
		}
		if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
			t.Fatalf("buffering=%v: steady-state send allocated %v times per run", buffering, allocs)
		}
	}
}

func BenchmarkSendFrames(b *testing.B) {
	for _, buffering := range []bool{false, true} {
		name := "referenced"
		if buffering {
			name = "buffered"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			s := new(SendState)
			s.Init(1<<62, buffering)
			app := [][]byte{make([]byte, 16<<10), make([]byte, 16<<10)}
			pkt := make([]byte, 1200)
			var ctx any = &struct{}{}
			b.SetBytes(32 << 10)
			for b.Loop() {
				s.Queue(app, false, ctx)
				for {
					off, n, fin, ok := s.Pending(noConnLimit)
					if !ok {
						break
					}
					n = min(n, 1200)
					s.WriteData(pkt[:n], off)
					s.OnSent(off, int(n), fin)
					s.OnAcked(off, int(n), fin)
				}
				for {
					if _, _, ok := s.PopCompleted(); !ok {
						break
					}
				}
			}
		})
	}
}
