package conn

import (
	"bytes"
	"crypto/tls"
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

func TestVersion2HandshakeAndEcho(t *testing.T) {
	p := newPair(t, func(p *pair, cc *Config, _ *tls.Config) { cc.Version = wire.Version2 })
	p.server.echo = true
	p.handshake()
	if p.server.c.version != wire.Version2 {
		t.Fatalf("server version %#x", p.server.c.version)
	}
}

// RFC 9368 compatible version negotiation: the client starts in v1 and
// lists v2; the server prefers v2 and answers in it; both end up in v2 and
// the version_information parameters agree.
func TestCompatibleVersionNegotiationSwitchesToV2(t *testing.T) {
	p := newPair(t, func(p *pair, cc *Config, _ *tls.Config) {
		cc.Versions = []uint32{wire.Version1, wire.Version2}
		p.serverVersions = []uint32{wire.Version2, wire.Version1}
	})
	p.server.echo = true
	p.handshake()
	if p.client.c.version != wire.Version2 || p.server.c.version != wire.Version2 {
		t.Fatalf("versions: client %#x, server %#x; want v2", p.client.c.version, p.server.c.version)
	}
	if !p.client.c.peerParams.HasVersionInformation || p.client.c.peerParams.VersionInformation.Chosen != wire.Version2 {
		t.Errorf("server's version_information %+v", p.client.c.peerParams.VersionInformation)
	}
	s := openSend(p, []byte("v2 data"), true)
	if !p.runUntil(5*time.Second, func() bool { return p.client.has("PeerSendShutdown") }) {
		t.Fatal("no echo over v2")
	}
	if got := string(p.client.received[s.ID()]); got != "v2 data" {
		t.Errorf("echo %q", got)
	}
}

// A server that prefers v1 keeps a client that offers v2 on v1.
func TestCompatibleVersionNegotiationKeepsPreferredVersion(t *testing.T) {
	p := newPair(t, func(p *pair, cc *Config, _ *tls.Config) {
		cc.Versions = []uint32{wire.Version1, wire.Version2}
		p.serverVersions = []uint32{wire.Version1, wire.Version2}
	})
	p.handshake()
	if p.client.c.version != wire.Version1 || p.server.c.version != wire.Version1 {
		t.Fatalf("versions: client %#x, server %#x; want v1", p.client.c.version, p.server.c.version)
	}
}

// firstClientInitial starts the client and captures its first datagram
// (which never reaches a server).
func firstClientInitial(t *testing.T, p *pair) wire.LongHeader {
	t.Helper()
	var first []byte
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && first == nil {
			first = data
		}
		return true
	}
	p.client.c.Start()
	p.step()
	_, dcid, scid, ok := wire.ParseInvariantHeader(first)
	if !ok {
		t.Fatal("no client Initial")
	}
	return wire.LongHeader{DCID: dcid, SCID: scid}
}

// A Version Negotiation packet listing the client's own version is a
// forgery or a downgrade attempt and is ignored (RFC 9000 §6.2).
func TestVersionNegotiationListingOurVersionIgnored(t *testing.T) {
	p := newPair(t, func(p *pair, cc *Config, _ *tls.Config) { cc.Versions = []uint32{wire.Version1, wire.Version2} })
	h := firstClientInitial(t, p)
	vn := wire.AppendVersionNegotiation(nil, 0x80, h.SCID, h.DCID, []uint32{wire.Version1, wire.Version2})
	p.client.c.QueueDatagram(Datagram{Data: vn, Peer: serverAddr})
	p.step()
	if p.client.c.vers.restarted || p.client.c.life.closing() {
		t.Fatal("the client acted on a Version Negotiation packet listing its own version")
	}
}

// A Version Negotiation packet with no common version fails the
// connection with a version negotiation error.
func TestVersionNegotiationWithoutCommonVersionFails(t *testing.T) {
	p := newPair(t)
	h := firstClientInitial(t, p)
	vn := wire.AppendVersionNegotiation(nil, 0x80, h.SCID, h.DCID, []uint32{0x1a2a3a4a})
	p.client.c.QueueDatagram(Datagram{Data: vn, Peer: serverAddr})
	p.step()
	ev, ok := p.client.find("ShutdownByTransport")
	if !ok || ev.r.Local != ReasonVersionNegotiation {
		t.Fatalf("events %v, want a version negotiation failure", p.client.names())
	}
}

// A Version Negotiation packet offering another version the client
// supports restarts the handshake in it, invisibly to the application.
func TestVersionNegotiationRestartsInOfferedVersion(t *testing.T) {
	p := newPair(t, func(p *pair, cc *Config, _ *tls.Config) {
		cc.Version = 0x1a2a3a4a
		cc.Versions = []uint32{0x1a2a3a4a, wire.Version2}
	})
	h := firstClientInitial(t, p)
	vn := wire.AppendVersionNegotiation(nil, 0x80, h.SCID, h.DCID, []uint32{wire.Version1, wire.Version2})
	p.client.c.QueueDatagram(Datagram{Data: vn, Peer: serverAddr})
	p.drop = nil
	p.step()
	if p.client.c.version != wire.Version2 || !p.client.c.vers.restarted {
		t.Fatalf("client version %#x after Version Negotiation", p.client.c.version)
	}
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("Connected") && p.server.has("Connected") }) {
		t.Fatalf("no handshake after restart: client %v server %v", p.client.names(), p.server.names())
	}
	if got := p.client.names(); got[0] != "StreamsAvailable" {
		t.Errorf("client events %v: the restart must be invisible", got)
	}
}

// With grease_quic_bit advertised by both sides (RFC 9287), 1-RTT packets
// go out with the fixed bit cleared at times, and are accepted.
func TestGreaseQUICBit(t *testing.T) {
	p := newPair(t, func(p *pair, cc *Config, _ *tls.Config) {
		cc.Settings.GreaseQUICBit = true
		p.serverSettings.GreaseQUICBit = true
	})
	cleared := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if !wire.IsLongHeader(data[0]) && data[0]&wire.FixedBit == 0 {
			cleared++
		}
		return false
	}
	p.server.echo = true
	p.handshake()
	s := openSend(p, bytes.Repeat([]byte("x"), 20000), true)
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("PeerSendShutdown") }) {
		t.Fatal("no echo")
	}
	if len(p.client.received[s.ID()]) != 20000 {
		t.Fatalf("echoed %d bytes", len(p.client.received[s.ID()]))
	}
	if cleared == 0 {
		t.Error("no packet was sent with the fixed bit cleared")
	}
}

// Without grease_quic_bit, a packet with the fixed bit cleared is dropped
// before decryption (RFC 9000 §17.3.1).
func TestFixedBitClearedDropped(t *testing.T) {
	p := newPair(t)
	p.handshake()
	p.runUntil(time.Second, func() bool { return len(p.wire) == 0 })
	srv := p.server.c
	failures := srv.stats.RecvDecryptionFailures
	flipped := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && !wire.IsLongHeader(data[0]) {
			data[0] &^= wire.FixedBit
			flipped++
		}
		return false
	}
	c := p.client.c
	c.StreamSend(c.NewStream(0), [][]byte{[]byte("x")}, SendFlagStart, nil)
	p.runUntil(100*time.Millisecond, func() bool { return false })
	if flipped == 0 {
		t.Fatal("no packet was sent")
	}
	if srv.stats.RecvDecryptionFailures != failures || p.server.has("PeerStreamStarted") {
		t.Fatal("a packet with the fixed bit cleared was processed")
	}
}

// A server's connection-ID prefix applies to every ID it issues, including
// the handshake one (the spec's LOCAL_CID_PREFIX).
func TestServerCIDPrefix(t *testing.T) {
	prefix := []byte{0xab, 0xcd}
	p := newPair(t, func(p *pair, _ *Config, _ *tls.Config) { p.serverCIDPrefix = prefix })
	p.handshake()
	remote := p.client.c.cids.remote
	if len(remote) < 2 {
		t.Fatalf("client holds %d server IDs", len(remote))
	}
	for _, r := range remote {
		if !bytes.HasPrefix(r.id(), prefix) {
			t.Errorf("server connection ID %x lacks the prefix", r.id())
		}
	}
	if !bytes.HasPrefix(p.client.c.cids.peerInitialSCID, prefix) {
		t.Errorf("handshake connection ID %x lacks the prefix", p.client.c.cids.peerInitialSCID)
	}
}
