package conn

import (
	"bytes"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/qlog/schema"
)

// traceFile is an in-memory qlog file.
type traceFile struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (f *traceFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.b.Write(p)
}

func (f *traceFile) Close() error { return nil }

// traces keeps the qlog traces of a pair's connections, by side.
type traces struct {
	files  [2]*traceFile
	traces [2]*qlog.Trace
}

func withTraces(tr *traces) pairOption {
	return func(p *pair, cc *Config, _ *tls.Config) {
		cc.OpenTrace = tr.open
		p.serverOpenTrace = tr.open
	}
}

func (tr *traces) open(odcid []byte, server bool) *qlog.Trace {
	i := b2u(server)
	tr.files[i] = &traceFile{}
	// A buffer larger than any test's trace: nothing is dropped however
	// the writer goroutine is scheduled.
	tr.traces[i] = qlog.New(qlog.Options{Out: tr.files[i], Server: server, ODCID: odcid, Buffer: 1 << 30})
	return tr.traces[i]
}

// checked waits until a side's trace is written out, after its connection
// terminated, and checks it against the schema.
func (tr *traces) checked(t *testing.T, server bool) *schema.File {
	t.Helper()
	i := b2u(server)
	if tr.traces[i] == nil {
		t.Fatalf("no trace for side %d", i)
	}
	<-tr.traces[i].Done()
	f, err := schema.Check(tr.files[i].b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.traces[i].Dropped(); got != 0 {
		t.Errorf("%d events dropped", got)
	}
	return f
}

// closePair closes the client and runs until both connections are done.
func closePair(t *testing.T, p *pair) {
	t.Helper()
	p.client.c.Shutdown(false, 0)
	if !p.runUntil(time.Minute, func() bool { return p.client.closed && p.server.closed }) {
		t.Fatalf("connections did not close: client %v, server %v", tail(p.client.names()), tail(p.server.names()))
	}
}

func TestTracedEchoPassesTheSchema(t *testing.T) {
	var tr traces
	p := newPair(t, withTraces(&tr))
	p.server.echo = true
	p.handshake()
	data := payload(1, 200<<10)
	s := startStream(p, data, true, nil)
	if !p.runUntil(time.Minute, func() bool { return len(p.client.received[s.ID()]) == len(data) }) {
		t.Fatalf("echo incomplete: %d of %d bytes", len(p.client.received[s.ID()]), len(data))
	}
	closePair(t, p)
	for _, server := range []bool{false, true} {
		f := tr.checked(t, server)
		for _, name := range []string{qlog.ConnectionStarted, qlog.VersionInformation, qlog.ALPNInformation,
			qlog.ParametersSet, qlog.PacketSent, qlog.PacketReceived, qlog.KeyUpdated, qlog.KeyDiscarded,
			qlog.RecoveryParametersSet, qlog.RecoveryMetricsUpdated, qlog.CongestionStateUpdated, qlog.TimerUpdated,
			qlog.StreamStateUpdated, qlog.ConnectionStateUpdated, qlog.ConnectionClosed, qlog.MTUUpdated} {
			if f.Counts[name] == 0 {
				t.Errorf("server=%v: no %s event; have %v", server, name, f.Counts)
			}
		}
		if want := map[bool]string{false: "client", true: "server"}[server]; f.VantagePoint != want {
			t.Errorf("vantage point %q, want %q", f.VantagePoint, want)
		}
	}
}
