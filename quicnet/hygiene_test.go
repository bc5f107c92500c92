package quicnet

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/hquic/quic/internal/testutil"
)

// After 200 concurrent clients have each exchanged 50 messages, on a
// stream apiece, with one server, and everything was closed, the process
// has the goroutines it had before: the library's workers, socket readers
// and timers are all gone.
func TestGoroutinesReturnToBaselineAfterManyClients(t *testing.T) {
	const clients, messages = 200, 50
	bubble(t, func(t *testing.T, tn *testNet) {
		synctest.Wait()
		base := bubbleGoroutines(t)
		l, err := Listen(serverAddr, serverTLS(t), on(tn.server, nil))
		if err != nil {
			t.Fatal(err)
		}
		var served sync.WaitGroup
		go func() {
			for {
				c, err := l.Accept(context.Background())
				if err != nil {
					return
				}
				served.Add(1)
				go func() {
					defer served.Done()
					defer c.Close()
					for {
						s, err := c.AcceptStream(context.Background())
						if err != nil {
							return
						}
						go func() {
							io.Copy(s, s)
							s.Close()
						}()
					}
				}()
			}
		}()
		ctls := clientTLS(t)
		errs := make(chan error, clients)
		for i := range clients {
			go func() { errs <- runClient(tn, ctls, i, messages) }()
		}
		for range clients {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		served.Wait() // every server connection saw its client close
		l.Close()
		waitReleased()
		synctest.Wait()
		if n, stacks, _ := testutil.BubbleGoroutines(); n != base {
			t.Fatalf("%d goroutines after closing everything, %d before:\n%s", n, base, stacks)
		}
	})
}

// runClient connects, sends messages requests on a stream each, checks
// every echo and closes.
func runClient(tn *testNet, ctls *tls.Config, id, messages int) error {
	ctx := context.Background()
	c, err := Dial(ctx, serverAddr, ctls, on(tn.client, nil))
	if err != nil {
		return err
	}
	defer c.Close()
	for m := range messages {
		msg := []byte(fmt.Sprintf("client %d message %d", id, m))
		s, err := c.OpenStream(ctx)
		if err != nil {
			return err
		}
		if _, err := s.Write(msg); err != nil {
			return err
		}
		s.CloseWrite()
		got, err := io.ReadAll(s)
		s.Close()
		if err != nil {
			return fmt.Errorf("client %d message %d: %w", id, m, err)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("client %d message %d: echo %q", id, m, got)
		}
	}
	return nil
}

// bubbleGoroutines counts the goroutines of the test's bubble, where the
// library runs; the process's count also holds the runtime's cleanup
// goroutines, which come and go with collections.
func bubbleGoroutines(t *testing.T) int {
	t.Helper()
	n, _, err := testutil.BubbleGoroutines()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
