package testutil

import (
	"bytes"
	"errors"
	"regexp"
	"runtime"
)

// bubbleHeader matches a traceback's goroutine header that names a
// synctest bubble, as in "goroutine 7 [select, synctest bubble 3]:".
var bubbleHeader = regexp.MustCompile(`(?m)^goroutine \d+ \[[^\]\n]*synctest bubble (\d+)[^\]\n]*\]:$`)

// BubbleGoroutines returns the goroutines of the caller's synctest bubble,
// the caller included, and their tracebacks. A test that checks that a
// library left no goroutine behind counts these rather than
// runtime.NumGoroutine, which counts the whole process: the runtime's
// cleanup and finalizer goroutines count as user goroutines while they run,
// so after any collection the process total can be one higher for a moment
// with nothing of the test's making alive. It fails when the caller is
// outside a bubble, or when the tracebacks do not name bubbles.
func BubbleGoroutines() (int, string, error) {
	own := make([]byte, 4<<10)
	own = own[:runtime.Stack(own, false)]
	m := bubbleHeader.FindSubmatch(own)
	if m == nil {
		return 0, "", errors.New("testutil: the caller's traceback names no synctest bubble")
	}
	bubble := m[1]
	all := make([]byte, 1<<20)
	for {
		n := runtime.Stack(all, true)
		if n < len(all) {
			all = all[:n]
			break
		}
		all = make([]byte, 2*len(all))
	}
	var members [][]byte
	for _, block := range bytes.Split(all, []byte("\n\n")) {
		if h := bubbleHeader.FindSubmatch(block); h != nil && bytes.Equal(h[1], bubble) {
			members = append(members, block)
		}
	}
	return len(members), string(bytes.Join(members, []byte("\n\n"))), nil
}
