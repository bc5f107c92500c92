// Package qlog records a connection's events as a qlog trace: the
// sequential file form of draft-ietf-quic-qlog-main-schema (JSON text
// sequences, RFC 7464, the ".sqlog" files quic-go and quiche write) with
// the events of draft-ietf-quic-qlog-quic-events-12.
//
// A Trace has one producer, the goroutine that owns the connection, and
// one writer goroutine of its own. The producer encodes each event into
// chunks of a bounded pool and hands full chunks, and at the end of every
// connection run the partly filled one, to the writer, which writes them to
// the trace's file and hands each event to its sink. When every chunk is
// in use the producer drops the event and counts it; it never blocks and,
// once the pool is allocated, never allocates. Callers check for a nil
// *Trace before building an event, so a connection without tracing pays
// one comparison per hook.
package qlog

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// The schema URIs of the events a trace holds.
const (
	SchemaQUIC     = "urn:ietf:params:qlog:events:quic-12"
	SchemaLoglevel = "urn:ietf:params:qlog:events:loglevel"
)

// Buffering: events travel in chunks of chunkSize bytes; by default a
// trace holds at most DefaultBuffer bytes between its connection and its
// writer.
const (
	chunkSize     = 64 << 10
	DefaultBuffer = 8 << 20
)

// Options configure a trace.
type Options struct {
	// Out receives the trace in the JSON-SEQ form; the writer closes it
	// when the trace is closed. Nil writes no file.
	Out io.WriteCloser
	// Sink, if set, receives every event on the writer goroutine, in
	// order. The record is valid only during the call.
	Sink func(*Record)
	// Server selects the vantage point: server, or client.
	Server bool
	// ODCID is the connection's original Destination Connection ID, the
	// trace's group ID.
	ODCID []byte
	// WallClock is the wall-clock time at which the trace starts; event
	// times are relative to the first event, a monotonic clock.
	WallClock time.Time
	// OnDone, if set, is called by the writer once it has written
	// everything and closed Out, after Close.
	OnDone func()
	// Buffer bounds the bytes of events waiting for the writer
	// (DefaultBuffer if 0, at least one chunk of 64 KiB). Chunks are
	// allocated as they are needed.
	Buffer int
}

// Record is one event as the sink receives it.
type Record struct {
	// Time is the event's time since the trace's first event.
	Time time.Duration
	// Name is the event's name, such as "quic:packet_sent".
	Name string
	// Data is the event's data, a JSON object.
	Data []byte
}

// Trace is one connection's qlog trace.
type Trace struct {
	// Producer state, owned by the connection's goroutine.
	enc        Encoder
	cur        []byte // the chunk being filled, nil if none
	chunks     int    // chunks allocated so far
	maxChunks  int
	started    bool
	ref, last  mono.Time
	unreported uint64 // drops not yet reported in the trace itself
	closed     bool

	// What the typed events remember to log only changes (events.go),
	// and the packet being sent (packets.go).
	metrics    Metrics
	hasMetrics bool
	ccState    string
	ecnState   string
	lossTimer  mono.Time
	lossKind   string
	staged     staged

	// Shared with the writer goroutine.
	full, free chan []byte
	lost       atomic.Uint64 // events the writer failed to write
	dropped    atomic.Uint64 // events dropped for want of buffer space
	done       chan struct{}
	opts       Options
}

// New starts a trace and its writer goroutine. The trace must be closed
// with Close, which ends the goroutine.
func New(opts Options) *Trace {
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	n := max(opts.Buffer/chunkSize, 1)
	t := &Trace{
		maxChunks: n,
		full:      make(chan []byte, n),
		free:      make(chan []byte, n),
		done:      make(chan struct{}),
		opts:      opts,
	}
	go t.run()
	return t
}

// Begin starts the event name at now and returns the encoder, positioned
// in the event's data object, to write the data's members with. End
// finishes the event; nothing else may be written to the trace in between.
func (t *Trace) Begin(now mono.Time, name string) *Encoder {
	if !t.started {
		t.started, t.ref, t.last = true, now, now
	}
	if now < t.last {
		now = t.last // events are logged in ascending time order
	}
	t.last = now
	e := &t.enc
	e.b = append(e.b[:0], 0x1e)
	e.comma = false
	e.BeginObject()
	e.Ms("time", now.Sub(t.ref))
	e.Str("name", name)
	e.Obj("data")
	return e
}

// End finishes the event Begin started and queues it, or drops it if the
// buffer is full.
func (t *Trace) End() {
	e := &t.enc
	e.EndObject()
	e.EndObject()
	e.b = append(e.b, '\n')
	t.commit(e.b)
}

// commit copies one encoded record into the current chunk.
func (t *Trace) commit(rec []byte) {
	if t.closed {
		return
	}
	if len(rec) > chunkSize {
		t.drop()
		return
	}
	if t.cur != nil && len(t.cur)+len(rec) > cap(t.cur) {
		t.handOff()
	}
	if t.cur == nil && !t.getChunk() {
		t.drop()
		return
	}
	t.cur = append(t.cur, rec...)
}

func (t *Trace) drop() {
	t.dropped.Add(1)
	t.unreported++
}

// getChunk takes a free chunk, allocating one while the pool is not
// complete.
func (t *Trace) getChunk() bool {
	select {
	case c := <-t.free:
		t.cur = c
		return true
	default:
	}
	if t.chunks == t.maxChunks {
		return false
	}
	t.chunks++
	t.cur = make([]byte, 0, chunkSize)
	return true
}

// handOff passes the current chunk to the writer. It never blocks: the
// channel holds every chunk there is.
func (t *Trace) handOff() {
	t.full <- t.cur
	t.cur = nil
}

// Flush hands what the trace holds to the writer; the connection calls it
// at the end of every run. Drops since the last flush are reported in the
// trace first, as a loglevel:warning event, if there is room for it.
func (t *Trace) Flush() {
	if t.closed {
		return
	}
	if n := t.unreported; n > 0 {
		t.unreported = 0
		e := t.Begin(t.last, "loglevel:warning")
		e.U64("code", n)
		e.Str("message", "trace buffer full: events dropped (code: how many)")
		t.End()
		if t.unreported > 0 {
			// Not even the warning fitted: it is not counted as an
			// event dropped, and is tried again at the next flush.
			t.dropped.Add(^uint64(0))
			t.unreported = n
		}
	}
	if len(t.cur) > 0 {
		t.handOff()
	}
}

// Close flushes the trace and stops its writer, which writes what is left
// and closes Out. Later events are ignored.
func (t *Trace) Close() {
	if t.closed {
		return
	}
	t.Flush()
	t.closed = true
	close(t.full)
}

// Dropped returns how many events were not recorded: dropped because the
// buffer was full, or lost because writing the file failed. It may be
// called from any goroutine.
func (t *Trace) Dropped() uint64 { return t.dropped.Load() + t.lost.Load() }

// Done is closed when the writer has written everything and closed Out,
// after Close.
func (t *Trace) Done() <-chan struct{} { return t.done }
