package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"net/netip"
	"testing"
	"time"
)

var (
	testNow   = time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC)
	clientV4  = netip.MustParseAddrPort("192.0.2.7:54321")
	clientV6  = netip.MustParseAddrPort("[2001:db8::1]:443")
	cid20a    = bytes.Repeat([]byte{0xaa}, 20)
	cid20b    = bytes.Repeat([]byte{0xbb}, 20)
	testKey   = [32]byte{1, 2, 3}
	otherKey  = [32]byte{4, 5, 6}
	thirdKey  = [32]byte{7, 8, 9}
	retryLife = 10 * time.Second
)

func retryToken(addr netip.AddrPort) *Token {
	return &Token{Kind: KindRetry, Version: 1, Addr: addr, OriginalDCID: cid20a, RetrySCID: cid20b, IssuedAt: testNow}
}

func TestRoundTrip(t *testing.T) {
	s := NewSealer(testKey)
	for _, tok := range []*Token{
		retryToken(clientV4),
		retryToken(clientV6),
		{Kind: KindNewToken, Version: 0x6b3343cf, Addr: clientV6, IssuedAt: testNow},
		{Kind: KindNewToken, Version: 1, IssuedAt: testNow}, // no address
		{Kind: KindRetry, Version: 1, Addr: clientV4, OriginalDCID: []byte{1}, IssuedAt: testNow},
	} {
		sealed := s.Seal([]byte("prefix"), tok)
		if !bytes.HasPrefix(sealed, []byte("prefix")) {
			t.Fatalf("Seal did not append")
		}
		got, err := s.Open(sealed[len("prefix"):], testNow)
		if err != nil {
			t.Fatalf("%+v: %v", tok, err)
		}
		if got.Kind != tok.Kind || got.Version != tok.Version || got.Addr != tok.Addr ||
			!bytes.Equal(got.OriginalDCID, tok.OriginalDCID) || !bytes.Equal(got.RetrySCID, tok.RetrySCID) ||
			!got.IssuedAt.Equal(tok.IssuedAt) {
			t.Errorf("round trip: got %+v, want %+v", got, *tok)
		}
	}
}

func TestTokenSize(t *testing.T) {
	s := NewSealer(testKey)
	if n := len(s.Seal(nil, retryToken(clientV6))); n >= 100 {
		t.Errorf("IPv6 Retry token with 20-byte CIDs is %d bytes, want < 100", n)
	}
	if n := len(s.Seal(nil, &Token{Kind: KindNewToken, Addr: clientV4, IssuedAt: testNow})); n > 50 {
		t.Errorf("IPv4 NEW_TOKEN token is %d bytes", n)
	}
}

func TestTokensAreUnlinkable(t *testing.T) {
	// Equal contents seal differently (RFC 9000, Section 8.1.3: tokens
	// must not let an observer link connections).
	s := NewSealer(testKey)
	a := s.Seal(nil, retryToken(clientV4))
	b := s.Seal(nil, retryToken(clientV4))
	if bytes.Equal(a, b) {
		t.Error("two seals of one token are identical")
	}
}

func TestOpenedTokenDoesNotAliasInput(t *testing.T) {
	s := NewSealer(testKey)
	sealed := s.Seal(nil, retryToken(clientV4))
	got, err := s.Open(sealed, testNow)
	if err != nil {
		t.Fatal(err)
	}
	clear(sealed)
	if !bytes.Equal(got.OriginalDCID, cid20a) {
		t.Error("token contents changed with the input buffer")
	}
}

func TestForgedOrModifiedTokenRejected(t *testing.T) {
	s := NewSealer(testKey)
	sealed := s.Seal(nil, retryToken(clientV4))
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := s.Open(bad, testNow); !errors.Is(err, ErrMalformed) {
			t.Fatalf("byte %d modified: err = %v", i, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, sealed[:len(sealed)-1], sealed[:20], append(bytes.Clone(sealed), 0), make([]byte, 60)} {
		if _, err := s.Open(bad, testNow); !errors.Is(err, ErrMalformed) {
			t.Errorf("len %d: err = %v", len(bad), err)
		}
	}
	if _, err := NewSealer(otherKey).Open(sealed, testNow); !errors.Is(err, ErrMalformed) {
		t.Errorf("other key: err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	s := NewSealer(testKey)
	open := func(tok *Token) Token {
		t.Helper()
		got, err := s.Open(s.Seal(nil, tok), testNow)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	retry := open(retryToken(clientV4))
	newTok := open(&Token{Kind: KindNewToken, Version: 1, Addr: clientV4, IssuedAt: testNow})
	otherPort := netip.AddrPortFrom(clientV4.Addr(), 1)
	otherIP := netip.MustParseAddrPort("192.0.2.8:54321")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(clientV4.Addr().As16()), clientV4.Port())
	day := 24 * time.Hour

	for _, c := range []struct {
		name     string
		tok      Token
		kind     Kind
		from     netip.AddrPort
		now      time.Time
		lifetime time.Duration
		want     error
	}{
		{"retry ok", retry, KindRetry, clientV4, testNow.Add(time.Second), retryLife, nil},
		{"retry at end of lifetime", retry, KindRetry, clientV4, testNow.Add(retryLife), retryLife, nil},
		{"retry expired", retry, KindRetry, clientV4, testNow.Add(retryLife + time.Second), retryLife, ErrExpired},
		{"retry from the future", retry, KindRetry, clientV4, testNow.Add(-ClockSkew - time.Second), retryLife, ErrExpired},
		{"retry other port", retry, KindRetry, otherPort, testNow, retryLife, ErrWrongAddress},
		{"retry other IP", retry, KindRetry, otherIP, testNow, retryLife, ErrWrongAddress},
		{"retry IPv4-mapped", retry, KindRetry, mapped, testNow, retryLife, nil},
		{"retry as new token", retry, KindNewToken, clientV4, testNow, retryLife, ErrWrongKind},
		{"new token ok", newTok, KindNewToken, clientV4, testNow.Add(day), 7 * day, nil},
		{"new token other port", newTok, KindNewToken, otherPort, testNow, day, nil},
		{"new token other IP", newTok, KindNewToken, otherIP, testNow, day, ErrWrongAddress},
		{"new token expired", newTok, KindNewToken, clientV4, testNow.Add(8 * day), 7 * day, ErrExpired},
		{"new token as retry", newTok, KindRetry, clientV4, testNow, day, ErrWrongKind},
	} {
		if err := c.tok.Validate(c.kind, c.from, c.now, c.lifetime); err != c.want {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestOpenRejectsFutureToken(t *testing.T) {
	s := NewSealer(testKey)
	sealed := s.Seal(nil, retryToken(clientV4))
	if _, err := s.Open(sealed, testNow.Add(-ClockSkew-time.Second)); !errors.Is(err, ErrExpired) {
		t.Errorf("err = %v, want ErrExpired", err)
	}
	if _, err := s.Open(sealed, testNow.Add(-ClockSkew)); err != nil {
		t.Errorf("within skew: err = %v", err)
	}
}

func TestRotation(t *testing.T) {
	s := NewSealer(testKey)
	first := s.Seal(nil, retryToken(clientV4))
	s.Rotate(otherKey)
	second := s.Seal(nil, retryToken(clientV4))
	if first[0] == second[0] {
		t.Log("key ids collide; Open must still try both keys")
	}
	for name, tok := range map[string][]byte{"previous key": first, "current key": second} {
		if _, err := s.Open(tok, testNow); err != nil {
			t.Errorf("after one rotation, %s: %v", name, err)
		}
	}
	s.Rotate(thirdKey)
	if _, err := s.Open(first, testNow); !errors.Is(err, ErrMalformed) {
		t.Errorf("key two rotations old still opens: err = %v", err)
	}
	if _, err := s.Open(second, testNow); err != nil {
		t.Errorf("previous key after second rotation: %v", err)
	}
}

func TestRotationSharedAcrossSealers(t *testing.T) {
	// Two servers that rotated through the same keys open each other's
	// tokens, since key ids come from the keys.
	a, b := NewSealer(testKey), NewSealer(otherKey)
	a.Rotate(otherKey)
	if _, err := b.Open(a.Seal(nil, retryToken(clientV4)), testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(b.Seal(nil, retryToken(clientV4)), testNow); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentSealOpenRotate(t *testing.T) {
	s := NewSealer(testKey)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				tok := s.Seal(nil, retryToken(clientV4))
				// A token may be two rotations old by the time it is opened,
				// so only malformed-by-rotation is acceptable.
				if _, err := s.Open(tok, testNow); err != nil && !errors.Is(err, ErrMalformed) {
					t.Error(err)
				}
			}
		}()
	}
	for i := range 50 {
		s.Rotate([32]byte{byte(i)})
	}
	for range 4 {
		<-done
	}
}

func TestKindString(t *testing.T) {
	if KindRetry.String() != "retry" || KindNewToken.String() != "new_token" || Kind(9).String() != "unknown" {
		t.Error("Kind.String")
	}
}

func BenchmarkSealOpen(b *testing.B) {
	s := NewSealer(testKey)
	tok := retryToken(clientV6)
	buf := make([]byte, 0, MaxLen)
	b.ReportAllocs()
	for b.Loop() {
		sealed := s.Seal(buf[:0], tok)
		if _, err := s.Open(sealed, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAES128Tokens(t *testing.T) {
	k16 := []byte("0123456789abcdef")
	s := NewSealerKey(k16)
	sealed := s.Seal(nil, retryToken(clientV4))
	if _, err := s.Open(sealed, testNow); err != nil {
		t.Fatalf("AES-128 token does not open: %v", err)
	}
	// The token is AES-128-GCM under the key itself.
	b, _ := aes.NewCipher(k16)
	gcm, _ := cipher.NewGCM(b)
	if _, err := gcm.Open(nil, sealed[1:headerLen], sealed[headerLen:], sealed[:1]); err != nil {
		t.Fatalf("not AES-128-GCM under the key: %v", err)
	}
	s.RotateKey(bytes.Repeat([]byte{9}, 16))
	if _, err := s.Open(sealed, testNow); err != nil {
		t.Fatalf("token of the previous AES-128 key: %v", err)
	}
}
