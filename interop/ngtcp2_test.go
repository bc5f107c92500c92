package interop

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	quic "github.com/hquic/quic"
)

// ngtcp2's examples from Debian (ngtcp2-client and ngtcp2-server 0.12,
// gtlsclient and gtlsserver over GnuTLS) speak only HTTP/3, so these tests
// stay at the QUIC level, both roles: the handshake, a Retry, the client's
// key update, and a failed ALPN negotiation. Each is skipped when the
// program is not installed. The examples log every packet they send and
// receive ("pkt rx ... type=1RTT k=1"), which the tests read.

// ngtcp2Tool returns the path of an ngtcp2 example program or skips.
func ngtcp2Tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install ngtcp2-client ngtcp2-server): %v", name, err)
	}
	return p
}

// ngProc is a running ngtcp2 example and its output.
type ngProc struct {
	mu     sync.Mutex
	lines  []string
	grew   chan struct{} // closed and replaced when a line arrives
	exited chan struct{}
	err    error
}

// startNgtcp2 runs an ngtcp2 example; it is killed at the end of the test.
func startNgtcp2(t *testing.T, path string, args ...string) *ngProc {
	t.Helper()
	cmd := exec.Command(path, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &ngProc{grew: make(chan struct{}), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.grew)
			p.grew = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-scanned
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitLine waits for a line of output after the first from lines on that
// contains every one of parts, and returns its index. It fails the test
// if the program exits or testTimeout passes first.
func (p *ngProc) waitLine(t *testing.T, from int, what string, parts ...string) int {
	t.Helper()
	timeout := time.After(testTimeout)
	for i := from; ; {
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if containsAll(p.lines[i], parts) {
				p.mu.Unlock()
				return i
			}
		}
		grew := p.grew
		p.mu.Unlock()
		select {
		case <-grew:
		case <-p.exited:
			p.mu.Lock()
			done := i >= len(p.lines)
			p.mu.Unlock()
			if done {
				t.Fatalf("ngtcp2 exited (%v) before %s; last lines:\n%s", p.err, what, p.tail(20))
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s; last lines:\n%s", what, p.tail(20))
		}
	}
}

func (p *ngProc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines[max(0, len(p.lines)-n):], "\n")
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// discardStreams accepts the HTTP/3 server's control and QPACK streams.
func discardStreams(*quic.Stream) quic.StreamHandler {
	return func(s *quic.Stream, ev quic.StreamEvent) error {
		if ev, ok := ev.(*quic.StreamShutdownCompleteEvent); ok && !ev.AppCloseInProgress {
			s.Close()
		}
		return nil
	}
}

// ngSettings are hquic's settings against the ngtcp2 examples: the three
// unidirectional streams HTTP/3 needs (control and QPACK; the examples
// close a connection without them), and keep-alive PINGs, which give the
// peer packets to acknowledge in new key phases.
func ngSettings() *quic.Settings {
	s := settings()
	s.PeerUnidiStreamCount = quic.Some[uint16](3)
	s.KeepAliveInterval = quic.Some(20 * time.Millisecond)
	return s
}

func TestNgtcp2ClientHquicServer(t *testing.T) {
	client := ngtcp2Tool(t, "gtlsclient")
	for _, tc := range []struct {
		name      string
		retry     bool
		keyUpdate bool
	}{
		{name: "handshake"},
		{name: "retry", retry: true},
		{name: "keyupdate", keyUpdate: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHQ(t)
			if tc.retry {
				if err := h.lib.SetGlobalSettings(&quic.GlobalSettings{StatelessRetryEnabled: quic.Some(true)}); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := h.reg.NewConfiguration([]string{"h3"}, ngSettings())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cfg.Close)
			if err := cfg.LoadCredential(&quic.CredentialConfig{
				Type: quic.CredentialCertificateFile, CertFile: certDir + "/cert.pem", KeyFile: certDir + "/key.pem",
			}); err != nil {
				t.Fatal(err)
			}
			addr, recs, _ := h.listen(cfg, "h3", discardStreams)
			args := []string{"127.0.0.1", fmt.Sprint(addr.Port()), "--timeout=60s"}
			if tc.keyUpdate {
				args = append(args, "--key-update=200ms")
			}
			ng := startNgtcp2(t, client, args...)
			ng.waitLine(t, 0, "the client's handshake confirmation", "QUIC handshake has been confirmed")
			rec := wait(t, recs, "the hquic server's connection")
			wait(t, rec.connected, "hquic ConnectedEvent")
			ng.waitLine(t, 0, "ALPN h3", "Negotiated ALPN is h3")
			retried := false
			ng.mu.Lock()
			for _, l := range ng.lines {
				retried = retried || containsAll(l, []string{"pkt rx", "type=Retry"})
			}
			ng.mu.Unlock()
			if retried != tc.retry {
				t.Errorf("client received a Retry: %v, want %v", retried, tc.retry)
			}
			if tc.keyUpdate {
				// The client updates, and the server answers in the new
				// phase (RFC 9001, Section 6.2).
				i := ng.waitLine(t, 0, "the client's key update", "Initiate key update")
				ng.waitLine(t, i, "a server packet in key phase 1", "pkt rx", "type=1RTT k=1")
			}
		})
	}
}

func TestHquicClientNgtcp2Server(t *testing.T) {
	server := ngtcp2Tool(t, "gtlsserver")
	for _, tc := range []struct {
		name      string
		retry     bool
		keyUpdate bool
	}{
		{name: "handshake"},
		{name: "retry", retry: true},
		{name: "keyupdate", keyUpdate: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freeUDPPort(t)
			args := []string{"127.0.0.1", fmt.Sprint(port), certDir + "/key.pem", certDir + "/cert.pem", "--timeout=60s"}
			if tc.retry {
				args = append(args, "-V")
			}
			ng := startNgtcp2(t, server, args...)
			h := newHQ(t)
			s := ngSettings()
			if tc.keyUpdate {
				// A key update every 2 KiB: the keep-alive PINGs and
				// ACKs alone make several.
				s.MaxBytesPerKey = quic.Some[uint64](2 << 10)
			}
			cfg, err := h.reg.NewConfiguration([]string{"h3"}, s)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cfg.Close)
			if err := cfg.LoadCredential(&quic.CredentialConfig{
				Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: rootCAs(t),
			}); err != nil {
				t.Fatal(err)
			}
			rec := newConnRec(discardStreams)
			// The server may not be reading yet: the client's Initial is
			// resent on its probe timeout until it is.
			c := h.dial(cfg, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), rec)
			ev := wait(t, rec.connected, "hquic ConnectedEvent")
			if ev.NegotiatedALPN != "h3" {
				t.Errorf("ALPN %q, want h3", ev.NegotiatedALPN)
			}
			ng.waitLine(t, 0, "the server's handshake completion", "QUIC handshake has completed")
			if tc.keyUpdate {
				// Two updates by the client, each answered by the server in
				// the new phase.
				i := ng.waitLine(t, 0, "a client packet in key phase 1", "pkt rx", "type=1RTT k=1")
				i = ng.waitLine(t, i, "a server packet in key phase 1", "pkt tx", "type=1RTT k=1")
				i = ng.waitLine(t, i, "a client packet in key phase 0 again", "pkt rx", "type=1RTT k=0")
				ng.waitLine(t, i, "a server packet in key phase 0 again", "pkt tx", "type=1RTT k=0")
			}
			st, err := c.Statistics()
			if err != nil {
				t.Fatal(err)
			}
			if st.StatelessRetry != tc.retry {
				t.Errorf("Statistics.StatelessRetry = %v, want %v", st.StatelessRetry, tc.retry)
			}
			if tc.keyUpdate && st.KeyUpdateCount < 2 {
				t.Errorf("Statistics.KeyUpdateCount = %d, want at least 2", st.KeyUpdateCount)
			}
			c.Shutdown(quic.ConnectionShutdownNone, 0)
			wait(t, rec.complete, "hquic shutdown complete")
		})
	}
}

func TestALPNMismatchNgtcp2ClientHquicServer(t *testing.T) {
	client := ngtcp2Tool(t, "gtlsclient")
	h := newHQ(t)
	addr, _, newConns := h.listen(h.serverConfig("hq-interop"), "hq-interop", nil)
	ng := startNgtcp2(t, client, "127.0.0.1", fmt.Sprint(addr.Port()), "--timeout=60s")
	// CRYPTO_ERROR with TLS alert no_application_protocol (120).
	ng.waitLine(t, 0, "the server's CONNECTION_CLOSE", "frm rx", "CONNECTION_CLOSE", "error_code=CRYPTO_ERROR(0x178)")
	if n := newConns.Load(); n != 0 {
		t.Errorf("hquic listener saw %d NewConnectionEvents for a connection without a common ALPN", n)
	}
}

func TestALPNMismatchHquicClientNgtcp2Server(t *testing.T) {
	server := ngtcp2Tool(t, "gtlsserver")
	port := freeUDPPort(t)
	startNgtcp2(t, server, "127.0.0.1", fmt.Sprint(port), certDir+"/key.pem", certDir+"/cert.pem", "--timeout=60s")
	h := newHQ(t)
	rec := newConnRec(nil)
	h.dial(h.clientConfig("hq-interop"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), rec)
	ev := wait(t, rec.transport, "hquic ShutdownInitiatedByTransportEvent")
	if ev.ErrorCode != quic.CryptoError(120) || ev.Status != quic.StatusALPNNegotiationFailure {
		t.Errorf("hquic transport shutdown: code %v status %v, want %v / %v",
			ev.ErrorCode, ev.Status, quic.CryptoError(120), quic.StatusALPNNegotiationFailure)
	}
	if done := wait(t, rec.complete, "hquic shutdown complete"); done.HandshakeCompleted {
		t.Error("HandshakeCompleted set after an ALPN failure")
	}
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago,
// for a server program that takes its port on the command line.
func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}
