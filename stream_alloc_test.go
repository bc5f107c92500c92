package quic

import (
	"testing"
)

// TestStreamCallsDoNotAllocate guards the handle layer's hot calls: each
// becomes a typed operation in the engine's queue, with no closure. The
// connection is not started, so the operations stay queued; the queue's
// storage grows now and then, which AllocsPerRun's average rounds away, so
// the guard fails on any allocation made per call.
func TestStreamCallsDoNotAllocate(t *testing.T) {
	l, r := newTestRegistration(t, nil)
	defer l.Close()
	defer r.Close()
	c, err := r.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewStream(StreamOpenNone, func(*Stream, StreamEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(StreamStartNone); err != nil {
		t.Fatal(err)
	}
	bufs := [][]byte{make([]byte, 512)}
	var ctx any = &bufs
	for name, call := range map[string]func() error{
		"Send":              func() error { return s.Send(bufs, SendNone, ctx) },
		"SetReceiveEnabled": func() error { return s.SetReceiveEnabled(true) },
		"SetPriority":       func() error { return s.SetPriority(7) },
	} {
		var callErr error
		n := testing.AllocsPerRun(1000, func() {
			if err := call(); err != nil {
				callErr = err
			}
		})
		if callErr != nil {
			t.Fatalf("%s: %v", name, callErr)
		}
		if n != 0 {
			t.Errorf("Stream.%s allocates %v times per call", name, n)
		}
	}
}
