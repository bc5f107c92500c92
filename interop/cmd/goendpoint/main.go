// Command goendpoint is a quic-go endpoint with the same interface as
// cmd/endpoint (the QUIC interop runner's conventions: ROLE, TESTCASE,
// REQUESTS, SSLKEYLOGFILE, QLOGDIR, -www/-certs/-downloads/-listen), so
// that the lab can pair hquic with another implementation in both roles.
// It serves and fetches HTTP/0.9 over ALPN hq-interop, exits 0 on success,
// 1 on failure and 127 for a test case it does not support.
package main

import (
	"context"
	"os"

	qgo "github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlog"
	"github.com/quic-go/quic-go/qlogwriter"

	"github.com/hquic/quic/interop/internal/runner"
)

func main() {
	runner.Main(runner.Endpoint{Name: "goendpoint", Unsupported: unsupported, Serve: serve, Client: runClient})
}

// unsupported returns why this endpoint cannot run env's test case, or "".
func unsupported(env *runner.Env) string {
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

// qlogTracer returns quic-go's qlog tracer, which writes
// <ODCID>_<client|server>.sqlog files into QLOGDIR, when env names a qlog
// directory (QLOGDIR or -qlogdir); nil otherwise.
func qlogTracer(env *runner.Env) func(context.Context, bool, qgo.ConnectionID) qlogwriter.Trace {
	if env.QlogDir == "" {
		return nil
	}
	os.Setenv("QLOGDIR", env.QlogDir) // the tracer reads the variable
	return qlog.DefaultConnectionTracer
}
