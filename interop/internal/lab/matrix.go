package lab

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Abbreviations are the runner's one- to three-letter case names.
var Abbreviations = map[string]string{
	"handshake": "H", "transfer": "DC", "longrtt": "LR", "chacha20": "C20", "multiplexing": "M",
	"retry": "S", "resumption": "R", "zerortt": "Z", "blackhole": "B", "keyupdate": "U", "ecn": "E",
	"amplificationlimit": "A", "handshakeloss": "L1", "transferloss": "L2", "handshakecorruption": "C1",
	"transfercorruption": "C2", "ipv6": "6", "v2": "V2", "rebind-port": "BP", "rebind-addr": "BA",
	"connectionmigration": "CM",
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
		out, err := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg).CombinedOutput()
		if err != nil {
			return Impl{}, Impl{}, fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return hquic, quicgo, nil
}

// Pairings are the lab's three role pairings: hquic with itself, hquic
// client with a quic-go server, and quic-go client with an hquic server.
func Pairings(hquic, quicgo Impl) []Pairing {
	return []Pairing{{hquic, hquic}, {hquic, quicgo}, {quicgo, hquic}}
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
var Symbols = map[Status]string{Passed: "✓", Failed: "✕", Unsupported: "?"}

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
			if r.Status == Unsupported {
				fmt.Fprintf(&b, " %s |", Symbols[r.Status])
			} else {
				fmt.Fprintf(&b, " %s %.1fs |", Symbols[r.Status], r.Duration.Seconds())
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n✓ passed, ✕ failed, ? unsupported (an endpoint exited 127)\n\n")
	for _, p := range pairings {
		byStatus := map[Status][]string{}
		for _, c := range cases {
			if r, ok := cell[c+"|"+p.String()]; ok {
				byStatus[r.Status] = append(byStatus[r.Status], Abbreviations[c])
			}
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

// Details lists why each failed or unsupported result was so.
func Details(results []Result) string {
	var b strings.Builder
	for _, r := range results {
		if r.Status != Passed {
			fmt.Fprintf(&b, "- %s %s: %s: %s\n", r.Case, r.Pairing, r.Status, r.Detail)
		}
	}
	return b.String()
}
