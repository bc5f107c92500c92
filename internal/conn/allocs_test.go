package conn

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
)

// moduleAllocs runs f and returns how many allocations the module's
// library code made meanwhile, and where: every allocation whose stack
// passes through a non-test source file of github.com/hquic/quic. Unlike a count of the process's mallocs, it
// leaves out what the runtime and other goroutines allocate at the same
// time (a new OS thread under load, crypto/tls's certificate-cache
// cleanups after a collection), which depends on the machine's load, not
// on the code under test.
func moduleAllocs(f func()) (n int64, where []string) {
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	before := moduleAllocSites()
	runtime.MemProfileRate = 1
	f()
	for site, k := range moduleAllocSites() {
		if d := k - before[site]; d > 0 {
			n += d
			where = append(where, fmt.Sprintf("%d× %s", d, site))
		}
	}
	sort.Strings(where)
	return n, where
}

// moduleAllocSites returns the allocations counted so far by the memory
// profile, by stack, for stacks that pass through library code. The profile
// is complete up to two collections ago, hence the two.
func moduleAllocSites() map[string]int64 {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+64)
	}
	sites := make(map[string]int64)
	for _, r := range recs {
		var b strings.Builder
		ours := false
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			if strings.HasPrefix(f.Function, "github.com/hquic/quic/") && !strings.HasSuffix(f.File, "_test.go") {
				ours = true
			}
			fmt.Fprintf(&b, "\n\t%s %s:%d", f.Function, f.File, f.Line)
			if !more {
				break
			}
		}
		if ours {
			sites[b.String()] += r.AllocObjects
		}
	}
	return sites
}
