package lab

import (
	"encoding/hex"
	"testing"
)

// TestHPKey checks the header protection key derivation against published
// "quic hp" derivations for Initial secrets.
func TestHPKey(t *testing.T) {
	for _, tc := range []struct{ secret, hp string }{
		{"fda3953aecc040e48b34e27ef87de3a6098ecf0e38b7e032c5c57bcbd5975b84", "a980b8b4fb7d9fbc13e814c23164253d"},
		{"6f2383a961f2c3cd576a8bb1ba3a3d33ab0bc8018f898feff5f0690742b4e18f", "d0e20777d40e373ecc1f0db8f813d97b"},
	} {
		secret, _ := hex.DecodeString(tc.secret)
		key, err := hpKey(secret, "quic hp")
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(key); got != tc.hp {
			t.Errorf("hp key %s, want %s", got, tc.hp)
		}
	}
	if _, err := hpKey(make([]byte, 20), "quic hp"); err == nil {
		t.Error("a 20-byte secret was accepted")
	}
}
