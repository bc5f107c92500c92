package quic

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/qlog"
)

// Tracing. A connection can record what happens inside it as qlog
// (draft-ietf-quic-qlog-main-schema and -quic-events-12, the JSON-SEQ
// ".sqlog" files that qvis and quic-go's and quiche's tools read), and hand
// the same events to the application's Tracer. Two settings turn it on,
// per connection like every setting:
//
//   - Extensions.QlogDir: one file per connection in that directory,
//     named <ODCID>_<client|server>.sqlog, the original Destination
//     Connection ID in hex, as the QUIC interop runner expects. Open
//     reads the QLOGDIR environment variable once and makes it the
//     library's default.
//   - Extensions.Tracer: the application's own sink.
//
// A server connection is traced from its first packet, before it has a
// configuration: for it only the library-wide values count
// (Library.SetSettings, or QLOGDIR).
//
// The connection never waits for its trace: events go through a bounded
// buffer to a goroutine of the trace's own, which writes the file and
// calls the Tracer. When the buffer is full, events are dropped and
// counted (Statistics.TraceEventsDropped, and a loglevel:warning event in
// the trace once there is room again). Tracing off costs one pointer
// comparison per hook. Registration.Close returns once every trace of its
// connections has been written out and its file closed.

// Tracer receives the trace events of the connections whose settings name
// it (Extensions.Tracer): the events of their qlog files, in order. It is
// called on a goroutine of each connection's trace, never on the
// connection's worker, so a slow Tracer delays only its own events, which
// are dropped when its buffer is full. It must be safe for concurrent use
// when several connections share it. NewSlogTracer adapts a *slog.Logger.
type Tracer interface {
	// TraceEvent is called once per event; ev and what it points to are
	// valid only during the call.
	TraceEvent(ev *TraceEvent)
}

// TraceEvent is one qlog event of a connection.
type TraceEvent struct {
	// Connection is the connection's original Destination Connection ID
	// in hex: the qlog trace's group_id and file name. It is empty for the
	// events of the library's sockets, which the library-wide Tracer
	// receives (sockets.go).
	Connection string
	// Server is set for a server connection's events.
	Server bool
	// Time is the event's time since the connection's first event.
	Time time.Duration
	// Name is the qlog event name, such as "quic:packet_sent" or
	// "loglevel:warning".
	Name string
	// Data is the event's data as in the qlog file: a JSON object
	// (quic-events-12 defines its fields per event).
	Data []byte
}

// NewSlogTracer returns a Tracer that logs every event to l as one record
// whose message is the event name, with the attributes "conn" (the
// connection ID), "side", "t" (time since the connection's first event)
// and "data" (the event's JSON data, inline with a JSON handler).
// loglevel:warning events are logged at slog.LevelWarn, the others at
// slog.LevelDebug, so a handler's level filters the bulk out.
func NewSlogTracer(l *slog.Logger) Tracer { return slogTracer{l} }

type slogTracer struct{ l *slog.Logger }

func (t slogTracer) TraceEvent(ev *TraceEvent) {
	level := slog.LevelDebug
	if ev.Name == qlog.Warning {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !t.l.Enabled(ctx, level) {
		return
	}
	side := "client"
	if ev.Server {
		side = "server"
	}
	t.l.LogAttrs(ctx, level, ev.Name, slog.String("conn", ev.Connection), slog.String("side", side),
		slog.Duration("t", ev.Time), slog.Any("data", traceData(append([]byte(nil), ev.Data...))))
}

// traceData is an event's JSON data: inline for JSON handlers, as text
// for the others.
type traceData []byte

func (d traceData) MarshalJSON() ([]byte, error) { return json.RawMessage(d), nil }
func (d traceData) MarshalText() ([]byte, error) { return d, nil }

// traceOpener returns what opens the trace of connection c with settings
// s, or nil if s turns tracing off. A trace counts in c's registration
// until it is written out.
func (l *Library) traceOpener(c *Connection, s *Settings) func(odcid []byte, server bool) *qlog.Trace {
	dir, tracer := s.Extensions.QlogDir.Value, s.Extensions.Tracer.Value
	if dir == "" && tracer == nil {
		return nil
	}
	return func(odcid []byte, server bool) *qlog.Trace {
		opts := qlog.Options{Server: server, ODCID: odcid, WallClock: time.Now()}
		if dir != "" {
			f, err := createQlogFile(dir, odcid, server)
			if err != nil {
				l.trace.failures.Add(1)
			} else {
				opts.Out = f
			}
		}
		if tracer != nil {
			ev := TraceEvent{Connection: hex.EncodeToString(odcid), Server: server}
			opts.Sink = func(r *qlog.Record) {
				ev.Time, ev.Name, ev.Data = r.Time, r.Name, r.Data
				tracer.TraceEvent(&ev)
			}
		}
		if opts.Out == nil && opts.Sink == nil {
			return nil
		}
		c.reg.traces.Add(1)
		opts.OnDone = c.reg.traces.Done
		t := qlog.New(opts)
		c.trace.Store(t)
		return t
	}
}

// createQlogFile creates dir if needed and the connection's file in it.
func createQlogFile(dir string, odcid []byte, server bool) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	side := "client"
	if server {
		side = "server"
	}
	name := filepath.Join(dir, hex.EncodeToString(odcid)+"_"+side+".sqlog")
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// traceDropped returns how many of c's trace events were not recorded.
func (c *Connection) traceDropped() uint64 {
	if t := c.trace.Load(); t != nil {
		return t.Dropped()
	}
	return 0
}

// TraceFailures returns how many qlog files the library could not create
// (Extensions.QlogDir unusable); those connections ran without a file.
func (l *Library) TraceFailures() uint64 { return l.trace.failures.Load() }

// traceCounters are the library's tracing counters.
type traceCounters struct {
	failures atomic.Uint64
}
