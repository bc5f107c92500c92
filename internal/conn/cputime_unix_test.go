//go:build unix

package conn

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time of the process so far;
// benchmarks report it per operation because wall time on a shared machine
// also counts time spent waiting for a processor.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
