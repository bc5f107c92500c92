package conn

import (
	"testing"
)

func TestHandshakeCompletes(t *testing.T) {
	p := newPair(t)
	p.handshake()
	if !p.server.c.life.handshakeConfirmed {
		t.Error("server handshake not confirmed")
	}
	if got := p.client.c.alpn; got != "test" {
		t.Errorf("client ALPN = %q", got)
	}
	if p.client.c.hs.Send(0).Unacked() {
		t.Error("client Initial CRYPTO data unacknowledged")
	}
	if len(p.client.c.cids.remote) < 2 {
		t.Errorf("client holds %d server connection IDs, want NEW_CONNECTION_IDs", len(p.client.c.cids.remote))
	}
}

func TestHandshakeEventOrder(t *testing.T) {
	p := newPair(t)
	p.handshake()
	t.Logf("client: %v", p.client.names())
	t.Logf("server: %v", p.server.names())
	t.Logf("client sent %d datagrams (%d bytes), server %d (%d bytes)", p.sentCount[p.client], p.sentBytes[p.client], p.sentCount[p.server], p.sentBytes[p.server])
}
