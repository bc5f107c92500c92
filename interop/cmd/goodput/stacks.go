//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A stack is one QUIC implementation and congestion controller under
// test. Its server sends (downloads) or receives (uploads in the fairness
// runs) the perf protocol's bulk data.
type stack struct {
	name string // column name
	impl string // hquic, quic-go or msquic
	cc   string // the sender's controller: cubic or bbr
}

var allStacks = []stack{
	{"hquic-cubic", "hquic", "cubic"},
	{"hquic-bbr", "hquic", "bbr"},
	{"quic-go", "quic-go", "cubic"},
	{"msquic-cubic", "msquic", "cubic"},
	{"msquic-bbr", "msquic", "bbr"},
}

// bins are the programs of each implementation.
type bins struct {
	hquic, quicgo string
	msquicDir     string // holds secnetperf and libmsquic.so; "" if absent
}

// maxWindow is the receive window quic-go's client may auto-tune to: its
// defaults (6 MiB per stream) would cap it below the 100 Mbit/s, 600 ms
// links' bandwidth-delay product, which hquic (16 MiB) and MsQuic do not.
const maxWindow = "32M"

// available reports whether st can run.
func (b *bins) available(st stack) bool { return st.impl != "msquic" || b.msquicDir != "" }

// proc is a running child process with its output lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func startProc(ctx context.Context, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		io.Copy(io.Discard, out)
	}()
	return p, nil
}

// line waits for an output line containing s.
func (p *proc) line(s string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before printing %q", filepath.Base(p.cmd.Path), s)
			}
			if strings.Contains(l, s) {
				return l, nil
			}
		case <-deadline:
			return "", fmt.Errorf("%s did not print %q", filepath.Base(p.cmd.Path), s)
		}
	}
}

// stop ends a server the harness started (by its PID) and waits for it.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// freePort returns a loopback UDP port nothing is bound to now.
func freePort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func (b *bins) msquicEnv() []string { return []string{"LD_LIBRARY_PATH=" + b.msquicDir} }

// startServer starts st's server on a loopback port and returns its
// address.
func (b *bins) startServer(st stack) (*proc, string, error) {
	switch st.impl {
	case "msquic":
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		p, err := startProc(context.Background(), b.msquicEnv(), filepath.Join(b.msquicDir, "secnetperf"),
			"-port:"+strconv.Itoa(port), "-cc:"+st.cc)
		if err != nil {
			return nil, "", err
		}
		if _, err := p.line("Started", 10*time.Second); err != nil {
			p.stop()
			return nil, "", err
		}
		return p, fmt.Sprintf("127.0.0.1:%d", port), nil
	case "quic-go":
		return b.goServer(b.quicgo, "server", "-addr", "127.0.0.1:0")
	default:
		return b.goServer(b.hquic, "server", "-addr", "127.0.0.1:0", "-cc", st.cc)
	}
}

func (b *bins) goServer(bin string, args ...string) (*proc, string, error) {
	p, err := startProc(context.Background(), nil, bin, args...)
	if err != nil {
		return nil, "", err
	}
	l, err := p.line("listening", 10*time.Second)
	if err != nil {
		p.stop()
		return nil, "", err
	}
	_, addr, _ := strings.Cut(l, "addr=")
	return p, strings.TrimSpace(addr), nil
}

var msquicResult = regexp.MustCompile(`Result: (?:Download|Upload) (\d+) bytes @ \d+ kbps \((\d+)\.(\d+) ms\)`)

// errIncomplete reports a transfer that did not finish within its cap and
// whose client could not say how much arrived (MsQuic's secnetperf).
var errIncomplete = errors.New("incomplete")

// outcome is what a client reports.
type outcome struct {
	// secs is the time from the request (after the handshake) to the last
	// byte, as the client measures it; zero if unfinished.
	secs float64
	// bytes and elapsed are what arrived by the cap, and over how long,
	// for an unfinished transfer.
	bytes   int64
	elapsed float64
}

// transfer runs st's client against addr: a download of size bytes, or an
// upload with upload set, stopped after limit (quicperf and quicgoperf
// then report what arrived; secnetperf is killed a little later, and
// errIncomplete returned).
func (b *bins) transfer(st stack, addr string, size int64, upload bool, limit time.Duration) (outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit+10*time.Second)
	defer cancel()
	dir := "-download"
	if upload {
		dir = "-upload"
	}
	n, lim := strconv.FormatInt(size, 10), limit.String()
	var p *proc
	var err error
	switch st.impl {
	case "msquic":
		host, port, _ := strings.Cut(addr, ":")
		mctx, mcancel := context.WithTimeout(ctx, limit)
		defer mcancel()
		p, err = startProc(mctx, b.msquicEnv(), filepath.Join(b.msquicDir, "secnetperf"),
			"-target:"+host, "-ip:4", "-port:"+port, dir+":"+n, "-pctput:1", "-cc:"+st.cc)
		ctx = mctx
	case "quic-go":
		p, err = startProc(ctx, nil, b.quicgo, "client", "-addr", addr, "-mode", "throughput",
			dir, n, "-maxwindow", maxWindow, "-limit", lim)
	default:
		p, err = startProc(ctx, nil, b.hquic, "client", "-addr", addr, "-mode", "throughput",
			dir, n, "-cc", st.cc, "-limit", lim)
	}
	if err != nil {
		return outcome{}, err
	}
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	werr := p.cmd.Wait()
	if ctx.Err() != nil {
		return outcome{}, errIncomplete
	}
	if werr != nil {
		return outcome{}, fmt.Errorf("%s client: %v: %s", st.name, werr, strings.Join(out, " | "))
	}
	for _, l := range out {
		if st.impl == "msquic" {
			if m := msquicResult.FindStringSubmatch(l); m != nil {
				ms, _ := strconv.ParseFloat(m[2]+"."+m[3], 64)
				return outcome{secs: ms / 1000}, nil
			}
			continue
		}
		if kv := fields(l); kv["elapsed_s"] > 0 {
			if kv["incomplete"] == 1 {
				return outcome{bytes: int64(kv["received_bytes"]), elapsed: kv["elapsed_s"]}, nil
			}
			return outcome{secs: kv["elapsed_s"]}, nil
		}
	}
	return outcome{}, fmt.Errorf("%s client printed no result: %s", st.name, strings.Join(out, " | "))
}

// fields parses a line of key=value pairs.
func fields(line string) map[string]float64 {
	m := map[string]float64{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = x
			}
		}
	}
	return m
}
