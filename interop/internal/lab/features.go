package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hquic/quic/interop/internal/runner"
)

// FeatureCodes are the letters of MsQuic's feature checker (quicinterop),
// in its order: version negotiation, handshake, stream data, connection
// close, resumption, 0-RTT, stateless Retry, post-quantum key exchange,
// key update, connection ID update, NAT rebinding, datagram, ChaCha20, QUIC
// v2 and the grease bit.
const FeatureCodes = "VHDCRZSQUMBGA2E"

// unexercised are the feature checker's letters its own client cannot
// pass against any server, and why; a score is complete without them.
func unexercised(retry bool) map[byte]string {
	m := map[byte]string{
		// interop.cpp sets Settings.GreaseQuicBitEnabled without
		// IsSet.GreaseQuicBitEnabled, so the setting is ignored, the
		// client (default off) never sends grease_quic_bit and never
		// counts the grease bit as negotiated; MsQuic's own server
		// scores no E either.
		'E': "MsQuic's client never offers grease_quic_bit (interop.cpp sets GreaseQuicBitEnabled without its IsSet bit)",
	}
	if !retry {
		m['S'] = "the server does not force Retry in this mode"
	}
	return m
}

// FeatureScore is one run of MsQuic's feature checker against a server.
type FeatureScore struct {
	// Retry is whether the server forced Retry (TESTCASE=retry).
	Retry bool
	// Status is Passed when every letter the checker can exercise is
	// scored, Failed when one is not or the run failed, Skipped when
	// MsQuic is not installed.
	Status Status
	// Score is the checker's result line, e.g. "VHDCRZ-QUMBGA2-".
	Score string
	// Detail says what is missing, or why the run failed or was skipped.
	Detail string
}

// String is the score and its verdict on one line.
func (f FeatureScore) String() string {
	mode := "Retry not forced"
	if f.Retry {
		mode = "Retry forced"
	}
	s := fmt.Sprintf("quicinterop → %s (%s): %s", "hquic", mode, f.Status)
	if f.Score != "" {
		s += " " + f.Score
	}
	if f.Detail != "" {
		s += "; " + f.Detail
	}
	return s
}

// RunFeatureChecker runs MsQuic's quicinterop -custom against server (an
// endpoint with the runner's interface) on 127.0.0.1, directly rather
// than through the relay (its NAT rebinding test moves the client
// itself), with Retry forced or not.
func RunFeatureChecker(ctx context.Context, server Impl, retry bool, opt Options) FeatureScore {
	res := FeatureScore{Retry: retry}
	tool := runner.MsQuicTool(peersDir(), "quicinterop")
	if _, err := os.Stat(tool); err != nil {
		res.Status, res.Detail = Skipped, "MsQuic not installed: "+tool+" is missing"
		return res
	}
	score, err := runFeatureChecker(ctx, tool, server, retry, opt)
	res.Score = score
	switch {
	case err != nil:
		res.Status, res.Detail = Failed, err.Error()
	default:
		res.Status, res.Detail = featureVerdict(score, retry)
	}
	return res
}

func runFeatureChecker(ctx context.Context, tool string, server Impl, retry bool, opt Options) (string, error) {
	dir, err := os.MkdirTemp(opt.Dir, "quicinterop-")
	if err != nil {
		return "", err
	}
	t := &trial{dir: dir, log: opt.Log}
	for _, d := range []string{"www", "certs"} {
		if err := os.MkdirAll(t.path(d), 0o755); err != nil {
			return "", err
		}
	}
	if err := writeCerts(t.path("certs"), 1); err != nil {
		return "", err
	}
	// The checker's stream data test asks for "/".
	if err := os.WriteFile(t.path("www", runner.Index), []byte("hquic\n"), 0o644); err != nil {
		return "", err
	}
	port, err := freePort("127.0.0.1", false)
	if err != nil {
		return "", err
	}
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	testCase := runner.CaseTransfer
	if retry {
		testCase = runner.CaseRetry
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	srv, ready, err := t.start(srvCtx, server, "server", testCase, "-listen", addr.String())
	if err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	defer srv.stop()
	select {
	case <-ready:
	case <-srv.exited:
		return "", fmt.Errorf("server exited with %d: %s", srv.code, srv.lastLine())
	case <-time.After(30 * time.Second):
		return "", errors.New("server did not start listening")
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, tool, "-custom:127.0.0.1", fmt.Sprintf("-port:%d", port))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	os.WriteFile(t.path("quicinterop.log"), out, 0o644)
	if t.log != nil {
		fmt.Fprintf(t.log, "%s", out)
	}
	if cctx.Err() != nil {
		return "", errors.New("quicinterop timed out")
	}
	score, ok := parseFeatureScore(string(out), "127.0.0.1")
	if !ok {
		if err != nil {
			return "", fmt.Errorf("quicinterop: %v: %s", err, lastLine(string(out)))
		}
		return "", fmt.Errorf("no score in quicinterop's output: %s", lastLine(string(out)))
	}
	return score, nil
}

// parseFeatureScore finds target's row in quicinterop's result table
// ("   127.0.0.1  VHDCRZ-QUMBGA2-  0x00000001  hq-interop").
func parseFeatureScore(out, target string) (string, bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == target && len(f[1]) == len(FeatureCodes) {
			return f[1], true
		}
	}
	return "", false
}

// featureVerdict passes a score that has every letter the checker can
// exercise in this mode, and lists the missing ones otherwise.
func featureVerdict(score string, retry bool) (Status, string) {
	skip := unexercised(retry)
	var missing, excused []string
	for i := 0; i < len(FeatureCodes); i++ {
		c := FeatureCodes[i]
		if i < len(score) && score[i] == c {
			continue
		}
		if why, ok := skip[c]; ok {
			excused = append(excused, string(c)+": "+why)
			continue
		}
		missing = append(missing, string(c))
	}
	if len(missing) > 0 {
		return Failed, "missing " + strings.Join(missing, "") + " (not exercised: " + strings.Join(excused, "; ") + ")"
	}
	return Passed, "not exercised: " + strings.Join(excused, "; ")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
