// Package perf implements the QUIC performance protocol
// (draft-banks-quic-performance, ALPN "perf") over quic-go, as the
// reference side of hquic's side-by-side benchmark. The command
// cmd/quicgoperf wraps it with the same interface as hquic's
// examples/quicperf, and cmd/perfcompare runs both.
//
// Protocol: on each client-initiated stream the client sends an 8-byte
// big-endian count of the bytes it wants back, then its upload, then FIN;
// the server reads to the FIN, then sends that many bytes and FIN, on the
// same stream, or on a new unidirectional stream when the request came on a
// unidirectional one.
package perf

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPN is the perf protocol's ALPN.
const ALPN = "perf"

// chunk is the bulk data every writer sends.
var chunk = func() []byte {
	b := make([]byte, 256<<10)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

// readBufs lends read buffers to stream readers.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// ServerConfig is the quic-go configuration of the perf server: room for
// many parallel request streams, and an idle timeout long enough for the
// idle-memory measurement. Everything else is quic-go's default.
func ServerConfig() *quic.Config {
	return &quic.Config{
		MaxIncomingStreams:    1000,
		MaxIncomingUniStreams: 1000,
		MaxIdleTimeout:        120 * time.Second,
	}
}

// ClientConfig is the client's configuration; idle selects the long idle
// timeout of the idle mode.
func ClientConfig(idle bool) *quic.Config {
	c := &quic.Config{MaxIncomingUniStreams: 1000, MaxIdleTimeout: 30 * time.Second}
	if idle {
		c.MaxIdleTimeout = 120 * time.Second
	}
	return c
}

// Serve accepts connections on ln and answers their requests until ln is
// closed. open, if set, is called with +1 and -1 as connections come and
// go.
func Serve(ln *quic.Listener, open func(delta int)) error {
	for {
		c, err := ln.Accept(context.Background())
		if err != nil {
			return err
		}
		if open != nil {
			open(1)
		}
		go serveConn(c, open)
	}
}

func serveConn(c *quic.Conn, open func(int)) {
	go func() {
		for {
			s, err := c.AcceptUniStream(context.Background())
			if err != nil {
				return
			}
			go func() {
				n, err := readRequest(s)
				if err != nil {
					s.CancelRead(1)
					return
				}
				out, err := c.OpenUniStreamSync(context.Background())
				if err != nil {
					return
				}
				if writeN(out, n) != nil {
					out.CancelWrite(1)
					return
				}
				out.Close()
			}()
		}
	}()
	for {
		s, err := c.AcceptStream(context.Background())
		if err != nil {
			break
		}
		go func() {
			n, err := readRequest(s)
			if err != nil {
				s.CancelRead(1)
				s.CancelWrite(1)
				return
			}
			if writeN(s, n) != nil {
				s.CancelWrite(1)
				return
			}
			s.Close()
		}()
	}
	if open != nil {
		open(-1)
	}
}

// readRequest reads a request's header and drains its upload to FIN.
func readRequest(r io.Reader) (uint64, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, err
	}
	if _, err := drain(r, nil); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(hdr[:]), nil
}

// drain reads r to EOF and returns the byte count.
func drain(r io.Reader, progress *atomic.Uint64) (uint64, error) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	var total uint64
	for {
		n, err := r.Read(*bp)
		total += uint64(n)
		if progress != nil {
			progress.Add(uint64(n))
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// writeN writes n bytes of bulk data.
func writeN(w io.Writer, n uint64) error {
	for n > 0 {
		k := min(n, uint64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// Client makes perf requests to one server.
type Client struct {
	Addr string
	TLS  *tls.Config
	Conf *quic.Config
	// Upload and Download are the bytes sent and asked for per request.
	Upload, Download uint64
	// Uni sends requests on unidirectional streams.
	Uni bool
	// Received counts the response bytes of every request so far, and
	// Started holds when Throughput's requests began (Unix nanoseconds);
	// any goroutine may read them.
	Received atomic.Uint64
	Started  atomic.Int64
}

// Dial connects to the server.
func (cl *Client) Dial(ctx context.Context) (*quic.Conn, error) {
	return quic.DialAddr(ctx, cl.Addr, cl.TLS, cl.Conf)
}

// Request makes one request on c and checks the response's length.
func (cl *Client) Request(ctx context.Context, c *quic.Conn) error {
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], cl.Download)
	var got uint64
	if cl.Uni {
		s, err := c.OpenUniStreamSync(ctx)
		if err != nil {
			return err
		}
		if err := sendRequest(s, hdr[:], cl.Upload); err != nil {
			return err
		}
		r, err := c.AcceptUniStream(ctx)
		if err != nil {
			return err
		}
		if got, err = drain(r, &cl.Received); err != nil {
			return err
		}
	} else {
		s, err := c.OpenStreamSync(ctx)
		if err != nil {
			return err
		}
		if err := sendRequest(s, hdr[:], cl.Upload); err != nil {
			return err
		}
		if got, err = drain(s, &cl.Received); err != nil {
			return err
		}
	}
	if got != cl.Download {
		return fmt.Errorf("response of %d bytes, want %d", got, cl.Download)
	}
	return nil
}

func sendRequest(s io.WriteCloser, hdr []byte, upload uint64) error {
	if _, err := s.Write(hdr); err != nil {
		return err
	}
	if err := writeN(s, upload); err != nil {
		return err
	}
	return s.Close()
}

// Throughput runs streams parallel requests on one connection and returns
// the time from the first request to the last response (the handshake
// excluded).
func (cl *Client) Throughput(ctx context.Context, streams int) (time.Duration, error) {
	c, err := cl.Dial(ctx)
	if err != nil {
		return 0, err
	}
	defer c.CloseWithError(0, "")
	start := time.Now()
	cl.Started.Store(start.UnixNano())
	errs := make(chan error, streams)
	for range streams {
		go func() { errs <- cl.Request(ctx, c) }()
	}
	for range streams {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// Window is a measurement interval after a warm-up.
type Window struct {
	mu         sync.Mutex
	open, shut bool
	Start, End time.Time
}

// Run opens the window after warmup and closes it after duration.
func (w *Window) Run(warmup, duration time.Duration) {
	time.Sleep(warmup)
	w.mu.Lock()
	w.open, w.Start = true, time.Now()
	w.mu.Unlock()
	time.Sleep(duration)
	w.mu.Lock()
	w.shut, w.End = true, time.Now()
	w.mu.Unlock()
}

// State reports whether the window is open and whether it has closed.
func (w *Window) State() (counting, closed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.open && !w.shut, w.shut
}

// RPS keeps streams requests in flight on one connection and returns the
// latencies of the requests completed inside the window.
func (cl *Client) RPS(ctx context.Context, streams int, w *Window, warmup, duration time.Duration) ([]time.Duration, error) {
	c, err := cl.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.CloseWithError(0, "")
	var (
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, 1<<20)
		errs = make(chan error, streams)
	)
	for range streams {
		go func() {
			for {
				t0 := time.Now()
				err := cl.Request(ctx, c)
				counting, closed := w.State()
				if closed {
					errs <- nil
					return
				}
				if err != nil {
					errs <- err
					return
				}
				if counting {
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}
		}()
	}
	w.Run(warmup, duration)
	for range streams {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return lat, nil
}

// HPS runs conns clients that each connect, make one request and close,
// repeatedly; it returns the successes and failures inside the window.
func (cl *Client) HPS(ctx context.Context, conns int, w *Window, warmup, duration time.Duration) (ok, failed int, firstErr error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := cl.oneShot(ctx)
				counting, closed := w.State()
				if closed {
					return
				}
				if !counting {
					continue
				}
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	w.Run(warmup, duration)
	wg.Wait()
	return ok, failed, firstErr
}

func (cl *Client) oneShot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := cl.Dial(ctx)
	if err != nil {
		return err
	}
	err = cl.Request(ctx, c)
	c.CloseWithError(0, "")
	return err
}

// Idle opens n connections and returns them once all are established.
func (cl *Client) Idle(ctx context.Context, n int) ([]*quic.Conn, error) {
	conns := make([]*quic.Conn, 0, n)
	const parallel = 64
	for len(conns) < n {
		k := min(parallel, n-len(conns))
		res := make(chan *quic.Conn, k)
		errs := make(chan error, k)
		for range k {
			go func() {
				c, err := cl.Dial(ctx)
				if err != nil {
					errs <- err
					return
				}
				res <- c
			}()
		}
		for range k {
			select {
			case c := <-res:
				conns = append(conns, c)
			case err := <-errs:
				for _, c := range conns {
					c.CloseWithError(0, "")
				}
				return nil, err
			}
		}
	}
	return conns, nil
}

// ErrNoRequests reports a measurement in which no request completed.
var ErrNoRequests = errors.New("no request completed")
