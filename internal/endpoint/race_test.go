//go:build race

package endpoint

// raceEnabled is set under the race detector, which instruments code with
// allocations of its own, so allocation counts do not hold there.
const raceEnabled = true
