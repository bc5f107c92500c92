//go:build !unix

package main

import "os"

// notifyStats returns a channel that never receives: there is no SIGUSR1.
func notifyStats() <-chan os.Signal { return make(chan os.Signal) }

// cpuTimes is not measured on this platform.
func cpuTimes() (user, sys float64) { return 0, 0 }

// rssKB is not measured on this platform.
func rssKB() int64 { return 0 }
