//go:build unix

package main

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hquic/quic/interop/internal/relay"
)

// defaultFairPairs are the flows that share a bottleneck in the fairness
// runs unless -pairs names others.
const defaultFairPairs = "hquic-bbr+hquic-bbr,hquic-cubic+hquic-cubic,hquic-bbr+quic-go,hquic-cubic+quic-go"

// parsePairs parses -pairs: a+b pairs of the Go stacks, comma-separated.
func parsePairs(s string) ([][2]string, error) {
	var out [][2]string
	for _, f := range split(s) {
		a, b, ok := strings.Cut(f, "+")
		if !ok {
			return nil, fmt.Errorf("-pairs: %q is not a+b", f)
		}
		for _, name := range []string{a, b} {
			i := slices.IndexFunc(allStacks, func(st stack) bool { return st.name == name })
			if i < 0 || allStacks[i].impl == "msquic" {
				return nil, fmt.Errorf("-pairs: %q is not one of the Go stacks", name)
			}
		}
		out = append(out, [2]string{a, b})
	}
	return out, nil
}

// fairDuration is about how long both flows together would take at the
// link rate.
const fairDuration = 40 * time.Second

// fairStagger is how long the second flow starts after the first.
const fairStagger = 2 * time.Second

// runFairness uploads two flows at once through one relay to one hquic
// server, so that both clients' controllers share the relay's bottleneck
// towards the server, on every selected rate and delay without random
// loss. Each flow's share is what the bottleneck delivered of its
// datagrams while both were sending (from 5 s after the second started to
// the first one's last datagram); Jain's index is (x+y)^2 / 2(x^2+y^2).
func runFairness(b *bins, o options) {
	fmt.Printf("\nfairness: two uploads through one bottleneck (queue one BDP, no random loss), %d runs\n\n", o.runs)
	fmt.Println("| link | flows | share A | share B | utilization | Jain's index (median) |")
	fmt.Println("|---|---|---|---|---|---|")
	srv, addr, err := b.startServer(stack{"hquic-cubic", "hquic", "cubic"})
	if err != nil {
		fatal(err)
	}
	defer srv.stop()
	for _, r := range o.rates {
		for _, d := range o.delays {
			l := link{rate: r, delay: time.Duration(d) * time.Millisecond}
			size := int64(float64(r) * 1e6 / 8 * fairDuration.Seconds() / 2)
			for _, pair := range o.pairs {
				var jains, as, bs, us []float64
				for run := range o.runs {
					a, bb, u, err := fairRun(b, l, pair, addr, size, run)
					if err != nil {
						fmt.Fprintf(os.Stderr, "%v %v run %d: %v\n", l, pair, run, err)
						continue
					}
					j := (a + bb) * (a + bb) / (2 * (a*a + bb*bb))
					fmt.Fprintf(os.Stderr, "%v %s+%s run %d: shares %.3f %.3f, Jain %.3f\n", l, pair[0], pair[1], run, a, bb, j)
					jains, as, bs, us = append(jains, j), append(as, a), append(bs, bb), append(us, u)
				}
				if len(jains) == 0 {
					continue
				}
				fmt.Printf("| %d Mbit/s %v | %s + %s | %.2f | %.2f | %.2f | %.3f |\n", r, l.delay, pair[0], pair[1],
					median(as), median(bs), median(us), median(jains))
			}
		}
	}
}

// fairRun returns the two flows' shares of the link rate and the total
// utilization over the window both were sending.
func fairRun(b *bins, l link, pair [2]string, server string, size int64, run int) (float64, float64, float64, error) {
	rl, err := relay.Start(l.config(netip.MustParseAddrPort(server), uint64(run+1)))
	if err != nil {
		return 0, 0, 0, err
	}
	defer rl.Close()
	limit := 3*fairDuration + 10*l.rtt()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range pair {
		st := stackNamed(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(fairStagger)
			}
			var out outcome
			out, errs[i] = b.transfer(st, rl.Addr().String(), size, true, limit)
			if errs[i] == nil && out.secs == 0 {
				errs[i] = errIncomplete
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, 0, 0, err
		}
	}
	return shares(rl.Records(), l)
}

func stackNamed(name string) stack {
	for _, st := range allStacks {
		if st.name == name {
			return st
		}
	}
	panic("unknown stack " + name)
}

// shares sums the bytes the bottleneck delivered to the server per client
// binding while both flows were sending.
func shares(recs []relay.Record, l link) (float64, float64, float64, error) {
	type flow struct {
		first, last time.Time
		id          netip.AddrPort
	}
	var flows []*flow
	byID := map[netip.AddrPort]*flow{}
	for _, r := range recs {
		if r.Dir != relay.ToServer || (r.Fate != relay.Delivered && r.Fate != relay.Corrupted) {
			continue
		}
		f := byID[r.Client]
		if f == nil {
			f = &flow{first: r.DeliverAt, id: r.Client}
			byID[r.Client] = f
			flows = append(flows, f)
		}
		f.last = r.DeliverAt
	}
	if len(flows) != 2 {
		return 0, 0, 0, fmt.Errorf("%d flows at the relay, want 2", len(flows))
	}
	start := flows[0].first
	if flows[1].first.After(start) {
		start = flows[1].first
	}
	start = start.Add(5 * time.Second)
	end := flows[0].last
	if flows[1].last.Before(end) {
		end = flows[1].last
	}
	if !end.After(start) {
		return 0, 0, 0, fmt.Errorf("the flows overlapped for less than 5 s")
	}
	var bytes [2]float64
	for _, r := range recs {
		if r.Dir != relay.ToServer || (r.Fate != relay.Delivered && r.Fate != relay.Corrupted) {
			continue
		}
		if r.DeliverAt.Before(start) || r.DeliverAt.After(end) {
			continue
		}
		if r.Client == flows[0].id {
			bytes[0] += float64(r.Size + 28)
		} else {
			bytes[1] += float64(r.Size + 28)
		}
	}
	linkBytes := float64(l.rate) * 1e6 / 8 * end.Sub(start).Seconds()
	a, b := bytes[0]/linkBytes, bytes[1]/linkBytes
	return a, b, a + b, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
