package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// statsLine formats the server's SIGUSR1 report. It first collects garbage
// and returns freed memory to the system, so heap_inuse and rss_kb count
// what is live rather than what the last collection left behind.
func statsLine(connsOpen int64) string {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	user, sys := cpuTimes()
	return fmt.Sprintf("stats conns_open=%d heap_inuse=%d rss_kb=%d goroutines=%d cpu_user_s=%.3f cpu_sys_s=%.3f",
		connsOpen, ms.HeapInuse, rssKB(), runtime.NumGoroutine(), user, sys)
}
