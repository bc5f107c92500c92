package protect

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// FuzzOpen feeds arbitrary packets through Remove and Open with Initial,
// AES-256-GCM and ChaCha20-Poly1305 keys. Neither may panic, and a packet that
// opens must round-trip through Seal and Apply to the same bytes.
func FuzzOpen(f *testing.F) {
	for _, v := range vectorSets {
		f.Add(unhex(v.clientProtected), len(unhex(v.clientHeader))-4)
		f.Add(unhex(v.serverProtected), len(unhex(v.serverHeader))-2)
		f.Add(unhex(v.chachaPacket), 1)
	}
	f.Add([]byte{}, 0)
	f.Add(make([]byte, 20), 1)
	f.Add(bytes.Repeat([]byte{0xff}, 64), -3)

	_, initialRead := InitialKeys(Version1, rfcDCID, false)
	_, initialReadV2 := InitialKeys(Version2, rfcDCID, false)
	keys := []*Keys{
		initialRead,
		initialReadV2,
		testKeys(f, Version1, tls.TLS_AES_256_GCM_SHA384),
		chachaKeys(f, &rfc9001),
		chachaKeys(f, &rfc9369),
	}
	f.Fuzz(func(t *testing.T, data []byte, pnOffset int) {
		for _, k := range keys {
			pkt := bytes.Clone(data)
			pnLen, ok := k.HP.Remove(pkt, pnOffset)
			if !ok {
				continue
			}
			if pnLen < 1 || pnLen > 4 {
				t.Fatalf("pnLen = %d", pnLen)
			}
			var pn int64
			for _, b := range pkt[pnOffset : pnOffset+pnLen] {
				pn = pn<<8 | int64(b)
			}
			hdrLen := pnOffset + pnLen
			pt, err := k.AEAD.Open(pkt, hdrLen, pn)
			if err != nil {
				continue
			}
			// An authentic packet must re-protect to the input.
			re := append(make([]byte, 0, len(data)), pkt[:hdrLen]...)
			re = append(re, pt...)
			re = k.AEAD.Seal(re, hdrLen, pn)
			k.HP.Apply(re, pnOffset, pnLen)
			if !bytes.Equal(re, data) {
				t.Fatalf("opened packet does not re-protect to the input")
			}
		}
	})
}
