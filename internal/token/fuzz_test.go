package token

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// FuzzToken feeds arbitrary bytes to Open, which must never panic and must
// reject everything but genuine tokens. Bytes that open must re-seal to a
// token that opens to the same contents. Since forged bytes never pass
// authentication, the same bytes also go straight to the plaintext parser.
func FuzzToken(f *testing.F) {
	s := NewSealer(testKey)
	s.Rotate(otherKey)
	prev := NewSealer(testKey)
	for _, tok := range []*Token{
		retryToken(clientV4),
		retryToken(clientV6),
		{Kind: KindNewToken, Version: 1, Addr: clientV4, IssuedAt: testNow},
		{Kind: KindNewToken, IssuedAt: testNow},
	} {
		f.Add(s.Seal(nil, tok), testNow.Unix())
		f.Add(prev.Seal(nil, tok), testNow.Unix())
	}
	f.Add([]byte{}, int64(0))
	f.Add(make([]byte, MaxLen+1), int64(-1))
	f.Fuzz(func(t *testing.T, b []byte, nowSecs int64) {
		now := time.Unix(nowSecs, 0)
		if p, ok := parse(b); ok {
			if _, ok := parse(sealPlain(&p)); !ok {
				t.Fatalf("parsed plaintext does not re-encode: %+v", p)
			}
		}
		tok, err := s.Open(b, now)
		if err != nil {
			return
		}
		if tok.Kind != KindRetry && tok.Kind != KindNewToken {
			t.Fatalf("opened a token of kind %d", tok.Kind)
		}
		_ = tok.Validate(KindRetry, netip.AddrPort{}, now, time.Second)
		again, err := s.Open(s.Seal(nil, &tok), now)
		if err != nil {
			t.Fatalf("re-sealed token does not open: %v", err)
		}
		if again.Kind != tok.Kind || again.Addr != tok.Addr || again.Version != tok.Version ||
			!bytes.Equal(again.OriginalDCID, tok.OriginalDCID) || !bytes.Equal(again.RetrySCID, tok.RetrySCID) ||
			!again.IssuedAt.Equal(tok.IssuedAt) {
			t.Fatalf("re-seal changed the token: %+v vs %+v", again, tok)
		}
	})
}

// sealPlain returns the plaintext encoding of t, as Seal encrypts it.
func sealPlain(t *Token) []byte {
	s := NewSealer(testKey)
	sealed := s.Seal(nil, t)
	k := s.keys.Load().cur
	p, err := k.aead.Open(nil, sealed[1:headerLen], sealed[headerLen:], sealed[:1])
	if err != nil {
		panic(err)
	}
	return p
}
