package quic

import (
	"crypto/sha256"
	"crypto/tls"
	"slices"
	"sync"
)

// Configuration bundles what connections and listeners are configured with
// (MsQuic's configuration): the ALPN list, Settings and TLS credentials. One
// configuration is typically shared by many connections. A configuration is
// usable once LoadCredential has succeeded. Methods are safe for concurrent
// use.
type Configuration struct {
	reg   *Registration
	alpns []string // immutable

	mu       sync.Mutex
	settings Settings    // full; Set marks fields set on the configuration
	cred     *credential // nil until LoadCredential succeeds
	versions *VersionSettings
	closed   bool
}

// TicketKey is a session ticket encryption key for servers
// (QUIC_TICKET_KEY_CONFIG). The TLS ticket key is derived from ID and
// Material with SHA-256, so servers sharing keys accept each other's tickets.
type TicketKey struct {
	// ID identifies the key.
	ID [16]byte
	// Material is the secret key material, 32 to 64 bytes.
	Material []byte
}

// NewConfiguration creates a configuration (ConfigurationOpen) for the given
// ALPN protocol IDs, in preference order, and settings s applied over the
// library's (nil: none). There must be at least one ALPN, each 1 to 255
// bytes, and the encoded list (each ID with a length byte) must fit in 65535
// bytes; violations, like invalid settings, fail with ErrInvalidParameter.
func (r *Registration) NewConfiguration(alpns []string, s *Settings) (*Configuration, error) {
	const op = "Registration.NewConfiguration"
	if err := validateALPNs(op, alpns); err != nil {
		return nil, err
	}
	c := &Configuration{reg: r, alpns: slices.Clone(alpns)}
	// Hold the library lock from reading its values until c is registered,
	// so that no Library.SetSettings in between is missed.
	l := r.lib
	l.mu.Lock()
	defer l.mu.Unlock()
	c.settings = l.settings.valuesOnly()
	if err := c.settings.update(op, s, true); err != nil {
		return nil, err
	}
	if err := r.addConfiguration(op, c); err != nil {
		return nil, err
	}
	return c, nil
}

// validateALPNs applies MsQuic's ALPN list rules.
func validateALPNs(op string, alpns []string) error {
	if len(alpns) == 0 {
		return opError(op, StatusInvalidParameter, "at least one ALPN is required")
	}
	total := 0
	for i, a := range alpns {
		if len(a) == 0 || len(a) > MaxALPNLength {
			return opError(op, StatusInvalidParameter, "ALPN[%d] %.16q is %d bytes; each ALPN must be 1 to %d bytes",
				i, a, len(a), MaxALPNLength)
		}
		total += 1 + len(a)
		if total > 65535 {
			return opError(op, StatusInvalidParameter, "ALPN list exceeds 65535 encoded bytes at ALPN[%d]", i)
		}
	}
	return nil
}

// ALPNs returns a copy of the configuration's ALPN list.
func (c *Configuration) ALPNs() []string { return slices.Clone(c.alpns) }

// SetSettings applies the set fields of s to the configuration
// (QUIC_PARAM_CONFIGURATION_SETTINGS); connections started later see them.
func (c *Configuration) SetSettings(s *Settings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings.update("Configuration.SetSettings", s, true)
}

// Settings returns the configuration's settings: every field's current
// value, with Set marking the fields set on the configuration itself.
func (c *Configuration) Settings() Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings
}

// inheritLibrarySettings refreshes the values of fields the configuration
// did not set (MsQuic re-copies the global settings into every
// configuration when they change).
func (c *Configuration) inheritLibrarySettings(lib *Settings) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings.inherit(lib)
}

// LoadCredential loads TLS credentials (ConfigurationLoadCredential);
// loading again replaces them for connections started afterwards. See
// CredentialConfig for the forms accepted and the errors.
func (c *Configuration) LoadCredential(cc *CredentialConfig) error {
	const op = "Configuration.LoadCredential"
	if err := checkSynchronousLoad(op, cc); err != nil {
		return err
	}
	cred, err := newCredential(op, cc, c.alpns)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return opError(op, StatusInvalidState, "configuration is closed")
	}
	c.cred = cred
	return nil
}

// checkSynchronousLoad refuses CredentialLoadAsynchronous in
// LoadCredential, which completes before it returns.
func checkSynchronousLoad(op string, cc *CredentialConfig) error {
	if cc != nil && cc.Flags&CredentialLoadAsynchronous != 0 {
		return opError(op, StatusInvalidParameter, "CredentialLoadAsynchronous: use LoadCredentialAsync")
	}
	return nil
}

// LoadCredentialAsync loads credentials on another goroutine and calls done
// with the result (MsQuic's QUIC_CREDENTIAL_FLAG_LOAD_ASYNCHRONOUS). It
// returns an error only if done or cc is nil. cc and the data it references
// must not be modified until done is called.
func (c *Configuration) LoadCredentialAsync(cc *CredentialConfig, done func(error)) error {
	const op = "Configuration.LoadCredentialAsync"
	if done == nil {
		return opError(op, StatusInvalidParameter, "completion function is nil")
	}
	if cc == nil {
		return opError(op, StatusInvalidParameter, "credential config is nil")
	}
	sync := *cc
	sync.Flags &^= CredentialLoadAsynchronous
	go func() { done(c.LoadCredential(&sync)) }()
	return nil
}

// SetTicketKeys sets the keys that encrypt session tickets
// (QUIC_PARAM_CONFIGURATION_TICKET_KEYS); the first key encrypts new tickets,
// all of them decrypt. It takes 1 to MaxTicketKeyCount keys, is valid only
// for server configurations, and only after LoadCredential
// (ErrInvalidState otherwise). Without it, a server configuration uses a
// random key created by LoadCredential.
func (c *Configuration) SetTicketKeys(keys []TicketKey) error {
	const op = "Configuration.SetTicketKeys"
	if len(keys) == 0 || len(keys) > MaxTicketKeyCount {
		return opError(op, StatusInvalidParameter, "%d keys; 1 to %d are allowed", len(keys), MaxTicketKeyCount)
	}
	derived := make([][32]byte, len(keys))
	for i, k := range keys {
		if len(k.Material) < 32 || len(k.Material) > 64 {
			return opError(op, StatusInvalidParameter, "keys[%d].Material is %d bytes; 32 to 64 are required", i, len(k.Material))
		}
		h := sha256.New()
		h.Write([]byte("hquic session ticket key"))
		h.Write(k.ID[:])
		h.Write(k.Material)
		copy(derived[i][:], h.Sum(nil))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.cred == nil:
		return opError(op, StatusInvalidState, "credentials must be loaded first")
	case c.cred.client:
		return opError(op, StatusInvalidParameter, "ticket keys apply to server configurations only")
	}
	c.cred.template.SetSessionTicketKeys(derived)
	return nil
}

// SetVersionSettings sets the version lists for client connections started
// with this configuration (QUIC_PARAM_CONFIGURATION_VERSION_SETTINGS). Every
// listed version must be supported or reserved. A nil v removes them; the
// library's version settings then apply.
func (c *Configuration) SetVersionSettings(v *VersionSettings) error {
	if v != nil {
		if err := v.validate("Configuration.SetVersionSettings"); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.versions = v.clone()
	return nil
}

// VersionSettings returns a copy of the configuration's version lists, or
// nil if none were set.
func (c *Configuration) VersionSettings() *VersionSettings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versions.clone()
}

// Close releases the configuration (ConfigurationClose). Connections already
// using it keep working; it can no longer start new ones. Closing twice is
// harmless.
func (c *Configuration) Close() {
	c.mu.Lock()
	wasClosed := c.closed
	c.closed = true
	c.mu.Unlock()
	if !wasClosed {
		c.reg.removeConfiguration(c)
	}
}

// checkUsable reports, for op, why a connection or listener cannot use c:
// ErrInvalidState once closed, ErrInvalidParameter without credentials
// (MsQuic's ConnectionStart and ConnectionSetConfiguration rule).
func (c *Configuration) checkUsable(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return opError(op, StatusInvalidState, "configuration is closed")
	case c.cred == nil:
		return opError(op, StatusInvalidParameter, "configuration has no credentials loaded")
	}
	return nil
}

// isLoaded reports whether credentials are loaded.
func (c *Configuration) isLoaded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cred != nil
}

// credentialFlags returns the flags of the loaded credentials (0 if none).
func (c *Configuration) credentialFlags() CredentialFlags {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cred == nil {
		return 0
	}
	return c.cred.flags
}

// tlsConfigForClient returns a fresh crypto/tls configuration for one client
// connection to serverName and the connection's certificate check, or nil
// if no credentials are loaded.
func (c *Configuration) tlsConfigForClient(serverName string) (*tls.Config, *peerCheck) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cred == nil {
		return nil, nil
	}
	return c.cred.clientConfig(serverName)
}

// tlsConfigForServer returns a fresh crypto/tls configuration for one server
// connection and its certificate check, or nil if no credentials are
// loaded.
func (c *Configuration) tlsConfigForServer() (*tls.Config, *peerCheck) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cred == nil {
		return nil, nil
	}
	return c.cred.serverConfig()
}
