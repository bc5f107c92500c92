//go:build race

package quic

// raceEnabled is set under the race detector, whose instrumentation
// enlarges goroutine stacks and heap objects, so memory bounds do not hold
// there.
const raceEnabled = true
