package exec

import (
	"testing"

	"github.com/hquic/quic/internal/mono"
)

// BenchmarkWakeRunRoundTrip measures one Wake followed by the Run it causes,
// signalled back over a channel.
func BenchmarkWakeRunRoundTrip(b *testing.B) {
	p := NewPool(LowLatency, 1)
	defer p.Close()
	ran := make(chan struct{}, 1)
	h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
		ran <- struct{}{}
		return false, 0
	}), 0)
	defer h.Unregister()
	b.ReportAllocs()
	for b.Loop() {
		h.Wake()
		<-ran
	}
}

// BenchmarkWakeCoalesced measures a Wake on a task that is already running
// and marked woken: the common case when many datagrams arrive in a burst.
func BenchmarkWakeCoalesced(b *testing.B) {
	p := NewPool(LowLatency, 1)
	defer p.Close()
	entered := make(chan struct{})
	release := make(chan struct{})
	h := p.Register(funcTask(func(mono.Time) (bool, mono.Time) {
		select {
		case entered <- struct{}{}:
			<-release
		default:
		}
		return false, 0
	}), 0)
	defer h.Unregister()
	h.Wake()
	<-entered
	b.ReportAllocs()
	for b.Loop() {
		h.Wake()
	}
	close(release)
}
