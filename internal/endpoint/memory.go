package endpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// fallbackMemory is the memory size assumed where /proc/meminfo cannot be
// read (other systems, or a sandbox hiding it).
const fallbackMemory = 8 << 30

// systemMemory caches the machine's memory size.
var systemMemory = sync.OnceValue(func() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return fallbackMemory
	}
	if n, ok := parseMemTotal(string(b)); ok {
		return n
	}
	return fallbackMemory
})

// SystemMemory returns the machine's memory in bytes, the base of the
// handshake memory limit (GlobalSettings.RetryMemoryLimit is a fraction
// of it): MemTotal from /proc/meminfo, else 8 GiB.
func SystemMemory() uint64 { return systemMemory() }

// parseMemTotal returns the MemTotal line of a /proc/meminfo text in
// bytes.
func parseMemTotal(meminfo string) (uint64, bool) {
	for _, line := range strings.Split(meminfo, "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || kb > 1<<53 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}
