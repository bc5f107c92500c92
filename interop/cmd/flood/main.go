// Command flood measures a QUIC server under a handshake flood: valid
// QUIC v1 client Initials (real TLS 1.3 ClientHellos from crypto/tls's QUIC
// API, RFC 9001 Initial protection derived from a fresh random Destination
// Connection ID each) that never complete, sent at a configurable rate from
// many loopback source addresses, while legitimate quic-go clients make
// handshake+echo attempts at a steady rate.
//
// Usage:
//
//	flood [-impl hquic|quicgo] [-rate 20000] [-addrs 4096] [-duration 15s] [-legit 20] [-pool 0] ...
//	flood serve -impl hquic|quicgo [-listen ADDR]
//	flood soak [-duration 10m] [-churn 50] [-abandon 2] [-halfopen 20]
//
// The first form starts the chosen echo server as a child process (the
// second form), so that the server's CPU time and resident memory are read
// from /proc apart from the load generator's, then runs a warm-up with
// legitimate clients only, the flood, and a cool-down. It prints one row
// per second and a summary: the share of each second's legitimate attempts
// that succeeded, the server's CPU in cores, its peak RSS growth over the
// warm-up baseline, and the rate the generator achieved. Flood sources are
// 127.1.0.0 onwards (one wildcard socket with IP_PKTINFO); legitimate
// clients use 127.0.0.1. Linux only.
//
// The soak form churns connections against an hquic server (see soak.go)
// and exits non-zero unless the server's goroutines, connections and live
// heap return to their starting level.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hquic/quic"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := runServe(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "flood serve:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "soak" {
		if err := runSoak(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "flood soak:", err)
			os.Exit(1)
		}
		return
	}
	if err := runFlood(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func runServe(args []string) error {
	fs := flag.NewFlagSet("flood serve", flag.ExitOnError)
	impl := fs.String("impl", "hquic", "server implementation: hquic or quicgo")
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	alpn := fs.String("alpn", "echo", "ALPN")
	gc := fs.Bool("gc", false, "collect garbage before each statistics report (hquic), to report the live heap")
	settings := fs.String("settings", "", "hquic library settings as JSON, e.g. '{\"MaxStatelessOperations\":{\"Value\":256,\"Set\":true}}'")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the server to this file")
	memprofile := fs.String("memprofile", "", "with -gc (hquic), rewrite this heap profile after each report's collection, so that it holds the last")
	fs.Parse(args)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		// Stop at the signal, before the server's shutdown.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-stop
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	addr, err := netip.ParseAddrPort(*listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	switch *impl {
	case "hquic":
		var lib quic.Settings
		if *settings != "" {
			if err := json.Unmarshal([]byte(*settings), &lib); err != nil {
				return fmt.Errorf("-settings: %w", err)
			}
		}
		return serveHquic(addr, *alpn, time.Second, *gc, *memprofile, &lib)
	case "quicgo":
		return serveQuicGo(addr, *alpn)
	}
	return fmt.Errorf("unknown -impl %q", *impl)
}

// options are the flood run's flags.
type options struct {
	impl             string
	rate             float64
	addrs            int
	duration         time.Duration
	warmup, cooldown time.Duration
	legitRate        float64
	size             int
	timeout          time.Duration
	senders          int
	hellos           int
	pool             int
	mlkem            bool
	alpn             string
	server           string
	serverPID        int
	settings         string
	cpuprofile       string
	memprofile       string // the server's heap profile (soak)
	gcStats          bool   // the server reports its live heap
	established      int
}

func runFlood(args []string) error {
	var o options
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	fs.StringVar(&o.impl, "impl", "hquic", "server to start: hquic or quicgo")
	fs.Float64Var(&o.rate, "rate", 20000, "flood Initials per second")
	fs.IntVar(&o.addrs, "addrs", 4096, "flood source addresses (127.1.0.0 onwards)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "flood duration")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "legitimate traffic before the flood (the baseline)")
	fs.DurationVar(&o.cooldown, "cooldown", 3*time.Second, "legitimate traffic after the flood")
	fs.Float64Var(&o.legitRate, "legit", 20, "legitimate handshake+echo attempts per second")
	fs.IntVar(&o.size, "size", 1024, "bytes each legitimate client echoes")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "time a legitimate attempt may take")
	fs.IntVar(&o.senders, "senders", 1, "flood sender goroutines")
	fs.IntVar(&o.established, "established", 4, "connections kept open through the run, echoing 1 KiB every 10ms")
	fs.IntVar(&o.hellos, "hellos", 256, "distinct pre-generated ClientHellos")
	fs.IntVar(&o.pool, "pool", 0, "seal this many Initials (distinct random DCIDs) before the flood and send them in turn; 0 seals every Initial anew")
	fs.BoolVar(&o.mlkem, "mlkem", false, "offer X25519MLKEM768 in flood ClientHellos, which then span two Initial datagrams (-rate counts datagrams)")
	fs.StringVar(&o.alpn, "alpn", "echo", "ALPN")
	fs.StringVar(&o.server, "server", "", "flood an already running server at this address instead of starting one (needs -pid)")
	fs.IntVar(&o.serverPID, "pid", 0, "process ID of the -server, for its CPU and memory")
	fs.StringVar(&o.settings, "settings", "", "hquic server library settings as JSON (see flood serve -h)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the server to this file")
	fs.Parse(args)
	if o.rate < 0 || o.legitRate <= 0 || o.senders < 1 || o.hellos < 1 || o.pool < 0 {
		return errors.New("-rate must be ≥ 0, -legit > 0, -senders and -hellos ≥ 1, -pool ≥ 0")
	}
	srv, err := startServer(&o)
	if err != nil {
		return err
	}
	defer srv.stop()
	return measure(&o, srv)
}

// server is the server under test.
type server struct {
	addr  netip.AddrPort
	pid   int
	cmd   *exec.Cmd // nil for an external server
	mu    sync.Mutex
	stats []timedStats
	dos   []timedMode // DoS mode changes the server reported
}

type timedMode struct {
	at time.Time
	on bool
}

type timedStats struct {
	at time.Time
	s  serverStats
}

// startServer starts the child server, or describes the external one.
func startServer(o *options) (*server, error) {
	if o.server != "" {
		a, err := netip.ParseAddrPort(o.server)
		if err != nil {
			return nil, fmt.Errorf("-server: %w", err)
		}
		if o.serverPID == 0 {
			return nil, errors.New("-server needs -pid")
		}
		return &server{addr: a, pid: o.serverPID}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "serve", "-impl", o.impl, "-alpn", o.alpn, "-settings", o.settings, "-cpuprofile", o.cpuprofile,
		"-memprofile", o.memprofile, fmt.Sprintf("-gc=%v", o.gcStats))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{pid: cmd.Process.Pid, cmd: cmd}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			if s.addr, err = netip.ParseAddrPort(a); err != nil {
				s.stop()
				return nil, fmt.Errorf("server address %q: %w", a, err)
			}
			break
		}
	}
	if !s.addr.IsValid() {
		s.stop()
		return nil, errors.New("the server exited before listening")
	}
	go func() {
		for sc.Scan() {
			if m, ok := strings.CutPrefix(sc.Text(), "dosmode "); ok {
				s.mu.Lock()
				s.dos = append(s.dos, timedMode{time.Now(), m == "true"})
				s.mu.Unlock()
			}
			if b, ok := strings.CutPrefix(sc.Text(), "stats "); ok {
				var st serverStats
				if json.Unmarshal([]byte(b), &st) == nil {
					s.mu.Lock()
					s.stats = append(s.stats, timedStats{time.Now(), st})
					s.mu.Unlock()
				}
			}
		}
	}()
	return s, nil
}

// stop ends the child server.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// lastStats returns the newest statistics reported at or before t.
func (s *server) lastStats(t time.Time) (serverStats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.stats) - 1; i >= 0; i-- {
		if !s.stats[i].at.After(t) {
			return s.stats[i].s, true
		}
	}
	return serverStats{}, false
}
