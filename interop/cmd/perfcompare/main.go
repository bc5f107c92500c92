//go:build unix

// Command perfcompare runs hquic's quicperf, quic-go's quicgoperf and, when
// it is built, MsQuic's secnetperf side by side on loopback and prints one
// table: the medians of every target of hquic's performance issues with
// the ratios against MsQuic and quic-go.
//
// Every run starts a fresh server process and a client process of one
// stack; runs of the stacks interleave (the order rotates each round) so
// that drifts in the machine's state hit all alike. Each stack's own
// client talks to its own server, except in the secnetperf rows, where
// MsQuic's client measures every server. Every server presents the same
// kind of certificate, RSA-2048 (secnetperf makes its own). CPU time is
// the sum of the user and system time of both processes (getrusage of the
// children), divided by the bytes moved, the requests or the handshakes
// (for rps and hps it includes the warm-up). Memory per idle connection is
// the growth of the server's resident set between a fresh start and -conns
// idle connections, each reading taken after a garbage collection that
// returns freed memory to the system (hquic and quic-go only).
//
// MsQuic is looked for as msquic/build/bin/Release/secnetperf under the
// peers directory ($HQUIC_PEERS, default _peers at the repository root);
// when it is absent its column says "skipped". -hquic and -quicgo take
// prebuilt binaries; -baseline replaces quic-go by another quicperf build,
// for A/B comparisons of two hquic versions.
//
//	go run ./cmd/perfcompare [-runs 3] [-size 1G] [-duration 5s] [-conns 1000]
//	                         [-only throughput,rps,latency,hps,secnetperf,idle]
//	                         [-exec lowlat]
//
// Run it from the interop module directory; it builds both Go binaries
// first.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hquic/quic/interop/internal/runner"
)

type options struct {
	runs     int
	size     string
	duration time.Duration
	warmup   time.Duration
	conns    int
	hpsConns int
	exec     string
	cert     string // PEM files of the servers' RSA-2048 certificate
	key      string
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 3, "runs per stack and target")
	flag.StringVar(&o.size, "size", "1G", "bytes per throughput run (K, M, G suffixes)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measurement time of rps, latency and hps runs")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up of rps, latency and hps runs")
	flag.IntVar(&o.conns, "conns", 1000, "idle connections for the memory target")
	flag.IntVar(&o.hpsConns, "hpsconns", 32, "parallel connections of the hps target")
	flag.StringVar(&o.exec, "exec", "lowlat", "hquic execution profile (lowlat or maxtput)")
	only := flag.String("only", "throughput,rps,latency,hps,secnetperf", "targets to run (also: idle)")
	hquicBin := flag.String("hquic", "", "quicperf binary (default: build ../examples/quicperf)")
	goBin := flag.String("quicgo", "", "quicgoperf binary (default: build ./cmd/quicgoperf)")
	baseline := flag.String("baseline", "", "compare against this quicperf binary instead of quic-go (A/B runs of two hquic builds)")
	useMsQuic := flag.Bool("msquic", true, "include MsQuic's secnetperf when it is built")
	flag.Parse()

	dir, err := os.MkdirTemp("", "perfcompare")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	if o.cert, o.key, err = writeRSACert(dir); err != nil {
		fatal(err)
	}
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
	stacks := []stack{&perfStack{id: "hquic", bin: *hquicBin, hquic: true}}
	if *baseline != "" {
		stacks = append(stacks, &perfStack{id: "hquic-base", bin: *baseline, hquic: true})
	} else {
		stacks = append(stacks, &perfStack{id: "quic-go", bin: *goBin})
	}
	msquic := filepath.Join(runner.PeersDir(), "msquic", "build", "bin", "Release", "secnetperf")
	haveMsQuic := false
	if _, err := os.Stat(msquic); err == nil && *useMsQuic {
		stacks = append(stacks, &secnetperf{bin: msquic})
		haveMsQuic = true
	} else if *useMsQuic {
		fmt.Fprintf(os.Stderr, "perfcompare: MsQuic skipped: no %s (build it with shared/peers/build-msquic.sh)\n", msquic)
	}
	var rows []row
	for _, t := range strings.Split(*only, ",") {
		switch t {
		case "throughput":
			rows = append(rows, throughput(stacks, o, "upload")...)
			rows = append(rows, throughput(stacks, o, "download")...)
		case "rps":
			rows = append(rows, rps(stacks, o)...)
		case "latency":
			rows = append(rows, latency(stacks, o)...)
		case "hps":
			rows = append(rows, hps(stacks, o)...)
		case "secnetperf":
			if haveMsQuic {
				rows = append(rows, secnetperfClient(stacks, o)...)
			}
		case "idle":
			rows = append(rows, idle(stacks[:2], o)...)
		default:
			fatal(fmt.Errorf("unknown target %q", t))
		}
	}
	printTable(rows, stacks, haveMsQuic, o)
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

// row is one line of the result table: a metric's samples per stack.
type row struct {
	metric  string
	goal    string
	samples map[string][]float64
}

func newRow(metric, goal string) *row {
	return &row{metric: metric, goal: goal, samples: map[string][]float64{}}
}

func (r *row) add(st string, v float64) { r.samples[st] = append(r.samples[st], v) }

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

func printTable(rows []row, stacks []stack, haveMsQuic bool, o options) {
	other := stacks[1].name()
	fmt.Printf("\nmedians of %d runs each, loopback, hquic -exec %s, RSA-2048 server certificates\n\n", o.runs, o.exec)
	fmt.Printf("| %-44s | %10s | %10s | %10s | %9s | %9s | %-14s |\n", "target", "hquic", other, "MsQuic", "/MsQuic", "/"+other, "goal")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 46), strings.Repeat("-", 12), strings.Repeat("-", 12),
		strings.Repeat("-", 12), strings.Repeat("-", 11), strings.Repeat("-", 11), strings.Repeat("-", 16))
	cell := func(r row, st string) (float64, string) {
		v, ok := r.samples[st]
		switch {
		case st == "MsQuic" && !haveMsQuic:
			return 0, "skipped"
		case !ok || len(v) == 0:
			return 0, "-"
		}
		m := median(v)
		return m, fmt.Sprintf("%.1f", m)
	}
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	for _, r := range rows {
		h, hs := cell(r, "hquic")
		g, gs := cell(r, other)
		m, ms := cell(r, "MsQuic")
		fmt.Printf("| %-44s | %10s | %10s | %10s | %9s | %9s | %-14s |\n", r.metric, hs, gs, ms, ratio(h, m), ratio(h, g), r.goal)
	}
	fmt.Println("\nThe machine may be shared: CPU rows are steadier than rates and latencies.")
}
