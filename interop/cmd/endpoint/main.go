// Command endpoint is hquic's endpoint for the QUIC interop runner
// (quic-interop/quic-interop-runner) and for the local lab in
// internal/lab: HTTP/0.9 over QUIC (ALPN hq-interop), configured by the
// runner's environment variables ROLE, TESTCASE, REQUESTS, SSLKEYLOGFILE and
// QLOGDIR, with the runner's directories (/www, /certs, /downloads, port
// 443) overridable for local use:
//
//	endpoint [-role R] [-testcase T] [-requests URLS] [-www DIR] [-certs DIR]
//	         [-downloads DIR] [-listen HOST:PORT] [-keylog FILE] [-qlogdir DIR] [-verify]
//
// It exits 0 on success, 1 on failure and 127 for a test case it does not
// support. With QLOGDIR (or -qlogdir) every connection writes a qlog file
// <ODCID>_<client|server>.sqlog into that directory, as the runner expects.
package main

import "github.com/hquic/quic/interop/internal/runner"

func main() {
	runner.Main(runner.Endpoint{Name: "endpoint", Unsupported: unsupported, Serve: serve, Client: runClient})
}

// unsupported returns why hquic cannot run env's test case, or "".
func unsupported(env *runner.Env) string {
	if env.Role == "client" && env.TestCase == runner.CaseChaCha20 {
		return "crypto/tls cannot restrict the TLS 1.3 cipher suites a client offers"
	}
	return ""
}
