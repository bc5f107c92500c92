package quic

import (
	"sync"

	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/exec"
)

// RegistrationConfig configures a Registration (QUIC_REGISTRATION_CONFIG).
// The zero value is valid.
type RegistrationConfig struct {
	// AppName labels the registration in logs.
	AppName string
	// ExecutionProfile selects the worker model; the default is
	// ProfileLowLatency.
	ExecutionProfile ExecutionProfile
}

// Registration is an application's execution context (MsQuic's
// registration): it owns the worker goroutines that run its connections,
// selected by its ExecutionProfile:
//
//   - ProfileLowLatency: one worker per CPU (GOMAXPROCS); datagrams are sent
//     from the goroutine that built them. When a socket read brings
//     datagrams for one connected connection only and no worker has it,
//     the socket's reader goroutine runs that connection itself (receive,
//     handlers, send), as MsQuic's low-latency datapath does, saving two
//     goroutine hand-offs per exchange; a slow handler then also holds up
//     the socket's reads.
//   - ProfileMaxThroughput: one worker per CPU, as for LowLatency, plus a
//     sender goroutine for every socket the registration opens: a worker
//     copies each batch of datagrams a connection built into a pooled
//     buffer and queues it (up to 16 batches per socket; a full queue
//     blocks the worker, nothing is dropped), so encrypting the next batch
//     overlaps with the system call of the previous one. It costs a copy
//     of every byte sent, a goroutine per socket and a hand-off per batch,
//     which small request/response exchanges feel as latency (about 12%
//     fewer requests per second on 2 CPUs, bulk throughput within 3%);
//     batch sizes and per-run budgets are those of LowLatency.
//   - ProfileScavenger: a single worker that yields the processor between
//     connections.
//   - ProfileRealTime: one worker per CPU, each locked to an OS thread,
//     busy-polling briefly before sleeping.
//
// A socket follows the profile of the registration that opened it: a
// client connection's sockets that of the connection's registration; a
// listening socket, which listeners of several registrations may share,
// that of the registration whose listener opened it, for as long as it
// stays open.
//
// Configurations, listeners and connections belong to the registration that
// created them. Methods are safe for concurrent use.
type Registration struct {
	lib     *Library
	appName string
	profile ExecutionProfile
	pool    *exec.Pool

	mu            sync.Mutex
	children      map[regChild]struct{} // connections and listeners
	configs       map[*Configuration]struct{}
	shutdown      bool
	shutdownFlags ConnectionShutdownFlags
	shutdownCode  uint64
	closing       bool
	empty         chan struct{}  // closed once closing and no child remains
	done          chan struct{}  // closed when Close has finished
	traces        sync.WaitGroup // connections' traces not yet written out (tracing.go)
}

// regChild is a connection or listener tracked by its registration.
type regChild interface {
	// regShutdown starts shutting the child down on behalf of
	// Registration.Shutdown. It is called without registration locks held
	// and must not block.
	regShutdown(flags ConnectionShutdownFlags, code uint64)
}

// NewRegistration opens a registration (RegistrationOpen). A nil cfg means
// the zero RegistrationConfig. It fails with ErrInvalidParameter for an
// unknown profile and ErrInvalidState once the library is closed.
func (l *Library) NewRegistration(cfg *RegistrationConfig) (*Registration, error) {
	const op = "Library.NewRegistration"
	if cfg == nil {
		cfg = &RegistrationConfig{}
	}
	var profile exec.Profile
	switch cfg.ExecutionProfile {
	case ProfileLowLatency:
		profile = exec.LowLatency
	case ProfileMaxThroughput:
		profile = exec.MaxThroughput
	case ProfileScavenger:
		profile = exec.Scavenger
	case ProfileRealTime:
		profile = exec.RealTime
	default:
		return nil, opError(op, StatusInvalidParameter, "unknown ExecutionProfile %d", cfg.ExecutionProfile)
	}
	r := &Registration{
		lib:      l,
		appName:  cfg.AppName,
		profile:  cfg.ExecutionProfile,
		children: make(map[regChild]struct{}),
		configs:  make(map[*Configuration]struct{}),
		empty:    make(chan struct{}),
		done:     make(chan struct{}),
	}
	r.pool = exec.NewPool(profile, 0)
	if err := l.addRegistration(r); err != nil {
		r.pool.Close()
		return nil, err
	}
	return r, nil
}

// sendQueue returns the endpoint.Config.SendQueue of the sockets the
// registration opens: a sender goroutine per socket for MaxThroughput,
// none (connections write on their worker) otherwise.
func (r *Registration) sendQueue() int {
	if r.pool.SendOnWorker() {
		return 0
	}
	return endpoint.DefaultSendQueue
}

// AppName returns the name given in RegistrationConfig.
func (r *Registration) AppName() string { return r.appName }

// ExecutionProfile returns the registration's execution profile.
func (r *Registration) ExecutionProfile() ExecutionProfile { return r.profile }

// Shutdown starts ConnectionShutdown(flags, code) on every connection of the
// registration (RegistrationShutdown); code must be at most MaxVarInt or the
// call is ignored. Connections that were opened but never started are
// skipped; connections and listeners started afterwards fail with
// ErrInvalidState. Only the first call has an effect. Shutdown does not wait
// for the connections to finish.
func (r *Registration) Shutdown(flags ConnectionShutdownFlags, code uint64) {
	if code > MaxVarInt {
		return
	}
	r.mu.Lock()
	if r.shutdown {
		r.mu.Unlock()
		return
	}
	r.shutdown, r.shutdownFlags, r.shutdownCode = true, flags, code
	children := make([]regChild, 0, len(r.children))
	for c := range r.children {
		children = append(children, c)
	}
	r.mu.Unlock()
	for _, c := range children {
		c.regShutdown(flags, code)
	}
}

// Close closes the registration (RegistrationClose): it blocks until every
// configuration, listener and connection of the registration has been
// closed, then stops its workers. Close does not shut connections down; call
// Shutdown first to hurry them.
//
// Close never waits for an event handler that is running: the worker of a
// handler still in progress stops once the handler returns. So a handler
// may call Close after closing its own connection (and once every other
// child is closed or closing elsewhere); a handler that calls it while its
// own connection is still open waits for a close that cannot come, as in
// MsQuic, so use CloseAsync there. Closing twice is harmless.
func (r *Registration) Close() {
	<-r.CloseAsync()
}

// CloseAsync starts closing the registration without blocking
// (RegistrationClose2) and returns a channel that is closed once every child
// has been closed and the workers have stopped.
func (r *Registration) CloseAsync() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closing {
		r.closing = true
		if len(r.children)+len(r.configs) == 0 {
			close(r.empty)
		}
		go r.finishClose()
	}
	return r.done
}

// finishClose runs once per registration, off the workers: it waits for the
// last child, stops the workers and detaches from the library.
func (r *Registration) finishClose() {
	<-r.empty
	r.traces.Wait()
	r.pool.Close()
	r.lib.removeRegistration(r)
	close(r.done)
}

// addChild tracks a connection or listener. It fails with ErrInvalidState,
// reported for op, once Shutdown or Close has begun: MsQuic fails the start
// of connections after RegistrationShutdown.
func (r *Registration) addChild(op string, c regChild) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closing:
		return opError(op, StatusInvalidState, "registration is closing")
	case r.shutdown:
		return opError(op, StatusInvalidState, "registration is shut down")
	}
	r.children[c] = struct{}{}
	return nil
}

// removeChild forgets c (on the child's Close). It never blocks, so it may be
// called from a worker.
func (r *Registration) removeChild(c regChild) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.children[c]; !ok {
		return
	}
	delete(r.children, c)
	r.signalIfEmpty()
}

// addConfiguration tracks c; it fails once Close has begun (configurations
// may still be created after Shutdown).
func (r *Registration) addConfiguration(op string, c *Configuration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return opError(op, StatusInvalidState, "registration is closing")
	}
	r.configs[c] = struct{}{}
	return nil
}

// removeConfiguration forgets c (on Configuration.Close).
func (r *Registration) removeConfiguration(c *Configuration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.configs[c]; !ok {
		return
	}
	delete(r.configs, c)
	r.signalIfEmpty()
}

// signalIfEmpty releases a pending Close after the last child went away.
// Called with r.mu held, after removing a child.
func (r *Registration) signalIfEmpty() {
	if r.closing && len(r.children)+len(r.configs) == 0 {
		close(r.empty)
	}
}

// shutdownState reports whether Shutdown was called, and with which flags
// and code, so that a connection starting later can fail or shut down the
// way MsQuic does.
func (r *Registration) shutdownState() (down bool, flags ConnectionShutdownFlags, code uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shutdown, r.shutdownFlags, r.shutdownCode
}

// librarySettingsChanged refreshes every configuration's inherited values.
// Called with the library lock held (lock order: library, registration,
// configuration).
func (r *Registration) librarySettingsChanged(lib *Settings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.configs {
		c.inheritLibrarySettings(lib)
	}
}

// ExecutionProfile selects a registration's worker model
// (QUIC_EXECUTION_PROFILE); see Registration.
type ExecutionProfile uint32

const (
	// ProfileLowLatency: one worker per CPU; datagrams are sent from the
	// goroutine that built them, and a quiet socket's reader runs a
	// connected connection itself. The default.
	ProfileLowLatency ExecutionProfile = 0
	// ProfileMaxThroughput: one worker per CPU plus a sender goroutine per
	// socket, fed by a bounded queue, so that building the next batch
	// overlaps with sending the last.
	ProfileMaxThroughput ExecutionProfile = 1
	// ProfileScavenger: a single worker that yields between connections.
	ProfileScavenger ExecutionProfile = 2
	// ProfileRealTime: workers locked to OS threads that busy-poll briefly
	// before sleeping.
	ProfileRealTime ExecutionProfile = 3
)

// String returns the profile name.
func (p ExecutionProfile) String() string {
	return enumString("ExecutionProfile", uint64(p), map[uint64]string{
		0: "LowLatency", 1: "MaxThroughput", 2: "Scavenger", 3: "RealTime",
	})
}
