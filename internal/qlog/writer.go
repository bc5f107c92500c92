package qlog

import (
	"bufio"
	"bytes"
	"time"
)

// run is the writer goroutine: it writes the header and then every chunk
// the producer hands off, until Close.
func (t *Trace) run() {
	defer func() {
		close(t.done)
		if t.opts.OnDone != nil {
			t.opts.OnDone()
		}
	}()
	var w *bufio.Writer
	failed := false
	if t.opts.Out != nil {
		w = bufio.NewWriterSize(t.opts.Out, chunkSize)
		var e Encoder
		e.b = append(e.b, 0x1e)
		appendHeader(&e, &t.opts)
		e.b = append(e.b, '\n')
		_, err := w.Write(e.b)
		failed = err != nil
	}
	for c := range t.full {
		if w != nil {
			if !failed {
				_, err := w.Write(c)
				if err == nil && len(t.full) == 0 {
					err = w.Flush()
				}
				failed = err != nil
			}
			if failed {
				t.lost.Add(uint64(bytes.Count(c, []byte{0x1e})))
			}
		}
		if t.opts.Sink != nil {
			deliver(c, t.opts.Sink)
		}
		t.free <- c[:0]
	}
	if w != nil {
		if !failed {
			w.Flush()
		}
		t.opts.Out.Close()
	}
}

// appendHeader writes the QlogFileSeq header record (main schema §5): the
// file schema, the trace's vantage point, group ID and reference time.
// qlog_format and qlog_version are what qvis still looks for.
func appendHeader(e *Encoder, o *Options) {
	e.BeginObject()
	e.Str("file_schema", "urn:ietf:params:qlog:file:sequential")
	e.Str("serialization_format", "application/qlog+json-seq")
	e.Str("title", "hquic qlog")
	e.Obj("trace")
	e.Arr("event_schemas")
	e.String(SchemaQUIC)
	e.String(SchemaLoglevel)
	e.EndArray()
	e.Obj("vantage_point")
	e.Str("name", "hquic")
	if o.Server {
		e.Str("type", "server")
	} else {
		e.Str("type", "client")
	}
	e.EndObject()
	e.Obj("common_fields")
	e.HexField("group_id", o.ODCID)
	e.Str("time_format", "relative_to_epoch")
	e.Obj("reference_time")
	e.Str("clock_type", "monotonic")
	e.Str("epoch", "unknown")
	if !o.WallClock.IsZero() {
		e.Str("wall_clock_time", o.WallClock.UTC().Format(time.RFC3339Nano))
	}
	e.EndObject()
	e.EndObject()
	e.EndObject()
	e.Str("qlog_format", "JSON-SEQ")
	e.Str("qlog_version", "0.3")
	e.EndObject()
}

// deliver splits a chunk into its records and hands each to sink. Every
// record is one Begin/End pair: RS {"time":T,"name":"N","data":{...}} LF.
func deliver(c []byte, sink func(*Record)) {
	var r Record
	for len(c) > 0 {
		end := bytes.IndexByte(c[1:], 0x1e) + 1
		if end == 0 {
			end = len(c)
		}
		if parseRecord(c[:end], &r) {
			sink(&r)
		}
		c = c[end:]
	}
}

const (
	timePrefix = "\x1e{\"time\":"
	namePrefix = ",\"name\":\""
	dataPrefix = "\",\"data\":"
	recordEnd  = "}\n"
)

// parseRecord reads back a record that Begin and End wrote.
func parseRecord(rec []byte, r *Record) bool {
	rest, ok := bytes.CutPrefix(rec, []byte(timePrefix))
	if !ok {
		return false
	}
	i := bytes.IndexByte(rest, ',')
	if i < 0 {
		return false
	}
	r.Time = parseMillis(rest[:i])
	rest, ok = bytes.CutPrefix(rest[i:], []byte(namePrefix))
	if !ok {
		return false
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return false
	}
	r.Name = string(rest[:j])
	data, ok := bytes.CutPrefix(rest[j:], []byte(dataPrefix))
	if !ok {
		return false
	}
	r.Data, ok = bytes.CutSuffix(data, []byte(recordEnd))
	return ok
}

// parseMillis reads what appendMillis wrote.
func parseMillis(b []byte) time.Duration {
	var us int64
	for _, c := range b {
		if c >= '0' && c <= '9' {
			us = us*10 + int64(c-'0')
		}
	}
	return time.Duration(us) * time.Microsecond
}
