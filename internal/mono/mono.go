// Package mono provides a compact monotonic timestamp for the engine.
//
// A Time is a count of nanoseconds on a process-local monotonic clock. It is
// eight bytes (time.Time is twenty-four), compares with < and ==, and its zero
// value means "unset", which lets state machines keep deadlines in plain
// arrays. Only the executor and the endpoint read the clock (Now); every other
// layer receives the current time as an argument.
package mono

import "time"

// Time is a monotonic timestamp in nanoseconds. The zero Time means "unset".
type Time int64

// epoch anchors Now. Times start one hour after it so that no real reading is
// ever zero, even inside a testing/synctest bubble whose fake clock may sit
// before the real one.
var epoch = time.Now()

const offset = Time(time.Hour)

// Now reads the monotonic clock.
func Now() Time {
	return Time(time.Since(epoch)) + offset
}

// IsZero reports whether t is unset.
func (t Time) IsZero() bool { return t == 0 }

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Before reports whether t is before u.
func (t Time) Before(u Time) bool { return t < u }

// After reports whether t is after u.
func (t Time) After(u Time) bool { return t > u }

// Min returns the earlier of two times, treating an unset time as later than
// any set one.
func Min(a, b Time) Time {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case a < b:
		return a
	}
	return b
}

// Until returns the duration from now to t, or zero if t has passed.
func (t Time) Until(now Time) time.Duration {
	if t <= now {
		return 0
	}
	return time.Duration(t - now)
}
