package quic

import (
	"crypto/rand"
	"net/netip"
	"sync"
	"time"

	"github.com/hquic/quic/internal/token"
)

// This file holds a library's address-validation machinery (RFC 9000
// §8.1): the key that seals Retry and NEW_TOKEN tokens, the decision to
// send a Retry, and the client-side store of NEW_TOKEN tokens.

// tokenState is a library's token machinery.
type tokenState struct {
	mu     sync.Mutex
	sealer *token.Sealer
	period int64 // key period for a StatelessRetryConfig, -1 for a random key

	cache *token.Cache // NEW_TOKEN tokens per server name (client)
}

// Token cache bounds: servers remembered and tokens per server.
const (
	tokenCacheServers   = 256
	tokenCachePerServer = 4
)

// tokenSealer returns the sealer for Retry and NEW_TOKEN tokens: keyed by
// the StatelessRetryConfig when one is set (rotating every Rotation, so a
// fleet sharing the secret accepts each other's tokens), else by a random
// key made once.
func (l *Library) tokenSealer() *token.Sealer {
	cfg := l.statelessRetryConfig()
	t := &l.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	if cfg == nil {
		if t.sealer == nil {
			var k [32]byte
			rand.Read(k[:])
			t.sealer, t.period = token.NewSealer(k), -1
		}
		return t.sealer
	}
	now := time.Now()
	period := now.UnixMilli() / max(cfg.Rotation.Milliseconds(), 1)
	if t.sealer == nil || period != t.period {
		// The secret is as long as the algorithm's key: AES-128-GCM
		// tokens with a 16-byte one, AES-256-GCM with 32.
		k := token.DeriveRetryKey(cfg.Secret, len(cfg.Secret), cfg.Rotation, now)
		if t.sealer == nil || t.period < 0 {
			t.sealer = token.NewSealerKey(k)
		} else {
			t.sealer.RotateKey(k)
		}
		t.period = period
	}
	return t.sealer
}

// tokenCache returns the client-side NEW_TOKEN store.
func (l *Library) tokenCache() *token.Cache {
	t := &l.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cache == nil {
		t.cache = token.NewCache(tokenCacheServers, tokenCachePerServer)
	}
	return t.cache
}

// issueToken seals a NEW_TOKEN token for a client at peer.
func (l *Library) issueToken(version uint32, peer netip.AddrPort) []byte {
	return l.tokenSealer().Seal(nil, &token.Token{Kind: token.KindNewToken, Version: version, Addr: peer, IssuedAt: time.Now()})
}
