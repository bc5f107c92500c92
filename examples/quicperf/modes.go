package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hquic/quic"
)

// runThroughput moves -upload and -download bytes on each of -streams
// streams of one connection and reports the rate.
func runThroughput(reg *quic.Registration, cfg *quic.Configuration, o clientOptions) (string, error) {
	w := newConnWatch()
	var (
		start, end time.Time
		startNanos atomic.Int64 // start, for a reader outside the handlers
		left       = o.streams
		result     = make(chan error, 1)
	)
	done := func(_ *clientRequest, err error) {
		if err != nil {
			w.fail(err)
			return
		}
		if left--; left == 0 {
			end = time.Now()
			result <- nil
		}
	}
	q := &requester{o: o}
	c, err := dial(reg, cfg, o, q, func(c *quic.Connection, ev quic.ConnectionEvent) error {
		w.onEvent(ev, func() {
			start = time.Now()
			startNanos.Store(start.UnixNano())
			for range o.streams {
				q.start(done)
			}
		})
		return q.onConnectionEvent(ev)
	})
	if err != nil {
		return "", err
	}
	var expired <-chan time.Time
	if o.limit > 0 {
		t := time.NewTimer(o.limit)
		defer t.Stop()
		expired = t.C
	}
	select {
	case err = <-result:
	case err = <-w.failed:
	case <-expired:
		// The limit runs from the dial, the clock from the handshake.
		got, began := q.received.Load(), startNanos.Load()
		shutdown(c, w, o)
		if began == 0 {
			return "", fmt.Errorf("no handshake within -limit %v", o.limit)
		}
		elapsed := time.Duration(time.Now().UnixNano() - began)
		return fmt.Sprintf("throughput_mbps=%.1f elapsed_s=%.3f received_bytes=%d incomplete=1",
			float64(got)*8/elapsed.Seconds()/1e6, elapsed.Seconds(), got), nil
	}
	shutdown(c, w, o)
	if err != nil {
		return "", err
	}
	elapsed := end.Sub(start)
	bits := float64(o.upload+o.download) * float64(o.streams) * 8
	return fmt.Sprintf("throughput_mbps=%.1f elapsed_s=%.3f", bits/elapsed.Seconds()/1e6, elapsed.Seconds()), nil
}

// window is a measurement interval after the warm-up.
type window struct {
	open, closed atomic.Bool
	start, end   time.Time // written before open / closed are set
}

// run opens the window after warmup and closes it after duration.
func (m *window) run(warmup, duration time.Duration) {
	time.Sleep(warmup)
	m.start = time.Now()
	m.open.Store(true)
	time.Sleep(duration)
	m.end = time.Now()
	m.closed.Store(true)
}

// counts reports whether an event now falls in the window.
func (m *window) counts() bool { return m.open.Load() && !m.closed.Load() }

// runRPS keeps -streams requests in flight on one connection and reports
// the request rate and latency percentiles.
func runRPS(reg *quic.Registration, cfg *quic.Configuration, o clientOptions) (string, error) {
	w := newConnWatch()
	var (
		m   window
		mu  sync.Mutex
		lat = make([]time.Duration, 0, 1<<20)
		q   = &requester{o: o}
	)
	var done func(r *clientRequest, err error)
	done = func(r *clientRequest, err error) {
		if m.closed.Load() {
			return
		}
		if err != nil {
			w.fail(err)
			return
		}
		if m.counts() {
			d := time.Since(r.start)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}
		q.start(done)
	}
	c, err := dial(reg, cfg, o, q, func(c *quic.Connection, ev quic.ConnectionEvent) error {
		w.onEvent(ev, func() {
			for range o.streams {
				q.start(done)
			}
		})
		return q.onConnectionEvent(ev)
	})
	if err != nil {
		return "", err
	}
	select {
	case <-w.connected:
	case err := <-w.failed:
		shutdown(c, w, o)
		return "", err
	}
	measured := make(chan struct{})
	go func() {
		m.run(o.warmup, o.duration)
		close(measured)
	}()
	select {
	case <-measured:
	case err = <-w.failed:
	}
	m.closed.Store(true)
	shutdown(c, w, o)
	if err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		return "", errors.New("no request completed")
	}
	slices.Sort(lat)
	pct := func(p float64) int64 { return lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds() }
	rps := float64(len(lat)) / m.end.Sub(m.start).Seconds()
	return fmt.Sprintf("rps=%.0f p50_us=%d p99_us=%d", rps, pct(0.50), pct(0.99)), nil
}

// runHPS runs -conns clients that each connect, make one empty request and
// close, over and over, and reports completed handshakes per second.
func runHPS(reg *quic.Registration, cfg *quic.Configuration, o clientOptions) (string, error) {
	o.upload, o.download = 0, 0
	var (
		m                 window
		count, failures   atomic.Int64
		wg                sync.WaitGroup
		firstErr          atomic.Pointer[error]
		stopped, timedOut atomic.Bool
	)
	for range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !m.closed.Load() && !stopped.Load() {
				err := oneRequest(reg, cfg, o)
				if !m.counts() {
					continue
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				count.Add(1)
			}
		}()
	}
	m.run(o.warmup, o.duration)
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(15 * time.Second):
		stopped.Store(true)
		timedOut.Store(true)
	}
	hps := float64(count.Load()) / m.end.Sub(m.start).Seconds()
	line := fmt.Sprintf("hps=%.1f failures=%d", hps, failures.Load())
	if p := firstErr.Load(); p != nil {
		fmt.Fprintln(os.Stderr, "quicperf: first failure:", *p)
		return line, fmt.Errorf("%s: %d failures", line, failures.Load())
	}
	if timedOut.Load() {
		return line, errors.New("clients did not stop")
	}
	return line, nil
}

// oneRequest connects, makes one request and closes the connection without
// waiting for the closing period to end.
func oneRequest(reg *quic.Registration, cfg *quic.Configuration, o clientOptions) error {
	w := newConnWatch()
	result := make(chan error, 1)
	q := &requester{o: o}
	c, err := dial(reg, cfg, o, q, func(c *quic.Connection, ev quic.ConnectionEvent) error {
		w.onEvent(ev, func() {
			q.start(func(_ *clientRequest, err error) { result <- err })
		})
		return q.onConnectionEvent(ev)
	})
	if err != nil {
		return err
	}
	select {
	case err = <-result:
	case err = <-w.failed:
	case <-time.After(10 * time.Second):
		err = errors.New("request timed out")
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	c.Close()
	return err
}

// runIdle opens -conns connections, reports idle_ready and holds them until
// a signal or -duration.
func runIdle(reg *quic.Registration, cfg *quic.Configuration, o clientOptions) error {
	type held struct {
		c *quic.Connection
		w *connWatch
	}
	conns := make([]held, 0, o.conns)
	defer func() {
		for _, h := range conns {
			h.c.Shutdown(quic.ConnectionShutdownNone, 0)
		}
		for _, h := range conns {
			select {
			case <-h.w.closed:
			case <-time.After(5 * time.Second):
			}
			h.c.Close()
		}
	}()
	const parallel = 64
	for len(conns) < o.conns {
		first := len(conns)
		for len(conns) < min(first+parallel, o.conns) {
			w := newConnWatch()
			c, err := dial(reg, cfg, o, nil, func(c *quic.Connection, ev quic.ConnectionEvent) error {
				w.onEvent(ev, nil)
				return nil
			})
			if err != nil {
				return err
			}
			conns = append(conns, held{c, w})
		}
		for _, h := range conns[first:] {
			select {
			case <-h.w.connected:
			case err := <-h.w.failed:
				return err
			case <-time.After(10 * time.Second):
				return errors.New("handshake timed out")
			}
		}
	}
	fmt.Printf("idle_ready conns=%d\n", len(conns))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	var timeout <-chan time.Time
	if o.duration > 0 {
		timeout = time.After(o.duration)
	}
	for {
		select {
		case <-stop:
			return nil
		case <-timeout:
			return nil
		case <-time.After(time.Second):
			for _, h := range conns {
				select {
				case err := <-h.w.failed:
					return fmt.Errorf("idle connection lost: %w", err)
				default:
				}
			}
		}
	}
}
