package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"fmt"
	"testing"
)

// benchPacketLen is the size of a protected packet in the benchmarks:
// a short header of 11 bytes, payload, 16-byte tag.
const (
	benchPacketLen = 1350
	benchHdrLen    = 11
	benchPayload   = benchPacketLen - benchHdrLen - 16
)

func suiteName(suite uint16) string {
	return map[uint16]string{
		tls.TLS_AES_128_GCM_SHA256:       "AES128GCM",
		tls.TLS_AES_256_GCM_SHA384:       "AES256GCM",
		tls.TLS_CHACHA20_POLY1305_SHA256: "ChaCha20Poly1305",
	}[suite]
}

func BenchmarkSealOpen(b *testing.B) {
	for _, suite := range suites {
		b.Run(suiteName(suite), func(b *testing.B) {
			k := testKeys(b, Version1, suite)
			pkt := make([]byte, benchPacketLen)
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			var pn int64
			for b.Loop() {
				pn++
				sealed := k.AEAD.Seal(pkt[:benchHdrLen+benchPayload], benchHdrLen, pn)
				if _, err := k.AEAD.Open(sealed, benchHdrLen, pn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, suite := range suites {
		b.Run(suiteName(suite), func(b *testing.B) {
			k := testKeys(b, Version1, suite)
			pkt := make([]byte, benchPacketLen)
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			var pn int64
			for b.Loop() {
				pn++
				k.AEAD.Seal(pkt[:benchHdrLen+benchPayload], benchHdrLen, pn)
			}
		})
	}
}

// BenchmarkBareGCMSeal is the baseline: cipher.AEAD Seal of the same sizes
// with AES-128-GCM, in place, fixed nonce, no QUIC nonce construction.
func BenchmarkBareGCMSeal(b *testing.B) {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	pkt := make([]byte, benchPacketLen)
	nonce := make([]byte, 12)
	b.ReportAllocs()
	b.SetBytes(benchPayload)
	for b.Loop() {
		aead.Seal(pkt[benchHdrLen:benchHdrLen], nonce, pkt[benchHdrLen:benchHdrLen+benchPayload], pkt[:benchHdrLen])
	}
}

func BenchmarkHeaderProtection(b *testing.B) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_CHACHA20_POLY1305_SHA256} {
		b.Run(fmt.Sprintf("%s/ApplyRemove", suiteName(suite)), func(b *testing.B) {
			k := testKeys(b, Version1, suite)
			pkt := make([]byte, benchPacketLen)
			pkt[0] = 0x41
			b.ReportAllocs()
			for b.Loop() {
				k.HP.Apply(pkt, 9, 2)
				if _, ok := k.HP.Remove(pkt, 9); !ok {
					b.Fatal("Remove failed")
				}
			}
		})
	}
}
