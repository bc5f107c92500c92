//go:build race

package conn

// raceEnabled is set under the race detector, which makes sync.Pool drop
// items at random, so allocation counts do not hold there.
const raceEnabled = true
