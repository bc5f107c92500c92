package quic

import (
	"testing"

	"github.com/hquic/quic/internal/recovery"
)

func TestCongestionControlAlgorithmSelectsController(t *testing.T) {
	for _, c := range []struct {
		set  CongestionControlAlgorithm
		want recovery.Algorithm
	}{
		{CongestionControlCubic, recovery.Cubic},
		{CongestionControlBBR, recovery.BBR},
		{CongestionControlNewReno, recovery.NewReno},
		{CongestionControlAlgorithm(77), recovery.Cubic},
	} {
		s := Settings{CongestionControlAlgorithm: Some(c.set)}
		if got := engineSettings(&s).Congestion; got != c.want {
			t.Errorf("%v selects controller %d, want %d", c.set, got, c.want)
		}
	}
}
