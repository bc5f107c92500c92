//go:build unix

// Command perfcompare runs hquic's quicperf and quic-go's quicgoperf side by
// side on loopback and prints the medians of each target of hquic's
// performance issue with the hquic/quic-go ratio.
//
// Every run starts a fresh server process and a client process of one
// implementation; runs alternate between the implementations (the order
// flips each round) so that drifts in the machine's state hit both alike.
// CPU time is the sum of the user and system time of both processes
// (getrusage of the children), divided by the bytes moved, the requests or
// the handshakes (for rps and hps it includes the warm-up). Memory per idle
// connection is the growth of the server's resident set between a fresh
// start and -conns idle connections, each reading taken after a garbage
// collection that returns freed memory to the system.
//
// -hquic and -quicgo take prebuilt binaries; -baseline replaces quic-go by
// another quicperf build, for A/B comparisons of two hquic versions.
//
//	go run ./cmd/perfcompare [-runs 5] [-size 1G] [-duration 5s] [-conns 1000]
//	                         [-only throughput,rps,hps,idle] [-exec lowlat]
//
// Run it from the interop module directory; it builds both binaries first.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type impl struct {
	name string
	bin  string
}

type options struct {
	runs     int
	size     string
	duration time.Duration
	warmup   time.Duration
	conns    int
	exec     string
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 5, "runs per implementation and target")
	flag.StringVar(&o.size, "size", "1G", "bytes per throughput run (K, M, G suffixes)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measurement time of rps and hps runs")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up of rps and hps runs")
	flag.IntVar(&o.conns, "conns", 1000, "idle connections for the memory target")
	flag.StringVar(&o.exec, "exec", "lowlat", "hquic execution profile (lowlat or maxtput)")
	only := flag.String("only", "throughput,rps,hps,idle", "targets to run")
	hquicBin := flag.String("hquic", "", "quicperf binary (default: build ../examples/quicperf)")
	goBin := flag.String("quicgo", "", "quicgoperf binary (default: build ./cmd/quicgoperf)")
	baseline := flag.String("baseline", "", "compare against this quicperf binary instead of quic-go (A/B runs of two hquic builds)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "perfcompare")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	if *hquicBin == "" {
		*hquicBin = filepath.Join(dir, "quicperf")
		if err := build("..", "./examples/quicperf", *hquicBin); err != nil {
			fatal(err)
		}
	}
	if *goBin == "" && *baseline == "" {
		*goBin = filepath.Join(dir, "quicgoperf")
		if err := build(".", "./cmd/quicgoperf", *goBin); err != nil {
			fatal(err)
		}
	}
	impls := []impl{{"hquic", *hquicBin}, {"quic-go", *goBin}}
	if *baseline != "" {
		// A/B mode: the second column is another hquic build.
		impls[1] = impl{"hquic-base", *baseline}
	}
	var rows []row
	for _, t := range strings.Split(*only, ",") {
		switch t {
		case "throughput":
			rows = append(rows, throughput(impls, o, "-upload", "upload")...)
			rows = append(rows, throughput(impls, o, "-download", "download")...)
		case "rps":
			rows = append(rows, rps(impls, o)...)
		case "hps":
			rows = append(rows, hps(impls, o)...)
		case "idle":
			rows = append(rows, idle(impls, o)...)
		default:
			fatal(fmt.Errorf("unknown target %q", t))
		}
	}
	printTable(rows, o)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "perfcompare:", err)
	os.Exit(1)
}

func build(dir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// row is one line of the result table: a metric's samples per
// implementation.
type row struct {
	metric  string
	goal    string
	samples map[string][]float64
}

func newRow(metric, goal string) *row {
	return &row{metric: metric, goal: goal, samples: map[string][]float64{}}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printTable(rows []row, o options) {
	fmt.Printf("\nmedians of %d runs each, loopback, hquic -exec %s\n\n", o.runs, o.exec)
	fmt.Printf("| %-36s | %12s | %12s | %8s | %-10s |\n", "target", "hquic", "quic-go", "ratio", "goal")
	fmt.Printf("|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 38), strings.Repeat("-", 14), strings.Repeat("-", 14), strings.Repeat("-", 10), strings.Repeat("-", 12))
	for _, r := range rows {
		h, g := median(r.samples["hquic"]), median(r.samples["quic-go"])
		if v, ok := r.samples["hquic-base"]; ok {
			g = median(v)
		}
		ratio := "-"
		if g != 0 {
			ratio = fmt.Sprintf("%.2f", h/g)
		}
		fmt.Printf("| %-36s | %12.1f | %12.1f | %8s | %-10s |\n", r.metric, h, g, ratio, r.goal)
	}
}

// proc is a running child process with its stdout lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		io.Copy(io.Discard, out)
	}()
	return p, nil
}

// line waits for the next output line starting with prefix.
func (p *proc) line(prefix string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before printing %q", filepath.Base(p.cmd.Path), prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-deadline:
			return "", fmt.Errorf("%s did not print %q", filepath.Base(p.cmd.Path), prefix)
		}
	}
}

// wait waits for the process and returns its CPU seconds (user + system).
func (p *proc) wait() (float64, error) {
	err := p.cmd.Wait()
	return cpuSeconds(p.cmd.ProcessState), err
}

// stop ends a server with SIGTERM and returns its CPU seconds.
func (p *proc) stop() float64 {
	p.cmd.Process.Signal(syscall.SIGTERM)
	cpu, _ := p.wait()
	return cpu
}

func cpuSeconds(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	sec := func(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime)
}

// fields parses a key=value line.
func fields(line string) map[string]float64 {
	m := map[string]float64{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = x
			}
		}
	}
	return m
}

// server starts impl's server on an ephemeral loopback port.
func server(im impl, o options) (*proc, string, error) {
	args := []string{"server", "-addr", "127.0.0.1:0"}
	if im.name != "quic-go" {
		args = append(args, "-exec", o.exec)
	}
	p, err := start(im.bin, args...)
	if err != nil {
		return nil, "", err
	}
	l, err := p.line("listening", 10*time.Second)
	if err != nil {
		p.stop()
		return nil, "", err
	}
	addr := strings.TrimPrefix(strings.Fields(l)[1], "addr=")
	return p, addr, nil
}

// clientRun runs one client to completion against a fresh server and
// returns its output fields and the CPU seconds of both processes.
func clientRun(im impl, o options, args ...string) (map[string]float64, float64, error) {
	srv, addr, err := server(im, o)
	if err != nil {
		return nil, 0, err
	}
	full := append([]string{"client", "-addr", addr}, args...)
	if im.name != "quic-go" {
		full = append(full, "-exec", o.exec)
	}
	cl, err := start(im.bin, full...)
	if err != nil {
		srv.stop()
		return nil, 0, err
	}
	var out string
	for l := range cl.lines {
		out = l
	}
	ccpu, cerr := cl.wait()
	scpu := srv.stop()
	if cerr != nil {
		return nil, 0, fmt.Errorf("%s client %v: %w", im.name, args, cerr)
	}
	return fields(out), ccpu + scpu, nil
}

// rounds runs f for each implementation o.runs times, alternating the
// order every round.
func rounds(impls []impl, o options, f func(im impl) error) {
	for i := range o.runs {
		order := impls
		if i%2 == 1 {
			order = []impl{impls[1], impls[0]}
		}
		for _, im := range order {
			if err := f(im); err != nil {
				fmt.Fprintln(os.Stderr, "perfcompare:", err)
			}
		}
	}
}

func throughput(impls []impl, o options, flagName, dir string) []row {
	rate := newRow(fmt.Sprintf("%s %s Mbit/s", dir, o.size), "≥ 2.5×")
	cpu := newRow(fmt.Sprintf("%s CPU s/GiB (client+server)", dir), "≤ 0.5×")
	size := parseSize(o.size)
	rounds(impls, o, func(im impl) error {
		f, c, err := clientRun(im, o, "-mode", "throughput", flagName, o.size)
		if err != nil {
			return err
		}
		rate.samples[im.name] = append(rate.samples[im.name], f["throughput_mbps"])
		cpu.samples[im.name] = append(cpu.samples[im.name], c/(float64(size)/(1<<30)))
		fmt.Fprintf(os.Stderr, "%-8s %-8s %8.1f Mbit/s %6.2f CPU s\n", im.name, dir, f["throughput_mbps"], c)
		return nil
	})
	return []row{*rate, *cpu}
}

func rps(impls []impl, o options) []row {
	r := newRow("rps (100 streams, 512 B/4 KiB)", "≥ 2.5×")
	p50 := newRow("rps p50 latency µs", "-")
	p99 := newRow("rps p99 latency µs", "lower")
	cpu := newRow("rps CPU µs/request (client+server)", "-")
	rounds(impls, o, func(im impl) error {
		f, c, err := clientRun(im, o, "-mode", "rps", "-duration", o.duration.String(), "-warmup", o.warmup.String())
		if err != nil {
			return err
		}
		cpu.samples[im.name] = append(cpu.samples[im.name], 1e6*c/(f["rps"]*(o.duration+o.warmup).Seconds()))
		r.samples[im.name] = append(r.samples[im.name], f["rps"])
		p50.samples[im.name] = append(p50.samples[im.name], f["p50_us"])
		p99.samples[im.name] = append(p99.samples[im.name], f["p99_us"])
		fmt.Fprintf(os.Stderr, "%-8s rps %8.0f p50 %6.0f p99 %6.0f\n", im.name, f["rps"], f["p50_us"], f["p99_us"])
		return nil
	})
	return []row{*r, *p50, *p99, *cpu}
}

func hps(impls []impl, o options) []row {
	r := newRow("hps (16 clients)", "≥ 1.5×")
	cpu := newRow("hps CPU ms/handshake (client+server)", "-")
	rounds(impls, o, func(im impl) error {
		f, c, err := clientRun(im, o, "-mode", "hps", "-conns", "16", "-duration", o.duration.String(), "-warmup", o.warmup.String())
		if err != nil {
			return err
		}
		// The CPU time covers the warm-up too; the rate is assumed steady.
		ms := 1000 * c / (f["hps"] * (o.duration + o.warmup).Seconds())
		r.samples[im.name] = append(r.samples[im.name], f["hps"])
		cpu.samples[im.name] = append(cpu.samples[im.name], ms)
		fmt.Fprintf(os.Stderr, "%-8s hps %8.1f %.3f CPU ms each\n", im.name, f["hps"], ms)
		return nil
	})
	return []row{*r, *cpu}
}

func idle(impls []impl, o options) []row {
	rss := newRow(fmt.Sprintf("server RSS KiB/idle conn (%d)", o.conns), "≤ 16 KiB")
	heap := newRow("server heap KiB/idle conn", "-")
	rounds(impls, o, func(im impl) error {
		srv, addr, err := server(im, o)
		if err != nil {
			return err
		}
		defer srv.stop()
		before, err := stats(srv)
		if err != nil {
			return err
		}
		cl, err := start(im.bin, "client", "-addr", addr, "-mode", "idle", "-conns", strconv.Itoa(o.conns))
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
			return fmt.Errorf("%s: only %v connections open", im.name, after["conns_open"])
		}
		n := float64(o.conns)
		rss.samples[im.name] = append(rss.samples[im.name], (after["rss_kb"]-before["rss_kb"])/n)
		heap.samples[im.name] = append(heap.samples[im.name], (after["heap_inuse"]-before["heap_inuse"])/1024/n)
		fmt.Fprintf(os.Stderr, "%-8s idle rss %6.1f KiB/conn heap %6.1f KiB/conn\n", im.name,
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

func parseSize(s string) uint64 {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		fatal(errors.New("bad -size"))
	}
	return n * mult
}
