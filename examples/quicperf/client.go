package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hquic/quic"
)

// clientOptions are the client's flags.
type clientOptions struct {
	addr     netip.AddrPort
	host     string
	mode     string
	upload   uint64
	download uint64
	streams  int
	conns    int
	duration time.Duration
	warmup   time.Duration
	uni      bool
	verbose  bool
	cc       quic.CongestionControlAlgorithm
	limit    time.Duration
}

func runClient(args []string) int {
	fs := flag.NewFlagSet("quicperf client", flag.ExitOnError)
	addrFlag := fs.String("addr", "127.0.0.1:4433", "server address (HOST:PORT)")
	mode := fs.String("mode", "throughput", "throughput, rps, hps or idle")
	upload := fs.String("upload", "", "bytes to upload per request (default: 0; 512 for rps)")
	download := fs.String("download", "", "bytes to download per request (default: 0; 4096 for rps)")
	streams := fs.Int("streams", 0, "parallel streams (default: 1; 100 for rps)")
	conns := fs.Int("conns", 0, "parallel connections (default: 16 for hps, 1000 for idle)")
	duration := fs.Duration("duration", 10*time.Second, "measurement time (rps, hps); hold time (idle; default 0: until a signal)")
	warmup := fs.Duration("warmup", time.Second, "time before measuring (rps, hps)")
	uni := fs.Bool("uni", false, "send requests on unidirectional streams")
	verbose := fs.Bool("v", false, "print the connection's statistics to standard error (throughput, rps)")
	execFlag := fs.String("exec", "lowlat", execHelp)
	ccFlag := fs.String("cc", "cubic", ccHelp)
	limit := fs.Duration("limit", 0, "throughput: stop a transfer not finished after this long and report what arrived (0: no limit)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	fs.Parse(args)

	if *mode == "idle" {
		durationSet := false
		fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
		if !durationSet {
			*duration = 0
		}
	}
	o := clientOptions{mode: *mode, streams: *streams, conns: *conns, duration: *duration, warmup: *warmup, uni: *uni, verbose: *verbose, limit: *limit}
	var err error
	if o.host, o.addr, err = resolve(*addrFlag); err != nil {
		return fail(err)
	}
	defUp, defDown := uint64(0), uint64(0)
	if o.mode == "rps" {
		defUp, defDown = 512, 4096
	}
	if o.upload, err = parseSize(*upload, defUp); err != nil {
		return fail(fmt.Errorf("-upload: %w", err))
	}
	if o.download, err = parseSize(*download, defDown); err != nil {
		return fail(fmt.Errorf("-download: %w", err))
	}
	if o.streams <= 0 {
		o.streams = 1
		if o.mode == "rps" {
			o.streams = 100
		}
	}
	if o.conns <= 0 {
		o.conns = 16
		if o.mode == "idle" {
			o.conns = 1000
		}
	}
	profile, err := parseProfile(*execFlag)
	if err != nil {
		return fail(err)
	}
	if o.cc, err = parseCC(*ccFlag); err != nil {
		return fail(err)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fail(err)
	}
	defer stopProfile()
	lib, reg, err := open(profile)
	if err != nil {
		return fail(err)
	}
	defer lib.Close()
	defer reg.Close()
	cfg, err := clientConfiguration(reg, o)
	if err != nil {
		return fail(err)
	}
	defer cfg.Close()

	var line string
	switch o.mode {
	case "throughput":
		if o.upload == 0 && o.download == 0 {
			return fail(errors.New("throughput mode needs -upload or -download"))
		}
		line, err = runThroughput(reg, cfg, o)
	case "rps":
		line, err = runRPS(reg, cfg, o)
	case "hps":
		line, err = runHPS(reg, cfg, o)
	case "idle":
		err = runIdle(reg, cfg, o)
	default:
		err = fmt.Errorf("-mode: want throughput, rps, hps or idle, got %q", o.mode)
	}
	if err != nil {
		return fail(err)
	}
	if line != "" {
		fmt.Println(line)
	}
	return 0
}

// clientConfiguration makes the client's configuration: the perf ALPN, no
// certificate validation (a perf server's certificate is usually
// self-signed), room for the server's unidirectional responses, and the
// congestion controller of -cc.
func clientConfiguration(reg *quic.Registration, o clientOptions) (*quic.Configuration, error) {
	idle := 30 * time.Second
	if o.mode == "idle" {
		idle = 120 * time.Second
	}
	cfg, err := reg.NewConfiguration([]string{alpn}, &quic.Settings{
		PeerUnidiStreamCount:       quic.Some[uint16](1000),
		IdleTimeout:                quic.Some(idle),
		SendBufferingEnabled:       quic.Some(false),
		CongestionControlAlgorithm: quic.Some(o.cc),
	})
	if err != nil {
		return nil, err
	}
	err = cfg.LoadCredential(&quic.CredentialConfig{
		Type:  quic.CredentialNone,
		Flags: quic.CredentialClient | quic.CredentialNoCertificateValidation,
	})
	if err != nil {
		cfg.Close()
		return nil, err
	}
	return cfg, nil
}

// dial starts a connection to the server with handler h. The requester,
// if any, gets the connection before any event can reach h.
func dial(reg *quic.Registration, cfg *quic.Configuration, o clientOptions, q *requester, h quic.ConnectionHandler) (*quic.Connection, error) {
	c, err := reg.NewConnection(h)
	if err != nil {
		return nil, err
	}
	if q != nil {
		q.c = c
	}
	if err := c.SetRemoteAddr(o.addr); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Start(cfg, quic.AddressFamilyUnspec, o.host, o.addr.Port()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// resolve splits HOST:PORT and resolves HOST.
func resolve(s string) (string, netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("-addr: %w", err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("-addr: bad port %q", portStr)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return host, netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	a, _ := netip.AddrFromSlice(ips[0])
	return host, netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
}

// parseSize parses a byte count with an optional K, M or G suffix (powers
// of 1024); the empty string gives def.
func parseSize(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}

// connWatch turns a connection's terminal events into channels: failed
// receives the first transport or peer shutdown, closed is closed on
// shutdown complete.
type connWatch struct {
	connected chan struct{}
	failed    chan error
	closed    chan struct{}
}

func newConnWatch() *connWatch {
	return &connWatch{connected: make(chan struct{}), failed: make(chan error, 1), closed: make(chan struct{})}
}

// onEvent handles the connection events every mode watches; onConnected
// runs in the handler when the handshake completes.
func (w *connWatch) onEvent(ev quic.ConnectionEvent, onConnected func()) {
	switch ev := ev.(type) {
	case *quic.ConnectedEvent:
		if onConnected != nil {
			onConnected()
		}
		close(w.connected)
	case *quic.ShutdownInitiatedByTransportEvent:
		w.fail(fmt.Errorf("connection closed: %w", ev.Err))
	case *quic.ShutdownInitiatedByPeerEvent:
		w.fail(fmt.Errorf("server closed the connection with code %d", ev.ErrorCode))
	case *quic.ConnectionShutdownCompleteEvent:
		w.fail(errors.New("connection closed"))
		close(w.closed)
	}
}

func (w *connWatch) fail(err error) {
	select {
	case w.failed <- err:
	default:
	}
}

// shutdown closes c gracefully and waits (boundedly) for it to finish.
// With -v it first prints the connection's statistics.
func shutdown(c *quic.Connection, w *connWatch, o clientOptions) {
	if o.verbose {
		if st, err := c.Statistics(); err == nil {
			fmt.Fprintf(os.Stderr, "%+v\n", st)
		}
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	select {
	case <-w.closed:
	case <-time.After(5 * time.Second):
	}
	c.Close()
}
