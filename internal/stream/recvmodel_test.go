package stream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// recvModel is a naive reference for RecvState: a byte map of what arrived
// first at each offset, the final-size rules, and the application's view
// (consumed prefix, held slices of a pending RECEIVE).
type recvModel struct {
	r         *RecvState
	got       []int16 // first byte received at each offset, -1 if none
	consumed  uint64
	highest   uint64
	final     uint64
	finKnown  bool
	reset     bool
	grown     uint64 // sum of grown (connection received accounting)
	freed     uint64 // sum of freed
	delivered []byte // everything consumed, in order
	held      [][]byte
	heldWant  [][]byte
}

func newRecvModel(window uint64) *recvModel {
	r := new(RecvState)
	r.Init(window, 4*window, 4096)
	return &recvModel{r: r}
}

// expectErr returns the transport error code OnData must report, or 0.
func (m *recvModel) expectErr(off, end uint64, fin bool) uint64 {
	if m.finKnown {
		if end > m.final || (fin && end != m.final) {
			return FinalSizeError
		}
	} else if fin && end < m.highest {
		return FinalSizeError
	}
	if end > m.r.Limit() {
		return FlowControlError
	}
	return 0
}

func (m *recvModel) data(t testing.TB, off uint64, p []byte, fin bool) {
	end := off + uint64(len(p))
	want := m.expectErr(off, end, fin)
	grown, freed, err := m.r.OnData(off, p, fin)
	if want != 0 {
		var e *Error
		if !asError(err, &e) || e.Code != want {
			t.Fatalf("OnData(%d, %d, %v) = %v, want code 0x%x", off, len(p), fin, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("OnData(%d, %d, %v) = %v, want success", off, len(p), fin, err)
	}
	m.grown += grown
	m.freed += freed
	if m.reset {
		return
	}
	for uint64(len(m.got)) < end {
		m.got = append(m.got, -1)
	}
	for i, b := range p {
		if o := off + uint64(i); m.got[o] < 0 {
			m.got[o] = int16(b)
		}
	}
	m.highest = max(m.highest, end)
	if fin {
		m.finKnown, m.final = true, end
	}
	if m.grown != m.highest {
		t.Fatalf("sum of grown %d != highest %d", m.grown, m.highest)
	}
}

// contiguous returns the model's readable bytes.
func (m *recvModel) contiguous() []byte {
	var out []byte
	for o := m.consumed; o < uint64(len(m.got)) && m.got[o] >= 0; o++ {
		out = append(out, byte(m.got[o]))
	}
	return out
}

// read checks Readable against the model and consumes k bytes of it
// (k clipped), keeping the rest as held by a pending RECEIVE.
func (m *recvModel) read(t testing.TB, k uint64) {
	off, bufs, fin := m.r.Readable()
	want := m.contiguous()
	if m.reset {
		want = nil
	}
	if len(bufs) > 2 {
		t.Fatalf("Readable returned %d slices", len(bufs))
	}
	got := joined(bufs)
	if !m.reset && off != m.consumed {
		t.Fatalf("Readable offset %d, model %d", off, m.consumed)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Readable at %d: %d bytes differ from model's %d", off, len(got), len(want))
	}
	wantFin := !m.reset && m.finKnown && m.consumed+uint64(len(want)) == m.final && m.r.Phase() != RecvDataRead
	if fin != wantFin {
		t.Fatalf("Readable fin %v, model %v", fin, wantFin)
	}
	if m.reset {
		return
	}
	if m.r.Phase() == RecvDataRead {
		return
	}
	k = min(k, uint64(len(got)))
	if err := m.r.Consume(1, k, testRTT); err != nil {
		t.Fatalf("Consume(%d): %v", k, err)
	}
	m.delivered = append(m.delivered, got[:k]...)
	m.consumed += k
	// The application keeps the unconsumed rest (pending receive).
	m.held, m.heldWant = m.held[:0], m.heldWant[:0]
	skip := int(k)
	for _, b := range bufs {
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		m.held = append(m.held, b[skip:])
		m.heldWant = append(m.heldWant, bytes.Clone(b[skip:]))
		skip = 0
	}
	m.r.MaxStreamData(1)
}

// checkHeld verifies that bytes indicated but not consumed never changed.
func (m *recvModel) checkHeld(t testing.TB) {
	for i := range m.held {
		if !bytes.Equal(m.held[i], m.heldWant[i]) {
			t.Fatal("indicated, unconsumed bytes changed in memory")
		}
	}
}

func (m *recvModel) doReset(t testing.TB, finalSize uint64) {
	want := uint64(0)
	switch {
	case m.finKnown && finalSize != m.final, finalSize < m.highest:
		want = FinalSizeError
	case finalSize > m.r.Limit():
		want = FlowControlError
	}
	grown, freed, err := m.r.OnReset(3, finalSize)
	if want != 0 {
		var e *Error
		if !asError(err, &e) || e.Code != want {
			t.Fatalf("OnReset(%d) = %v, want 0x%x", finalSize, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("OnReset(%d): %v", finalSize, err)
	}
	m.grown += grown
	m.freed += freed
	if m.r.Phase() == RecvResetRecvd {
		m.reset = true
		m.highest, m.finKnown, m.final = finalSize, true, finalSize
		if m.consumed+m.freed != finalSize {
			t.Fatalf("consumed %d + freed %d != final size %d", m.consumed, m.freed, finalSize)
		}
	}
	if m.grown != max(m.highest, finalSize) {
		t.Fatalf("sum of grown %d, highest %d", m.grown, m.highest)
	}
}

func TestRecvReassemblyMatchesModel(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			total := uint64(1 + rng.IntN(30000))
			content := make([]byte, total)
			for i := range content {
				content[i] = byte(rng.Uint32())
			}
			m := newRecvModel(uint64(4096 << rng.IntN(3)))
			finSent := false
			for step := 0; step < 3000 && m.consumed < total; step++ {
				switch rng.IntN(8) {
				case 0, 1, 2, 3, 4: // a frame within the limit, maybe a duplicate
					lo := m.consumed - min(m.consumed, 2000)
					hi := min(total, m.r.Limit())
					off := lo + rng.Uint64N(hi-lo+1)
					end := min(hi, off+rng.Uint64N(1500))
					p := bytes.Clone(content[off:end])
					if rng.IntN(10) == 0 { // hostile retransmission
						for i := range p {
							p[i] ^= 0x5a
						}
					}
					fin := end == total && rng.IntN(2) == 0
					finSent = finSent || fin
					m.data(t, off, p, fin)
				case 5, 6:
					m.read(t, rng.Uint64N(3000))
				case 7: // a violation: must be rejected without effect
					off := m.r.Limit() - rng.Uint64N(10)
					m.data(t, off, make([]byte, 11+rng.IntN(100)), false)
				}
				m.checkHeld(t)
			}
			// Finish: fill every gap in order, with the FIN.
			for m.consumed < total {
				end := min(total, m.r.Limit(), m.consumed+1500)
				m.data(t, m.consumed, content[m.consumed:end], end == total)
				m.checkHeld(t)
				m.read(t, end-m.consumed)
			}
			if !finSent {
				m.data(t, total, nil, true)
			}
			m.read(t, 0)
			if m.r.Phase() != RecvDataRead {
				t.Fatalf("phase %v at the end", m.r.Phase())
			}
			if len(m.delivered) != int(total) {
				t.Fatalf("delivered %d of %d bytes", len(m.delivered), total)
			}
			// The delivered bytes are exactly the first-arrived bytes:
			// corrupted retransmissions of bytes already received never
			// replaced them, and each byte was delivered once.
			if m.grown != total {
				t.Fatalf("sum of grown %d != %d", m.grown, total)
			}
		})
	}
}

func FuzzRecvBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 1, 20, 0, 0, 0, 5, 1, 0, 0})
	f.Add([]byte{0, 0, 50, 200, 0, 0, 0, 0, 0, 60, 1, 255, 1, 100})
	f.Add([]byte{0, 16, 0, 255, 0, 2, 0, 0, 200, 1, 10, 3, 0, 8, 0})
	f.Add([]byte{4, 0, 0, 0, 255, 4, 1, 255, 0, 0, 16, 0, 1, 0, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		m := newRecvModel(4096)
		next := func() uint64 {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return uint64(b)
		}
		for len(ops) > 0 {
			switch op := next(); op % 5 {
			case 0, 1: // data: offset (2 bytes, scaled), length, flags
				off := (next()<<8 | next()) % 9000
				n := next()*8 + next()%8
				flags := next()
				p := pattern(off, int(n))
				if flags&2 != 0 {
					for i := range p {
						p[i] ^= byte(flags)
					}
				}
				m.data(t, off, p, flags&1 != 0)
			case 2, 3:
				m.read(t, next()*16+next()%16)
			case 4:
				m.doReset(t, (next()<<8|next())%9000)
			}
			m.checkHeld(t)
		}
		if !m.reset {
			m.read(t, 1<<20)
			if m.finKnown && m.consumed == m.final && m.r.Phase() != RecvDataRead {
				t.Fatalf("all data consumed but phase %v", m.r.Phase())
			}
		}
	})
}
