// Package schema checks qlog files against the definitions of
// draft-ietf-quic-qlog-main-schema and draft-ietf-quic-qlog-quic-events-12:
// the QlogFileSeq header, and for every event its name, the required
// fields of its data and the JSON type of every field, down to packet
// headers and frames. It is strict: a field the drafts do not define for
// an event is an error too, so that a misspelt field name does not go
// unnoticed. Tests and tools use it; the library does not.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Event is one decoded event of a file.
type Event struct {
	// Index is the event's position in the file, the header being 0.
	Index int
	Time  float64
	Name  string
	Data  map[string]any
}

// File is a checked qlog file.
type File struct {
	// VantagePoint is "client" or "server".
	VantagePoint string
	// GroupID is the trace's group ID (the ODCID in hquic's traces).
	GroupID string
	Events  []Event
	// Counts counts the events by name.
	Counts map[string]int
}

// Check parses and checks a JSON-SEQ qlog file. It returns the events with
// the first error found, if any, naming the record.
func Check(b []byte) (*File, error) {
	if len(b) == 0 || b[0] != 0x1e {
		return nil, fmt.Errorf("qlog: file does not start with a record separator")
	}
	f := &File{Counts: map[string]int{}}
	recs := bytes.Split(b[1:], []byte{0x1e})
	for i, r := range recs {
		if !bytes.HasSuffix(r, []byte("\n")) {
			return f, fmt.Errorf("qlog: record %d does not end with a line feed", i)
		}
		var v map[string]any
		d := json.NewDecoder(bytes.NewReader(r))
		if err := d.Decode(&v); err != nil {
			return f, fmt.Errorf("qlog: record %d: %w", i, err)
		}
		if d.More() {
			return f, fmt.Errorf("qlog: record %d holds more than one JSON value", i)
		}
		if i == 0 {
			if err := checkHeader(f, v); err != nil {
				return f, fmt.Errorf("qlog: header: %w", err)
			}
			continue
		}
		ev, err := checkEvent(v)
		ev.Index = i
		if err != nil {
			return f, fmt.Errorf("qlog: record %d (%s at %v ms): %w", i, ev.Name, ev.Time, err)
		}
		if n := len(f.Events); n > 0 && ev.Time < f.Events[n-1].Time {
			return f, fmt.Errorf("qlog: record %d (%s): time %v goes back from %v", i, ev.Name, ev.Time, f.Events[n-1].Time)
		}
		f.Events = append(f.Events, ev)
		f.Counts[ev.Name]++
	}
	return f, nil
}

func checkHeader(f *File, v map[string]any) error {
	if err := header.check("", v); err != nil {
		return err
	}
	if v["file_schema"] != "urn:ietf:params:qlog:file:sequential" {
		return fmt.Errorf("file_schema %v", v["file_schema"])
	}
	tr := v["trace"].(map[string]any)
	schemas := tr["event_schemas"].([]any)
	if !slices.Contains(schemas, any("urn:ietf:params:qlog:events:quic-12")) {
		return fmt.Errorf("event_schemas %v lack the quic-12 schema", schemas)
	}
	if vp, ok := tr["vantage_point"].(map[string]any); ok {
		f.VantagePoint, _ = vp["type"].(string)
	}
	if cf, ok := tr["common_fields"].(map[string]any); ok {
		f.GroupID, _ = cf["group_id"].(string)
	}
	return nil
}

func checkEvent(v map[string]any) (Event, error) {
	var ev Event
	if err := event.check("", v); err != nil {
		return ev, err
	}
	ev.Time = v["time"].(float64)
	ev.Name = v["name"].(string)
	ev.Data = v["data"].(map[string]any)
	spec, ok := events[ev.Name]
	if !ok {
		return ev, fmt.Errorf("unknown event %q", ev.Name)
	}
	return ev, spec.check("data", ev.Data)
}

// Names returns the names of the events the checker knows.
func Names() []string {
	var n []string
	for k := range events {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// A typ is the schema of one JSON value.
type typ interface {
	check(path string, v any) error
}

type kind int

const (
	kString kind = iota
	kUint        // a non-negative integer
	kNumber      // any number (float32 and float64 fields)
	kBool
	kHex // a string of an even number of lowercase hex digits
	kAny
)

// scalar is a value of one kind, optionally one of a set of strings.
type scalar struct {
	k    kind
	enum []string
}

var (
	strT  = scalar{k: kString}
	uintT = scalar{k: kUint}
	numT  = scalar{k: kNumber}
	boolT = scalar{k: kBool}
	hexT  = scalar{k: kHex}
	anyT  = scalar{k: kAny}
)

func enum(vals ...string) scalar { return scalar{k: kString, enum: vals} }

func (s scalar) check(path string, v any) error {
	switch s.k {
	case kAny:
		return nil
	case kString:
		x, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %v is not a string", path, v)
		}
		if s.enum != nil && !slices.Contains(s.enum, x) {
			return fmt.Errorf("%s: %q is not one of %v", path, x, s.enum)
		}
	case kHex:
		x, ok := v.(string)
		if !ok || len(x)%2 != 0 {
			return fmt.Errorf("%s: %v is not a hexstring", path, v)
		}
		for _, c := range x {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return fmt.Errorf("%s: %q is not a lowercase hexstring", path, x)
			}
		}
	case kUint:
		x, ok := v.(float64)
		if !ok || x < 0 || x != float64(int64(x)) {
			return fmt.Errorf("%s: %v is not an unsigned integer", path, v)
		}
	case kNumber:
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: %v is not a number", path, v)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %v is not a boolean", path, v)
		}
	}
	return nil
}

// array is a JSON array of elements of one type, with at least min.
type array struct {
	elem typ
	min  int
}

func arrayOf(elem typ) array  { return array{elem: elem} }
func arrayOf1(elem typ) array { return array{elem: elem, min: 1} }

func (a array) check(path string, v any) error {
	x, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: %v is not an array", path, v)
	}
	if len(x) < a.min {
		return fmt.Errorf("%s: fewer than %d elements", path, a.min)
	}
	for i, e := range x {
		if err := a.elem.check(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
			return err
		}
	}
	return nil
}

// field is one member of an object; req marks the required ones.
type field struct {
	name string
	req  bool
	t    typ
}

func req(name string, t typ) field { return field{name, true, t} }
func opt(name string, t typ) field { return field{name, false, t} }

// object is a JSON object with known members; open objects may also hold
// others, of any type.
type object struct {
	fields []field
	open   bool
}

func obj(fields ...field) *object     { return &object{fields: fields} }
func openObj(fields ...field) *object { return &object{fields: fields, open: true} }

func (o *object) check(path string, v any) error {
	x, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %v is not an object", path, v)
	}
	for _, f := range o.fields {
		fv, ok := x[f.name]
		if !ok {
			if f.req {
				return fmt.Errorf("%s: required field %q missing", path, f.name)
			}
			continue
		}
		if err := f.t.check(path+"."+f.name, fv); err != nil {
			return err
		}
	}
	if o.open {
		return nil
	}
	for k := range x {
		if !slices.ContainsFunc(o.fields, func(f field) bool { return f.name == k }) {
			return fmt.Errorf("%s: field %q is not defined here", path, k)
		}
	}
	return nil
}
