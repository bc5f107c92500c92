package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hquic/quic/interop/internal/runner"
)

// Abbreviations are the runner's one- to three-letter case names.
var Abbreviations = map[string]string{
	"handshake": "H", "transfer": "DC", "longrtt": "LR", "chacha20": "C20", "multiplexing": "M",
	"retry": "S", "resumption": "R", "zerortt": "Z", "blackhole": "B", "keyupdate": "U", "ecn": "E",
	"amplificationlimit": "A", "handshakeloss": "L1", "transferloss": "L2", "handshakecorruption": "C1",
	"transfercorruption": "C2", "ipv6": "6", "v2": "V2", "rebind-port": "BP", "rebind-addr": "BA",
	"connectionmigration": "CM", "nat-addr": "NA", "nat-port": "NP",
}

// BuildEndpoints builds cmd/endpoint (hquic) and cmd/goendpoint (quic-go)
// into dir. It must run inside the interop module.
func BuildEndpoints(ctx context.Context, dir string) (hquic, quicgo Impl, err error) {
	hquic = Impl{Name: "hquic", Path: filepath.Join(dir, "endpoint")}
	quicgo = Impl{Name: "quic-go", Path: filepath.Join(dir, "goendpoint")}
	for _, b := range []struct{ out, pkg string }{
		{hquic.Path, "github.com/hquic/quic/interop/cmd/endpoint"},
		{quicgo.Path, "github.com/hquic/quic/interop/cmd/goendpoint"},
	} {
		if err := build(ctx, b.out, b.pkg); err != nil {
			return Impl{}, Impl{}, err
		}
	}
	return hquic, quicgo, nil
}

func build(ctx context.Context, out, pkg string) error {
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// PeerNames are the other stacks cmd/peer adapts, in the matrix's order.
var PeerNames = []string{"msquic", "quiche"}

// BuildPeers builds cmd/peer into dir and returns one Impl per stack of
// PeerNames; a stack that is not installed under the peers directory
// (runner.PeersDir) has Missing set.
func BuildPeers(ctx context.Context, dir string) ([]Impl, error) {
	bin := filepath.Join(dir, "peer")
	if err := build(ctx, bin, "github.com/hquic/quic/interop/cmd/peer"); err != nil {
		return nil, err
	}
	var out []Impl
	for _, name := range PeerNames {
		impl := Impl{Name: name, Path: bin, Args: []string{name}}
		cmd := exec.CommandContext(ctx, bin, name, "-installed")
		cmd.Env = append(os.Environ(), runner.PeersEnv+"="+peersDir())
		if b, err := cmd.Output(); err != nil {
			impl.Missing = strings.TrimSpace(string(b))
			if impl.Missing == "" {
				impl.Missing = err.Error()
			}
		}
		out = append(out, impl)
	}
	return out, nil
}

// peersDir is the absolute peers directory endpoints are given.
func peersDir() string {
	d, err := filepath.Abs(runner.PeersDir())
	if err != nil {
		return runner.PeersDir()
	}
	return d
}

// Pairings are the lab's role pairings: hquic with itself, hquic client
// with a quic-go server, quic-go client with an hquic server, and hquic
// with each peer in both roles.
func Pairings(hquic, quicgo Impl, peers ...Impl) []Pairing {
	ps := []Pairing{{hquic, hquic}, {hquic, quicgo}, {quicgo, hquic}}
	for _, p := range peers {
		ps = append(ps, Pairing{hquic, p}, Pairing{p, hquic})
	}
	return ps
}

// PairingByName finds the pairing "client-server" among every ordered
// pair of impls, including pairs without hquic (a reference pairing such
// as quic-go-quiche, which tells a peer's limits from hquic's bugs).
func PairingByName(name string, impls ...Impl) (Pairing, bool) {
	for _, c := range impls {
		for _, s := range impls {
			if c.Name+"-"+s.Name == name {
				return Pairing{c, s}, true
			}
		}
	}
	return Pairing{}, false
}

// PeerReport says which peers run and which are skipped, and why.
func PeerReport(peers []Impl) string {
	var b strings.Builder
	b.WriteString("peers (" + peersDir() + "):")
	for _, p := range peers {
		if p.Missing != "" {
			fmt.Fprintf(&b, "\n  %s: skipped, not installed: %s", p.Name, p.Missing)
		} else {
			fmt.Fprintf(&b, "\n  %s: runs", p.Name)
		}
	}
	return b.String()
}

// RunAll runs every case in every pairing, one at a time (the cases
// measure timing-sensitive behaviour), calling done after each.
func RunAll(ctx context.Context, cases []*Case, pairings []Pairing, opt Options, done func(Result)) []Result {
	var out []Result
	for _, c := range cases {
		for _, p := range pairings {
			if ctx.Err() != nil {
				return out
			}
			r := Run(ctx, c, p, opt)
			out = append(out, r)
			if done != nil {
				done(r)
			}
		}
	}
	return out
}

// Symbols mark outcomes in the matrix.
var Symbols = map[Status]string{Passed: "✓", Failed: "✕", Unsupported: "?", Skipped: "–"}

// Matrix formats results as a Markdown table, one row per case and one
// column per pairing (client→server), followed by the runner-style
// per-pairing summary of case abbreviations.
func Matrix(results []Result) string {
	var pairings []Pairing
	var cases []string
	cell := make(map[string]Result)
	seenP := make(map[string]bool)
	seenC := make(map[string]bool)
	for _, r := range results {
		if !seenP[r.Pairing.String()] {
			seenP[r.Pairing.String()] = true
			pairings = append(pairings, r.Pairing)
		}
		if !seenC[r.Case] {
			seenC[r.Case] = true
			cases = append(cases, r.Case)
		}
		cell[r.Case+"|"+r.Pairing.String()] = r
	}
	var b strings.Builder
	b.WriteString("| case |")
	for _, p := range pairings {
		fmt.Fprintf(&b, " %s |", p)
	}
	b.WriteString("\n|---|")
	for range pairings {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, c := range cases {
		fmt.Fprintf(&b, "| %s (%s) |", c, Abbreviations[c])
		for _, p := range pairings {
			r, ok := cell[c+"|"+p.String()]
			if !ok {
				b.WriteString("  |")
				continue
			}
			if r.Status == Unsupported || r.Status == Skipped {
				fmt.Fprintf(&b, " %s |", Symbols[r.Status])
			} else {
				fmt.Fprintf(&b, " %s %.1fs |", Symbols[r.Status], r.Duration.Seconds())
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n✓ passed, ✕ failed, ? unsupported (an endpoint exited 127), – skipped (peer not installed)\n\n")
	for _, p := range pairings {
		byStatus := map[Status][]string{}
		for _, c := range cases {
			if r, ok := cell[c+"|"+p.String()]; ok {
				byStatus[r.Status] = append(byStatus[r.Status], Abbreviations[c])
			}
		}
		if len(byStatus[Skipped]) > 0 && len(byStatus[Skipped]) == len(cases) {
			fmt.Fprintf(&b, "- %s: skipped\n", p)
			continue
		}
		fmt.Fprintf(&b, "- %s: passed %s; failed %s; unsupported %s\n", p,
			list(byStatus[Passed]), list(byStatus[Failed]), list(byStatus[Unsupported]))
	}
	return b.String()
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, " ")
}

// Details lists why each failed or unsupported result was so (skipped
// pairings are explained once, by PeerReport).
func Details(results []Result) string {
	var b strings.Builder
	for _, r := range results {
		if r.Status != Passed && r.Status != Skipped {
			fmt.Fprintf(&b, "- %s %s: %s: %s\n", r.Case, r.Pairing, r.Status, r.Detail)
		}
	}
	return b.String()
}
