package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	qgo "github.com/quic-go/quic-go"
)

// attempt is one legitimate client's handshake and echo.
type attempt struct {
	start   time.Time
	elapsed time.Duration
	err     error
}

// legitClients start rate handshake+echo attempts per second against
// server, each a new quic-go client connection from its own socket on
// 127.0.0.1, sending size bytes on one stream and checking the echo.
type legitClients struct {
	server  netip.AddrPort
	alpn    string
	size    int
	timeout time.Duration

	mu       sync.Mutex
	attempts []attempt
	wg       sync.WaitGroup
}

// run starts attempts evenly spaced at rate per second until stop closes,
// then waits for the attempts in progress.
func (l *legitClients) run(rate float64, stop <-chan struct{}) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-stop:
			l.wg.Wait()
			return
		case <-t.C:
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				a := l.once()
				l.mu.Lock()
				l.attempts = append(l.attempts, a)
				l.mu.Unlock()
			}()
		}
	}
}

// once makes one attempt.
func (l *legitClients) once() attempt {
	a := attempt{start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	a.err = l.echo(ctx)
	a.elapsed = time.Since(a.start)
	return a
}

func (l *legitClients) echo(ctx context.Context) error {
	tlsConf := &tls.Config{ServerName: "localhost", NextProtos: []string{l.alpn}, InsecureSkipVerify: true}
	c, err := qgo.DialAddr(ctx, l.server.String(), tlsConf, &qgo.Config{HandshakeIdleTimeout: l.timeout})
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	defer c.CloseWithError(0, "")
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	msg := make([]byte, l.size)
	rand.Read(msg)
	if _, err := s.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	s.Close()
	got, err := io.ReadAll(s)
	if err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo of %d bytes differs (got %d)", len(msg), len(got))
	}
	return nil
}

// results returns the attempts made so far, in start order.
func (l *legitClients) results() []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.attempts)
	slices.SortFunc(out, func(a, b attempt) int { return a.start.Compare(b.start) })
	return out
}
