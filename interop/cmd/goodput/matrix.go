//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hquic/quic/interop/internal/relay"
)

// link is one cell's network, the same in both directions.
type link struct {
	rate      int           // Mbit/s
	delay     time.Duration // one way
	loss      float64       // percent
	burst     int           // longest loss burst (0: independent losses)
	blackhole bool
}

func (l link) String() string {
	s := fmt.Sprintf("%d Mbit/s %v", l.rate, l.delay)
	switch {
	case l.blackhole:
		s += " blackhole 5s/2s"
	case l.burst > 0:
		s += fmt.Sprintf(" bursty %g%% (1-%d)", l.loss, l.burst)
	default:
		s += fmt.Sprintf(" loss %g%%", l.loss)
	}
	return s
}

func (l link) rtt() time.Duration { return 2 * l.delay }

// queue is the bottleneck's queue in packets: one bandwidth-delay
// product of 1200-byte packets, at least the runner's 25.
func (l link) queue() int {
	bdp := float64(l.rate) * 1e6 / 8 * l.rtt().Seconds()
	return max(25, int(bdp/1200))
}

func (l link) config(server netip.AddrPort, seed uint64) relay.Config {
	imp := relay.Impairment{
		Delay:     l.delay,
		Rate:      int64(l.rate) * 1e6,
		Queue:     l.queue(),
		LossRate:  l.loss / 100,
		LossBurst: l.burst,
	}
	c := relay.Config{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Server: server, ToServer: imp, ToClient: imp, Seed: seed}
	if l.blackhole {
		c.BlackholeOn, c.BlackholeOff = 5*time.Second, 2*time.Second
	}
	return c
}

// ideal is the time size bytes take at the link rate.
func (l link) ideal(size int64) time.Duration {
	return time.Duration(float64(size) * 8 / (float64(l.rate) * 1e6) * float64(time.Second))
}

// limit is a run's cap: three times the ideal time plus ten round trips
// for the ramp-up, at least 20 s.
func (l link) limit(size int64) time.Duration {
	return max(20*time.Second, 3*l.ideal(size)+10*l.rtt())
}

func (o *options) links() []link {
	var ls []link
	for _, r := range o.rates {
		for _, d := range o.delays {
			base := link{rate: r, delay: time.Duration(d) * time.Millisecond}
			for _, loss := range o.losses {
				l := base
				l.loss = loss
				ls = append(ls, l)
			}
			for _, e := range o.extra {
				l := base
				switch e {
				case "bursty":
					l.loss, l.burst = 3, 8
				case "blackhole":
					l.blackhole = true
				default:
					fatal(fmt.Errorf("unknown extra cell %q", e))
				}
				ls = append(ls, l)
			}
		}
	}
	return ls
}

// runMatrix measures every cell: all stacks' servers up at once, the runs
// interleaved (the stack order rotates each run), a fresh relay per run
// whose loss seed is the run number, so that the stacks of one run see the
// same loss pattern for the same traffic.
func runMatrix(b *bins, o options) {
	for _, l := range o.links() {
		servers := map[string]string{}
		var procs []*proc
		for _, st := range o.stacks {
			if !b.available(st) {
				continue
			}
			p, addr, err := b.startServer(st)
			if err != nil {
				fatal(fmt.Errorf("%s server: %w", st.name, err))
			}
			procs = append(procs, p)
			servers[st.name] = addr
		}
		for _, size := range o.sizes {
			if size != o.sizes[0] && l.ideal(size) > o.maxIdeal {
				continue
			}
			for run := range o.runs {
				for i := range o.stacks {
					st := o.stacks[(i+run)%len(o.stacks)]
					addr, ok := servers[st.name]
					if !ok {
						continue
					}
					r := runOne(b, l, st, addr, size, run)
					appendResult(o.out, r)
					fmt.Fprintf(os.Stderr, "%-40s %-12s %4dMB run %d: %s\n", l, st.name, size/1e6, run, describe(r))
				}
			}
		}
		for _, p := range procs {
			p.stop()
		}
	}
	rs, err := readResults(o.out)
	if err != nil {
		fatal(err)
	}
	printReport(os.Stdout, rs)
}

func describe(r result) string {
	switch {
	case r.Err != "":
		return "error: " + r.Err
	case r.Seconds == 0:
		return fmt.Sprintf("not finished in %.0f s", r.Cap)
	}
	return fmt.Sprintf("%.2f s", r.Seconds)
}

func runOne(b *bins, l link, st stack, server string, size int64, run int) result {
	limit := l.limit(size)
	r := result{Link: l.String(), Rate: l.rate, Stack: st.name, Size: size, Run: run, Cap: limit.Seconds(), When: time.Now().UTC().Format(time.RFC3339)}
	rl, err := relay.Start(l.config(netip.MustParseAddrPort(server), uint64(run+1)))
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer rl.Close()
	// The cap counts from the request; the client's limit from the dial,
	// before the handshake.
	out, err := b.transfer(st, rl.Addr().String(), size, false, limit+4*l.rtt()+2*time.Second)
	switch {
	case errors.Is(err, errIncomplete):
	case err != nil:
		r.Err = err.Error()
	case out.secs == 0:
		r.Bytes, r.Elapsed = out.bytes, out.elapsed
	case out.secs > limit.Seconds():
		// Finished, but later than the cap: counted as not finished.
		r.Bytes, r.Elapsed = size, out.secs
	default:
		r.Seconds = out.secs
	}
	return r
}

// goodput returns the run's payload rate as a fraction of the link rate;
// upper is set when it is only a bound (the run did not finish and its
// client did not say how much arrived).
func (r *result) goodput() (frac float64, upper bool) {
	link := float64(r.Rate) * 1e6
	switch {
	case r.Seconds > 0:
		return float64(r.Size) * 8 / r.Seconds / link, false
	case r.Elapsed > 0:
		return float64(r.Bytes) * 8 / r.Elapsed / link, false
	}
	return float64(r.Size) * 8 / r.Cap / link, true
}

// cell is the runs of one link, stack and size.
type cell struct {
	secs []float64 // finished runs
	gp   []gpSample
	runs int
	cap  float64
	errs int
}

type gpSample struct {
	frac  float64
	upper bool
}

// medianGoodput returns the median goodput over the runs that did not
// fail; upper is set when it rests on a bound.
func (c *cell) medianGoodput() (float64, bool) {
	v := slices.Clone(c.gp)
	slices.SortFunc(v, func(a, b gpSample) int {
		switch {
		case a.frac < b.frac:
			return -1
		case a.frac > b.frac:
			return 1
		}
		return 0
	})
	n := len(v)
	if n%2 == 1 {
		return v[n/2].frac, v[n/2].upper
	}
	a, b := v[n/2-1], v[n/2]
	return (a.frac + b.frac) / 2, a.upper || b.upper
}

// median returns the median time over the runs that did not fail, an
// unfinished run counting as slower than any finished one; ok is false
// when the median is an unfinished run.
func (c *cell) median() (float64, bool) {
	v := slices.Clone(c.secs)
	slices.Sort(v)
	at := func(i int) (float64, bool) {
		if i < len(v) {
			return v[i], true
		}
		return 0, false
	}
	n := c.runs - c.errs
	switch {
	case n == 0:
		return 0, false
	case n%2 == 1:
		return at(n / 2)
	}
	a, okA := at(n/2 - 1)
	b, okB := at(n / 2)
	if !okA || !okB {
		return 0, false
	}
	return (a + b) / 2, true
}

// printReport prints one table per size: median goodput as a fraction of
// the link rate and median time to complete.
func printReport(w io.Writer, rs []result) {
	type key struct {
		link, stack string
		size        int64
	}
	cells := map[key]*cell{}
	var links []string
	var sizes []int64
	stacks := map[string]bool{}
	for _, r := range rs {
		k := key{r.Link, r.Stack, r.Size}
		c := cells[k]
		if c == nil {
			c = &cell{}
			cells[k] = c
		}
		c.runs++
		c.cap = r.Cap
		if r.Err != "" {
			c.errs++
		} else {
			f, up := r.goodput()
			c.gp = append(c.gp, gpSample{f, up})
			if r.Seconds > 0 {
				c.secs = append(c.secs, r.Seconds)
			}
		}
		if !slices.Contains(links, r.Link) {
			links = append(links, r.Link)
		}
		if !slices.Contains(sizes, r.Size) {
			sizes = append(sizes, r.Size)
		}
		stacks[r.Stack] = true
	}
	var cols []string
	for _, st := range allStacks {
		if stacks[st.name] {
			cols = append(cols, st.name)
		}
	}
	slices.Sort(sizes)
	for _, size := range sizes {
		fmt.Fprintf(w, "\n%d MB download: median goodput / link rate (an unfinished run counts what arrived by the cap; < marks a bound), median time to complete\n\n", size/1e6)
		fmt.Fprintf(w, "| link | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
		for _, l := range links {
			var row []string
			any := false
			for _, st := range cols {
				c := cells[key{l, st, size}]
				if c == nil {
					row = append(row, "")
					continue
				}
				any = true
				row = append(row, c.format())
			}
			if any {
				fmt.Fprintf(w, "| %s | %s |\n", l, strings.Join(row, " | "))
			}
		}
	}
}

// format shows the median goodput (< for a bound) and the median time
// to complete (> the cap when the median run did not finish).
func (c *cell) format() string {
	note := ""
	if c.errs > 0 {
		note = fmt.Sprintf(" (%d err)", c.errs)
	}
	if c.runs == c.errs {
		return "error" + note
	}
	g, upper := c.medianGoodput()
	lt := ""
	if upper {
		lt = "<"
	}
	t := fmt.Sprintf(">%.0fs", c.cap)
	if m, ok := c.median(); ok {
		t = fmt.Sprintf("%.1fs", m)
	}
	return fmt.Sprintf("%s%.1f%% %s%s", lt, 100*g, t, note)
}
