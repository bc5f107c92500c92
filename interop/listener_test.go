package interop

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	quic "github.com/hquic/quic"
)

// TestListenerCloseAfterFailedStart: a listener whose Start failed closes
// without waiting for a stop that never comes (it used to hang).
func TestListenerCloseAfterFailedStart(t *testing.T) {
	h := newHQ(t)
	l, err := h.reg.NewListener(func(*quic.Listener, quic.ListenerEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// 192.0.2.1 (TEST-NET-1) is not an address of this host; binding it
	// fails without sending anything.
	err = l.Start([]string{"x"}, netip.MustParseAddrPort("192.0.2.1:4433"))
	if !errors.Is(err, quic.ErrAddressNotAvailable) {
		t.Errorf("Start on a foreign address: %v, want ErrAddressNotAvailable", err)
	}
	closed := make(chan struct{})
	go func() {
		l.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("Listener.Close hangs after a failed Start")
	}
}
