//go:build unix

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// run runs one client of cs against a fresh server of ss and returns the
// client's results and the CPU seconds of both processes.
func run(cs, ss stack, w workload, o options) (map[string]float64, float64, error) {
	srv, addr, err := ss.serve(w, o)
	if err != nil {
		return nil, 0, err
	}
	cl, err := cs.client(w, addr, o)
	if err != nil {
		srv.stop()
		return nil, 0, err
	}
	out := cl.output()
	ccpu, cerr := cl.wait()
	scpu := srv.stop()
	if cerr != nil {
		return nil, 0, fmt.Errorf("%s client %s against %s: %w", cs.name(), w, ss.name(), cerr)
	}
	f, err := cs.result(w, out)
	return f, ccpu + scpu, err
}

// rounds calls f for each stack o.runs times, rotating the order every
// round.
func rounds(stacks []stack, o options, f func(st stack) error) {
	for i := range o.runs {
		for j := range stacks {
			st := stacks[(i+j)%len(stacks)]
			if err := f(st); err != nil {
				fmt.Fprintln(os.Stderr, "perfcompare:", err)
			}
		}
	}
}

func throughput(stacks []stack, o options, w workload) []row {
	rate := newRow(fmt.Sprintf("%s %s, Mbit/s", w, o.size), "≥ 1.3× MsQuic")
	cpu := newRow(fmt.Sprintf("%s CPU s/GiB (client+server)", w), "lower")
	size := parseSize(o.size)
	rounds(stacks, o, func(st stack) error {
		f, c, err := run(st, st, w, o)
		if err != nil {
			return err
		}
		rate.add(st.name(), f["mbps"])
		cpu.add(st.name(), c/(float64(size)/(1<<30)))
		fmt.Fprintf(os.Stderr, "%-10s %-8s %8.1f Mbit/s %6.2f CPU s\n", st.name(), w, f["mbps"], c)
		return nil
	})
	return []row{*rate, *cpu}
}

// requests runs w (rps or latency) and fills the rows given.
func requests(stacks []stack, o options, w workload, r, p50, p99, cpu *row) {
	rounds(stacks, o, func(st stack) error {
		f, c, err := run(st, st, w, o)
		if err != nil {
			return err
		}
		r.add(st.name(), f["rps"])
		p50.add(st.name(), f["p50_us"])
		p99.add(st.name(), f["p99_us"])
		// The CPU covers the warm-up too; the rate is taken as steady.
		cpu.add(st.name(), 1e6*c/(f["rps"]*(o.duration+o.warmup).Seconds()))
		fmt.Fprintf(os.Stderr, "%-10s %-8s %8.0f/s p50 %6.0f p99 %6.0f µs\n", st.name(), w, f["rps"], f["p50_us"], f["p99_us"])
		return nil
	})
}

func rps(stacks []stack, o options) []row {
	r := newRow("requests/s, 1 conn × 100 streams, 512 B/4000 B", "≥ 1.2× MsQuic")
	p50 := newRow("  its p50, µs", "-")
	p99 := newRow("  its p99, µs", "≤ MsQuic")
	cpu := newRow("  CPU µs/request (client+server)", "lower")
	requests(stacks, o, rpsLoad, r, p50, p99, cpu)
	return []row{*r, *p50, *p99, *cpu}
}

func latency(stacks []stack, o options) []row {
	r := newRow("1 stream request/response, requests/s", "-")
	p50 := newRow("  its p50, µs", "≤ MsQuic")
	p99 := newRow("  its p99, µs", "≤ MsQuic")
	cpu := newRow("  CPU µs/request (client+server)", "lower")
	requests(stacks, o, latLoad, r, p50, p99, cpu)
	return []row{*r, *p50, *p99, *cpu}
}

func hps(stacks []stack, o options) []row {
	r := newRow(fmt.Sprintf("handshakes/s, %d in parallel", o.hpsConns), "≥ 1.3× quic-go")
	cpu := newRow("  CPU ms/handshake (client+server)", "lower")
	rounds(stacks, o, func(st stack) error {
		f, c, err := run(st, st, hpsLoad, o)
		if err != nil {
			return err
		}
		ms := 1000 * c / (f["hps"] * (o.duration + o.warmup).Seconds())
		r.add(st.name(), f["hps"])
		cpu.add(st.name(), ms)
		fmt.Fprintf(os.Stderr, "%-10s hps %8.1f %.3f CPU ms each\n", st.name(), f["hps"], ms)
		return nil
	})
	return []row{*r, *cpu}
}

// secnetperfClient runs MsQuic's client against every stack's server; each
// column is a server.
func secnetperfClient(stacks []stack, o options) []row {
	msquic := stacks[len(stacks)-1]
	h := newRow(fmt.Sprintf("secnetperf client: handshakes/s, %d parallel", o.hpsConns), "hquic > quic-go")
	r := newRow("secnetperf client: requests/s (rps)", "-")
	p99 := newRow("  its p99, µs", "-")
	l50 := newRow("secnetperf client: latency p50, µs", "-")
	l99 := newRow("  p99, µs", "-")
	rounds(stacks, o, func(srv stack) error {
		f, _, err := run(msquic, srv, hpsLoad, o)
		if err != nil {
			return err
		}
		h.add(srv.name(), f["hps"])
		if f, _, err = run(msquic, srv, rpsLoad, o); err != nil {
			return err
		}
		r.add(srv.name(), f["rps"])
		p99.add(srv.name(), f["p99_us"])
		if f, _, err = run(msquic, srv, latLoad, o); err != nil {
			return err
		}
		l50.add(srv.name(), f["p50_us"])
		l99.add(srv.name(), f["p99_us"])
		fmt.Fprintf(os.Stderr, "secnetperf → %-10s hps %.0f rps %.0f latency p50 %.0f µs\n", srv.name(), h.samples[srv.name()][len(h.samples[srv.name()])-1], r.samples[srv.name()][len(r.samples[srv.name()])-1], f["p50_us"])
		return nil
	})
	return []row{*h, *r, *p99, *l50, *l99}
}

func idle(stacks []stack, o options) []row {
	rss := newRow(fmt.Sprintf("server RSS KiB/idle conn (%d)", o.conns), "≤ 16 KiB")
	heap := newRow("server heap KiB/idle conn", "-")
	rounds(stacks, o, func(st stack) error {
		ps, ok := st.(*perfStack)
		if !ok {
			return nil
		}
		srv, addr, err := ps.serve(hpsLoad, o)
		if err != nil {
			return err
		}
		defer srv.stop()
		before, err := stats(srv)
		if err != nil {
			return err
		}
		cl, err := start(ps.bin, "client", "-addr", addr, "-mode", "idle", "-conns", strconv.Itoa(o.conns))
		if err != nil {
			return err
		}
		defer cl.stop()
		if _, err := cl.line("idle_ready", 60*time.Second); err != nil {
			return err
		}
		time.Sleep(2 * time.Second) // let path-MTU probes and handshake garbage settle
		after, err := stats(srv)
		if err != nil {
			return err
		}
		if after["conns_open"] < float64(o.conns) {
			return fmt.Errorf("%s: only %v connections open", ps.id, after["conns_open"])
		}
		n := float64(o.conns)
		rss.add(ps.id, (after["rss_kb"]-before["rss_kb"])/n)
		heap.add(ps.id, (after["heap_inuse"]-before["heap_inuse"])/1024/n)
		fmt.Fprintf(os.Stderr, "%-10s idle rss %6.1f KiB/conn heap %6.1f KiB/conn\n", ps.id,
			(after["rss_kb"]-before["rss_kb"])/n, (after["heap_inuse"]-before["heap_inuse"])/1024/n)
		return nil
	})
	return []row{*rss, *heap}
}

// stats asks a server for its stats line.
func stats(p *proc) (map[string]float64, error) {
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return nil, err
	}
	l, err := p.line("stats", 10*time.Second)
	if err != nil {
		return nil, err
	}
	return fields(l), nil
}
