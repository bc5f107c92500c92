//go:build unix

package main

import (
	"strings"
	"testing"
	"time"
)

func TestCellMedianCountsUnfinishedRunsAsSlowest(t *testing.T) {
	for _, c := range []struct {
		secs   []float64
		runs   int
		want   float64
		wantOK bool
	}{
		{[]float64{9, 8, 10}, 3, 9, true},
		{[]float64{9, 8}, 3, 9, true}, // one unfinished: the median is the slower finished run
		{[]float64{9}, 3, 0, false},   // two unfinished: the median did not finish
		{[]float64{9, 8, 7, 6}, 4, 7.5, true},
		{[]float64{9, 8}, 4, 0, false},
	} {
		cl := cell{secs: c.secs, runs: c.runs}
		got, ok := cl.median()
		if got != c.want || ok != c.wantOK {
			t.Errorf("median(%v of %d) = %v, %v; want %v, %v", c.secs, c.runs, got, ok, c.want, c.wantOK)
		}
	}
}

func TestGoodputOfUnfinishedRuns(t *testing.T) {
	finished := result{Rate: 10, Size: 10e6, Seconds: 10, Cap: 25}
	partial := result{Rate: 10, Size: 10e6, Cap: 25, Bytes: 5e6, Elapsed: 25}
	unknown := result{Rate: 10, Size: 10e6, Cap: 25}
	if f, up := finished.goodput(); f != 0.8 || up {
		t.Errorf("finished: %v %v", f, up)
	}
	if f, up := partial.goodput(); f != 0.16 || up {
		t.Errorf("partial: %v %v", f, up)
	}
	if f, up := unknown.goodput(); f != 0.32 || !up {
		t.Errorf("unknown: %v %v, want the bound 0.32", f, up)
	}
	var sb strings.Builder
	printReport(&sb, []result{
		{Link: "L", Rate: 10, Stack: "hquic-bbr", Size: 10e6, Seconds: 10, Cap: 25},
		{Link: "L", Rate: 10, Stack: "msquic-bbr", Size: 10e6, Cap: 25},
	})
	if !strings.Contains(sb.String(), "| L | 80.0% 10.0s | <32.0% >25s |") {
		t.Errorf("report:\n%s", sb.String())
	}
}

func TestLinkQueueIsOneBDP(t *testing.T) {
	if q := (link{rate: 100, delay: 300 * time.Millisecond}).queue(); q != 6250 {
		t.Errorf("100 Mbit/s, 600 ms: queue %d packets, want 6250", q)
	}
	if q := (link{rate: 10, delay: 5 * time.Millisecond}).queue(); q != 25 {
		t.Errorf("10 Mbit/s, 10 ms: queue %d packets, want the minimum 25", q)
	}
}
