package mono

import (
	"testing"
	"time"
)

func TestNowIsSetAndMonotonic(t *testing.T) {
	a := Now()
	b := Now()
	if a.IsZero() || b.IsZero() {
		t.Fatal("Now returned the unset time")
	}
	if b < a {
		t.Fatalf("clock went backwards: %d then %d", a, b)
	}
}

func TestMinTreatsZeroAsUnset(t *testing.T) {
	cases := []struct{ a, b, want Time }{
		{0, 0, 0},
		{0, 5, 5},
		{5, 0, 5},
		{3, 5, 3},
		{5, 3, 3},
	}
	for _, c := range cases {
		if got := Min(c.a, c.b); got != c.want {
			t.Errorf("Min(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	base := Time(1000)
	later := base.Add(time.Millisecond)
	if later.Sub(base) != time.Millisecond {
		t.Fatalf("Sub = %v", later.Sub(base))
	}
	if !base.Before(later) || !later.After(base) {
		t.Fatal("ordering is wrong")
	}
	if later.Until(base) != time.Millisecond || base.Until(later) != 0 {
		t.Fatal("Until is wrong")
	}
}
