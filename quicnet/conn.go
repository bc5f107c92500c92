package quicnet

import (
	"context"
	"net"
	"net/netip"
	"sync"

	"github.com/hquic/quic"
)

// Conn is a QUIC connection, made by Dial or DialConfiguration or returned
// by Listener.Accept. Its methods are safe for concurrent use. Close it when
// done: that releases everything it holds.
type Conn struct {
	qc   *quic.Connection
	own  *owner // what Dial's connections hold; nil otherwise
	ln   *Listener
	opts options

	ctx    context.Context
	cancel context.CancelCauseFunc

	up   chan struct{} // closed when the handshake completed
	done chan struct{} // closed when the connection began to end (err set)

	mu       sync.Mutex
	err      error // why the connection ended
	closed   bool  // Close or CloseWithError was called
	finished bool  // the library's last event came
	bidi     streamQueue
	uni      streamQueue
	dg       datagrams
}

// streamQueue holds the peer's streams of one kind until they are
// accepted. The peer's stream limit bounds it.
type streamQueue struct {
	q    []*Stream
	wake chan struct{}
}

func newConn(o options, own *owner, ln *Listener) *Conn {
	c := &Conn{
		opts: o,
		own:  own,
		ln:   ln,
		up:   make(chan struct{}),
		done: make(chan struct{}),
		bidi: streamQueue{wake: make(chan struct{}, 1)},
		uni:  streamQueue{wake: make(chan struct{}, 1)},
	}
	c.dg.init(o.datagramQueue)
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	return c
}

// signal wakes the goroutine waiting on ch, if any, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// handle is the connection's event handler. It runs on the library's
// worker and never blocks: it records what happened and wakes the
// goroutines waiting for it.
func (c *Conn) handle(qc *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.ConnectedEvent:
		close(c.up)
		if c.ln != nil {
			c.ln.ready(c)
		}
	case *quic.ShutdownInitiatedByTransportEvent:
		c.fail(transportErr(ev.Status, ev.Err))
	case *quic.ShutdownInitiatedByPeerEvent:
		c.fail(&quic.ApplicationError{Code: ev.ErrorCode, Remote: true})
	case *quic.ConnectionShutdownCompleteEvent:
		c.fail(ErrClosed)
		c.finish(ev.AppCloseInProgress)
	case *quic.PeerStreamStartedEvent:
		uni := ev.Flags&quic.StreamOpenUnidirectional != 0
		s := newStream(c, ev.Stream, !uni, true)
		ev.Stream.SetHandler(s.handle)
		q := &c.bidi
		if uni {
			q = &c.uni
		}
		c.mu.Lock()
		q.q = append(q.q, s)
		c.mu.Unlock()
		signal(q.wake)
	case *quic.DatagramReceivedEvent:
		c.dg.received(c, ev.Data)
	case *quic.DatagramSendStateChangedEvent:
		c.dg.sendStateChanged(c, ev)
	}
	return nil
}

// fail records why the connection ended, once, and wakes every waiter.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	c.mu.Unlock()
	close(c.done)
	c.cancel(err)
}

// finish runs at the library's last event: the handle is closed and what
// the connection held is released.
func (c *Conn) finish(appClosed bool) {
	c.mu.Lock()
	c.finished = true
	c.mu.Unlock()
	if !appClosed {
		c.qc.Close()
	}
	if c.ln != nil {
		c.ln.forget(c)
	}
	c.own.release()
}

// connErr returns why the connection ended, or nil while it is up.
func (c *Conn) connErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// OpenStream opens a bidirectional stream. It blocks while the peer's
// stream limit allows no new stream, until it does, ctx is done or the
// connection ends. As in QUIC, the peer learns of the stream when data (or
// the end of the stream) is first sent on it.
func (c *Conn) OpenStream(ctx context.Context) (*Stream, error) {
	return c.open(ctx, true)
}

// OpenUniStream opens a unidirectional (send-only) stream; it blocks like
// OpenStream. Read on it fails.
func (c *Conn) OpenUniStream(ctx context.Context) (*Stream, error) {
	return c.open(ctx, false)
}

// open creates, starts and waits for a local stream.
func (c *Conn) open(ctx context.Context, bidi bool) (*Stream, error) {
	if err := c.connErr(); err != nil {
		return nil, err
	}
	flags := quic.StreamOpenNone
	if !bidi {
		flags = quic.StreamOpenUnidirectional
	}
	s := newStream(c, nil, bidi, false)
	qs, err := c.qc.NewStream(flags, s.handle)
	if err != nil {
		return nil, err
	}
	s.qs = qs
	if err := qs.Start(quic.StreamStartIndicatePeerAccept); err != nil {
		qs.Close()
		return nil, err
	}
	if err := s.waitOpen(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// AcceptStream returns the next bidirectional stream the peer opened,
// blocking until there is one, ctx is done or the connection ends.
func (c *Conn) AcceptStream(ctx context.Context) (*Stream, error) {
	return c.accept(ctx, &c.bidi)
}

// AcceptUniStream returns the next unidirectional stream the peer opened;
// it blocks like AcceptStream. Write on it fails.
func (c *Conn) AcceptUniStream(ctx context.Context) (*Stream, error) {
	return c.accept(ctx, &c.uni)
}

func (c *Conn) accept(ctx context.Context, q *streamQueue) (*Stream, error) {
	for {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		if len(q.q) > 0 {
			s := q.q[0]
			q.q[0] = nil
			q.q = q.q[1:]
			more := len(q.q) > 0
			c.mu.Unlock()
			if more {
				signal(q.wake) // another acceptor may be waiting
			}
			return s, nil
		}
		c.mu.Unlock()
		select {
		case <-q.wake:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// CloseWithError closes the connection with an application error code,
// which the peer sees as a *quic.ApplicationError with Remote set. Blocked
// and later operations on the connection and its streams fail with a
// *quic.ApplicationError whose Remote is false. It does not wait for the
// peer; the connection's resources are released in the background once
// the closing period (RFC 9000, Section 10.2) has passed. Data written to
// streams but not yet acknowledged is lost: close a stream and let the
// peer close the connection, or read the peer's answer first, when it
// matters. Closing again does nothing.
func (c *Conn) CloseWithError(code uint64) error {
	if code > quic.MaxVarInt {
		return &quic.OpError{Op: "quicnet.Conn.CloseWithError", Status: quic.StatusInvalidParameter}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.fail(&quic.ApplicationError{Code: code})
	return c.qc.Shutdown(quic.ConnectionShutdownNone, code)
}

// Close closes the connection with application error code 0; see
// CloseWithError.
func (c *Conn) Close() error { return c.CloseWithError(0) }

// Context returns a context that is canceled when the connection ends;
// context.Cause reports why (the error its operations now return).
func (c *Conn) Context() context.Context { return c.ctx }

// Connection returns the underlying connection handle, for statistics and
// parameters (Statistics, NegotiatedALPN, ...). Its handler belongs to
// the Conn: do not replace it, nor close or shut the handle down directly.
func (c *Conn) Connection() *quic.Connection { return c.qc }

// NegotiatedALPN returns the application protocol the handshake chose.
func (c *Conn) NegotiatedALPN() string { return c.qc.NegotiatedALPN() }

// LocalAddr returns the local address of the connection's path, a
// *net.UDPAddr (unspecified if not known).
func (c *Conn) LocalAddr() net.Addr {
	a, _ := c.qc.LocalAddr()
	return udpAddr(a)
}

// RemoteAddr returns the peer's address, a *net.UDPAddr.
func (c *Conn) RemoteAddr() net.Addr {
	a, _ := c.qc.RemoteAddr()
	return udpAddr(a)
}

func udpAddr(a netip.AddrPort) *net.UDPAddr {
	return net.UDPAddrFromAddrPort(a)
}
