// Package quic is hquic, a QUIC implementation (RFC 9000, 9001, 9002, 9369)
// in pure Go whose API mirrors Microsoft's MsQuic object for object, so that
// MsQuic programs port mechanically and MsQuic's documentation applies.
//
// # Object model
//
// Open returns a Library (MsQuicOpen2); several Libraries may coexist in one
// process and share nothing. Below it:
//
//	Library
//	 └── Registration     an application identity and its worker goroutines
//	      ├── Configuration   ALPN list, Settings and TLS credentials
//	      ├── Listener        accepts connections on a UDP address
//	      └── Connection      a QUIC connection, with its Streams
//
// Every object is closed with its Close method, children before parents:
// Registration.Close waits until its configurations, listeners and
// connections are closed, and Library.Close fails while registrations are
// open.
//
// # Execution and callbacks
//
// A Registration owns a pool of worker goroutines chosen by its
// ExecutionProfile. Each connection is owned by one worker at a time: all
// events of a connection and of its streams are delivered on that worker, one
// after another, never concurrently. Different connections' events run in
// parallel. A slow event handler stalls every connection on its worker.
//
// API calls never block waiting for a connection's goroutine: a call that
// changes a connection validates its arguments, queues the work and returns
// (where MsQuic returns QUIC_STATUS_PENDING, hquic returns nil); the outcome
// arrives as an event. Calls made from inside a handler take effect after the
// handler returns, in order. Registration.Close is the blocking exception and
// must not be called from a handler (use Registration.CloseAsync there).
//
// # Ownership
//
// A connection or stream handle may be closed only after its
// shutdown-complete event; no event follows it. Buffers passed to a stream or
// datagram send belong to the application again only after the matching
// send-complete event (MsQuic semantics); until then they must not be
// modified. Received data handed to a handler is valid until the handler
// returns, or until ReceiveComplete when the handler returns Pending.
//
// # Errors
//
// Failures are MsQuic QUIC_STATUS codes: the Status type and its sentinels
// (ErrInvalidParameter, ErrConnectionIdle, ...), usually wrapped in an
// *OpError naming the call. A closed connection reports a *TransportError or
// an *ApplicationError. All of them work with errors.Is and errors.As.
//
// # Environment
//
// Open reads these variables once; each is enabled by the value "1":
//
//	HQUIC_DISABLE_GSO  do not use UDP generic segmentation offload for sending
//	HQUIC_DISABLE_GRO  do not use UDP generic receive offload
//	HQUIC_DISABLE_ECN  do not read or set ECN codepoints on sockets
//
// and QLOGDIR, the default of Settings.Extensions.QlogDir: a directory to
// write a qlog file of every connection into (see Tracer).
package quic

import (
	"crypto/rand"
	"os"
	"sync"
)

// Library is an open instance of hquic (MsQuic's API table). It holds the
// library-wide settings. Methods are safe for concurrent use.
type Library struct {
	env envOptions // read-only after Open

	mu            sync.Mutex
	closed        bool
	inUse         bool // a registration has been opened (MsQuic's "library in use")
	registrations map[*Registration]struct{}
	settings      Settings // full; Set marks fields set by SetSettings
	global        GlobalSettings
	versions      *VersionSettings
	retryConfig   *StatelessRetryConfig
	resetKey      [StatelessResetKeyLength]byte

	bindings bindingTable // UDP sockets shared by listeners (bindings.go)
	tokens   tokenState   // Retry and NEW_TOKEN tokens (tokens.go)
	defense  defenseState // flood defenses (defense.go)
	trace    traceCounters
	sockets  socketCounters // problems of the UDP sockets (sockets.go)
}

// envOptions are the datapath switches read from the environment in Open.
type envOptions struct {
	disableGSO bool   // HQUIC_DISABLE_GSO=1
	disableGRO bool   // HQUIC_DISABLE_GRO=1
	disableECN bool   // HQUIC_DISABLE_ECN=1
	qlogDir    string // QLOGDIR (tracing.go)
}

// readEnv reads the HQUIC_DISABLE_* variables through getenv.
func readEnv(getenv func(string) string) envOptions {
	return envOptions{
		disableGSO: getenv("HQUIC_DISABLE_GSO") == "1",
		disableGRO: getenv("HQUIC_DISABLE_GRO") == "1",
		disableECN: getenv("HQUIC_DISABLE_ECN") == "1",
		qlogDir:    getenv("QLOGDIR"),
	}
}

// Open opens a new, independent Library (MsQuicOpen2) with MsQuic's default
// settings and a random stateless reset key.
func Open() (*Library, error) {
	l := &Library{
		env:           readEnv(os.Getenv),
		registrations: make(map[*Registration]struct{}),
		settings:      defaultSettings(),
		global:        defaultGlobalSettings(),
	}
	rand.Read(l.resetKey[:])
	l.settings.Extensions.QlogDir.Value = l.env.qlogDir
	l.initDefenses()
	return l, nil
}

// Close closes the library (MsQuicClose). It fails with ErrInvalidState
// while registrations are open; closing twice is harmless.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.registrations); n > 0 {
		return opError("Library.Close", StatusInvalidState, "%d registrations still open", n)
	}
	if !l.closed {
		l.closeSocketTrace()
	}
	l.closed = true
	return nil
}

// Version returns the library version: major, minor, patch, build
// (QUIC_PARAM_GLOBAL_LIBRARY_VERSION).
func (l *Library) Version() [4]uint32 { return libraryVersion }

// SupportedVersions returns the QUIC versions hquic implements, in host byte
// order: Version1 and Version2 (QUIC_PARAM_GLOBAL_SUPPORTED_VERSIONS).
func (l *Library) SupportedVersions() []uint32 {
	return append([]uint32(nil), supportedVersions[:]...)
}

// TLSProvider reports the TLS implementation: TLSProviderGo (crypto/tls).
func (l *Library) TLSProvider() TLSProvider { return TLSProviderGo }

// SetSettings applies the set fields of s to the library-wide defaults
// (QUIC_PARAM_GLOBAL_SETTINGS). Existing configurations see the change in
// every field they did not set themselves; existing connections keep their
// settings. A nil s changes nothing.
func (l *Library) SetSettings(s *Settings) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.settings.update("Library.SetSettings", s, true); err != nil {
		return err
	}
	for r := range l.registrations {
		r.librarySettingsChanged(&l.settings)
	}
	l.defenseSettingsChanged()
	l.setSocketTracer()
	return nil
}

// Settings returns the library-wide settings: every field's current value,
// with Set marking the fields set through SetSettings.
func (l *Library) Settings() Settings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.settings
}

// SetGlobalSettings applies the set fields of g
// (QUIC_PARAM_GLOBAL_GLOBAL_SETTINGS). LoadBalancingMode must be below 3;
// LoadBalancingMode and FixedServerID cannot change once a registration has
// been opened (ErrInvalidState). A nil g changes nothing.
func (l *Library) SetGlobalSettings(g *GlobalSettings) error {
	const op = "Library.SetGlobalSettings"
	if g == nil {
		return nil
	}
	if err := g.validate(op); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inUse {
		if g.LoadBalancingMode.Set && g.LoadBalancingMode.Value != l.global.LoadBalancingMode.Value {
			return opError(op, StatusInvalidState, "GlobalSettings.LoadBalancingMode cannot change after a registration was opened")
		}
		if g.FixedServerID.Set && g.FixedServerID.Value != l.global.FixedServerID.Value {
			return opError(op, StatusInvalidState, "GlobalSettings.FixedServerID cannot change after a registration was opened")
		}
	}
	l.global.apply(g)
	l.defenseSettingsChanged()
	return nil
}

// GlobalSettings returns the global settings, with Set marking the fields
// set through SetGlobalSettings.
func (l *Library) GlobalSettings() GlobalSettings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.global
}

// SetStatelessResetKey replaces the key from which stateless reset tokens
// are derived (QUIC_PARAM_GLOBAL_STATELESS_RESET_KEY). Open starts with a
// random key.
func (l *Library) SetStatelessResetKey(key [StatelessResetKeyLength]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resetKey = key
	return nil
}

// SetVersionSettings sets the library-wide version lists
// (QUIC_PARAM_GLOBAL_VERSION_SETTINGS); servers take their versions from
// here. Every listed version must be supported or reserved. A nil v restores
// the defaults.
func (l *Library) SetVersionSettings(v *VersionSettings) error {
	if v != nil {
		if err := v.validate("Library.SetVersionSettings"); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.versions = v.clone()
	return nil
}

// VersionSettings returns a copy of the library-wide version lists, or nil
// if none were set.
func (l *Library) VersionSettings() *VersionSettings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.versions.clone()
}

// SetStatelessRetryConfig sets the Retry token key configuration
// (QUIC_PARAM_GLOBAL_STATELESS_RETRY_CONFIG). The secret is copied.
func (l *Library) SetStatelessRetryConfig(c *StatelessRetryConfig) error {
	const op = "Library.SetStatelessRetryConfig"
	if c == nil {
		return opError(op, StatusInvalidParameter, "config is nil")
	}
	if err := c.validate(op); err != nil {
		return err
	}
	cp := *c
	cp.Secret = append([]byte(nil), c.Secret...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.retryConfig = &cp
	return nil
}

// connectionSettings returns the settings a new connection starts with: the
// library's current values, none marked Set.
func (l *Library) connectionSettings() Settings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.settings.valuesOnly()
}

// statelessRetryConfig returns a copy of the Retry key configuration, or nil
// if none was set (the endpoint then uses a random AES-256-GCM secret).
func (l *Library) statelessRetryConfig() *StatelessRetryConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.retryConfig == nil {
		return nil
	}
	cp := *l.retryConfig
	cp.Secret = append([]byte(nil), l.retryConfig.Secret...)
	return &cp
}

// statelessResetKey returns the current stateless reset key.
func (l *Library) statelessResetKey() [StatelessResetKeyLength]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.resetKey
}

// addRegistration records r; it fails once the library is closed.
func (l *Library) addRegistration(r *Registration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return opError("Library.NewRegistration", StatusInvalidState, "library is closed")
	}
	l.registrations[r] = struct{}{}
	l.inUse = true
	return nil
}

// removeRegistration forgets r after its Close completed.
func (l *Library) removeRegistration(r *Registration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.registrations, r)
}
