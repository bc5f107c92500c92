package conn

import (
	"crypto/tls"
	"io"
	"testing"

	"github.com/hquic/quic/internal/qlog"
)

// The traced benchmarks are BenchmarkBulkTransfer and
// BenchmarkRequestResponse with both connections traced to a writer that
// discards: they measure what tracing costs the connections (encoding and
// hand-off, and the writer goroutine's CPU in cpu-ns/op), not the disk.

type discardFile struct{ io.Writer }

func (discardFile) Close() error { return nil }

// withDiscardTraces traces both connections of a pair into discardFiles
// and collects the traces.
func withDiscardTraces(all *[]*qlog.Trace) pairOption {
	open := func(odcid []byte, server bool) *qlog.Trace {
		t := qlog.New(qlog.Options{Out: discardFile{io.Discard}, Server: server, ODCID: odcid})
		*all = append(*all, t)
		return t
	}
	return func(p *pair, cc *Config, _ *tls.Config) {
		cc.OpenTrace = open
		p.serverOpenTrace = open
	}
}

func dropped(all []*qlog.Trace) uint64 {
	var n uint64
	for _, t := range all {
		n += t.Dropped()
	}
	return n
}

func BenchmarkBulkTransferTraced(b *testing.B) {
	var all []*qlog.Trace
	bp := newBulkPair(b, withDiscardTraces(&all))
	bp.warm(b)
	sent := bp.up.datagrams
	drops := dropped(all)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for bp.up.datagrams-sent < b.N {
		bp.round()
	}
	cpu = processCPU() - cpu
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(dropped(all)-drops)/float64(b.N), "dropped-events/op")
	for _, t := range all {
		t.Close()
	}
}

func BenchmarkRequestResponseTraced(b *testing.B) {
	var all []*qlog.Trace
	benchRequestResponse(b, withDiscardTraces(&all))
	b.ReportMetric(float64(dropped(all))/float64(b.N), "dropped-events/op")
	for _, t := range all {
		t.Close()
	}
}
