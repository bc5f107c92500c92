package qlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// memFile is an in-memory Out that records Close.
type memFile struct {
	mu     sync.Mutex
	b      bytes.Buffer
	closed bool
}

func (f *memFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.b.Write(p)
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// records splits a JSON-SEQ file into its records, checking the framing
// of RFC 7464: every record starts with RS and ends with LF.
func records(t *testing.T, b []byte) [][]byte {
	t.Helper()
	if len(b) == 0 || b[0] != 0x1e {
		t.Fatalf("file does not start with RS: %q", b[:min(len(b), 20)])
	}
	var recs [][]byte
	for _, r := range bytes.Split(b[1:], []byte{0x1e}) {
		if !bytes.HasSuffix(r, []byte("\n")) {
			t.Fatalf("record does not end with LF: %q", r)
		}
		if !json.Valid(r) {
			t.Fatalf("record is not valid JSON: %s", r)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestTraceWritesHeaderAndEventsInOrder(t *testing.T) {
	f := &memFile{}
	var mu sync.Mutex
	var sunk []Record
	tr := New(Options{Out: f, Server: true, ODCID: []byte{0xab, 0xcd}, WallClock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Sink: func(r *Record) {
			mu.Lock()
			defer mu.Unlock()
			sunk = append(sunk, Record{Time: r.Time, Name: r.Name, Data: bytes.Clone(r.Data)})
		}})
	start := mono.Time(5 * time.Second)
	tr.Warn(start, 1, "first \"quoted\"\n")
	tr.Warn(start.Add(1500*time.Microsecond), 2, "second")
	tr.Flush()
	tr.Warn(start.Add(time.Millisecond), 3, "earlier time is clamped")
	tr.Close()
	<-tr.Done()

	recs := records(t, f.b.Bytes())
	if len(recs) != 4 {
		t.Fatalf("got %d records, want the header and 3 events", len(recs))
	}
	var hdr struct {
		FileSchema string `json:"file_schema"`
		Format     string `json:"serialization_format"`
		Trace      struct {
			Schemas []string              `json:"event_schemas"`
			VP      struct{ Type string } `json:"vantage_point"`
			Common  struct {
				GroupID string `json:"group_id"`
				Ref     struct {
					Clock string `json:"clock_type"`
					Epoch string
					Wall  string `json:"wall_clock_time"`
				} `json:"reference_time"`
			} `json:"common_fields"`
		}
	}
	if err := json.Unmarshal(recs[0], &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.FileSchema != "urn:ietf:params:qlog:file:sequential" || hdr.Format != "application/qlog+json-seq" ||
		hdr.Trace.VP.Type != "server" || hdr.Trace.Common.GroupID != "abcd" || hdr.Trace.Common.Ref.Clock != "monotonic" ||
		hdr.Trace.Common.Ref.Epoch != "unknown" || hdr.Trace.Common.Ref.Wall != "2026-01-02T03:04:05Z" ||
		len(hdr.Trace.Schemas) != 2 || hdr.Trace.Schemas[0] != SchemaQUIC {
		t.Errorf("header: %+v", hdr)
	}
	var times []float64
	for i, r := range recs[1:] {
		var ev struct {
			Time float64
			Name string
			Data struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal(r, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Name != Warning || ev.Data.Code != i+1 {
			t.Errorf("event %d: %s", i, r)
		}
		times = append(times, ev.Time)
	}
	if times[0] != 0 || times[1] != 1.5 || times[2] != 1.5 {
		t.Errorf("times %v, want [0 1.5 1.5] (relative to the first event, never going back)", times)
	}
	if !f.closed {
		t.Error("the writer did not close Out")
	}
	if len(sunk) != 3 || sunk[1].Time != 1500*time.Microsecond || sunk[1].Name != Warning ||
		string(sunk[1].Data) != `{"code":2,"message":"second"}` {
		t.Errorf("sink got %+v", sunk)
	}
	if !strings.Contains(string(recs[1]), `first \"quoted\"\n`) {
		t.Errorf("message not escaped: %s", recs[1])
	}
}

// blockingFile blocks every Write until release is closed.
type blockingFile struct {
	memFile
	release chan struct{}
}

func (f *blockingFile) Write(p []byte) (int, error) {
	<-f.release
	return f.memFile.Write(p)
}

func TestTraceDropsAndCountsWhenTheWriterStalls(t *testing.T) {
	f := &blockingFile{release: make(chan struct{})}
	const maxChunks = 16
	tr := New(Options{Out: f, Buffer: maxChunks * chunkSize})
	// Every event has the same size, so the pool's capacity in events is
	// known: the producer must drop, not block, beyond it.
	msg := strings.Repeat("x", 1000)
	tr.Warn(0, 0, msg)
	size := len(tr.enc.b)
	perChunk := chunkSize / size
	capacity := maxChunks * perChunk
	const extra = 100
	for i := 1; i < capacity+extra; i++ {
		tr.Warn(0, 0, msg)
	}
	if got := tr.Dropped(); got != extra {
		t.Errorf("Dropped() = %d, want %d", got, extra)
	}
	tr.Close() // the drop warning itself finds no room
	if got := tr.Dropped(); got != extra {
		t.Errorf("after Close, Dropped() = %d, want %d", got, extra)
	}
	close(f.release)
	<-tr.Done()
	recs := records(t, f.b.Bytes())
	if len(recs) != 1+capacity {
		t.Errorf("file has %d records, want the header and %d events", len(recs), capacity)
	}
}

func TestFlushReportsDropsInTheTrace(t *testing.T) {
	f := &memFile{}
	tr := New(Options{Out: f})
	tr.Warn(0, 0, "x")
	tr.dropped.Store(7)
	tr.unreported = 7
	tr.Close()
	<-tr.Done()
	recs := records(t, f.b.Bytes())
	last := recs[len(recs)-1]
	if !strings.Contains(string(last), `"name":"loglevel:warning","data":{"code":7,`) {
		t.Errorf("last record %s does not report 7 dropped events", last)
	}
}

type failingFile struct{ memFile }

func (f *failingFile) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFailuresCountAsDropped(t *testing.T) {
	f := &failingFile{}
	tr := New(Options{Out: f})
	for range 3 {
		tr.Warn(0, 0, "x")
	}
	tr.Close()
	<-tr.Done()
	if got := tr.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want the 3 events that could not be written", got)
	}
	if !f.closed {
		t.Error("Out was not closed")
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func TestEventsDoNotAllocateOnceThePoolIsWarm(t *testing.T) {
	tr := New(Options{Out: nopCloser{io.Discard}})
	defer func() { tr.Close(); <-tr.Done() }()
	h := Header{Type: 5, PN: 1, DCID: []byte{1, 2, 3, 4}}
	payload := []byte{0x01, 0x00, 0x00}
	m := Metrics{SmoothedRTT: time.Millisecond}
	step := func() {
		tr.PacketReceived(1, &h, 100, payload, 3, "")
		m.BytesInFlight++
		tr.RecoveryMetrics(1, &m)
		tr.Flush()
	}
	for range 100 {
		step()
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("an event costs %v allocations, want 0", n)
	}
}
