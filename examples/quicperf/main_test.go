package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic"
)

// The tests run a perf server and every client mode in one process over
// 127.0.0.1, with small sizes and short durations. They check outcomes and
// output format, never rates.

func startTestServer(t *testing.T) clientOptions {
	t.Helper()
	return startTestServerWith(t, quic.CongestionControlCubic)
}

// startTestServerWith starts a test server whose connections use
// congestion controller cc.
func startTestServerWith(t *testing.T, cc quic.CongestionControlAlgorithm) clientOptions {
	t.Helper()
	lib, reg, err := open(quic.ProfileLowLatency)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(reg, netip.MustParseAddrPort("127.0.0.1:0"), cred, cc)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.listener.LocalAddr()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.close()
		reg.Close()
		lib.Close()
	})
	o := clientOptions{addr: addr, host: "localhost", streams: 1, conns: 2, duration: 200 * time.Millisecond, warmup: 50 * time.Millisecond, cc: cc}
	return o
}

// runMode runs one client mode against the test server with its own
// library, as a separate client process would.
func runMode(t *testing.T, o clientOptions) string {
	t.Helper()
	lib, reg, err := open(quic.ProfileLowLatency)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	defer reg.Close()
	cfg, err := clientConfiguration(reg, o)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	var line string
	switch o.mode {
	case "throughput":
		line, err = runThroughput(reg, cfg, o)
	case "rps":
		line, err = runRPS(reg, cfg, o)
	case "hps":
		line, err = runHPS(reg, cfg, o)
	case "idle":
		err = runIdle(reg, cfg, o)
	}
	if err != nil {
		t.Fatalf("%s: %v", o.mode, err)
	}
	return line
}

// wantKeys checks that line is key=value pairs with exactly these keys.
func wantKeys(t *testing.T, line string, keys ...string) {
	t.Helper()
	fields := strings.Fields(line)
	got := map[string]bool{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" {
			t.Errorf("%q: field %q is not key=value", line, f)
		}
		got[k] = true
	}
	for _, k := range keys {
		if !got[k] {
			t.Errorf("%q: missing %s", line, k)
		}
	}
}

func TestThroughputBothDirectionsBidiAndUni(t *testing.T) {
	base := startTestServer(t)
	for _, uni := range []bool{false, true} {
		o := base
		o.mode, o.uni, o.streams = "throughput", uni, 3
		o.upload, o.download = 3<<20+5, 2<<20+7
		wantKeys(t, runMode(t, o), "throughput_mbps")
	}
}

func TestRequestsPerSecond(t *testing.T) {
	base := startTestServer(t)
	for _, uni := range []bool{false, true} {
		o := base
		o.mode, o.uni, o.streams, o.upload, o.download = "rps", uni, 10, 512, 4096
		wantKeys(t, runMode(t, o), "rps", "p50_us", "p99_us")
	}
}

func TestHandshakesPerSecond(t *testing.T) {
	base := startTestServer(t)
	o := base
	o.mode = "hps"
	line := runMode(t, o)
	wantKeys(t, line, "hps", "failures")
	if !strings.Contains(line, "failures=0") {
		t.Errorf("%q: failures", line)
	}
}

func TestIdleHoldsConnections(t *testing.T) {
	base := startTestServer(t)
	o := base
	o.mode, o.conns, o.duration = "idle", 70, 100*time.Millisecond
	runMode(t, o)
}

func TestThroughputWithEachController(t *testing.T) {
	for _, name := range []string{"cubic", "bbr", "newreno"} {
		cc, err := parseCC(name)
		if err != nil {
			t.Fatal(err)
		}
		o := startTestServerWith(t, cc)
		o.mode, o.upload, o.download = "throughput", 1<<20, 1<<20
		wantKeys(t, runMode(t, o), "throughput_mbps")
	}
	if _, err := parseCC("vegas"); err == nil {
		t.Error("parseCC accepted vegas")
	}
}

func TestThroughputLimitReportsWhatArrived(t *testing.T) {
	o := startTestServer(t)
	o.mode, o.download, o.limit = "throughput", 1<<40, 300*time.Millisecond
	line := runMode(t, o)
	wantKeys(t, line, "throughput_mbps", "elapsed_s", "received_bytes", "incomplete")
	if strings.Contains(line, "received_bytes=0 ") {
		t.Errorf("%q: nothing arrived in 300 ms", line)
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{{"", 9}, {"0", 0}, {"512", 512}, {"4K", 4096}, {"256M", 256 << 20}, {"1G", 1 << 30}} {
		got, err := parseSize(c.in, 9)
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	if _, err := parseSize("12X", 0); err == nil {
		t.Error("parseSize accepted 12X")
	}
}

func TestHeaderParserAcrossBuffers(t *testing.T) {
	var h headerParser
	hdr := header(0x0102030405060708)
	h.feed([][]byte{hdr[:3]})
	if h.complete() {
		t.Fatal("complete after 3 bytes")
	}
	h.feed([][]byte{hdr[3:5], append(hdr[5:], 1, 2, 3)})
	if !h.complete() || h.value() != 0x0102030405060708 || h.body != 3 {
		t.Errorf("value %#x body %d", h.value(), h.body)
	}
}

func TestStatsLine(t *testing.T) {
	wantKeys(t, strings.TrimPrefix(statsLine(3), "stats "), "conns_open", "heap_inuse", "rss_kb", "goroutines", "cpu_user_s", "cpu_sys_s")
}
