//go:build race

package conn

// raceEnabled is set under the race detector, which makes the engine
// several times slower, so the longest runs are cut short or skipped.
const raceEnabled = true
