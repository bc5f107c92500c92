package protect

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
)

// clientInitialPlain returns the unprotected client Initial of an appendix:
// header || CRYPTO frame || PADDING, with room for the tag.
func clientInitialPlain(v *vectorSet) []byte {
	hdr := unhex(v.clientHeader)
	pkt := make([]byte, len(hdr)+clientPayloadLen, len(hdr)+clientPayloadLen+16)
	copy(pkt, hdr)
	copy(pkt[len(hdr):], unhex(clientCrypto))
	return pkt
}

func serverInitialPlain(v *vectorSet) []byte {
	pkt := append(unhex(v.serverHeader), unhex(serverPayload)...)
	return append(make([]byte, 0, len(pkt)+16), pkt...)
}

func TestInitialSecretsAndKeys(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			cw, cr := InitialKeys(v.version, rfcDCID, true)
			sw, sr := InitialKeys(v.version, rfcDCID, false)
			l := versionLabels(v.version)
			for _, c := range []struct {
				side                string
				keys                []*Keys
				secret, key, iv, hp string
			}{
				{"client", []*Keys{cw, sr}, v.clientSecret, v.clientKey, v.clientIV, v.clientHP},
				{"server", []*Keys{sw, cr}, v.serverSecret, v.serverKey, v.serverIV, v.serverHP},
			} {
				for _, k := range c.keys {
					if !bytes.Equal(k.secret(), unhex(c.secret)) {
						t.Errorf("%s secret = %x, want %s", c.side, k.secret(), c.secret)
					}
					if got := HKDFExpandLabel(sha256.New, k.secret(), l.key, nil, 16); !bytes.Equal(got, unhex(c.key)) {
						t.Errorf("%s key = %x, want %s", c.side, got, c.key)
					}
					if got := HKDFExpandLabel(sha256.New, k.secret(), l.hp, nil, 16); !bytes.Equal(got, unhex(c.hp)) {
						t.Errorf("%s hp = %x, want %s", c.side, got, c.hp)
					}
					if !bytes.Equal(k.AEAD.iv[:], unhex(c.iv)) {
						t.Errorf("%s iv = %x, want %s", c.side, k.AEAD.iv, c.iv)
					}
					if k.Suite() != tls.TLS_AES_128_GCM_SHA256 || k.Version() != v.version {
						t.Errorf("%s suite/version = %#x/%#x", c.side, k.Suite(), k.Version())
					}
				}
			}
		})
	}
}

func TestHKDFExpandLabelInfo(t *testing.T) {
	// RFC 9001, Appendix A.1 lists the HkdfLabel structures; check the
	// encoding by deriving with a manual Expand over the same info.
	got := HKDFExpandLabel(sha256.New, make([]byte, 32), "quic key", nil, 16)
	if len(got) != 16 {
		t.Fatalf("len = %d", len(got))
	}
	if bytes.Equal(got, HKDFExpandLabel(sha256.New, make([]byte, 32), "quic key", []byte{1}, 16)) {
		t.Error("context does not change the output")
	}
}

func TestHeaderProtectionMask(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			cw, _ := InitialKeys(v.version, rfcDCID, true)
			sw, _ := InitialKeys(v.version, rfcDCID, false)
			cw.HP.makeMask(unhex(v.clientSample))
			if got := cw.HP.mask[:5]; !bytes.Equal(got, unhex(v.clientMask)) {
				t.Errorf("client mask = %x, want %s", got, v.clientMask)
			}
			sw.HP.makeMask(unhex(v.serverSample))
			if got := sw.HP.mask[:5]; !bytes.Equal(got, unhex(v.serverMask)) {
				t.Errorf("server mask = %x, want %s", got, v.serverMask)
			}
		})
	}
}

func TestProtectClientInitial(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			w, _ := InitialKeys(v.version, rfcDCID, true)
			pkt := clientInitialPlain(v)
			hdrLen := len(unhex(v.clientHeader))
			out := w.AEAD.Seal(pkt, hdrLen, 2)
			if &out[0] != &pkt[0] {
				t.Error("Seal did not work in place")
			}
			w.HP.Apply(out, hdrLen-4, 4)
			if want := unhex(v.clientProtected); !bytes.Equal(out, want) {
				t.Fatalf("protected client Initial differs\n got %x\nwant %x", out, want)
			}
		})
	}
}

func TestUnprotectClientInitial(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			_, r := InitialKeys(v.version, rfcDCID, false)
			pkt := unhex(v.clientProtected)
			hdr := unhex(v.clientHeader)
			pnLen, ok := r.HP.Remove(pkt, len(hdr)-4)
			if !ok || pnLen != 4 {
				t.Fatalf("Remove = %d, %v", pnLen, ok)
			}
			if !bytes.Equal(pkt[:len(hdr)], hdr) {
				t.Fatalf("header = %x, want %x", pkt[:len(hdr)], hdr)
			}
			pt, err := r.AEAD.Open(pkt, len(hdr), 2)
			if err != nil {
				t.Fatal(err)
			}
			if want := clientInitialPlain(v)[len(hdr):]; !bytes.Equal(pt, want) {
				t.Fatalf("payload differs\n got %x\nwant %x", pt, want)
			}
			if &pt[0] != &pkt[len(hdr)] {
				t.Error("plaintext does not alias the packet")
			}
		})
	}
}

func TestProtectServerInitial(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			w, _ := InitialKeys(v.version, rfcDCID, false)
			pkt := serverInitialPlain(v)
			hdrLen := len(unhex(v.serverHeader))
			out := w.AEAD.Seal(pkt, hdrLen, 1)
			w.HP.Apply(out, hdrLen-2, 2)
			if want := unhex(v.serverProtected); !bytes.Equal(out, want) {
				t.Fatalf("protected server Initial differs\n got %x\nwant %x", out, want)
			}
		})
	}
}

func TestUnprotectServerInitial(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			_, r := InitialKeys(v.version, rfcDCID, true)
			pkt := unhex(v.serverProtected)
			hdr := unhex(v.serverHeader)
			pnLen, ok := r.HP.Remove(pkt, len(hdr)-2)
			if !ok || pnLen != 2 {
				t.Fatalf("Remove = %d, %v", pnLen, ok)
			}
			if !bytes.Equal(pkt[:len(hdr)], hdr) {
				t.Fatalf("header = %x, want %x", pkt[:len(hdr)], hdr)
			}
			pt, err := r.AEAD.Open(pkt, len(hdr), 1)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(serverPayload); !bytes.Equal(pt, want) {
				t.Fatalf("payload = %x, want %x", pt, want)
			}
		})
	}
}

// retryPseudoPacket builds the RFC 9001, Section 5.8 pseudo-packet of an
// appendix's Retry packet, returning it and the packet's tag.
func retryPseudoPacket(v *vectorSet) (pseudo, tag []byte) {
	retry := unhex(v.retry)
	pseudo = append([]byte{byte(len(rfcDCID))}, rfcDCID...)
	pseudo = append(pseudo, retry[:len(retry)-16]...)
	return pseudo, retry[len(retry)-16:]
}

func TestRetryIntegrity(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			pseudo, tag := retryPseudoPacket(v)
			if got := RetryIntegrityTag(v.version, pseudo); !bytes.Equal(got[:], tag) {
				t.Fatalf("tag = %x, want %x", got, tag)
			}
			if !VerifyRetryIntegrity(v.version, pseudo, tag) {
				t.Fatal("valid tag rejected")
			}
			other := Version1
			if v.version == Version1 {
				other = Version2
			}
			if VerifyRetryIntegrity(other, pseudo, tag) {
				t.Error("tag accepted under the other version")
			}
			if VerifyRetryIntegrity(v.version, pseudo, tag[:15]) {
				t.Error("truncated tag accepted")
			}
			for i := range pseudo {
				bad := bytes.Clone(pseudo)
				bad[i] ^= 0x01
				if VerifyRetryIntegrity(v.version, bad, tag) {
					t.Fatalf("tag accepted with pseudo-packet byte %d modified", i)
				}
			}
		})
	}
}

func TestRetryKeysFromSecrets(t *testing.T) {
	// The fixed Retry key and nonce are derived from published secrets
	// (RFC 9001, Section 5.8; RFC 9369, Section 3.3.3).
	for _, c := range []struct {
		version    uint32
		secret     string
		key, nonce []byte
	}{
		{Version1, "d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e", retryKeyV1[:], retryNonceV1[:]},
		{Version2, "c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f", retryKeyV2[:], retryNonceV2[:]},
	} {
		l := versionLabels(c.version)
		if got := HKDFExpandLabel(sha256.New, unhex(c.secret), l.key, nil, 16); !bytes.Equal(got, c.key) {
			t.Errorf("version %#x key = %x, want %x", c.version, got, c.key)
		}
		if got := HKDFExpandLabel(sha256.New, unhex(c.secret), l.iv, nil, 12); !bytes.Equal(got, c.nonce) {
			t.Errorf("version %#x nonce = %x, want %x", c.version, got, c.nonce)
		}
	}
}

func chachaKeys(t testing.TB, v *vectorSet) *Keys {
	t.Helper()
	k, err := NewKeys(v.version, tls.TLS_CHACHA20_POLY1305_SHA256, unhex(chachaSecret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestChaChaShortHeader(t *testing.T) {
	for _, v := range vectorSets {
		t.Run(v.name, func(t *testing.T) {
			k := chachaKeys(t, v)
			l := versionLabels(v.version)
			if got := HKDFExpandLabel(sha256.New, k.secret(), l.key, nil, 32); !bytes.Equal(got, unhex(v.chachaKey)) {
				t.Errorf("key = %x, want %s", got, v.chachaKey)
			}
			if got := HKDFExpandLabel(sha256.New, k.secret(), l.hp, nil, 32); !bytes.Equal(got, unhex(v.chachaHP)) {
				t.Errorf("hp = %x, want %s", got, v.chachaHP)
			}
			if !bytes.Equal(k.HP.chacha[:], unhex(v.chachaHP)) {
				t.Errorf("HP key = %x, want %s", k.HP.chacha, v.chachaHP)
			}
			if !bytes.Equal(k.AEAD.iv[:], unhex(v.chachaIV)) {
				t.Errorf("iv = %x, want %s", k.AEAD.iv, v.chachaIV)
			}
			if got := k.AEAD.makeNonce(chachaPN); !bytes.Equal(got, unhex(v.chachaNonce)) {
				t.Errorf("nonce = %x, want %s", got, v.chachaNonce)
			}
			next, err := k.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(next.secret(), unhex(v.chachaKU)) {
				t.Errorf("ku = %x, want %s", next.secret(), v.chachaKU)
			}

			pkt := append(make([]byte, 0, 32), unhex(chachaHeader)...)
			pkt = append(pkt, 0x01)
			out := k.AEAD.Seal(pkt, 4, chachaPN)
			if !bytes.Equal(out[4:], unhex(v.chachaCiphertext)) {
				t.Errorf("ciphertext = %x, want %s", out[4:], v.chachaCiphertext)
			}
			k.HP.Apply(out, 1, 3)
			if !bytes.Equal(k.HP.mask[:5], unhex(v.chachaMask)) {
				t.Errorf("mask = %x, want %s", k.HP.mask[:5], v.chachaMask)
			}
			if !bytes.Equal(out, unhex(v.chachaPacket)) {
				t.Fatalf("packet = %x, want %s", out, v.chachaPacket)
			}

			r := chachaKeys(t, v)
			pnLen, ok := r.HP.Remove(out, 1)
			if !ok || pnLen != 3 || !bytes.Equal(out[:4], unhex(chachaHeader)) {
				t.Fatalf("Remove = %d, %v, header %x", pnLen, ok, out[:4])
			}
			pt, err := r.AEAD.Open(out, 4, chachaPN)
			if err != nil || !bytes.Equal(pt, []byte{0x01}) {
				t.Fatalf("Open = %x, %v", pt, err)
			}
		})
	}
}

var suites = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}

// testKeys returns keys of suite from a fixed secret of the right size.
func testKeys(t testing.TB, version uint32, suite uint16) *Keys {
	t.Helper()
	secret := bytes.Repeat([]byte{0x5a}, suiteHash(suite)().Size())
	k, err := NewKeys(version, suite, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeysErrors(t *testing.T) {
	if _, err := NewKeys(Version1, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, make([]byte, 32)); !errors.Is(err, ErrSuite) {
		t.Errorf("TLS 1.2 suite: err = %v", err)
	}
	if _, err := NewKeys(Version1, tls.TLS_AES_256_GCM_SHA384, make([]byte, 32)); !errors.Is(err, ErrSecret) {
		t.Errorf("short SHA-384 secret: err = %v", err)
	}
	if _, err := NewKeys(Version1, tls.TLS_AES_128_GCM_SHA256, make([]byte, 48)); !errors.Is(err, ErrSecret) {
		t.Errorf("long SHA-256 secret: err = %v", err)
	}
}

// shortPacket builds a 1-RTT packet: first byte, 8-byte DCID, 2-byte packet
// number, payload, room for the tag.
func shortPacket(pn int64, payload []byte) (pkt []byte, hdrLen int) {
	pkt = make([]byte, 0, 11+len(payload)+16)
	pkt = append(pkt, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, byte(pn>>8), byte(pn))
	return append(pkt, payload...), 11
}

// protect seals and header-protects a short-header packet.
func protect(k *Keys, pn int64, payload []byte) []byte {
	pkt, hdrLen := shortPacket(pn, payload)
	pkt = k.AEAD.Seal(pkt, hdrLen, pn)
	k.HP.Apply(pkt, 9, 2)
	return pkt
}

// unprotect removes protection of a short-header packet with an 8-byte DCID,
// reading the packet number from the header.
func unprotect(k *Keys, pkt []byte) ([]byte, error) {
	pnLen, ok := k.HP.Remove(pkt, 9)
	if !ok {
		return nil, errors.New("too short")
	}
	var pn int64
	for _, b := range pkt[9 : 9+pnLen] {
		pn = pn<<8 | int64(b)
	}
	return k.AEAD.Open(pkt, 9+pnLen, pn)
}

func TestKeyUpdateGenerations(t *testing.T) {
	for _, suite := range suites {
		t.Run(fmt.Sprintf("%#x", suite), func(t *testing.T) {
			send := []*Keys{testKeys(t, Version1, suite)}
			recv := []*Keys{testKeys(t, Version1, suite)}
			for range 3 {
				s, err := send[len(send)-1].Next()
				if err != nil {
					t.Fatal(err)
				}
				r, err := recv[len(recv)-1].Next()
				if err != nil {
					t.Fatal(err)
				}
				send, recv = append(send, s), append(recv, r)
			}
			payload := []byte("key update payload, long enough for a sample")
			sample := bytes.Repeat([]byte{0x33}, 16)
			send[0].HP.makeMask(sample)
			mask0 := send[0].HP.mask
			for g := 1; g < len(send); g++ {
				if bytes.Equal(send[g].secret(), send[g-1].secret()) || send[g].AEAD.iv == send[g-1].AEAD.iv {
					t.Errorf("generation %d: secret or IV unchanged", g)
				}
				if send[g].HP.block != send[0].HP.block || send[g].HP.chacha != send[0].HP.chacha {
					t.Errorf("generation %d: header protection key changed", g)
				}
				send[g].HP.makeMask(sample)
				if send[g].HP.mask != mask0 {
					t.Errorf("generation %d: header protection mask changed", g)
				}
			}
			for g := range send {
				for h := range recv {
					pt, err := unprotect(recv[h], protect(send[g], 7, payload))
					if g == h && (err != nil || !bytes.Equal(pt, payload)) {
						t.Errorf("generation %d: Open = %q, %v", g, pt, err)
					}
					if g != h && !errors.Is(err, ErrOpen) {
						t.Errorf("sealed with generation %d, opened with %d: err = %v", g, h, err)
					}
				}
			}
		})
	}
}

func TestKeyUpdateV2Label(t *testing.T) {
	k1 := testKeys(t, Version1, tls.TLS_AES_128_GCM_SHA256)
	k2 := testKeys(t, Version2, tls.TLS_AES_128_GCM_SHA256)
	n1, _ := k1.Next()
	n2, _ := k2.Next()
	if bytes.Equal(n1.secret(), n2.secret()) {
		t.Error("v1 and v2 key updates derive the same secret")
	}
	if want := HKDFExpandLabel(sha256.New, k2.secret(), "quicv2 ku", nil, 32); !bytes.Equal(n2.secret(), want) {
		t.Errorf("v2 next secret = %x, want %x", n2.secret(), want)
	}
}

func TestTamperedPacketRejected(t *testing.T) {
	payload := bytes.Repeat([]byte("tamper"), 10)
	for _, suite := range suites {
		for _, version := range []uint32{Version1, Version2} {
			k := testKeys(t, version, suite)
			orig := protect(k, 0x1234, payload)
			if pt, err := unprotect(k, bytes.Clone(orig)); err != nil || !bytes.Equal(pt, payload) {
				t.Fatalf("suite %#x: untouched packet: %v", suite, err)
			}
			for i := range orig {
				for _, bit := range []byte{0x01, 0x80} {
					pkt := bytes.Clone(orig)
					pkt[i] ^= bit
					if _, err := unprotect(k, pkt); err == nil {
						t.Fatalf("suite %#x version %#x: byte %d bit %#x flipped, packet accepted", suite, version, i, bit)
					}
				}
			}
		}
	}
}

func TestRemoveTooShort(t *testing.T) {
	for _, suite := range suites {
		k := testKeys(t, Version1, suite)
		for _, pnOffset := range []int{-1, 0, 1, 9, 18, 1 << 40} {
			for n := range 40 {
				pkt := bytes.Repeat([]byte{0xc3}, n)
				want := pnOffset >= 1 && n >= pnOffset+20
				if _, ok := k.HP.Remove(pkt, pnOffset); ok != want {
					t.Errorf("suite %#x len %d pnOffset %d: ok = %v, want %v", suite, n, pnOffset, ok, want)
				}
				if !want && !bytes.Equal(pkt, bytes.Repeat([]byte{0xc3}, n)) {
					t.Errorf("rejected packet was modified")
				}
			}
		}
	}
}

func TestOpenTooShort(t *testing.T) {
	k := testKeys(t, Version1, tls.TLS_AES_128_GCM_SHA256)
	for _, c := range []struct{ n, hdrLen int }{{0, 0}, {10, 0}, {15, 0}, {20, 5}, {20, 30}, {20, -1}} {
		if _, err := k.AEAD.Open(make([]byte, c.n), c.hdrLen, 0); !errors.Is(err, ErrOpen) {
			t.Errorf("len %d hdrLen %d: err = %v", c.n, c.hdrLen, err)
		}
	}
	if k.AEAD.Overhead() != 16 {
		t.Errorf("Overhead = %d", k.AEAD.Overhead())
	}
}

func TestSealGrowsShortCapacity(t *testing.T) {
	k := testKeys(t, Version1, tls.TLS_AES_128_GCM_SHA256)
	pkt, hdrLen := shortPacket(3, []byte("no room for the tag here"))
	pkt = pkt[:len(pkt):len(pkt)]
	out := k.AEAD.Seal(pkt, hdrLen, 3)
	if len(out) != len(pkt)+16 {
		t.Fatalf("len = %d, want %d", len(out), len(pkt)+16)
	}
	if pt, err := k.AEAD.Open(out, hdrLen, 3); err != nil || string(pt) != "no room for the tag here" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestLongHeaderMasksFourBits(t *testing.T) {
	k := testKeys(t, Version1, tls.TLS_AES_128_GCM_SHA256)
	for _, first := range []byte{0xc0, 0x40} {
		pkt := make([]byte, 40)
		pkt[0] = first
		var changed byte
		for s := range 64 {
			pkt[10] = byte(s) // vary the sample (pkt[9:25])
			p := bytes.Clone(pkt)
			k.HP.Apply(p, 5, 1)
			changed |= p[0] ^ first
		}
		want := byte(0x1f)
		if first&0x80 != 0 {
			want = 0x0f
		}
		if changed != want {
			t.Errorf("first byte %#x: masked bits %#x, want %#x", first, changed, want)
		}
	}
}

func TestLimits(t *testing.T) {
	for _, c := range []struct {
		suite       uint16
		conf, integ uint64
	}{
		{tls.TLS_AES_128_GCM_SHA256, 1 << 23, 1 << 52},
		{tls.TLS_AES_256_GCM_SHA384, 1 << 23, 1 << 52},
		{tls.TLS_CHACHA20_POLY1305_SHA256, ^uint64(0), 1 << 36},
		{0, 0, 0},
	} {
		if got := ConfidentialityLimit(c.suite); got != c.conf {
			t.Errorf("ConfidentialityLimit(%#x) = %d, want %d", c.suite, got, c.conf)
		}
		if got := IntegrityLimit(c.suite); got != c.integ {
			t.Errorf("IntegrityLimit(%#x) = %d, want %d", c.suite, got, c.integ)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	payload := make([]byte, 1200)
	for _, suite := range suites {
		k := testKeys(t, Version1, suite)
		pkt, hdrLen := shortPacket(9, payload)
		var pn int64 = 9
		if n := testing.AllocsPerRun(100, func() {
			pkt = k.AEAD.Seal(pkt[:hdrLen+len(payload)], hdrLen, pn)
		}); n > 1 {
			t.Errorf("suite %#x: Seal allocates %v", suite, n)
		}
		if n := testing.AllocsPerRun(100, func() {
			k.HP.Apply(pkt, 9, 2)
		}); n > 1 {
			t.Errorf("suite %#x: Apply allocates %v", suite, n)
		}
		if n := testing.AllocsPerRun(100, func() {
			k.HP.Remove(pkt, 9)
		}); n > 1 {
			t.Errorf("suite %#x: Remove allocates %v", suite, n)
		}
		sealed := bytes.Clone(pkt)
		if n := testing.AllocsPerRun(100, func() {
			copy(pkt, sealed)
			if _, err := k.AEAD.Open(pkt, hdrLen, pn); err != nil {
				t.Fatal(err)
			}
		}); n > 1 {
			t.Errorf("suite %#x: Open allocates %v", suite, n)
		}
	}
}

func TestRetryIntegrityTagAllocs(t *testing.T) {
	pseudo, _ := retryPseudoPacket(&rfc9001)
	RetryIntegrityTag(Version1, pseudo)
	if n := testing.AllocsPerRun(100, func() { RetryIntegrityTag(Version1, pseudo) }); n > 1 {
		t.Errorf("RetryIntegrityTag allocates %v times, want at most 1", n)
	}
}
