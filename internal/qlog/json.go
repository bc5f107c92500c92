package qlog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Encoder writes one JSON value into a reused buffer without allocating
// once the buffer has grown. Separators are automatic: every value and key
// written after another in the same object or array is preceded by a comma.
// Keys must be plain ASCII names (qlog field names are); strings are
// escaped.
type Encoder struct {
	b     []byte
	comma bool
}

func (e *Encoder) sep() {
	if e.comma {
		e.b = append(e.b, ',')
	}
}

// Key starts a member of the current object.
func (e *Encoder) Key(k string) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
	e.comma = false
}

// BeginObject starts an object value.
func (e *Encoder) BeginObject() {
	e.sep()
	e.b = append(e.b, '{')
	e.comma = false
}

// EndObject ends the innermost object.
func (e *Encoder) EndObject() {
	e.b = append(e.b, '}')
	e.comma = true
}

// BeginArray starts an array value.
func (e *Encoder) BeginArray() {
	e.sep()
	e.b = append(e.b, '[')
	e.comma = false
}

// EndArray ends the innermost array.
func (e *Encoder) EndArray() {
	e.b = append(e.b, ']')
	e.comma = true
}

// String writes s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func (e *Encoder) String(s string) {
	e.sep()
	e.b = appendQuoted(e.b, s)
	e.comma = true
}

// StringBytes writes b as a JSON string, like String.
func (e *Encoder) StringBytes(b []byte) {
	e.sep()
	e.b = append(e.b, '"')
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		e.b = appendRune(e.b, r, n)
		b = b[n:]
	}
	e.b = append(e.b, '"')
	e.comma = true
}

// Uint writes an unsigned integer.
func (e *Encoder) Uint(v uint64) {
	e.sep()
	e.b = strconv.AppendUint(e.b, v, 10)
	e.comma = true
}

// Int writes a signed integer.
func (e *Encoder) Int(v int64) {
	e.sep()
	e.b = strconv.AppendInt(e.b, v, 10)
	e.comma = true
}

// Float writes a number in its shortest form.
func (e *Encoder) Float(v float64) {
	e.sep()
	e.b = strconv.AppendFloat(e.b, v, 'g', -1, 64)
	e.comma = true
}

// Bool writes true or false.
func (e *Encoder) Bool(v bool) {
	e.sep()
	e.b = strconv.AppendBool(e.b, v)
	e.comma = true
}

// Hex writes b as a lowercase hexstring.
func (e *Encoder) Hex(b []byte) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = appendHex(e.b, b)
	e.b = append(e.b, '"')
	e.comma = true
}

// Millis writes a duration as milliseconds with microsecond precision,
// qlog's unit for times and RTTs.
func (e *Encoder) Millis(d time.Duration) {
	e.sep()
	e.b = appendMillis(e.b, d)
	e.comma = true
}

// Field helpers write a key and its value.

// Str writes the member k: v.
func (e *Encoder) Str(k, v string) { e.Key(k); e.String(v) }

// U64 writes the member k: v.
func (e *Encoder) U64(k string, v uint64) { e.Key(k); e.Uint(v) }

// I64 writes the member k: v.
func (e *Encoder) I64(k string, v int64) { e.Key(k); e.Int(v) }

// Flag writes the member k: v.
func (e *Encoder) Flag(k string, v bool) { e.Key(k); e.Bool(v) }

// HexField writes the member k: hex(v).
func (e *Encoder) HexField(k string, v []byte) { e.Key(k); e.Hex(v) }

// Ms writes the member k: d in milliseconds.
func (e *Encoder) Ms(k string, d time.Duration) { e.Key(k); e.Millis(d) }

// Obj starts the member k as an object.
func (e *Encoder) Obj(k string) { e.Key(k); e.BeginObject() }

// Arr starts the member k as an array.
func (e *Encoder) Arr(k string) { e.Key(k); e.BeginArray() }

// Raw writes the member "raw": {"length": n}.
func (e *Encoder) Raw(n int) {
	e.Obj("raw")
	e.U64("length", uint64(n))
	e.EndObject()
}

const hexDigits = "0123456789abcdef"

func appendHex(b, v []byte) []byte {
	for _, c := range v {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// appendMillis writes d as milliseconds with three decimals (a negative d
// as 0).
func appendMillis(b []byte, d time.Duration) []byte {
	us := max(d.Microseconds(), 0)
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b = appendRune(b, r, n)
		i += n
	}
	return append(b, '"')
}

// appendRune writes one decoded rune of n input bytes, escaped as JSON
// requires.
func appendRune(b []byte, r rune, n int) []byte {
	switch {
	case r == '"' || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\n':
		return append(b, '\\', 'n')
	case r == '\r':
		return append(b, '\\', 'r')
	case r == '\t':
		return append(b, '\\', 't')
	case r < 0x20:
		return append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&15])
	case r == utf8.RuneError && n == 1:
		return append(b, "\\ufffd"...)
	}
	return utf8.AppendRune(b, r)
}
