// Command lab runs the QUIC interop runner's test cases locally, without
// Docker, over an impairment relay on loopback, and prints the matrix:
// hquic↔hquic, hquic client↔quic-go server, quic-go client↔hquic server,
// and hquic with each installed peer stack (MsQuic, quiche; see cmd/peer
// and $HQUIC_PEERS) in both roles. It prints which peers ran; the pairings
// of a peer that is not installed are reported as skipped. Run it from the
// interop module:
//
//	go run ./cmd/lab                       # the full matrix
//	go run ./cmd/lab -cases handshake,transfer -v
//
// Flags: -cases (comma-separated, default all), -pairings (any of
// hquic-hquic, hquic-quic-go, quic-go-hquic, hquic-msquic, msquic-hquic,
// hquic-quiche, quiche-hquic; default all; any other client-server pair
// of these stacks, such as quic-go-msquic, runs as a reference), -dir (keep the
// runs' files there instead of a temporary directory), -v (endpoint
// output), -features (run MsQuic's feature checker, quicinterop, against
// hquic's server with and without forced Retry; default: with the full
// matrix, skipped when MsQuic is not installed). The exit status is 1 if
// any case failed or the checker missed a letter it can exercise.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/hquic/quic/interop/internal/lab"
)

func main() {
	casesFlag := flag.String("cases", "", "comma-separated cases (default: all)")
	pairingsFlag := flag.String("pairings", "", "comma-separated pairings client-server (default: all)")
	dir := flag.String("dir", "", "keep each run's files in this directory")
	verbose := flag.Bool("v", false, "print the endpoints' output")
	features := flag.Bool("features", false, "run MsQuic's feature checker against hquic's server (default: with the full matrix)")
	flag.Parse()
	featuresSet := false
	flag.Visit(func(f *flag.Flag) { featuresSet = featuresSet || f.Name == "features" })
	if !featuresSet {
		*features = *casesFlag == "" && *pairingsFlag == ""
	}
	os.Exit(run(*casesFlag, *pairingsFlag, *dir, *verbose, *features))
}

func run(casesFlag, pairingsFlag, dir string, verbose, features bool) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cases := lab.Cases
	if casesFlag != "" {
		cases = nil
		for _, name := range strings.Split(casesFlag, ",") {
			c := lab.CaseByName(strings.TrimSpace(name))
			if c == nil {
				fmt.Fprintf(os.Stderr, "lab: unknown case %q\n", name)
				return 2
			}
			cases = append(cases, c)
		}
	}
	keep := dir != ""
	if !keep {
		var err error
		if dir, err = os.MkdirTemp("", "hquic-lab-"); err != nil {
			fmt.Fprintln(os.Stderr, "lab:", err)
			return 1
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		return 1
	}
	hq, gq, err := lab.BuildEndpoints(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		return 1
	}
	peers, err := lab.BuildPeers(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, lab.PeerReport(peers))
	pairings := lab.Pairings(hq, gq, peers...)
	if pairingsFlag != "" {
		var sel []lab.Pairing
		for _, name := range strings.Split(pairingsFlag, ",") {
			p, ok := lab.PairingByName(strings.TrimSpace(name), append([]lab.Impl{hq, gq}, peers...)...)
			if !ok {
				fmt.Fprintf(os.Stderr, "lab: no pairing %q\n", name)
				return 2
			}
			sel = append(sel, p)
		}
		pairings = sel
	}
	opt := lab.Options{Dir: dir}
	if verbose {
		opt.Log = os.Stderr
	}
	var scores []lab.FeatureScore
	if features {
		for _, retry := range []bool{false, true} {
			f := lab.RunFeatureChecker(ctx, hq, retry, opt)
			fmt.Fprintln(os.Stderr, f)
			scores = append(scores, f)
		}
	}
	results := lab.RunAll(ctx, cases, pairings, opt, func(r lab.Result) {
		line := fmt.Sprintf("%-20s %-18s %-11s %6.1fs", r.Case, r.Pairing, r.Status, r.Duration.Seconds())
		if r.Detail != "" {
			line += "  " + r.Detail
		}
		fmt.Fprintln(os.Stderr, line)
	})
	fmt.Println(lab.Matrix(results))
	fmt.Println(lab.PeerReport(peers))
	fmt.Println()
	if d := lab.Details(results); d != "" {
		fmt.Println(d)
	}
	failed := false
	if len(scores) > 0 {
		fmt.Println("MsQuic's feature checker (" + lab.FeatureCodes + "):")
		for _, f := range scores {
			fmt.Println("  " + f.String())
			failed = failed || f.Status == lab.Failed
		}
	}
	for _, r := range results {
		failed = failed || r.Status == lab.Failed
	}
	if failed {
		return 1
	}
	return 0
}
