package quic

import (
	"errors"
	"strings"
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
	} {
		s := Settings{CongestionControlAlgorithm: Some(c.set)}
		if got := engineSettings(&s).Congestion; got != c.want {
			t.Errorf("%v selects controller %d, want %d", c.set, got, c.want)
		}
	}
}

// TestUnknownCongestionControlRefused checks that an algorithm hquic does
// not implement is refused where it is given, not run as CUBIC.
func TestUnknownCongestionControlRefused(t *testing.T) {
	l, _ := Open()
	r, _ := l.NewRegistration(nil)
	defer r.Close()
	bad := &Settings{CongestionControlAlgorithm: Some(CongestionControlAlgorithm(2))}
	if cfg, err := r.NewConfiguration([]string{"a"}, bad); !errors.Is(err, ErrInvalidParameter) ||
		!strings.Contains(err.Error(), "Settings.CongestionControlAlgorithm") {
		if cfg != nil {
			cfg.Close()
		}
		t.Fatalf("NewConfiguration: err = %v, want ErrInvalidParameter naming the field", err)
	}
	cfg, err := r.NewConfiguration([]string{"a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	if err := cfg.SetSettings(bad); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("Configuration.SetSettings: err = %v, want ErrInvalidParameter", err)
	}
	if got := cfg.Settings().CongestionControlAlgorithm; got.Set {
		t.Fatalf("refused algorithm was applied: %+v", got)
	}
	if err := l.SetSettings(bad); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("Library.SetSettings: err = %v, want ErrInvalidParameter", err)
	}
}
