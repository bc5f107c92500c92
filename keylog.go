package quic

import (
	"os"
	"sync"
)

// Key logs. Any program can let a packet capture of its connections be
// decrypted (Wireshark, tshark) by writing their TLS secrets in the NSS key
// log format, the SSLKEYLOGFILE convention of browsers and curl: set
// CredentialConfig.KeyLogWriter to a KeyLog,
//
//	kl, err := quic.KeyLogFromEnv() // nil, nil when SSLKEYLOGFILE is unset
//	...
//	cc := &quic.CredentialConfig{..., KeyLogWriter: kl}
//
// or to OpenKeyLog(path). hquic never reads SSLKEYLOGFILE by itself: a key
// log defeats the confidentiality of every connection it covers, so only
// the program decides to write one. The log holds the handshake and 1-RTT
// traffic secrets of each connection (labels CLIENT_HANDSHAKE_TRAFFIC_SECRET,
// SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
// SERVER_TRAFFIC_SECRET_0, and CLIENT_EARLY_TRAFFIC_SECRET with 0-RTT);
// Initial packets need none, their keys come from the connection ID
// (RFC 9001 §5.2). Later 1-RTT generations after key updates are derived
// from generation 0 (RFC 9001 §6), which Wireshark does.

// KeyLog is an append-only key log file, safe for concurrent use by every
// connection that writes to it. A nil *KeyLog (KeyLogFromEnv without
// SSLKEYLOGFILE) is a valid KeyLogWriter that records nothing.
type KeyLog struct {
	mu sync.Mutex
	f  *os.File
}

// OpenKeyLog opens path for appending, creating it readable by its owner
// only.
func OpenKeyLog(path string) (*KeyLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &KeyLog{f: f}, nil
}

// KeyLogFromEnv opens the file the SSLKEYLOGFILE environment variable
// names; with the variable unset or empty it returns nil, nil (no key log).
func KeyLogFromEnv() (*KeyLog, error) {
	path := os.Getenv("SSLKEYLOGFILE")
	if path == "" {
		return nil, nil
	}
	return OpenKeyLog(path)
}

// Write appends one or more whole key log lines.
func (k *KeyLog) Write(p []byte) (int, error) {
	if k == nil {
		return len(p), nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Write(p)
}

// Close closes the file; connections must not write to it any more.
func (k *KeyLog) Close() error {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f.Close()
}
