package interop

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	quic "github.com/hquic/quic"
)

// lockedBuffer is a concurrency-safe key log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKeyLog: CredentialConfig.KeyLogWriter receives the connection's
// secrets in NSS key log format.
func TestKeyLog(t *testing.T) {
	h := newHQ(t)
	addr, _ := goListen(t, "keylog", nil)
	var kl lockedBuffer
	cfg, err := h.reg.NewConfiguration([]string{"keylog"}, settings())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cfg.Close)
	if err := cfg.LoadCredential(&quic.CredentialConfig{
		Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: rootCAs(t), KeyLogWriter: &kl,
	}); err != nil {
		t.Fatal(err)
	}
	rec := newConnRec(nil)
	c := h.dial(cfg, addr, rec)
	wait(t, rec.connected, "hquic ConnectedEvent")
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	wait(t, rec.complete, "hquic shutdown complete")
	log := kl.String()
	for _, label := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
		"CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 "} {
		if !strings.Contains(log, label) {
			t.Errorf("key log lacks %s:\n%s", label, log)
		}
	}
}
