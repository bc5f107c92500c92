// Package runner holds the conventions of the QUIC interop runner's
// endpoints (quic-interop/quic-interop-runner) shared by hquic's and
// quic-go's endpoint programs: the environment (ROLE, TESTCASE, REQUESTS,
// SSLKEYLOGFILE, QLOGDIR), the directories (/www, /certs, /downloads) and
// their local overrides, the exit codes, and HTTP/0.9 over QUIC (ALPN
// hq-interop).
package runner

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Exit codes of an endpoint.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUnsupported = 127
)

// ALPN is HTTP/0.9 over QUIC's protocol ID in the interop runner.
const ALPN = "hq-interop"

// Client and server test case names, as the runner passes them in TESTCASE.
const (
	CaseHandshake           = "handshake"
	CaseTransfer            = "transfer"
	CaseChaCha20            = "chacha20"
	CaseMulticonnect        = "multiconnect"
	CaseRetry               = "retry"
	CaseResumption          = "resumption"
	CaseZeroRTT             = "zerortt"
	CaseKeyUpdate           = "keyupdate"
	CaseECN                 = "ecn"
	CaseV2                  = "v2"
	CaseConnectionMigration = "connectionmigration"
)

// Env is an endpoint's configuration.
type Env struct {
	// Role is "client" or "server".
	Role string
	// TestCase is the runner's test case name.
	TestCase string
	// Requests are the client's URLs, in order.
	Requests []*url.URL
	// KeyLogFile is where TLS secrets go (NSS format); empty: nowhere.
	KeyLogFile string
	// QlogDir is where qlog files go; empty: nowhere.
	QlogDir string
	// WWW is the directory the server serves.
	WWW string
	// Certs holds the server's cert.pem and priv.key.
	Certs string
	// Downloads is where the client saves files.
	Downloads string
	// Listen is the server's address.
	Listen string
	// Verify makes the client validate the server's certificate against
	// Certs/ca.pem (the runner's clients accept any certificate).
	Verify bool
}

// Parse reads the environment and then the flags in args (flags win).
func Parse(name string, args []string) (*Env, error) {
	e := &Env{
		Role:       os.Getenv("ROLE"),
		TestCase:   os.Getenv("TESTCASE"),
		KeyLogFile: os.Getenv("SSLKEYLOGFILE"),
		QlogDir:    os.Getenv("QLOGDIR"),
	}
	requests := os.Getenv("REQUESTS")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&e.Role, "role", e.Role, "client or server (default $ROLE)")
	fs.StringVar(&e.TestCase, "testcase", e.TestCase, "test case (default $TESTCASE)")
	fs.StringVar(&requests, "requests", requests, "space-separated URLs (default $REQUESTS)")
	fs.StringVar(&e.KeyLogFile, "keylog", e.KeyLogFile, "TLS key log file (default $SSLKEYLOGFILE)")
	fs.StringVar(&e.QlogDir, "qlogdir", e.QlogDir, "qlog directory (default $QLOGDIR)")
	fs.StringVar(&e.WWW, "www", "/www", "directory the server serves")
	fs.StringVar(&e.Certs, "certs", "/certs", "directory with cert.pem and priv.key")
	fs.StringVar(&e.Downloads, "downloads", "/downloads", "directory the client saves files to")
	fs.StringVar(&e.Listen, "listen", ":443", "server address")
	fs.BoolVar(&e.Verify, "verify", false, "client: verify the server certificate against CERTS/ca.pem")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch e.Role {
	case "client", "server":
	default:
		return nil, fmt.Errorf("ROLE must be client or server, not %q", e.Role)
	}
	for _, r := range strings.Fields(requests) {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("REQUESTS: %w", err)
		}
		if u.Host == "" || u.Path == "" {
			return nil, fmt.Errorf("REQUESTS: %q lacks a host or a path", r)
		}
		e.Requests = append(e.Requests, u)
	}
	if e.Role == "client" && len(e.Requests) == 0 {
		return nil, errors.New("a client needs REQUESTS")
	}
	return e, nil
}

// KeyLog opens the key log file for appending, or returns nil if none is
// configured.
func (e *Env) KeyLog() (io.WriteCloser, error) {
	if e.KeyLogFile == "" {
		return nil, nil
	}
	return os.OpenFile(e.KeyLogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}

// CertFile and KeyFile are the server's certificate chain and key.
func (e *Env) CertFile() string { return filepath.Join(e.Certs, "cert.pem") }

// KeyFile is the server's private key.
func (e *Env) KeyFile() string { return filepath.Join(e.Certs, "priv.key") }

// CAFile is the CA certificate a verifying client trusts.
func (e *Env) CAFile() string { return filepath.Join(e.Certs, "ca.pem") }

// ServerAddr returns the host (for SNI) and the resolved address of a
// request's server; the port defaults to 443.
func ServerAddr(u *url.URL) (host string, addr netip.AddrPort, err error) {
	host = u.Hostname()
	port := u.Port()
	if port == "" {
		port = "443"
	}
	ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, port))
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	ap := ua.AddrPort()
	return host, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// Request is HTTP/0.9's request line for u.
func Request(u *url.URL) []byte { return []byte("GET " + u.EscapedPath() + "\r\n") }

// DownloadPath is where the client stores the response to u.
func (e *Env) DownloadPath(u *url.URL) string {
	return filepath.Join(e.Downloads, filepath.FromSlash(path.Clean("/"+u.Path)))
}

// MaxRequest bounds an HTTP/0.9 request; longer ones are refused.
const MaxRequest = 4096

// ParseRequest returns the file under www that an HTTP/0.9 request names.
// It refuses anything but "GET /path" and paths that leave www. A path
// naming a directory ("/", or one ending in "/") names its index.html, as
// in MsQuic's interop server.
func ParseRequest(www string, req []byte) (string, error) {
	line, _, _ := bufio.NewReader(strings.NewReader(string(req))).ReadLine()
	method, target, ok := strings.Cut(strings.TrimSpace(string(line)), " ")
	if !ok || method != "GET" || !strings.HasPrefix(target, "/") {
		return "", fmt.Errorf("bad request %q", line)
	}
	p, err := url.PathUnescape(target)
	if err != nil {
		return "", err
	}
	clean := path.Clean(p)
	if clean == "/" || strings.HasSuffix(p, "/") {
		clean = path.Join(clean, Index)
	}
	return filepath.Join(www, filepath.FromSlash(clean)), nil
}

// Index is the file a request for a directory gets.
const Index = "index.html"

// Open opens the response to a request for name (from ParseRequest): the
// file, or for a directory's missing index.html a listing of the
// directory's file names, one a line, as quic-go's interop server answers
// "GET /". The runner's clients request only files; MsQuic's feature
// checker (quicinterop) requests "/" when given no URLs.
func Open(name string) (io.ReadCloser, error) {
	f, err := os.Open(name)
	if err == nil || filepath.Base(name) != Index || !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	entries, err := os.ReadDir(filepath.Dir(name))
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, e := range entries {
		if e.Type().IsRegular() {
			b.WriteString(e.Name() + "\n")
		}
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}

// Supported reports whether a test case is one the runner sends to role
// at all; cases outside this set are unsupported by every endpoint.
func Supported(role, testCase string) bool {
	switch testCase {
	case CaseHandshake, CaseTransfer, CaseChaCha20, CaseMulticonnect, CaseRetry, CaseResumption,
		CaseZeroRTT, CaseECN, CaseV2:
		return true
	case CaseKeyUpdate:
		return role == "client"
	case CaseConnectionMigration:
		return role == "server"
	}
	return false
}

// Endpoint is one implementation's side of the runner's interface.
type Endpoint struct {
	// Name prefixes flags' usage and error messages.
	Name string
	// Unsupported returns why the endpoint cannot run env's test case, or
	// "" if it can.
	Unsupported func(env *Env) string
	// Serve runs the server role until it is stopped.
	Serve func(env *Env) error
	// Client runs the client role's requests.
	Client func(env *Env) error
}

// Main parses the command line and environment, runs ep in the role they
// name and exits with the runner's codes: 0 on success, 1 on failure, 127
// for an unsupported test case.
func Main(ep Endpoint) {
	env, err := Parse(ep.Name, os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", ep.Name, err)
		os.Exit(ExitFailure)
	}
	if !Supported(env.Role, env.TestCase) {
		fmt.Fprintf(os.Stderr, "%s: %s test case %q unsupported: not a test case of the runner for this role\n", ep.Name, env.Role, env.TestCase)
		os.Exit(ExitUnsupported)
	}
	if reason := ep.Unsupported(env); reason != "" {
		fmt.Fprintf(os.Stderr, "%s: %s test case %q unsupported: %s\n", ep.Name, env.Role, env.TestCase, reason)
		os.Exit(ExitUnsupported)
	}
	run := ep.Client
	if env.Role == "server" {
		run = ep.Serve
	}
	if err := run(env); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", ep.Name, err)
		os.Exit(ExitFailure)
	}
}

// PeersEnv names the environment variable that points to the directory
// holding the other QUIC stacks the lab and the interop tests run against
// (each optional): MsQuic's build under msquic/build/bin/Release, the npm
// install of @matrixai/quic (Cloudflare quiche) under quiche, and so on.
const PeersEnv = "HQUIC_PEERS"

// PeersDir returns the peers directory: $HQUIC_PEERS, or _peers at the
// root of the repository holding the working directory (git-ignored).
func PeersDir() string {
	if d := os.Getenv(PeersEnv); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return "_peers"
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return filepath.Join(d, "_peers")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "_peers")
		}
	}
}

// MsQuicTool is the path of one of MsQuic's tools (quicinterop,
// quicinteropserver, secnetperf, quicsample) in the peers directory, where
// shared/peers/build-msquic.sh builds them.
func MsQuicTool(peers, name string) string {
	return filepath.Join(peers, "msquic", "build", "bin", "Release", name)
}
