package main

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hquic/quic"
)

// clientRequest is one perf request: its upload, and the count of the
// response bytes. Its methods run in event handlers of its connection.
type clientRequest struct {
	want  uint64
	got   uint64
	total *atomic.Uint64 // the requester's count of response bytes
	fin   bool
	start time.Time
	up    *sender
	done  func(r *clientRequest, err error)
	ended bool
}

// finish reports the request's outcome once.
func (r *clientRequest) finish(err error) {
	if r.ended {
		return
	}
	r.ended = true
	r.done(r, err)
}

// onResponse handles the events of the stream carrying the response (the
// request's own stream when bidirectional).
func (r *clientRequest) onResponse(s *quic.Stream, ev quic.StreamEvent) error {
	if r.up != nil {
		if handled, err := r.up.onEvent(ev); handled {
			if err != nil {
				r.finish(err)
				s.Shutdown(quic.StreamShutdownAbort, 1)
			}
			return nil
		}
	}
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		r.got += ev.TotalBufferLength
		r.total.Add(ev.TotalBufferLength)
		if ev.Flags&quic.ReceiveFIN != 0 {
			r.fin = true
		}
	case *quic.StartCompleteEvent:
		if ev.Status.Failed() {
			r.finish(fmt.Errorf("stream start failed: %w", ev.Status))
		}
	case *quic.PeerSendAbortedEvent:
		r.finish(fmt.Errorf("server aborted the response (code %d)", ev.ErrorCode))
	case *quic.PeerReceiveAbortedEvent:
		r.finish(fmt.Errorf("server aborted the request (code %d)", ev.ErrorCode))
	case *quic.StreamShutdownCompleteEvent:
		switch {
		case ev.ConnectionShutdown:
			r.finish(errors.New("connection closed during the request"))
		case !r.fin || r.got != r.want:
			r.finish(fmt.Errorf("response of %d bytes (FIN %v), want %d", r.got, r.fin, r.want))
		default:
			r.finish(nil)
		}
		if !ev.AppCloseInProgress {
			s.Close()
		}
	}
	return nil
}

// onUpload handles the events of a unidirectional request stream: only its
// sending matters, the response comes on another stream.
func (r *clientRequest) onUpload(s *quic.Stream, ev quic.StreamEvent) error {
	if handled, err := r.up.onEvent(ev); handled {
		if err != nil {
			r.finish(err)
			s.Shutdown(quic.StreamShutdownAbort, 1)
		}
		return nil
	}
	switch ev := ev.(type) {
	case *quic.StartCompleteEvent:
		if ev.Status.Failed() {
			r.finish(fmt.Errorf("stream start failed: %w", ev.Status))
		}
	case *quic.PeerReceiveAbortedEvent:
		r.finish(fmt.Errorf("server aborted the request (code %d)", ev.ErrorCode))
	case *quic.StreamShutdownCompleteEvent:
		if ev.ConnectionShutdown {
			r.finish(errors.New("connection closed during the request"))
		}
		if !ev.AppCloseInProgress {
			s.Close()
		}
	}
	return nil
}

// requester issues requests on one connection. Its methods run in the
// connection's event handlers.
type requester struct {
	c *quic.Connection
	o clientOptions
	// awaiting are unidirectional requests whose response stream has not
	// arrived yet; responses are matched to them in order.
	awaiting []*clientRequest
	// received counts response bytes on all streams; any goroutine may
	// read it.
	received atomic.Uint64
}

// start opens a stream and sends one request; done gets its outcome.
func (q *requester) start(done func(*clientRequest, error)) {
	r := &clientRequest{want: q.o.download, total: &q.received, start: time.Now(), done: done}
	flags, h := quic.StreamOpenNone, r.onResponse
	if q.o.uni {
		flags, h = quic.StreamOpenUnidirectional, r.onUpload
	}
	s, err := q.c.NewStream(flags, h)
	if err != nil {
		r.finish(err)
		return
	}
	r.up = newSender(s, header(q.o.download), q.o.upload, true)
	if q.o.uni {
		q.awaiting = append(q.awaiting, r)
	}
	if err := r.up.pump(); err != nil {
		r.finish(err)
	}
}

// onConnectionEvent routes the server's response streams.
func (q *requester) onConnectionEvent(ev quic.ConnectionEvent) error {
	ps, ok := ev.(*quic.PeerStreamStartedEvent)
	if !ok {
		return nil
	}
	if ps.Flags&quic.StreamOpenUnidirectional == 0 || len(q.awaiting) == 0 {
		return errors.New("unexpected stream from the server")
	}
	r := q.awaiting[0]
	q.awaiting = q.awaiting[1:]
	resp := &clientRequest{want: r.want, total: &q.received, done: func(_ *clientRequest, err error) { r.finish(err) }}
	ps.Stream.SetHandler(resp.onResponse)
	return nil
}
