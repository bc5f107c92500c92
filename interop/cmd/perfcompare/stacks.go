//go:build unix

package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// A workload is what one client run does.
type workload string

const (
	upload   workload = "upload"   // -size bytes up on one stream
	download workload = "download" // -size bytes down on one stream
	rpsLoad  workload = "rps"      // 1 connection, 100 streams of 512 B up / 4000 B down
	latLoad  workload = "latency"  // the same with 1 stream: one request at a time
	hpsLoad  workload = "hps"      // -hpsconns parallel connect, empty request, close
)

// A stack is one QUIC implementation's perf server and client. Client
// results use the keys mbps, rps, p50_us, p99_us and hps.
type stack interface {
	name() string
	// serve starts a server for w and returns its address.
	serve(w workload, o options) (*proc, string, error)
	// client starts a client running w against addr.
	client(w workload, addr string, o options) (*proc, error)
	// result parses the client's output.
	result(w workload, out []string) (map[string]float64, error)
}

// perfStack is quicperf, or quicgoperf, which copies its interface.
type perfStack struct {
	id    string
	bin   string
	hquic bool // takes -exec
}

func (s *perfStack) name() string { return s.id }

func (s *perfStack) serve(_ workload, o options) (*proc, string, error) {
	args := []string{"server", "-addr", "127.0.0.1:0", "-cert", o.cert, "-key", o.key}
	if s.hquic {
		args = append(args, "-exec", o.exec)
	}
	p, err := start(s.bin, args...)
	if err != nil {
		return nil, "", err
	}
	l, err := p.line("listening", 10*time.Second)
	if err != nil {
		p.stop()
		return nil, "", err
	}
	return p, strings.TrimPrefix(strings.Fields(l)[1], "addr="), nil
}

func (s *perfStack) client(w workload, addr string, o options) (*proc, error) {
	args := []string{"client", "-addr", addr}
	timed := []string{"-duration", o.duration.String(), "-warmup", o.warmup.String()}
	switch w {
	case upload:
		args = append(args, "-mode", "throughput", "-upload", o.size)
	case download:
		args = append(args, "-mode", "throughput", "-download", o.size)
	case rpsLoad:
		args = append(append(args, "-mode", "rps", "-streams", "100", "-upload", "512", "-download", "4000"), timed...)
	case latLoad:
		args = append(append(args, "-mode", "rps", "-streams", "1", "-upload", "512", "-download", "4000"), timed...)
	case hpsLoad:
		args = append(append(args, "-mode", "hps", "-conns", strconv.Itoa(o.hpsConns)), timed...)
	}
	if s.hquic {
		args = append(args, "-exec", o.exec)
	}
	return start(s.bin, args...)
}

func (s *perfStack) result(w workload, out []string) (map[string]float64, error) {
	if len(out) == 0 {
		return nil, fmt.Errorf("%s client printed nothing", s.id)
	}
	f := fields(out[len(out)-1])
	if v, ok := f["throughput_mbps"]; ok {
		f["mbps"] = v
	}
	return f, nil
}

// secnetperf is MsQuic's perf tool in its own scenarios: MaxThroughput for
// bulk transfers and handshakes, LowLatency for requests (secnetperf's
// defaults for its upload, download, hps, rps and latency scenarios).
type secnetperf struct{ bin string }

func (s *secnetperf) name() string { return "MsQuic" }

func msquicExec(w workload) string {
	if w == upload || w == download || w == hpsLoad {
		return "-exec:maxtput"
	}
	return "-exec:lowlat"
}

func (s *secnetperf) serve(w workload, _ options) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	// secnetperf binds the wildcard address on -port (its -bind ignores
	// the port); the traffic stays on loopback.
	p, err := start(s.bin, "-port:"+strconv.Itoa(port), msquicExec(w))
	if err != nil {
		return nil, "", err
	}
	if _, err := p.line("Started!", 10*time.Second); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

func (s *secnetperf) client(w workload, addr string, o options) (*proc, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	args := []string{"-target:" + host, "-port:" + port, msquicExec(w)}
	runtime := fmt.Sprintf("-runtime:%dms", (o.duration + o.warmup).Milliseconds())
	switch w {
	case upload:
		args = append(args, "-upload:"+strconv.FormatUint(parseSize(o.size), 10), "-ptput:1")
	case download:
		args = append(args, "-download:"+strconv.FormatUint(parseSize(o.size), 10), "-ptput:1")
	case rpsLoad:
		args = append(args, "-scenario:rps", runtime)
	case latLoad:
		args = append(args, "-scenario:latency", runtime)
	case hpsLoad:
		args = append(args, "-scenario:hps", "-conns:"+strconv.Itoa(o.hpsConns), runtime)
	}
	return start(s.bin, args...)
}

// result parses secnetperf's "Result:" line: "Upload 5123456 kbps.",
// "Download ...", "944 HPS" or "38312 RPS, Latency,us 0th: 555, 50th:
// 1426, 90th: ..., 99th: 12864, ...".
func (s *secnetperf) result(w workload, out []string) (map[string]float64, error) {
	var res string
	for _, l := range out {
		if r, ok := strings.CutPrefix(strings.TrimSpace(l), "Result:"); ok {
			res = strings.TrimSpace(r)
		}
	}
	if res == "" {
		return nil, fmt.Errorf("secnetperf printed no result: %q", strings.Join(out, " | "))
	}
	words := strings.Fields(res)
	for i, w := range words {
		words[i] = strings.TrimRight(w, ",.")
	}
	num := func(i int) float64 {
		if i < 0 || i >= len(words) {
			return 0
		}
		v, _ := strconv.ParseFloat(words[i], 64)
		return v
	}
	f := map[string]float64{}
	for i, word := range words {
		switch word { // "99.9th:" and the like are other words
		case "kbps":
			f["mbps"] = num(i-1) / 1000
		case "HPS":
			f["hps"] = num(i - 1)
		case "RPS":
			f["rps"] = num(i - 1)
		case "50th:":
			f["p50_us"] = num(i + 1)
		case "99th:":
			f["p99_us"] = num(i + 1)
		}
	}
	return f, nil
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
