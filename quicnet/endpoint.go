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
// made from a *tls.Config on one network, opened with the first of them
// and closed, with its worker goroutines, after the last one is released:
// a program that closes everything it dialed and listened on is left with
// no goroutine of the library.
type sharedReg struct {
	net  quic.PacketNetwork
	lib  *quic.Library
	reg  *quic.Registration
	refs int           // guarded by shared.mu
	gone chan struct{} // closed once the library is closed
}

// shared holds the sharedReg of each network in use (the operating
// system's under nil), and every sharedReg not yet gone.
var shared struct {
	mu   sync.Mutex
	m    map[quic.PacketNetwork]*sharedReg
	live map[*sharedReg]struct{}
}

// acquireRegistration returns the shared registration of network n with
// one more reference held.
func acquireRegistration(n quic.PacketNetwork) (*sharedReg, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	r := shared.m[n]
	if r == nil {
		lib, err := quic.Open()
		if err != nil {
			return nil, err
		}
		if n != nil {
			if err := lib.SetPacketNetwork(n); err != nil {
				return nil, err
			}
		}
		reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "quicnet"})
		if err != nil {
			lib.Close()
			return nil, err
		}
		r = &sharedReg{net: n, lib: lib, reg: reg, gone: make(chan struct{})}
		if shared.m == nil {
			shared.m = make(map[quic.PacketNetwork]*sharedReg)
			shared.live = make(map[*sharedReg]struct{})
		}
		shared.m[n] = r
		shared.live[r] = struct{}{}
	}
	r.refs++
	return r, nil
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
	if last && shared.m[r.net] == r {
		delete(shared.m, r.net)
	}
	shared.mu.Unlock()
	if last {
		done := r.reg.CloseAsync()
		go func() {
			<-done
			r.lib.Close()
			shared.mu.Lock()
			delete(shared.live, r)
			shared.mu.Unlock()
			close(r.gone)
		}()
	}
}

// newOwner makes a configuration on the shared registration of network n
// with alpns, settings s and credentials cc.
func newOwner(n quic.PacketNetwork, alpns []string, s *quic.Settings, cc *quic.CredentialConfig) (*owner, error) {
	r, err := acquireRegistration(n)
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

// waitReleased blocks until every shared registration opened so far is
// closed: after a program closed all its Conns and Listeners, their
// closing periods have passed and the library's goroutines are gone.
func waitReleased() {
	for {
		shared.mu.Lock()
		var r *sharedReg
		for r = range shared.live {
			break
		}
		shared.mu.Unlock()
		if r == nil {
			return
		}
		<-r.gone
	}
}
