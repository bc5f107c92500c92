package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hquic/quic/interop/internal/runner"
)

// MsQuic's interop tools (built by shared/peers/build-msquic.sh): the
// HTTP/0.9 server quicinteropserver and the feature checker quicinterop,
// which downloads files with -urls. The translation of test cases follows
// MsQuic's scripts/run_endpoint.sh.

func msquicBin(peers, name string) string { return runner.MsQuicTool(peers, name) }

func msquicInstalled(peers string) string {
	for _, b := range []string{"quicinteropserver", "quicinterop"} {
		if p := msquicBin(peers, b); !exists(p) {
			return p + " is missing (build it with shared/peers/build-msquic.sh)"
		}
	}
	return ""
}

// msquicTests maps the client test cases run_endpoint.sh supports to
// quicinterop's feature letters and wait timeouts (ms; 0: its default).
var msquicTests = map[string]struct {
	letter  string
	timeout int
}{
	runner.CaseHandshake:    {"H", 0},
	runner.CaseTransfer:     {"D", 50000},
	runner.CaseMulticonnect: {"D", 25000},
	runner.CaseRetry:        {"D", 0},
	runner.CaseResumption:   {"R", 0},
	runner.CaseZeroRTT:      {"Z", 0},
	runner.CaseKeyUpdate:    {"U", 0},
	runner.CaseChaCha20:     {"A", 0},
	runner.CaseV2:           {"2", 0},
}

// msquicServerCases are the server test cases run_endpoint.sh supports.
var msquicServerCases = map[string]bool{
	runner.CaseHandshake: true, runner.CaseTransfer: true, runner.CaseMulticonnect: true, runner.CaseRetry: true,
	runner.CaseResumption: true, runner.CaseZeroRTT: true, runner.CaseChaCha20: true, runner.CaseV2: true,
}

func msquicUnsupported(env *runner.Env) string {
	if env.Role == "server" && !msquicServerCases[env.TestCase] {
		return "not a test case of MsQuic's run_endpoint.sh for servers"
	}
	if _, ok := msquicTests[env.TestCase]; env.Role == "client" && !ok {
		return "not a test case of MsQuic's run_endpoint.sh for clients"
	}
	return ""
}

func msquicServe(peers string, env *runner.Env) error {
	host, port, err := net.SplitHostPort(env.Listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	if host == "" {
		host = "*"
	}
	cert, err1 := filepath.Abs(env.CertFile())
	key, err2 := filepath.Abs(env.KeyFile())
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	// The root is the working directory: the server builds each file's
	// path in a 256-byte buffer, which the runner's /www leaves room for
	// (zerortt's names are 250 bytes long) and a long absolute path not.
	args := []string{
		"-listen:" + host, "-port:" + port, "-root:.",
		"-file:" + cert, "-key:" + key, "-noexit",
	}
	switch env.TestCase {
	case runner.CaseRetry:
		args = append(args, "-retry:1")
	case runner.CaseV2:
		args = append(args, "-enablevne:1")
	}
	if env.KeyLogFile != "" {
		kl, err := filepath.Abs(env.KeyLogFile)
		if err != nil {
			return err
		}
		args = append(args, "-sslkeylogfile:"+kl)
	}
	// It block-buffers what it prints into a pipe: stdbuf makes its
	// "Waiting forever." (listening) line arrive when printed.
	cmd := exec.Command("stdbuf", append([]string{"-oL", msquicBin(peers, "quicinteropserver")}, args...)...)
	cmd.Dir = env.WWW
	return run(cmd, "Waiting forever", env.Listen)
}

// msquicClient runs quicinterop with the requests, in the downloads
// directory (it saves each file there under its base name): once for
// all of them, or once per request for multiconnect.
func msquicClient(peers string, env *runner.Env) error {
	t := msquicTests[env.TestCase]
	if err := os.MkdirAll(env.Downloads, 0o755); err != nil {
		return err
	}
	groups := [][]*url.URL{env.Requests}
	if env.TestCase == runner.CaseMulticonnect {
		groups = nil
		for _, u := range env.Requests {
			groups = append(groups, []*url.URL{u})
		}
	}
	for _, g := range groups {
		host, port := g[0].Hostname(), g[0].Port()
		if port == "" {
			port = "443"
		}
		args := []string{"-test:" + t.letter, "-custom:" + host, "-port:" + port}
		if t.timeout > 0 {
			args = append(args, fmt.Sprintf("-timeout:%d", t.timeout))
		}
		if env.KeyLogFile != "" {
			args = append(args, "-sslkeylogfile:"+env.KeyLogFile)
		}
		urls := make([]string, len(g))
		for i, u := range g {
			urls[i] = u.String()
		}
		// quicinterop takes the URLs as the words after -urls:.
		args = append(append(args, "-urls:"+urls[0]), urls[1:]...)
		cmd := exec.Command(msquicBin(peers, "quicinterop"), args...)
		cmd.Dir = env.Downloads
		if err := run(cmd, "", ""); err != nil {
			return err
		}
		for _, u := range g {
			if !exists(filepath.Join(env.Downloads, filepath.Base(u.Path))) {
				return fmt.Errorf("quicinterop did not download %s", u.Path)
			}
		}
	}
	return nil
}
