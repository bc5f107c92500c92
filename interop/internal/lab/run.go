// Package lab runs the QUIC interop runner's test cases on one machine,
// without Docker: the endpoints are processes with the runner's interface
// (cmd/endpoint for hquic, cmd/goendpoint for quic-go), the network is
// internal/relay on loopback, and each case's checks read the relay's
// record of the cleartext packet headers, the downloaded files and, for
// key updates, the key phase bits unprotected with the endpoints' key logs.
package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hquic/quic/interop/internal/relay"
	"github.com/hquic/quic/interop/internal/runner"
)

// Impl is an endpoint program.
type Impl struct {
	// Name labels the implementation in the matrix ("hquic", "quic-go").
	Name string
	// Path is the endpoint binary.
	Path string
	// Args come before the runner's flags (cmd/peer's stack name).
	Args []string
	// Missing, if set, says why the implementation is not installed: its
	// pairings are skipped.
	Missing string
}

// Pairing is a client and a server implementation.
type Pairing struct{ Client, Server Impl }

// String is "client→server".
func (p Pairing) String() string { return p.Client.Name + "→" + p.Server.Name }

// Status is a case's outcome.
type Status uint8

// Outcomes, as in the runner's matrix, and Skipped for a pairing with a
// peer that is not installed.
const (
	Passed Status = iota
	Failed
	Unsupported
	Skipped
)

// String returns "passed", "failed", "unsupported" or "skipped".
func (s Status) String() string {
	return [...]string{"passed", "failed", "unsupported", "skipped"}[s]
}

// Result is one case run in one pairing.
type Result struct {
	Case     string
	Pairing  Pairing
	Status   Status
	Detail   string // why it failed or is unsupported
	Duration time.Duration
}

// Options configure a lab run.
type Options struct {
	// Dir holds each run's files; runs get subdirectories.
	Dir string
	// Log, if set, receives the endpoints' output and progress lines.
	Log io.Writer
}

// Run runs one case in one pairing.
func Run(ctx context.Context, c *Case, p Pairing, opt Options) Result {
	start := time.Now()
	res := Result{Case: c.Name, Pairing: p}
	status, detail := run(ctx, c, p, opt)
	res.Status, res.Detail, res.Duration = status, detail, time.Since(start)
	return res
}

// run is Run's body.
func run(ctx context.Context, c *Case, p Pairing, opt Options) (Status, string) {
	for _, impl := range []Impl{p.Client, p.Server} {
		if impl.Missing != "" {
			return Skipped, impl.Name + " not installed: " + impl.Missing
		}
	}
	dir, err := os.MkdirTemp(opt.Dir, c.Name+"-")
	if err != nil {
		return Failed, err.Error()
	}
	t := &trial{c: c, dir: dir, log: opt.Log}
	for _, d := range []string{"www", "downloads", "certs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return Failed, err.Error()
		}
	}
	chain := 1
	if c.CertChain > 0 {
		chain = c.CertChain
	}
	if err := writeCerts(t.path("certs"), chain); err != nil {
		return Failed, "certificates: " + err.Error()
	}
	if t.files, err = writeFiles(t.path("www"), c.Files); err != nil {
		return Failed, err.Error()
	}
	loopback := "127.0.0.1"
	if c.IPv6 {
		loopback = "::1"
	}
	if reason := clientLimits[p.Client.Name][c.Name]; reason != "" {
		return Unsupported, "client: " + reason
	}
	port, err := freePort(loopback, c.PreferredAddress)
	if err != nil {
		return Failed, err.Error()
	}
	serverAddr := netip.AddrPortFrom(netip.MustParseAddr(loopback), port)
	t.preferred = netip.AddrPortFrom(serverAddr.Addr(), port+1)

	// The server first: a server that cannot run the case ends the trial.
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	srv, ready, err := t.start(srvCtx, p.Server, "server", c.serverCase(), "-listen", serverAddr.String())
	if err != nil {
		return Failed, "server: " + err.Error()
	}
	defer srv.stop()
	select {
	case <-ready:
	case <-srv.exited:
		if srv.code == runner.ExitUnsupported {
			return Unsupported, "server: " + srv.lastLine()
		}
		return Failed, fmt.Sprintf("server exited with %d: %s", srv.code, srv.lastLine())
	case <-time.After(30 * time.Second):
		return Failed, "server did not start listening"
	}

	cfg := c.network()
	cfg.Listen = netip.AddrPortFrom(netip.MustParseAddr(loopback), 0)
	cfg.Server = serverAddr
	cfg.Seed = uint64(time.Now().UnixNano())
	cfgStart := time.Now()
	rl, err := relay.Start(cfg)
	if err != nil {
		return Failed, "relay: " + err.Error()
	}
	defer rl.Close()
	t.relay = rl

	var urls []string
	for _, f := range t.files {
		urls = append(urls, "https://"+rl.Addr().String()+"/"+f.name)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	cliCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cli, _, err := t.start(cliCtx, p.Client, "client", c.clientCase(), "-downloads", t.path("downloads"),
		"-requests", strings.Join(urls, " "))
	if err != nil {
		return Failed, "client: " + err.Error()
	}
	select {
	case <-cli.exited:
	case <-srv.exited:
		<-cli.exited
	}
	defer func() { t.writeTrace(cfgStart, rl.Records()) }()
	switch {
	case cli.code == runner.ExitUnsupported:
		return Unsupported, "client: " + cli.lastLine()
	case cliCtx.Err() != nil:
		return Failed, fmt.Sprintf("client timed out after %v", timeout)
	case cli.code != 0:
		return Failed, fmt.Sprintf("client exited with %d: %s", cli.code, cli.lastLine())
	}
	srv.stop()
	if srv.code == runner.ExitUnsupported {
		return Unsupported, "server: " + srv.lastLine()
	}
	rl.Close()
	t.records = rl.Records()
	t.clientOut = cli.output()
	if err := c.Check(t); err != nil {
		return Failed, err.Error()
	}
	return Passed, ""
}

// writeTrace writes what the relay saw to relay.log in the run's
// directory, one datagram a line, for looking into failures.
func (t *trial) writeTrace(start time.Time, records []relay.Record) {
	var b strings.Builder
	for _, r := range records {
		fmt.Fprintf(&b, "%9.3fms %-9s %-13s %5dB ecn=%d client=%v", float64(r.Time.Sub(start).Microseconds())/1000,
			r.Dir, r.Fate, r.Size, r.ECN, r.Client)
		for _, h := range r.Headers {
			if h.Type == relay.TypeShort {
				// The connection ID's length is not on the wire: show
				// the first bytes after the (protected) first byte.
				fmt.Fprintf(&b, " [%s head=%x %dB]", h.Type, h.Prefix[1:min(len(h.Prefix), 21)], h.Size)
				continue
			}
			fmt.Fprintf(&b, " [%s v=%#x dcid=%x scid=%x tok=%d %dB]", h.Type, h.Version, h.DCID, h.SCID, len(h.Token), h.Size)
		}
		b.WriteByte('\n')
	}
	os.WriteFile(t.path("relay.log"), []byte(b.String()), 0o644)
}

// trial is one case run: its directory, files and what was observed.
type trial struct {
	c         *Case
	dir       string
	log       io.Writer
	files     []file
	relay     *relay.Relay
	records   []relay.Record
	clientOut string
	preferred netip.AddrPort // the server's preferred address, if it offers one
}

func (t *trial) path(elem ...string) string {
	return filepath.Join(append([]string{t.dir}, elem...)...)
}

// proc is a running endpoint.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	code   int
	buf    *lockedBuffer
}

// start runs an endpoint in role with the runner's environment; ready is
// closed once a server prints "listening on".
func (t *trial) start(ctx context.Context, impl Impl, role, testCase string, args ...string) (*proc, <-chan struct{}, error) {
	cmd := exec.CommandContext(ctx, impl.Path, append(append(slices.Clone(impl.Args),
		"-www", t.path("www"), "-certs", t.path("certs"),
	), args...)...)
	cmd.Env = append(os.Environ(),
		runner.PeersEnv+"="+peersDir(),
		"ROLE="+role,
		"TESTCASE="+testCase,
		"SSLKEYLOGFILE="+t.path(role+".keys"),
		"QLOGDIR="+t.path(role+"-qlog"),
	)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &proc{cmd: cmd, exited: make(chan struct{}), buf: &lockedBuffer{}}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	ready := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signaled := false
		for sc.Scan() {
			line := sc.Text()
			p.buf.add(line)
			if t.log != nil {
				fmt.Fprintf(t.log, "    %s %s: %s\n", impl.Name, role, line)
			}
			if !signaled && strings.HasPrefix(line, "listening on") {
				signaled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee) && ee.Exited():
			p.code = ee.ExitCode()
		default:
			p.code = -1
		}
		pw.Close()
		// Every line is recorded before the exit is reported.
		<-scanned
		close(p.exited)
	}()
	return p, ready, nil
}

// stop ends a server with SIGTERM and waits for it.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) lastLine() string { return p.buf.last() }

func (p *proc) output() string { return p.buf.String() }

// freePort finds a UDP port that is free on addr now; with next, the
// port after it is free too (a server's preferred address).
func freePort(addr string, next bool) (uint16, error) {
	for range 100 {
		c, err := net.ListenPacket("udp", net.JoinHostPort(addr, "0"))
		if err != nil {
			return 0, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if !next {
			c.Close()
			return uint16(port), nil
		}
		c2, err := net.ListenPacket("udp", net.JoinHostPort(addr, strconv.Itoa(port+1)))
		c.Close()
		if err == nil && port < 65535 {
			c2.Close()
			return uint16(port), nil
		}
	}
	return 0, errors.New("no two consecutive free UDP ports")
}

// clientLimits are client features the runner cannot ask about, because
// it gives the client TESTCASE=transfer: the lab reports the case as
// unsupported for that client instead of failing it.
var clientLimits = map[string]map[string]string{
	"quic-go": {"connectionmigration": "quic-go clients do not move to a server's preferred_address"},
	"msquic":  {"connectionmigration": "MsQuic 2.7 clients do not implement preferred_address (connection.c: \"TODO - Implement preferred address feature\")"},
	"quiche":  {"connectionmigration": "@matrixai/quic clients do not move to a server's preferred_address"},
}
