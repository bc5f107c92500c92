package quicnet

import (
	"sync"

	"github.com/hquic/quic"
)

// owner is what a Conn or Listener made from a *tls.Config holds on to: the
// shared Library and Registration (see shared) and its own Configuration.
// release gives them back; the last user of the registration closes it.
type owner struct {
	reg *sharedReg
	cfg *quic.Configuration
}

// release closes the owner's configuration and drops its hold on the
// registration. It never blocks, so it may be called from an event handler.
func (o *owner) release() {
	if o == nil {
		return
	}
	if o.cfg != nil {
		o.cfg.Close()
	}
	o.reg.release()
}

// sharedReg is a Library and Registration used by every Conn and Listener
// made from a *tls.Config, opened with the first of them and closed, with
// its worker goroutines, after the last one is released: a program that
// closes everything it dialed and listened on is left with no goroutine of
// the library.
type sharedReg struct {
	lib  *quic.Library
	reg  *quic.Registration
	refs int // guarded by shared.mu
}

// shared holds the current sharedReg, nil while nothing uses one.
var shared struct {
	mu sync.Mutex
	r  *sharedReg
}

// acquireRegistration returns the shared registration with one more
// reference held.
func acquireRegistration() (*sharedReg, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.r == nil {
		lib, err := quic.Open()
		if err != nil {
			return nil, err
		}
		reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "quicnet"})
		if err != nil {
			lib.Close()
			return nil, err
		}
		shared.r = &sharedReg{lib: lib, reg: reg}
	}
	shared.r.refs++
	return shared.r, nil
}

// acquire takes one more reference, for a connection a listener accepted.
func (r *sharedReg) acquire() *sharedReg {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	r.refs++
	return r
}

// release drops one reference. The last one closes the registration in the
// background (Registration.Close must not run on its own workers, and this
// may be called from a handler), then the library.
func (r *sharedReg) release() {
	shared.mu.Lock()
	r.refs--
	last := r.refs == 0
	if last && shared.r == r {
		shared.r = nil
	}
	shared.mu.Unlock()
	if last {
		done := r.reg.CloseAsync()
		go func() {
			<-done
			r.lib.Close()
		}()
	}
}

// newOwner makes a configuration on the shared registration with alpns,
// settings s and credentials cc.
func newOwner(alpns []string, s *quic.Settings, cc *quic.CredentialConfig) (*owner, error) {
	r, err := acquireRegistration()
	if err != nil {
		return nil, err
	}
	cfg, err := r.reg.NewConfiguration(alpns, s)
	if err != nil {
		r.release()
		return nil, err
	}
	if err := cfg.LoadCredential(cc); err != nil {
		cfg.Close()
		r.release()
		return nil, err
	}
	return &owner{reg: r, cfg: cfg}, nil
}
