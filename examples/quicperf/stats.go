package main

import (
	"fmt"
	"runtime"
)

// statsLine formats the server's SIGUSR1 report. It collects garbage
// first, so heap_inuse counts live memory.
func statsLine(connsOpen int64) string {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	user, sys := cpuTimes()
	return fmt.Sprintf("stats conns_open=%d heap_inuse=%d rss_kb=%d goroutines=%d cpu_user_s=%.3f cpu_sys_s=%.3f",
		connsOpen, ms.HeapInuse, rssKB(), runtime.NumGoroutine(), user, sys)
}
