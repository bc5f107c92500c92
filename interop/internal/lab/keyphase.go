package lab

import (
	"bufio"
	"crypto/aes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"

	"github.com/hquic/quic/interop/internal/relay"
)

// checkKeyUpdate is the runner's key update check: both endpoints sent
// 1-RTT packets with the key phase bit set. The bit is under header
// protection (RFC 9001 §5.4), removed here with the header protection key
// derived from the key log's traffic secrets (it does not change with key
// updates, RFC 9001 §6). AES-based cipher suites are assumed.
func checkKeyUpdate(t *trial) error {
	secrets, err := readKeyLog(t.path("client.keys"))
	if err != nil {
		if secrets, err = readKeyLog(t.path("server.keys")); err != nil {
			return fmt.Errorf("no key log to read the key phase with: %v", err)
		}
	}
	label := "quic hp"
	if t.versions(relay.ToClient, relay.TypeHandshake)[relay.Version2] {
		label = "quicv2 hp"
	}
	for _, side := range []struct {
		dir    relay.Direction
		secret string
		peer   relay.Direction // whose long headers give our DCID length
		who    string
	}{
		{relay.ToServer, "CLIENT_TRAFFIC_SECRET_0", relay.ToClient, "client"},
		{relay.ToClient, "SERVER_TRAFFIC_SECRET_0", relay.ToServer, "server"},
	} {
		secret := secrets[side.secret]
		if secret == nil {
			return fmt.Errorf("the key log has no %s", side.secret)
		}
		hp, err := hpCipher(secret, label)
		if err != nil {
			return err
		}
		cidLen := -1
		for _, h := range t.packets(side.peer, relay.TypeHandshake, false) {
			cidLen = len(h.SCID)
			break
		}
		if cidLen < 0 {
			return errors.New("no Handshake packet to learn the connection ID length from")
		}
		phases := [2]int{}
		for _, h := range t.packets(side.dir, relay.TypeShort, true) {
			pnOff := 1 + cidLen
			if len(h.Prefix) < pnOff+4+16 {
				continue
			}
			var mask [16]byte
			hp.Encrypt(mask[:], h.Prefix[pnOff+4:pnOff+20])
			first := h.Prefix[0] ^ mask[0]&0x1f
			phases[first>>2&1]++
		}
		if phases[1] == 0 {
			return fmt.Errorf("the %s sent no packet with key phase 1 (%d with key phase 0)", side.who, phases[0])
		}
	}
	return nil
}

// readKeyLog returns the last secret of each label in an NSS key log.
func readKeyLog(name string) (map[string][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := make(map[string][]byte)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		if b, err := hex.DecodeString(fields[2]); err == nil {
			out[fields[0]] = b
		}
	}
	return out, sc.Err()
}

// hpCipher derives the AES header protection cipher from a traffic secret.
func hpCipher(secret []byte, label string) (interface{ Encrypt(dst, src []byte) }, error) {
	key, err := hpKey(secret, label)
	if err != nil {
		return nil, err
	}
	return aes.NewCipher(key)
}

// hpKey is HKDF-Expand-Label(secret, label, "", key length) (RFC 8446
// §7.1, RFC 9001 §5.1): an AES-128 key from a SHA-256 secret, AES-256
// from a SHA-384 one.
func hpKey(secret []byte, label string) ([]byte, error) {
	var h func() hash.Hash
	keyLen := 16
	switch len(secret) {
	case 32:
		h = sha256.New
	case 48:
		h, keyLen = sha512.New384, 32
	default:
		return nil, fmt.Errorf("unexpected %d-byte traffic secret", len(secret))
	}
	full := "tls13 " + label
	info := []byte{byte(keyLen >> 8), byte(keyLen), byte(len(full))}
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(h, secret, string(info), keyLen)
}
