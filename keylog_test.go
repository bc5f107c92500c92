package quic

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/testutil"
	"github.com/hquic/quic/internal/wire"
	"github.com/hquic/quic/netsim"
)

// capture records every datagram of a netsim network, as a packet capture
// would.
type capture struct {
	mu  sync.Mutex
	all []netsim.Datagram
}

func (c *capture) tap(d netsim.Datagram) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, netsim.Datagram{From: d.From, To: d.To, Data: bytes.Clone(d.Data)})
	return false
}

// readKeyLog parses an NSS key log: label → client random (hex) → secret.
func readKeyLog(t *testing.T, path string) map[string]map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			t.Fatalf("malformed key log line %q", sc.Text())
		}
		secret, err := hex.DecodeString(fields[2])
		if err != nil {
			t.Fatal(err)
		}
		if out[fields[0]] == nil {
			out[fields[0]] = map[string][]byte{}
		}
		out[fields[0]][fields[1]] = secret
	}
	return out
}

// The key log an hquic client writes decrypts a capture of its connection
// the way Wireshark does: the client's Initial with keys from its
// Destination Connection ID, which shows the ClientHello whose random the
// key log lines are filed under, and the server's 1-RTT packets with
// SERVER_TRAFFIC_SECRET_0, which show the echoed message.
func TestKeyLogDecryptsACapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	var capt capture
	const msg = "decrypt me from the key log"
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.net.SetDefaultLink(netsim.Link{Drop: capt.tap})
		kl, err := OpenKeyLog(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kl.Close() })
		e.cliCfg.Close()
		e.cliCfg, err = e.reg.NewConfiguration([]string{"echo"}, &Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.cliCfg.LoadCredential(&CredentialConfig{Type: CredentialNone, Flags: CredentialClient,
			RootCAs: testutil.RootCAs(), KeyLogWriter: kl}); err != nil {
			t.Fatal(err)
		}
		e.listenEcho()
		e.dialEcho(t, msg)
	})
	keys := readKeyLog(t, path)
	for _, label := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} {
		if len(keys[label]) != 1 {
			t.Fatalf("key log has %d %s lines, want 1: %v", len(keys[label]), label, keys)
		}
	}

	// The client's first datagram: an Initial protected with keys from
	// its Destination Connection ID.
	first := capt.all[0].Data
	h, ok := wire.ParseLongHeader(first)
	if !ok || h.Type != wire.PacketInitial {
		t.Fatalf("first datagram is not an Initial: %x", first[:min(len(first), 16)])
	}
	clientInitial, _ := protect.InitialKeys(h.Version, h.DCID, true)
	payload := openLong(t, first[:h.Len], h.PNOffset, clientInitial)
	random := clientHelloRandom(t, payload)
	if keys["SERVER_TRAFFIC_SECRET_0"][random] == nil {
		t.Fatalf("no SERVER_TRAFFIC_SECRET_0 for the ClientHello's random %s", random)
	}

	// The server's 1-RTT packets, with the logged secret.
	secret := keys["SERVER_TRAFFIC_SECRET_0"][random]
	var found, opened int
	for _, d := range capt.all {
		if d.From == capt.all[0].From || wire.IsLongHeader(d.Data[0]) {
			continue // client datagrams, or coalesced handshake packets first
		}
		pl, ok := openShort(d.Data, len(h.SCID), h.Version, secret)
		if !ok {
			continue
		}
		opened++
		if bytes.Contains(pl, []byte(msg)) {
			found++
		}
	}
	if opened == 0 || found == 0 {
		t.Fatalf("opened %d server 1-RTT packets, %d with the echo", opened, found)
	}
}

func openLong(t *testing.T, pkt []byte, pnOffset int, k *protect.Keys) []byte {
	t.Helper()
	pkt = bytes.Clone(pkt)
	pn, hdrLen, ok := packet.Unprotect(pkt, pnOffset, &k.HP, -1)
	if !ok {
		t.Fatal("Initial header protection does not open")
	}
	payload, err := packet.Open(pkt, hdrLen, pn, &k.AEAD)
	if err != nil {
		t.Fatalf("Initial does not decrypt: %v", err)
	}
	return payload
}

// openShort opens a 1-RTT packet with a traffic secret, trying each TLS 1.3
// cipher suite as the key log does not say which was negotiated.
func openShort(pkt []byte, dcidLen int, version uint32, secret []byte) ([]byte, bool) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256} {
		k, err := protect.NewKeys(version, suite, secret)
		if err != nil {
			continue
		}
		p := bytes.Clone(pkt)
		pn, hdrLen, ok := packet.Unprotect(p, 1+dcidLen, &k.HP, -1)
		if !ok {
			continue
		}
		if payload, err := packet.Open(p, hdrLen, pn, &k.AEAD); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// clientHelloRandom finds the ClientHello in an Initial's CRYPTO frame at
// offset 0 and returns its random in hex, the key log's second field.
func clientHelloRandom(t *testing.T, payload []byte) string {
	t.Helper()
	for len(payload) > 0 {
		typ, _ := wire.ConsumeFrameType(payload)
		switch typ {
		case wire.FramePadding:
			payload = payload[1:]
			continue
		case wire.FrameCrypto:
			off, data, n := wire.ConsumeCrypto(payload)
			if n > 0 && off == 0 && len(data) >= 4+2+32 && data[0] == 0x01 {
				// handshake type 1, 3-byte length, legacy_version, random
				return hex.EncodeToString(data[6:38])
			}
			if n <= 0 {
				t.Fatal("malformed CRYPTO frame")
			}
			payload = payload[n:]
			continue
		}
		break
	}
	t.Fatal("the client's first Initial carries no ClientHello at offset 0")
	return ""
}
