package lab

import (
	"context"
	"strings"
	"testing"
	"time"
)

// fastCases is the subset of the matrix that CI runs on every submission:
// a few cases that take seconds each, in all three pairings. The full
// matrix runs with `go run ./cmd/lab` (see README.md).
var fastCases = []string{"handshake", "transferloss", "multiplexing", "retry", "keyupdate", "ecn", "amplificationlimit", "ipv6", "v2"}

func TestLabFast(t *testing.T) {
	if testing.Short() {
		t.Skip("the lab runs real transfers over an impaired loopback link")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	hq, gq, err := BuildEndpoints(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	peers, err := BuildPeers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(PeerReport(peers))
	var cases []*Case
	for _, name := range fastCases {
		c := CaseByName(name)
		if c == nil {
			t.Fatalf("no case %q", name)
		}
		cases = append(cases, c)
	}
	results := RunAll(ctx, cases, Pairings(hq, gq, peers...), Options{Dir: dir}, func(r Result) {
		if r.Status == Failed {
			t.Errorf("%s %s failed: %s", r.Case, r.Pairing, r.Detail)
		}
	})
	t.Logf("\n%s\n%s", Matrix(results), Details(results))
}

func TestMatrix(t *testing.T) {
	hq, gq, ms := Impl{Name: "hquic"}, Impl{Name: "quic-go"}, Impl{Name: "msquic"}
	results := []Result{
		{Case: "handshake", Pairing: Pairing{hq, hq}, Status: Passed, Duration: 1500 * time.Millisecond},
		{Case: "handshake", Pairing: Pairing{gq, hq}, Status: Failed, Detail: "boom"},
		{Case: "zerortt", Pairing: Pairing{hq, hq}, Status: Unsupported, Detail: "no tickets"},
		{Case: "zerortt", Pairing: Pairing{gq, hq}, Status: Unsupported},
		{Case: "handshake", Pairing: Pairing{hq, ms}, Status: Skipped, Detail: "not installed"},
		{Case: "zerortt", Pairing: Pairing{hq, ms}, Status: Skipped, Detail: "not installed"},
	}
	m := Matrix(results)
	for _, want := range []string{
		"| case | hquic→hquic | quic-go→hquic |",
		"| handshake (H) | ✓ 1.5s | ✕ 0.0s |",
		"| zerortt (Z) | ? | ? |",
		"- hquic→hquic: passed H; failed -; unsupported Z",
		"- quic-go→hquic: passed -; failed H; unsupported Z",
		"| handshake (H) | ✓ 1.5s | ✕ 0.0s | – |",
		"- hquic→msquic: skipped",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("matrix lacks %q:\n%s", want, m)
		}
	}
	if d := Details(results); !strings.Contains(d, "handshake quic-go→hquic: failed: boom") || strings.Contains(d, "msquic") {
		t.Errorf("details:\n%s", d)
	}
}

func TestCasesComplete(t *testing.T) {
	if len(runnerCases) != 21 {
		t.Errorf("%d runner cases, want the runner's 21", len(runnerCases))
	}
	if len(Cases) != len(runnerCases)+len(natCases) {
		t.Errorf("%d cases, want the runner's and the NAT cases", len(Cases))
	}
	for _, c := range Cases {
		if Abbreviations[c.Name] == "" || c.Check == nil || len(c.Files.Sizes) == 0 {
			t.Errorf("case %s is incomplete", c.Name)
		}
	}
}

func TestFeatureScore(t *testing.T) {
	out := "\n      TARGET  VHDCRZSQUMBGA2E    VERSION   ALPN\n ============================================\n   127.0.0.1  VHDCRZ-QUMBGA2-  0x00000001  hq-interop\n\nTotal execution time: 11.997s\n"
	score, ok := parseFeatureScore(out, "127.0.0.1")
	if !ok || score != "VHDCRZ-QUMBGA2-" {
		t.Fatalf("parseFeatureScore = %q, %v", score, ok)
	}
	if _, ok := parseFeatureScore("   127.0.0.1  ---------------\n", "::1"); ok {
		t.Error("found another target's row")
	}
	for _, tc := range []struct {
		score  string
		retry  bool
		status Status
		detail string
	}{
		{"VHDCRZ-QUMBGA2-", false, Passed, "not exercised: S: "},
		{"VHDCRZSQUMBGA2-", true, Passed, "not exercised: E: "},
		{"VHDCRZ-QUMBGA2-", true, Failed, "missing S"},
		{"VH-C---QUMB-A--", false, Failed, "missing DRZG2"},
		{"---------------", false, Failed, "missing VHDCRZQUMBGA2"},
	} {
		status, detail := featureVerdict(tc.score, tc.retry)
		if status != tc.status || !strings.Contains(detail, tc.detail) {
			t.Errorf("featureVerdict(%q, retry=%v) = %v %q, want %v containing %q", tc.score, tc.retry, status, detail, tc.status, tc.detail)
		}
	}
}
