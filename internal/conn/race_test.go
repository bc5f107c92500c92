//go:build race

package conn

// raceEnabled is set under the race detector, which makes the engine
// several times slower, so the longest randomized runs use fewer seeds.
const raceEnabled = true
