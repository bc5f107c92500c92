//go:build unix

// Command quicgoperf is the perf protocol over quic-go, with the interface
// of hquic's examples/quicperf (see its documentation):
//
//	quicgoperf server -addr HOST:PORT [-cert F -key F]
//	quicgoperf client -addr HOST:PORT -mode throughput|rps|hps|idle [-upload N]
//	                  [-download N] [-streams S] [-conns C] [-duration D]
//	                  [-warmup W] [-uni] [-maxwindow N]
//
// -maxwindow raises the receive windows quic-go's auto-tuning may reach
// (both the stream's and the connection's), for long fat links.
//
// The server prints "listening addr=ADDR", answers SIGUSR1 with the same
// stats line as quicperf and stops on SIGINT or SIGTERM. The client prints
// one line of key=value pairs and exits non-zero on failure.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hquic/quic/interop/perf"
	"github.com/quic-go/quic-go"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "client":
		os.Exit(runClient(os.Args[2:]))
	}
	usage()
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: quicgoperf server -addr HOST:PORT | client -addr HOST:PORT -mode throughput|rps|hps|idle [flags]")
	os.Exit(2)
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "quicgoperf:", err)
	return 1
}

func runServer(args []string) int {
	fs := flag.NewFlagSet("quicgoperf server", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:4433", "address to listen on")
	certFile := fs.String("cert", "", "PEM certificate chain (default: a self-signed certificate)")
	keyFile := fs.String("key", "", "PEM private key")
	fs.String("exec", "", "ignored (quicperf compatibility)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit")
	fs.Parse(args)
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fail(err)
	}
	defer stop()
	var cert tls.Certificate
	if *certFile != "" {
		cert, err = tls.LoadX509KeyPair(*certFile, *keyFile)
	} else {
		cert, err = selfSigned()
	}
	if err != nil {
		return fail(err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{perf.ALPN}}
	ln, err := quic.ListenAddr(*addr, tlsConf, perf.ServerConfig())
	if err != nil {
		return fail(err)
	}
	defer ln.Close()
	var open atomic.Int64
	go perf.Serve(ln, func(d int) { open.Add(int64(d)) })
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1)
	fmt.Printf("listening addr=%v\n", ln.Addr())
	for {
		select {
		case <-sig:
			return 0
		case <-usr:
			fmt.Println(statsLine(open.Load()))
		}
	}
}

func runClient(args []string) int {
	fs := flag.NewFlagSet("quicgoperf client", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:4433", "server address")
	mode := fs.String("mode", "throughput", "throughput, rps, hps or idle")
	upload := fs.String("upload", "", "bytes to upload per request")
	download := fs.String("download", "", "bytes to download per request")
	streams := fs.Int("streams", 0, "parallel streams")
	conns := fs.Int("conns", 0, "parallel connections")
	duration := fs.Duration("duration", 10*time.Second, "measurement or hold time")
	warmup := fs.Duration("warmup", time.Second, "time before measuring")
	uni := fs.Bool("uni", false, "requests on unidirectional streams")
	fs.String("exec", "", "ignored (quicperf compatibility)")
	limit := fs.Duration("limit", 0, "throughput: stop a transfer not finished after this long and report what arrived (0: no limit)")
	maxWindow := fs.String("maxwindow", "", "largest stream and connection receive windows auto-tuning may reach (default: quic-go's 6M and 15M)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	fs.Parse(args)
	if *mode == "idle" {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "duration" })
		if !set {
			*duration = 0
		}
	}
	defUp, defDown := uint64(0), uint64(0)
	if *mode == "rps" {
		defUp, defDown = 512, 4096
	}
	up, err := parseSize(*upload, defUp)
	if err != nil {
		return fail(err)
	}
	down, err := parseSize(*download, defDown)
	if err != nil {
		return fail(err)
	}
	if *streams <= 0 {
		*streams = 1
		if *mode == "rps" {
			*streams = 100
		}
	}
	if *conns <= 0 {
		*conns = 16
		if *mode == "idle" {
			*conns = 1000
		}
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fail(err)
	}
	defer stop()
	cl := &perf.Client{
		Addr:   *addr,
		TLS:    &tls.Config{InsecureSkipVerify: true, NextProtos: []string{perf.ALPN}},
		Conf:   perf.ClientConfig(*mode == "idle"),
		Upload: up, Download: down, Uni: *uni,
	}
	if *maxWindow != "" {
		w, err := parseSize(*maxWindow, 0)
		if err != nil {
			return fail(fmt.Errorf("-maxwindow: %w", err))
		}
		cl.Conf.MaxStreamReceiveWindow = w
		cl.Conf.MaxConnectionReceiveWindow = w
	}
	ctx := context.Background()
	switch *mode {
	case "throughput":
		if up == 0 && down == 0 {
			return fail(errors.New("throughput mode needs -upload or -download"))
		}
		type outcome struct {
			d   time.Duration
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			d, err := cl.Throughput(ctx, *streams)
			done <- outcome{d, err}
		}()
		var expired <-chan time.Time
		if *limit > 0 {
			expired = time.After(*limit)
		}
		var d time.Duration
		select {
		case o := <-done:
			if o.err != nil {
				return fail(o.err)
			}
			d = o.d
		case <-expired:
			began := cl.Started.Load()
			if began == 0 {
				return fail(fmt.Errorf("no handshake within -limit %v", *limit))
			}
			got := cl.Received.Load()
			el := time.Duration(time.Now().UnixNano() - began)
			fmt.Printf("throughput_mbps=%.1f elapsed_s=%.3f received_bytes=%d incomplete=1\n", float64(got)*8/el.Seconds()/1e6, el.Seconds(), got)
			return 0
		}
		bits := float64(up+down) * float64(*streams) * 8
		fmt.Printf("throughput_mbps=%.1f elapsed_s=%.3f\n", bits/d.Seconds()/1e6, d.Seconds())
	case "rps":
		var w perf.Window
		lat, err := cl.RPS(ctx, *streams, &w, *warmup, *duration)
		if err != nil {
			return fail(err)
		}
		if len(lat) == 0 {
			return fail(perf.ErrNoRequests)
		}
		slices.Sort(lat)
		pct := func(p float64) int64 { return lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds() }
		fmt.Printf("rps=%.0f p50_us=%d p99_us=%d\n", float64(len(lat))/w.End.Sub(w.Start).Seconds(), pct(0.5), pct(0.99))
	case "hps":
		cl.Upload, cl.Download = 0, 0
		var w perf.Window
		ok, failed, first := cl.HPS(ctx, *conns, &w, *warmup, *duration)
		fmt.Printf("hps=%.1f failures=%d\n", float64(ok)/w.End.Sub(w.Start).Seconds(), failed)
		if failed > 0 {
			return fail(fmt.Errorf("%d failures, first: %w", failed, first))
		}
	case "idle":
		held, err := cl.Idle(ctx, *conns)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("idle_ready conns=%d\n", len(held))
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		var timeout <-chan time.Time
		if *duration > 0 {
			timeout = time.After(*duration)
		}
		select {
		case <-sig:
		case <-timeout:
		}
		for _, c := range held {
			c.CloseWithError(0, "")
		}
	default:
		return fail(fmt.Errorf("unknown mode %q", *mode))
	}
	return 0
}

// statsLine is quicperf's SIGUSR1 report, measured the same way: garbage
// collected and freed memory returned to the system first.
func statsLine(open int64) string {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	sec := func(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
	return fmt.Sprintf("stats conns_open=%d heap_inuse=%d rss_kb=%d goroutines=%d cpu_user_s=%.3f cpu_sys_s=%.3f",
		open, ms.HeapInuse, rssKB(), runtime.NumGoroutine(), sec(ru.Utime), sec(ru.Stime))
}

func rssKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

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
	return n * mult, err
}

func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "quicgoperf"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
