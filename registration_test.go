package quic

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/hquic/quic/internal/exec"
	"github.com/hquic/quic/internal/mono"
)

// fakeChild records Registration.Shutdown calls.
type fakeChild struct {
	mu    sync.Mutex
	calls []struct {
		flags ConnectionShutdownFlags
		code  uint64
	}
}

func (c *fakeChild) regShutdown(flags ConnectionShutdownFlags, code uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, struct {
		flags ConnectionShutdownFlags
		code  uint64
	}{flags, code})
}

func newTestRegistration(t *testing.T, cfg *RegistrationConfig) (*Library, *Registration) {
	t.Helper()
	l, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.NewRegistration(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, r
}

func TestEveryProfileOpensAndCloses(t *testing.T) {
	for _, p := range []ExecutionProfile{ProfileLowLatency, ProfileMaxThroughput, ProfileScavenger, ProfileRealTime} {
		t.Run(p.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, r := newTestRegistration(t, &RegistrationConfig{AppName: "app-" + p.String(), ExecutionProfile: p})
				if r.AppName() != "app-"+p.String() || r.ExecutionProfile() != p {
					t.Fatalf("AppName %q ExecutionProfile %v", r.AppName(), r.ExecutionProfile())
				}
				if got, want := r.pool.Profile(), exec.Profile(p); got != want {
					t.Fatalf("pool profile %v, want %v", got, want)
				}
				if p == ProfileScavenger && r.pool.Workers() != 1 {
					t.Fatalf("Scavenger has %d workers", r.pool.Workers())
				}
				r.Close()
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func TestNewRegistrationDefaultsAndInvalidProfile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, r := newTestRegistration(t, nil)
		if r.ExecutionProfile() != ProfileLowLatency || r.AppName() != "" {
			t.Fatalf("nil config gave %v %q", r.ExecutionProfile(), r.AppName())
		}
		r.Close()
		if _, err := l.NewRegistration(&RegistrationConfig{ExecutionProfile: 4}); !errors.Is(err, ErrInvalidParameter) {
			t.Fatalf("profile 4: %v", err)
		}
	})
}

func TestShutdownReachesChildrenOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := newTestRegistration(t, nil)
		a, b := &fakeChild{}, &fakeChild{}
		if err := r.addChild("Connection.Start", a); err != nil {
			t.Fatal(err)
		}
		if err := r.addChild("Listener.Start", b); err != nil {
			t.Fatal(err)
		}
		r.Shutdown(ConnectionShutdownSilent, MaxVarInt+1) // invalid code: ignored
		if down, _, _ := r.shutdownState(); down {
			t.Fatal("Shutdown with a code above MaxVarInt took effect")
		}
		r.Shutdown(ConnectionShutdownSilent, 42)
		r.Shutdown(ConnectionShutdownNone, 7) // only the first call counts
		for _, c := range []*fakeChild{a, b} {
			if len(c.calls) != 1 || c.calls[0].flags != ConnectionShutdownSilent || c.calls[0].code != 42 {
				t.Fatalf("child got %+v", c.calls)
			}
		}
		if down, flags, code := r.shutdownState(); !down || flags != ConnectionShutdownSilent || code != 42 {
			t.Fatalf("shutdownState = %v %v %d", down, flags, code)
		}
		r.removeChild(a)
		r.removeChild(b)
		r.Close()
	})
}

func TestAddChildAfterShutdownFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := newTestRegistration(t, nil)
		r.Shutdown(ConnectionShutdownNone, 0)
		err := r.addChild("Connection.Start", &fakeChild{})
		if !errors.Is(err, ErrInvalidState) || err.Error() != "quic: Connection.Start: invalid state: registration is shut down" {
			t.Fatalf("addChild after Shutdown = %v", err)
		}
		// Configurations can still be created after Shutdown.
		cfg, err := r.NewConfiguration([]string{"x"}, nil)
		if err != nil {
			t.Fatalf("NewConfiguration after Shutdown: %v", err)
		}
		cfg.Close()
		r.Close()
	})
}

// TestCloseBlocksUntilChildrenRemoved checks RegistrationClose's wait,
// without sleeping: synctest.Wait returns once Close is durably blocked.
func TestCloseBlocksUntilChildrenRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, r := newTestRegistration(t, nil)
		child := &fakeChild{}
		if err := r.addChild("Connection.Start", child); err != nil {
			t.Fatal(err)
		}
		cfg, err := r.NewConfiguration([]string{"x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() {
			r.Close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned with children open")
		default:
		}
		if err := r.addChild("Connection.Start", &fakeChild{}); !errors.Is(err, ErrInvalidState) {
			t.Fatalf("addChild while closing = %v", err)
		}
		if _, err := r.NewConfiguration([]string{"x"}, nil); !errors.Is(err, ErrInvalidState) {
			t.Fatalf("NewConfiguration while closing = %v", err)
		}
		r.removeChild(child)
		r.removeChild(child) // unknown child: ignored
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned with a configuration open")
		default:
		}
		if err := l.Close(); !errors.Is(err, ErrInvalidState) {
			t.Fatalf("Library.Close during Registration.Close = %v", err)
		}
		cfg.Close()
		cfg.Close()
		<-closed
		if err := l.Close(); err != nil {
			t.Fatalf("Library.Close after Registration.Close = %v", err)
		}
	})
}

func TestCloseAsync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := newTestRegistration(t, nil)
		child := &fakeChild{}
		if err := r.addChild("op", child); err != nil {
			t.Fatal(err)
		}
		done := r.CloseAsync()
		if r.CloseAsync() != done {
			t.Fatal("CloseAsync returned a different channel the second time")
		}
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("done before the child was removed")
		default:
		}
		r.removeChild(child)
		<-done
		r.Close() // after completion: returns at once
	})
}

func TestCloseFromAHandlerAfterClosingItsConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := newTestRegistration(t, nil)
		child := &fakeChild{}
		if err := r.addChild("op", child); err != nil {
			t.Fatal(err)
		}
		returned := make(chan struct{})
		h := r.pool.Register(taskFunc(func(mono.Time) (bool, mono.Time) {
			r.removeChild(child) // a connection closing from its own handler
			r.Close()            // must not wait for this worker
			close(returned)
			return false, 0
		}), 0)
		h.Wake()
		<-returned
		h.Unregister()
		r.Close() // after completion: returns at once
	})
}

func TestCloseAsyncFromAHandlerWithItsConnectionOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, r := newTestRegistration(t, nil)
		child := &fakeChild{}
		if err := r.addChild("op", child); err != nil {
			t.Fatal(err)
		}
		var async <-chan struct{}
		h := r.pool.Register(taskFunc(func(mono.Time) (bool, mono.Time) {
			async = r.CloseAsync()
			return false, 0
		}), 0)
		h.Wake()
		synctest.Wait()
		select {
		case <-async:
			t.Fatal("closed with a child still open")
		default:
		}
		h.Unregister()
		r.removeChild(child)
		<-async
	})
}

type taskFunc func(mono.Time) (bool, mono.Time)

func (f taskFunc) Run(now mono.Time) (bool, mono.Time) { return f(now) }
