package udp

import (
	"sync/atomic"
	"testing"
	"time"
)

// Throughput over loopback, one sender (the benchmark goroutine) and one
// reader goroutine. An operation is 64 datagrams of 1,452 bytes. Gbit/s is
// the payload the reader received per second of the run.
//
// The sender keeps at most a window of bytes unread, as a transport's
// congestion window would; without it the sender outruns the reader and
// most datagrams die in the full receive buffer, which measures the drop
// path rather than the datapath. Datagrams lost anyway (the sender gives up
// waiting for them after a second) show up in loss%.
//
//	go test -run='^$' -bench=. -benchtime=3s ./internal/udp/

const (
	benchSize  = 1452
	benchPerOp = 64
)

func BenchmarkThroughputSendto(b *testing.B) {
	one := Options{DisableBatch: true, DisableGSO: true, DisableGRO: true}
	benchThroughput(b, one, one, false, MTUClass)
}

func BenchmarkThroughputSendmmsg(b *testing.B) {
	batch := Options{DisableGSO: true, DisableGRO: true}
	benchThroughput(b, batch, batch, false, MTUClass)
}

func BenchmarkThroughputGSO(b *testing.B) {
	benchThroughput(b, Options{DisableGRO: true}, Options{DisableGRO: true}, true, MTUClass)
}

func BenchmarkThroughputGSOGRO(b *testing.B) {
	benchThroughput(b, Options{}, Options{}, true, GSOClass)
}

func benchThroughput(b *testing.B, send, recv Options, gso bool, bufSize int) {
	a := listen(b, "udp4", "127.0.0.1:0", send)
	r := listen(b, "udp4", "127.0.0.1:0", recv)
	if gso && !a.Capabilities().GSO {
		b.Skip("kernel without UDP_SEGMENT")
	}
	if bufSize == GSOClass && !r.Capabilities().GRO {
		b.Skip("kernel without UDP_GRO")
	}
	dst := target(r, lo4)
	var out []Msg
	if gso {
		// As many segments per message as one GSO send takes.
		per := maxGSOPayload / benchSize
		for left := benchPerOp; left > 0; left -= per {
			k := min(left, per)
			out = append(out, Msg{Buf: make([]byte, k*benchSize), SegSize: benchSize, Addr: dst})
		}
	} else {
		for range benchPerOp {
			out = append(out, Msg{Buf: make([]byte, benchSize), Addr: dst})
		}
	}

	// At most a quarter of the receive buffer in flight, which the
	// kernel's per-datagram overhead cannot overflow.
	window := min(int64(1<<20), int64(r.Capabilities().RecvBuffer/4))
	var received atomic.Int64
	var waiting atomic.Bool
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		in := make([]Msg, 64)
		for i := range in {
			in[i].Buf = make([]byte, bufSize)
		}
		for {
			n, err := r.ReadBatch(in)
			if err != nil {
				return
			}
			sum := 0
			for _, m := range in[:n] {
				sum += len(m.Buf)
			}
			received.Add(int64(sum))
			if waiting.Load() {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()

	b.SetBytes(benchPerOp * benchSize)
	b.ReportAllocs()
	giveUp := time.NewTimer(time.Hour)
	sent, lost := int64(0), int64(0)
	for b.Loop() {
		for sent-lost-received.Load() > window {
			waiting.Store(true)
			if sent-lost-received.Load() > window {
				giveUp.Reset(time.Second)
				select {
				case <-wake:
				case <-giveUp.C:
					lost = sent - received.Load()
				}
				giveUp.Stop()
			}
			waiting.Store(false)
		}
		if _, err := a.WriteBatch(out); err != nil {
			b.Fatal(err)
		}
		sent += benchPerOp * benchSize
	}
	got := received.Load()
	secs := b.Elapsed().Seconds()
	r.Close()
	<-done
	b.ReportMetric(float64(got)*8/secs/1e9, "Gbit/s")
	b.ReportMetric(100*float64(lost)/float64(sent), "loss%")
}
