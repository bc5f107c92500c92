package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	qgo "github.com/quic-go/quic-go"
)

// established keeps connections open through the whole run, each echoing
// 1 KiB round trips on one stream every 10ms, to show whether the flood
// delays the server's established connections.
type established struct {
	mu      sync.Mutex
	samples []rttSample
	errs    []error
	wg      sync.WaitGroup
}

type rttSample struct {
	at  time.Time
	rtt time.Duration
}

// start opens n connections to server and echoes on them until stop
// closes.
func (e *established) start(n int, server netip.AddrPort, alpn string, stop <-chan struct{}) {
	for range n {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			if err := e.run(server, alpn, stop); err != nil {
				e.mu.Lock()
				e.errs = append(e.errs, err)
				e.mu.Unlock()
			}
		}()
	}
}

func (e *established) run(server netip.AddrPort, alpn string, stop <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := qgo.DialAddr(ctx, server.String(), &tls.Config{ServerName: "localhost", NextProtos: []string{alpn}, InsecureSkipVerify: true},
		&qgo.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("established connection: %w", err)
	}
	defer c.CloseWithError(0, "")
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	msg := make([]byte, 1024)
	buf := make([]byte, 1024)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
		begin := time.Now()
		s.SetDeadline(begin.Add(10 * time.Second))
		if _, err := s.Write(msg); err != nil {
			return fmt.Errorf("established connection write: %w", err)
		}
		if _, err := io.ReadFull(s, buf); err != nil {
			return fmt.Errorf("established connection read: %w", err)
		}
		e.mu.Lock()
		e.samples = append(e.samples, rttSample{begin, time.Since(begin)})
		e.mu.Unlock()
	}
}

// summary returns the round trips' median, 99th percentile and maximum
// among those started in [from, to).
func (e *established) summary(from, to time.Time) (n int, p50, p99, worst time.Duration) {
	e.mu.Lock()
	var rtts []time.Duration
	for _, s := range e.samples {
		if !s.at.Before(from) && s.at.Before(to) {
			rtts = append(rtts, s.rtt)
		}
	}
	e.mu.Unlock()
	if len(rtts) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(rtts)
	return len(rtts), rtts[len(rtts)/2], rtts[len(rtts)*99/100], rtts[len(rtts)-1]
}
