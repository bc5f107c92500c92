package main

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hquic/quic/interop/internal/runner"
)

// quicheScript is the HTTP/0.9 client and server over @matrixai/quic,
// run with node from the npm install in the peers directory.
//
//go:embed quiche.mjs
var quicheScript string

func quicheDir(peers string) string { return filepath.Join(peers, "quiche") }

func quicheInstalled(peers string) string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not on PATH"
	}
	if p := filepath.Join(quicheDir(peers), "node_modules", "@matrixai", "quic", "package.json"); !exists(p) {
		return p + " is missing (npm install @matrixai/quic@2.0.9 in " + quicheDir(peers) + ")"
	}
	return ""
}

// quicheUnsupported lists what @matrixai/quic 2.0.9's API cannot do.
func quicheUnsupported(env *runner.Env) string {
	switch env.TestCase {
	case runner.CaseV2:
		return "quiche has no QUIC v2"
	case runner.CaseECN:
		return "quiche does not mark ECN"
	case runner.CaseConnectionMigration:
		return "@matrixai/quic's server cannot offer a preferred_address"
	}
	if env.Role == "server" {
		switch env.TestCase {
		case runner.CaseHandshake:
			return "@matrixai/quic's server sends Retry to every client (the handshake case requires none)"
		case runner.CaseResumption:
			return "@matrixai/quic's server builds a TLS context per connection (QUICConnection calls buildQuicheConfig) without a ticket key, so no ticket it issues resumes"
		case runner.CaseZeroRTT:
			return "@matrixai/quic's server cannot resume, and it crashes on a 0-RTT packet of a connection it does not know (TypeError in QUICServer.acceptConnection: a 0-RTT header has no token)"
		}
	}
	if env.Role == "client" {
		switch env.TestCase {
		case runner.CaseResumption, runner.CaseZeroRTT:
			return "@matrixai/quic's client has no session resumption API"
		case runner.CaseKeyUpdate:
			return "quiche's API cannot start a key update"
		case runner.CaseChaCha20:
			return "@matrixai/quic's client cannot restrict its cipher suites"
		}
	}
	return ""
}

func quicheCmd(peers string, env *runner.Env) *exec.Cmd {
	cmd := exec.Command("node", "--input-type=module", "-e", quicheScript)
	var reqs []string
	for _, u := range env.Requests {
		reqs = append(reqs, u.String())
	}
	cmd.Env = append(os.Environ(),
		"HQ_QUICHE="+quicheDir(peers), "HQ_WWW="+env.WWW, "HQ_CERTS="+env.Certs,
		"HQ_DOWNLOADS="+env.Downloads, "HQ_LISTEN="+env.Listen,
		"ROLE="+env.Role, "TESTCASE="+env.TestCase, "REQUESTS="+strings.Join(reqs, " "),
		"SSLKEYLOGFILE="+env.KeyLogFile)
	return cmd
}

func quicheServe(peers string, env *runner.Env) error {
	return run(quicheCmd(peers, env), "", "")
}

func quicheClient(peers string, env *runner.Env) error {
	return run(quicheCmd(peers, env), "", "")
}
