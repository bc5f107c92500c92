// Command goendpoint is a quic-go endpoint with the same interface as
// cmd/endpoint (the QUIC interop runner's conventions: ROLE, TESTCASE,
// REQUESTS, SSLKEYLOGFILE, QLOGDIR, -www/-certs/-downloads/-listen), so
// that the lab can pair hquic with another implementation in both roles.
// It serves and fetches HTTP/0.9 over ALPN hq-interop, exits 0 on success,
// 1 on failure and 127 for a test case it does not support.
package main

import (
	"fmt"
	"os"

	"github.com/hquic/quic/interop/internal/runner"
)

func main() {
	env, err := runner.Parse("goendpoint", os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goendpoint:", err)
		os.Exit(runner.ExitFailure)
	}
	if reason := unsupported(env); reason != "" {
		fmt.Fprintf(os.Stderr, "goendpoint: %s test case %q unsupported: %s\n", env.Role, env.TestCase, reason)
		os.Exit(runner.ExitUnsupported)
	}
	if env.Role == "server" {
		err = serve(env)
	} else {
		err = runClient(env)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "goendpoint:", err)
		os.Exit(runner.ExitFailure)
	}
}

// unsupported returns why this endpoint cannot run env's test case, or "".
func unsupported(env *runner.Env) string {
	if !runner.Supported(env.Role, env.TestCase) {
		return "not a test case of the runner for this role"
	}
	switch env.TestCase {
	case runner.CaseV2:
		return "quic-go does not implement compatible version negotiation (RFC 9368)"
	case runner.CaseChaCha20:
		if env.Role == "client" {
			return "crypto/tls cannot restrict the TLS 1.3 cipher suites a client offers"
		}
	case runner.CaseKeyUpdate:
		return "quic-go's API cannot trigger a key update"
	case runner.CaseConnectionMigration:
		return "quic-go servers cannot advertise a preferred_address"
	}
	return ""
}
