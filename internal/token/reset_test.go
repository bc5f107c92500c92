package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func TestResetToken(t *testing.T) {
	static := [32]byte{0x42}
	k := NewResetKey(static)
	cid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	mac := hmac.New(sha256.New, static[:])
	mac.Write(cid)
	want := mac.Sum(nil)[:16]
	got := k.Token(cid)
	if !bytes.Equal(got[:], want) {
		t.Fatalf("Token = %x, want %x", got, want)
	}
	if again := k.Token(cid); again != got {
		t.Error("Token is not deterministic")
	}
	if other := k.Token([]byte{1, 2, 3, 4, 5, 6, 7, 9}); other == got {
		t.Error("different CIDs give the same token")
	}
	if other := NewResetKey([32]byte{0x43}).Token(cid); other == got {
		t.Error("different keys give the same token")
	}
	if !EqualResetToken(got[:], want) {
		t.Error("EqualResetToken(equal) = false")
	}
	bad := bytes.Clone(want)
	bad[15] ^= 1
	if EqualResetToken(got[:], bad) || EqualResetToken(got[:], want[:15]) {
		t.Error("EqualResetToken accepted a different token")
	}
}

func TestResetTokenZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	k := NewResetKey([32]byte{0x42})
	cid := make([]byte, 20)
	k.Token(cid) // fill the pool
	if n := testing.AllocsPerRun(1000, func() { k.Token(cid) }); n != 0 {
		t.Errorf("Token allocates %v times", n)
	}
}

func BenchmarkResetToken(b *testing.B) {
	k := NewResetKey([32]byte{0x42})
	cid := make([]byte, 20)
	b.ReportAllocs()
	for b.Loop() {
		k.Token(cid)
	}
}
