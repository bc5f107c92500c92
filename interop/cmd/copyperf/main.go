//go:build unix

// Command copyperf measures the natural Go program, a file sent with
// io.Copy through a stream, on hquic's blocking layer (quicnet) and on
// quic-go, next to hquic's quicperf (the callback API driven for speed) on
// the same machine:
//
//	go run ./cmd/copyperf [-runs 5] [-file F | -size 200M]
//
// Each run starts a fresh server process and a client process: the client
// asks for the file on a bidirectional stream and copies the answer to
// io.Discard; the server copies the file to the stream with io.Copy.
// Runs rotate between the three so that drifts in the machine's state hit
// them alike. It prints, per implementation, the median throughput and
// the median peak resident set (getrusage's maxrss) of server and client.
//
// The roles run on their own too:
//
//	copyperf serve -stack quicnet|quicgo -addr 127.0.0.1:0 -file F
//	copyperf get -stack quicnet|quicgo -addr HOST:PORT
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hquic/quic/quicnet"
	"github.com/quic-go/quic-go"
)

const alpn = "copyperf"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve":
			fatalIf(serve(os.Args[2:]))
			return
		case "get":
			fatalIf(get(os.Args[2:]))
			return
		}
	}
	fatalIf(compare(os.Args[1:]))
}

func fatalIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "copyperf:", err)
		os.Exit(1)
	}
}

// serve answers every stream with the file, one connection at a time.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	stack := fs.String("stack", "quicnet", "quicnet or quicgo")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	file := fs.String("file", "", "file to send")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the serving process to this file (written at SIGTERM)")
	fs.Parse(args)
	if err := profileUntilTerm(*prof); err != nil {
		return err
	}
	tlsConf, err := serverTLS()
	if err != nil {
		return err
	}
	ctx := context.Background()
	sendFile := func(s io.ReadWriteCloser) error {
		if _, err := io.Copy(io.Discard, s); err != nil {
			return err
		}
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(s, f); err != nil {
			return err
		}
		return s.Close()
	}
	switch *stack {
	case "quicnet":
		l, err := quicnet.Listen(*addr, tlsConf, nil)
		if err != nil {
			return err
		}
		fmt.Println("listening", l.Addr())
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				return err
			}
			s, err := c.AcceptStream(ctx)
			if err == nil {
				err = sendFile(s)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "copyperf serve:", err)
			}
			<-c.Context().Done() // the client closes when it has everything
			c.Close()
		}
	case "quicgo":
		l, err := quic.ListenAddr(*addr, tlsConf, &quic.Config{MaxIdleTimeout: 30 * time.Second})
		if err != nil {
			return err
		}
		fmt.Println("listening", l.Addr())
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				return err
			}
			s, err := c.AcceptStream(ctx)
			if err == nil {
				err = sendFile(s)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "copyperf serve:", err)
			}
			<-c.Context().Done()
		}
	}
	return fmt.Errorf("unknown -stack %q", *stack)
}

// get fetches the file and prints throughput_mbps=.
func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	stack := fs.String("stack", "quicnet", "quicnet or quicgo")
	addr := fs.String("addr", "", "server address")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the transfer to this file")
	fs.Parse(args)
	if *prof != "" {
		stop, err := startProfile(*prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	tlsConf := &tls.Config{NextProtos: []string{alpn}, InsecureSkipVerify: true}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		s     io.ReadWriter
		end   func() error
		close func()
	)
	switch *stack {
	case "quicnet":
		c, err := quicnet.Dial(ctx, *addr, tlsConf, nil)
		if err != nil {
			return err
		}
		close = func() { c.Close() }
		st, err := c.OpenStream(ctx)
		if err != nil {
			return err
		}
		s, end = st, st.CloseWrite
	case "quicgo":
		c, err := quic.DialAddr(ctx, *addr, tlsConf, &quic.Config{MaxIdleTimeout: 30 * time.Second})
		if err != nil {
			return err
		}
		close = func() { c.CloseWithError(0, "") }
		st, err := c.OpenStreamSync(ctx)
		if err != nil {
			return err
		}
		s, end = st, st.Close
	default:
		return fmt.Errorf("unknown -stack %q", *stack)
	}
	defer close()
	start := time.Now()
	if _, err := io.WriteString(s, "get"); err != nil {
		return err
	}
	if err := end(); err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, s)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("bytes=%d throughput_mbps=%.1f\n", n, float64(n)*8/secs/1e6)
	return nil
}

// startProfile starts a CPU profile into path and returns its stop.
func startProfile(path string) (func(), error) {
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

// profileUntilTerm profiles the process into path (nothing if empty) until
// SIGTERM or SIGINT, then exits.
func profileUntilTerm(path string) error {
	if path == "" {
		return nil
	}
	stop, err := startProfile(path)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		stop()
		os.Exit(0)
	}()
	return nil
}

// serverTLS makes a throwaway self-signed certificate.
func serverTLS() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"}, NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{NextProtos: []string{alpn}, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

// result is one run: throughput, both processes' peak RSS in KiB and
// their CPU time (user and system) in seconds.
type result struct {
	mbps                 float64
	serverRSS, clientRS  int64
	serverCPU, clientCPU float64
}

// compare runs the rotation and prints the table.
func compare(args []string) error {
	fs := flag.NewFlagSet("copyperf", flag.ExitOnError)
	runs := fs.Int("runs", 5, "runs per implementation")
	file := fs.String("file", "", "file to send (default: a temporary file of -size random bytes)")
	size := fs.Int64("size", 200<<20, "bytes of the temporary file")
	fs.Parse(args)
	dir, err := os.MkdirTemp("", "copyperf")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *file == "" {
		*file = filepath.Join(dir, "payload")
		if err := writeRandom(*file, *size); err != nil {
			return err
		}
	}
	st, err := os.Stat(*file)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	quicperf := filepath.Join(dir, "quicperf")
	build := exec.Command("go", "build", "-o", quicperf, "./examples/quicperf")
	build.Dir, build.Stderr = "..", os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building quicperf: %w", err)
	}
	impls := []struct {
		name           string
		server, client func(addr string) []string
		bin            string
	}{
		{"quicnet io.Copy", func(a string) []string { return []string{"serve", "-stack", "quicnet", "-addr", a, "-file", *file} },
			func(a string) []string { return []string{"get", "-stack", "quicnet", "-addr", a} }, self},
		{"quic-go io.Copy", func(a string) []string { return []string{"serve", "-stack", "quicgo", "-addr", a, "-file", *file} },
			func(a string) []string { return []string{"get", "-stack", "quicgo", "-addr", a} }, self},
		{"quicperf (callbacks)", func(a string) []string { return []string{"server", "-addr", a} },
			func(a string) []string {
				return []string{"client", "-addr", a, "-mode", "throughput", "-download", strconv.FormatInt(st.Size(), 10)}
			}, quicperf},
	}
	results := make([][]result, len(impls))
	for r := range *runs {
		for k := range impls {
			i := (k + r) % len(impls)
			im := impls[i]
			res, err := runOnce(im.bin, im.server, im.client)
			if err != nil {
				return fmt.Errorf("%s: %w", im.name, err)
			}
			results[i] = append(results[i], res)
		}
	}
	fmt.Printf("%d runs each, %d-byte file, medians:\n", *runs, st.Size())
	fmt.Printf("%-22s %8s %15s %15s %13s %13s\n", "", "Mbit/s", "server RSS MiB", "client RSS MiB", "server CPU s", "client CPU s")
	med := make([]result, len(impls))
	for i, im := range impls {
		med[i] = median(results[i])
		m := med[i]
		fmt.Printf("%-22s %8.0f %15.1f %15.1f %13.2f %13.2f\n", im.name, m.mbps, float64(m.serverRSS)/1024, float64(m.clientRS)/1024, m.serverCPU, m.clientCPU)
	}
	fmt.Printf("quicnet / quic-go: %.2f×   quicnet / quicperf: %.0f%%\n", med[0].mbps/med[1].mbps, 100*med[0].mbps/med[2].mbps)
	return nil
}

func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return result{
		mbps:      pick(func(r result) float64 { return r.mbps }),
		serverRSS: int64(pick(func(r result) float64 { return float64(r.serverRSS) })),
		clientRS:  int64(pick(func(r result) float64 { return float64(r.clientRS) })),
		serverCPU: pick(func(r result) float64 { return r.serverCPU }),
		clientCPU: pick(func(r result) float64 { return r.clientCPU }),
	}
}

// runOnce starts a server, runs one client against it and stops the
// server.
func runOnce(bin string, server, client func(string) []string) (result, error) {
	srv := exec.Command(bin, server("127.0.0.1:0")...)
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer srv.Process.Kill()
	addr, err := listenAddr(bufio.NewScanner(out))
	if err != nil {
		return result{}, err
	}
	cl := exec.Command(bin, client(addr)...)
	cl.Stderr = os.Stderr
	line, err := cl.Output()
	if err != nil {
		return result{}, fmt.Errorf("client: %w", err)
	}
	mbps, err := field(string(line), "throughput_mbps")
	if err != nil {
		return result{}, err
	}
	srv.Process.Signal(syscall.SIGTERM)
	go io.Copy(io.Discard, out)
	srv.Wait()
	return result{
		mbps:      mbps,
		serverRSS: maxRSS(srv.ProcessState), clientRS: maxRSS(cl.ProcessState),
		serverCPU: cpuSeconds(srv.ProcessState), clientCPU: cpuSeconds(cl.ProcessState),
	}, nil
}

// listenAddr reads the server's "listening ADDR" or "listening addr=ADDR".
func listenAddr(sc *bufio.Scanner) (string, error) {
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			return strings.TrimPrefix(rest, "addr="), nil
		}
	}
	return "", errors.New("server printed no address")
}

func field(line, key string) (float64, error) {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no %s in %q", key, line)
}

func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

func cpuSeconds(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

func writeRandom(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
