package quic

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hquic/quic/internal/qlog/schema"
)

// recordingTracer counts the events it receives per connection and side.
type recordingTracer struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *recordingTracer) TraceEvent(ev *TraceEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	side := "_client"
	if ev.Server {
		side = "_server"
	}
	if !json.Valid(ev.Data) || !strings.Contains(ev.Name, ":") {
		r.counts["invalid"]++
	}
	r.counts[ev.Connection+side]++
}

func TestQlogDirAndTracerRecordEveryConnection(t *testing.T) {
	dir := t.TempDir()
	var rec recordingTracer
	var stats Statistics
	// Registered first, this runs after the e2e's cleanup has closed the
	// registration, which waits until every trace is written out.
	t.Cleanup(func() {
		names, err := filepath.Glob(filepath.Join(dir, "*.sqlog"))
		if err != nil || len(names) != 2 {
			t.Fatalf("qlog files %v (%v), want one per side", names, err)
		}
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := schema.Check(b)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(name), err)
			}
			base := strings.TrimSuffix(filepath.Base(name), ".sqlog")
			if want := f.GroupID + "_" + f.VantagePoint; base != want {
				t.Errorf("file %s holds the trace of %s", base, want)
			}
			if f.Counts["quic:packet_sent"] == 0 || f.Counts["quic:connection_closed"] != 1 {
				t.Errorf("%s: events %v", base, f.Counts)
			}
			if got := rec.counts[base]; got != len(f.Events) {
				t.Errorf("%s: the tracer got %d events, the file has %d", base, got, len(f.Events))
			}
		}
		if rec.counts["invalid"] != 0 {
			t.Errorf("the tracer got %d malformed events", rec.counts["invalid"])
		}
		if stats.TraceEventsDropped != 0 {
			t.Errorf("%d trace events dropped", stats.TraceEventsDropped)
		}
	})
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		if err := e.lib.SetSettings(&Settings{Extensions: ExtensionSettings{
			QlogDir: Some(dir), Tracer: Some[Tracer](&rec)}}); err != nil {
			t.Fatal(err)
		}
		e.listenEcho()
		stats = e.dialEcho(t, "traced").Statistics
	})
}

func TestQLOGDIRIsTheLibraryDefault(t *testing.T) {
	env := readEnv(func(k string) string {
		if k == "QLOGDIR" {
			return "/tmp/q"
		}
		return ""
	})
	if env.qlogDir != "/tmp/q" {
		t.Errorf("QLOGDIR read as %q", env.qlogDir)
	}
	t.Setenv("QLOGDIR", "/tmp/from-env")
	l, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	s := l.Settings()
	if q := s.Extensions.QlogDir; q.Value != "/tmp/from-env" || q.Set {
		t.Errorf("library QlogDir = %+v, want the environment's, not marked set", q)
	}
}

func TestSlogTracerLogsEventsWithTheirData(t *testing.T) {
	var out bytes.Buffer
	tr := NewSlogTracer(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	tr.TraceEvent(&TraceEvent{Connection: "ab", Server: true, Name: "quic:packet_sent", Data: []byte(`{"raw":{"length":3}}`)})
	tr.TraceEvent(&TraceEvent{Connection: "ab", Name: "loglevel:warning", Data: []byte(`{"code":2}`)})
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		recs = append(recs, m)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	if r := recs[0]; r["msg"] != "quic:packet_sent" || r["level"] != "DEBUG" || r["side"] != "server" || r["conn"] != "ab" ||
		r["data"].(map[string]any)["raw"].(map[string]any)["length"] != 3.0 {
		t.Errorf("first record %v", r)
	}
	if r := recs[1]; r["level"] != "WARN" || r["side"] != "client" {
		t.Errorf("warning record %v", r)
	}
	// Below the handler's level nothing is formatted.
	out.Reset()
	quiet := NewSlogTracer(slog.New(slog.NewTextHandler(&out, nil)))
	quiet.TraceEvent(&TraceEvent{Name: "quic:packet_sent", Data: []byte(`{}`)})
	quiet.TraceEvent(&TraceEvent{Name: "loglevel:warning", Data: []byte(`{"code":1}`)})
	if s := out.String(); strings.Contains(s, "packet_sent") || !strings.Contains(s, `data="{\"code\":1}"`) {
		t.Errorf("text handler at Info: %q", s)
	}
}
