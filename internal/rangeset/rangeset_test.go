package rangeset

import (
	"math/rand/v2"
	"testing"
)

// model is a bitmap reference implementation over [0, modelSize).
type model [modelSize]bool

const modelSize = 256

func (m *model) set(start, end int64, v bool) {
	for i := max(start, 0); i < min(end, modelSize); i++ {
		m[i] = v
	}
}

func checkAgainstModel(t *testing.T, s *Set[int64], m *model) {
	t.Helper()
	var got model
	for i := 0; i < s.Len(); i++ {
		r := s.At(i)
		if r.Start >= r.End {
			t.Fatalf("empty range %v at %d", r, i)
		}
		if i > 0 && s.At(i-1).End >= r.Start {
			t.Fatalf("ranges %v and %v overlap or touch", s.At(i-1), r)
		}
		got.set(r.Start, r.End, true)
	}
	if got != *m {
		t.Fatalf("set %v disagrees with model", s.r)
	}
	for v := int64(0); v < modelSize; v++ {
		if s.Contains(v) != m[v] {
			t.Fatalf("Contains(%d) = %v, model says %v", v, s.Contains(v), m[v])
		}
	}
}

func TestRandomOperationsMatchModel(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		var s Set[int64]
		var m model
		for op := 0; op < 200; op++ {
			a := rng.Int64N(modelSize)
			b := a + rng.Int64N(20)
			switch rng.IntN(10) {
			case 0, 1, 2, 3, 4, 5:
				s.Add(a, b)
				m.set(a, b, true)
			case 6, 7:
				s.Remove(a, b)
				m.set(a, b, false)
			case 8:
				s.RemoveBelow(a)
				m.set(0, a, false)
			case 9:
				if s.Len() > 0 {
					r := s.At(0)
					s.RemoveFirst()
					m.set(r.Start, r.End, false)
				}
			}
			checkAgainstModel(t, &s, &m)
		}
	}
}

func TestContainsRange(t *testing.T) {
	var s Set[uint64]
	s.Add(10, 20)
	s.Add(30, 40)
	for _, c := range []struct {
		a, b uint64
		want bool
	}{
		{10, 20, true}, {12, 15, true}, {5, 15, false}, {15, 25, false},
		{20, 30, false}, {30, 40, true}, {35, 35, true},
	} {
		if got := s.ContainsRange(c.a, c.b); got != c.want {
			t.Errorf("ContainsRange(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if s.Min() != 10 || s.Max() != 40 {
		t.Errorf("Min, Max = %d, %d", s.Min(), s.Max())
	}
}

func TestInOrderAddDoesNotAllocate(t *testing.T) {
	var s Set[int64]
	s.Add(0, 1)
	s.Add(5, 6)
	n := int64(10)
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(n, n+1) // extends the last range or appends once
		s.Add(n+1, n+2)
		n += 2
	})
	if allocs != 0 {
		t.Fatalf("in-order Add allocated %v times per run", allocs)
	}
}

func FuzzRangeset(f *testing.F) {
	f.Add([]byte{0, 10, 20, 1, 12, 15, 2, 5})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var s Set[int64]
		var m model
		for len(ops) >= 3 {
			a, b := int64(ops[1]), int64(ops[1])+int64(ops[2]%32)
			switch ops[0] % 4 {
			case 0, 1:
				s.Add(a, b)
				m.set(a, b, true)
			case 2:
				s.Remove(a, b)
				m.set(a, b, false)
			case 3:
				s.RemoveBelow(a)
				m.set(0, a, false)
			}
			ops = ops[3:]
		}
		checkAgainstModel(t, &s, &m)
	})
}
