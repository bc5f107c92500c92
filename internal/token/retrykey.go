package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// retryKeyLabel is MsQuic's KDF label for stateless retry keys
// (docs/api/QUIC_STATELESS_RETRY_CONFIG.md in microsoft/msquic).
const retryKeyLabel = "QUIC Stateless Retry Key"

// DeriveRetryKey derives the retry token key of the current rotation period
// the way MsQuic does from QUIC_STATELESS_RETRY_CONFIG, so that servers of a
// mixed fleet sharing secret derive the same keys: the SP 800-108 counter
// mode KDF with HMAC-SHA256, K_in = secret, Label = "QUIC Stateless Retry
// Key", Context = floor(Unix milliseconds / rotation) as an 8-byte
// little-endian signed integer, L = keyLen bytes. MsQuic uses keyLen 16
// (AES-128-GCM) or 32 (AES-256-GCM, its default); a 32-byte key can seed a
// Sealer. rotation must be at least a millisecond; it panics otherwise.
func DeriveRetryKey(secret []byte, keyLen int, rotation time.Duration, now time.Time) []byte {
	period := rotation.Milliseconds()
	if period <= 0 {
		panic("quic: retry key rotation must be at least 1ms")
	}
	ms := now.UnixMilli()
	index := ms / period
	if ms%period < 0 {
		index-- // floor, not truncation, before 1970
	}
	var context [8]byte
	binary.LittleEndian.PutUint64(context[:], uint64(index))

	// SP 800-108r1 Section 4.1: K(i) = PRF(K_in, [i]_32 || Label || 0x00 ||
	// Context || [L]_32), L in bits, counters and L big-endian.
	out := make([]byte, 0, keyLen+sha256.Size)
	mac := hmac.New(sha256.New, secret)
	for i := uint32(1); len(out) < keyLen; i++ {
		mac.Reset()
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], i)
		mac.Write(n[:])
		mac.Write([]byte(retryKeyLabel))
		mac.Write([]byte{0})
		mac.Write(context[:])
		binary.BigEndian.PutUint32(n[:], uint32(keyLen)*8)
		mac.Write(n[:])
		out = mac.Sum(out)
	}
	return out[:keyLen]
}
