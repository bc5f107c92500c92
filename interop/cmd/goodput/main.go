//go:build unix

// Command goodput measures bulk-transfer goodput over impaired links: hquic
// with CUBIC and with BBR, quic-go (CUBIC) and MsQuic with CUBIC and BBR
// (secnetperf -cc:bbr), all in the same run, each cell's runs interleaved
// across the stacks.
//
// Each transfer is a download of the perf protocol (see
// ../examples/quicperf) through the relay (internal/relay), whose link is
// the same in both directions: a bottleneck rate with a drop-tail queue of
// one bandwidth-delay product (at least 25 packets), a one-way delay, and
// random, bursty or blackhole loss. A run reports the client's time from
// the request (after the handshake) to the last byte; a cell reports the
// median over -runs runs as time to complete and as goodput, the payload
// rate as a fraction of the link rate (which counts IP and UDP headers, so
// about 95% is the ceiling). A run that exceeds its cap counts as not
// finished: the cell then shows an upper bound (<) on goodput.
//
//	go run ./cmd/goodput [-rates 10,100] [-delays 5,50,300] [-losses 0,1,5]
//	                     [-extra bursty,blackhole] [-stacks ...] [-runs 3]
//	                     [-sizes 10M,100M] [-out goodput.jsonl]
//	go run ./cmd/goodput -report -out goodput.jsonl
//	go run ./cmd/goodput -fairness [-rates 10] [-delays 50] [-pairs hquic-bbr+quic-go,...]
//
// Results are appended to -out as JSON lines, so that a matrix can be
// measured in chunks; -report prints the tables of everything in -out.
// MsQuic comes from $HQUIC_PEERS/msquic/build/bin/Release; without it its
// columns are skipped. Run it from the interop module directory.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hquic/quic/interop/internal/runner"
)

type options struct {
	rates, delays []int     // Mbit/s, ms
	losses        []float64 // percent
	extra         []string
	stacks        []stack
	runs          int
	sizes         []int64
	maxIdeal      time.Duration // larger sizes are skipped where the ideal time exceeds this
	out           string
	pairs         [][2]string // fairness flows
}

func main() {
	var o options
	rates := flag.String("rates", "10,100", "bottleneck rates, Mbit/s")
	delays := flag.String("delays", "5,50,300", "one-way delays, ms")
	losses := flag.String("losses", "0,1,5", "random loss, percent (both directions)")
	extra := flag.String("extra", "bursty,blackhole", "extra cells on each rate and delay: bursty (3% in bursts of 1-8), blackhole (5 s up, 2 s down)")
	stacks := flag.String("stacks", "hquic-cubic,hquic-bbr,quic-go,msquic-cubic,msquic-bbr", "stacks to run")
	flag.IntVar(&o.runs, "runs", 3, "runs per cell and stack")
	sizes := flag.String("sizes", "10M,100M", "transfer sizes (K, M suffixes: powers of 1000)")
	flag.DurationVar(&o.maxIdeal, "maxideal", 10*time.Second, "skip a size on links where its ideal transfer time exceeds this")
	flag.StringVar(&o.out, "out", "goodput.jsonl", "results file (JSON lines, appended)")
	report := flag.Bool("report", false, "print the tables of -out and exit")
	fairness := flag.Bool("fairness", false, "run the fairness cases instead of the matrix")
	pairs := flag.String("pairs", defaultFairPairs, "fairness: the flows sharing the bottleneck, a+b pairs of hquic-cubic, hquic-bbr, quic-go")
	hquicBin := flag.String("hquic", "", "quicperf binary (default: build ../examples/quicperf)")
	goBin := flag.String("quicgo", "", "quicgoperf binary (default: build ./cmd/quicgoperf)")
	flag.Parse()
	if *report {
		rs, err := readResults(o.out)
		if err != nil {
			fatal(err)
		}
		printReport(os.Stdout, rs)
		return
	}
	var err error
	if o.rates, err = ints(*rates); err != nil {
		fatal(err)
	}
	if o.delays, err = ints(*delays); err != nil {
		fatal(err)
	}
	for _, f := range split(*losses) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			fatal(fmt.Errorf("-losses: %w", err))
		}
		o.losses = append(o.losses, v)
	}
	o.extra = split(*extra)
	if o.pairs, err = parsePairs(*pairs); err != nil {
		fatal(err)
	}
	for _, f := range split(*sizes) {
		v, err := parseSize(f)
		if err != nil {
			fatal(err)
		}
		o.sizes = append(o.sizes, v)
	}
	for _, name := range split(*stacks) {
		i := slices.IndexFunc(allStacks, func(s stack) bool { return s.name == name })
		if i < 0 {
			fatal(fmt.Errorf("unknown stack %q", name))
		}
		o.stacks = append(o.stacks, allStacks[i])
	}
	b, cleanup, err := findBins(*hquicBin, *goBin)
	if err != nil {
		fatal(err)
	}
	defer cleanup()
	if b.msquicDir == "" {
		fmt.Fprintln(os.Stderr, "goodput: MsQuic not found under", runner.PeersDir(), "- its stacks are skipped")
	}
	if *fairness {
		runFairness(b, o)
		return
	}
	runMatrix(b, o)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "goodput:", err)
	os.Exit(1)
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range split(s) {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1000, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1000*1000, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return v * mult, nil
}

// findBins builds the Go programs unless given and finds MsQuic.
func findBins(hquic, quicgo string) (*bins, func(), error) {
	dir, err := os.MkdirTemp("", "goodput")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	b := &bins{hquic: hquic, quicgo: quicgo}
	if b.hquic == "" {
		b.hquic = filepath.Join(dir, "quicperf")
		if err := build("..", "./examples/quicperf", b.hquic); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	if b.quicgo == "" {
		b.quicgo = filepath.Join(dir, "quicgoperf")
		if err := build(".", "./cmd/quicgoperf", b.quicgo); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	ms := filepath.Join(runner.PeersDir(), "msquic", "build", "bin", "Release")
	if _, err := os.Stat(filepath.Join(ms, "secnetperf")); err == nil {
		b.msquicDir = ms
	}
	return b, cleanup, nil
}

func build(dir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// result is one run, as stored in -out.
type result struct {
	Link    string  `json:"link"`
	Rate    int     `json:"rate_mbps"`
	Stack   string  `json:"stack"`
	Size    int64   `json:"size"`
	Run     int     `json:"run"`
	Seconds float64 `json:"seconds,omitempty"` // 0: did not finish
	Cap     float64 `json:"cap"`
	// Bytes arrived in Elapsed seconds when the run did not finish and
	// its client said (MsQuic's does not).
	Bytes   int64   `json:"bytes,omitempty"`
	Elapsed float64 `json:"elapsed,omitempty"`
	Err     string  `json:"err,omitempty"`
	When    string  `json:"when"`
}

func appendResult(path string, r result) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	if err := json.NewEncoder(f).Encode(r); err != nil {
		fatal(err)
	}
}

func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}
