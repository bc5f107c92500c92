package token

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"
)

// Vectors from microsoft/msquic docs/api/QUIC_STATELESS_RETRY_CONFIG.md. The
// document's timestamp, 1752112221, is used as Unix milliseconds; with
// RotationMs 30000 the context is 58403.
func TestDeriveRetryKeyMsQuicVectors(t *testing.T) {
	now := time.UnixMilli(1752112221)
	for _, c := range []struct {
		secret, want string
	}{
		{"3edc6b5b8f7aadbd713732b482b8f979286e1ea3b8f8f99c30c884cfe3349b83", "8135a3acd2fb4b2b6d7cdd9c36acb0a182f725f52c641f4a1f21ab53cd63f9b1"},
		{"5ddd79f7b33f1f4a6dd57c34a8eec42e", "44b08a21dc20d6297328c6b356354502"},
	} {
		secret, _ := hex.DecodeString(c.secret)
		want, _ := hex.DecodeString(c.want)
		got := DeriveRetryKey(secret, len(secret), 30*time.Second, now)
		if !bytes.Equal(got, want) {
			t.Errorf("DeriveRetryKey(%s) = %x, want %x", c.secret, got, want)
		}
	}
}

func TestDeriveRetryKeyPeriods(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	base := time.UnixMilli(58403 * 30000)
	k := DeriveRetryKey(secret, 32, 30*time.Second, base)
	if !bytes.Equal(k, DeriveRetryKey(secret, 32, 30*time.Second, base.Add(29999*time.Millisecond))) {
		t.Error("key changed within a rotation period")
	}
	if bytes.Equal(k, DeriveRetryKey(secret, 32, 30*time.Second, base.Add(-time.Millisecond))) {
		t.Error("key did not change across a period boundary")
	}
	// Before 1970 the period index is floored: -1ms is in period -1.
	a := DeriveRetryKey(secret, 32, time.Second, time.UnixMilli(-1))
	b := DeriveRetryKey(secret, 32, time.Second, time.UnixMilli(-1000))
	if !bytes.Equal(a, b) {
		t.Error("pre-1970 times not floored")
	}
	// Longer outputs take a second HMAC block.
	if long := DeriveRetryKey(secret, 48, time.Second, base); len(long) != 48 {
		t.Errorf("len = %d, want 48", len(long))
	}
}
