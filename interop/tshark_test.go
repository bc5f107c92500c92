package interop

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	quic "github.com/hquic/quic"
)

// TestKeyLogDecryptsInWireshark checks hquic's key log with a standard
// tool: dumpcap captures an hquic echo exchange on the loopback interface
// while the client writes its secrets through quic.OpenKeyLog, then tshark
// (Wireshark's dissector) reads the capture with that key log. Every QUIC
// packet of the capture must decrypt — Initial, Handshake and 1-RTT — and
// the echoed message must appear as STREAM data in both directions.
// Without the key log, tshark must not be able to read the Handshake and
// 1-RTT packets, which shows the key log is what opened them. Skipped
// when dumpcap or tshark is missing or the capture is not permitted.
func TestKeyLogDecryptsInWireshark(t *testing.T) {
	if testing.Short() {
		t.Skip("captures and dissects with Wireshark's tools, which take seconds to start")
	}
	for _, tool := range []string{"dumpcap", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	const alpn = "keylog-tshark"
	msg := []byte("hquic key log, read by tshark")
	dir := t.TempDir()
	h := newHQ(t)
	addr, _, _ := h.listen(h.serverConfig(alpn), alpn, hquicEchoStream)
	capFile := filepath.Join(dir, "echo.pcapng")
	capture := startCapture(t, addr.Port(), capFile)

	keyLogFile := filepath.Join(dir, "keylog.txt")
	kl, err := quic.OpenKeyLog(keyLogFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kl.Close() })
	echoed := keyLoggedEcho(t, h, addr, alpn, kl, msg)
	capture.finish()
	if !bytes.Equal(echoed, msg) {
		t.Fatalf("echo %q, want %q", echoed, msg)
	}

	packets := capture.dissect(capFile, keyLogFile)
	seen := map[string]int{}
	var streamData [][]byte
	for _, p := range packets {
		seen[p.kind]++
		if len(p.frames) == 0 {
			t.Errorf("datagram %d: %s packet not decrypted", p.datagram, p.kind)
		}
		streamData = append(streamData, p.streamData...)
	}
	for _, kind := range []string{"Initial", "Handshake", "1-RTT"} {
		if seen[kind] == 0 {
			t.Errorf("no %s packet decrypted (packets seen: %v)", kind, seen)
		}
	}
	if n := countEqual(streamData, msg); n != 2 {
		t.Errorf("the message appears %d times as decrypted STREAM data, want 2 (request and echo)", n)
	}

	for _, p := range capture.dissect(capFile, "") {
		if p.kind != "Initial" && len(p.frames) > 0 {
			t.Errorf("datagram %d: %s packet decrypted without the key log", p.datagram, p.kind)
		}
	}
	if t.Failed() {
		for _, p := range packets {
			t.Logf("datagram %d: %s frames %v", p.datagram, p.kind, p.frames)
		}
	}
}

// capture is a dumpcap process capturing the traffic of one UDP port on
// lo, and of a probe socket whose datagrams mark how far the capture has
// got: dumpcap reports a file before the kernel delivers to it, and
// delivers packets a little after they were sent.
type capture struct {
	t      *testing.T
	cmd    *exec.Cmd
	probe  *net.UDPConn
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
}

// probePayload starts with a zero byte so that no dissector takes a probe
// for a QUIC packet.
var probePayload = []byte("\x00hquic capture probe")

// startCapture starts dumpcap on lo for UDP port port into file and
// returns once the capture has seen a probe.
func startCapture(t *testing.T, port uint16, file string) *capture {
	t.Helper()
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { probe.Close() })
	filter := fmt.Sprintf("udp port %d or udp port %d", port, probe.LocalAddr().(*net.UDPAddr).Port)
	c := &capture{t: t, probe: probe, exited: make(chan struct{}),
		cmd: exec.Command("dumpcap", "-i", "lo", "-f", filter, "-w", file)}
	c.cmd.Stderr = c
	if err := c.cmd.Start(); err != nil {
		t.Skipf("dumpcap: %v", err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(c.stop)
	if !c.waitFor(1) {
		t.Skipf("dumpcap captured nothing on lo:\n%s", c.output())
	}
	return c
}

// Write collects dumpcap's standard error, where it reports its count of
// packets captured.
func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.Write(p)
}

func (c *capture) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// captured is the last count of packets dumpcap reported.
func (c *capture) captured() int {
	out := c.output()
	i := strings.LastIndex(out, "Packets: ")
	if i < 0 {
		return 0
	}
	n := 0
	fmt.Sscan(out[i+len("Packets: "):], &n)
	return n
}

// waitFor sends probes until dumpcap has reported n more packets than
// before the first; false if it exits or the test times out first.
func (c *capture) waitFor(n int) bool {
	base := c.captured()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := timeoutC()
	for c.captured() < base+n {
		c.probe.WriteToUDP(probePayload, c.probe.LocalAddr().(*net.UDPAddr))
		select {
		case <-tick.C:
		case <-c.exited:
			return false
		case <-timeout:
			return false
		}
	}
	return true
}

// finish stops dumpcap once a probe sent after everything the test sent
// is counted and the count has been still for a while: the kernel queues
// captured packets in order, so the test's packets are then written too
// (dissect checks that a probe follows the last QUIC packet).
func (c *capture) finish() {
	if !c.waitFor(1) {
		c.t.Fatalf("dumpcap stopped capturing:\n%s", c.output())
	}
	for n := -1; n != c.captured(); {
		n = c.captured()
		select {
		case <-time.After(300 * time.Millisecond):
		case <-c.exited:
			c.t.Fatalf("dumpcap exited:\n%s", c.output())
		}
	}
	c.stop()
}

func (c *capture) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.exited
}

// keyLoggedEcho sends msg on one stream of an hquic client connection
// whose secrets go to keyLog and returns what the server echoed.
func keyLoggedEcho(t *testing.T, h *hq, addr netip.AddrPort, alpn string, keyLog io.Writer, msg []byte) []byte {
	t.Helper()
	cfg, err := h.reg.NewConfiguration([]string{alpn}, settings())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cfg.Close)
	if err := cfg.LoadCredential(&quic.CredentialConfig{
		Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: rootCAs(t), KeyLogWriter: keyLog,
	}); err != nil {
		t.Fatal(err)
	}
	rec := newConnRec(nil)
	c := h.dial(cfg, addr, rec)
	wait(t, rec.connected, "hquic ConnectedEvent")
	done := make(chan []byte, 1)
	var echoed []byte
	s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
		switch ev := ev.(type) {
		case *quic.ReceiveEvent:
			for _, b := range ev.Buffers {
				echoed = append(echoed, b...)
			}
		case *quic.StreamShutdownCompleteEvent:
			s.Close()
			done <- echoed
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([][]byte{msg}, quic.SendStart|quic.SendFIN, nil); err != nil {
		t.Fatal(err)
	}
	got := wait(t, done, "the echo")
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	wait(t, rec.complete, "hquic shutdown complete")
	return got
}

// dissectedPacket is one QUIC packet as tshark dissected it.
type dissectedPacket struct {
	datagram   int    // the capture's frame number
	kind       string // Initial, 0-RTT, Handshake, Retry or 1-RTT
	frames     []string
	streamData [][]byte
}

// pdmlField is a field of tshark's PDML output, with the fields nested in it.
type pdmlField struct {
	Name   string      `xml:"name,attr"`
	Show   string      `xml:"show,attr"`
	Fields []pdmlField `xml:"field"`
}

// dissect runs tshark over the capture, with the key log if keyLogFile is
// set, and returns its QUIC packets in order. It fails the test unless a
// probe of c follows the last of them: the capture is then complete.
func (c *capture) dissect(capFile, keyLogFile string) []dissectedPacket {
	t := c.t
	t.Helper()
	args := []string{"-r", capFile, "-T", "pdml"}
	if keyLogFile != "" {
		args = append(args, "-o", "tls.keylog_file:"+keyLogFile)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var doc struct {
		Packets []struct {
			Protos []struct {
				Name   string      `xml:"name,attr"`
				Fields []pdmlField `xml:"field"`
			} `xml:"proto"`
		} `xml:"packet"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("tshark's PDML: %v", err)
	}
	probePort := strconv.Itoa(c.probe.LocalAddr().(*net.UDPAddr).Port)
	var packets []dissectedPacket
	lastProbe := 0
	for i, pkt := range doc.Packets {
		for _, proto := range pkt.Protos {
			switch proto.Name {
			case "udp":
				for _, f := range proto.Fields {
					if f.Name == "udp.dstport" && f.Show == probePort {
						lastProbe = i + 1
					}
				}
			case "quic":
				packets = append(packets, quicPacket(i+1, proto.Fields))
			}
		}
	}
	if len(packets) == 0 {
		t.Fatalf("tshark found no QUIC packets in the capture:\n%s", stderr.String())
	}
	if lastProbe < packets[len(packets)-1].datagram {
		t.Fatalf("the capture ends before the last probe (datagram %d is QUIC, the last probe %d)", packets[len(packets)-1].datagram, lastProbe)
	}
	return packets
}

// quicPacket reads one dissected QUIC packet from its PDML fields.
func quicPacket(datagram int, fields []pdmlField) dissectedPacket {
	p := dissectedPacket{datagram: datagram}
	longTypes := map[string]string{"0": "Initial", "1": "0-RTT", "2": "Handshake", "3": "Retry"}
	for _, f := range fields {
		switch f.Name {
		case "quic.long.packet_type":
			p.kind = longTypes[f.Show]
		case "quic.short":
			p.kind = "1-RTT"
		case "quic.frame":
			for _, ff := range f.Fields {
				switch ff.Name {
				case "quic.frame_type":
					p.frames = append(p.frames, ff.Show)
				case "quic.stream_data":
					if b, err := hex.DecodeString(strings.ReplaceAll(ff.Show, ":", "")); err == nil {
						p.streamData = append(p.streamData, b)
					}
				}
			}
		}
	}
	return p
}

// countEqual counts the chunks equal to want.
func countEqual(chunks [][]byte, want []byte) int {
	n := 0
	for _, c := range chunks {
		if bytes.Equal(c, want) {
			n++
		}
	}
	return n
}
