package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hquic/quic"
	"github.com/hquic/quic/interop/internal/runner"
)

// connectionTimeout bounds one connection's downloads.
const connectionTimeout = 5 * time.Minute

// runClient downloads env's requests: all on one connection, or one
// connection each for multiconnect.
func runClient(env *runner.Env) error {
	keyLog, err := env.KeyLog()
	if err != nil {
		return err
	}
	if keyLog != nil {
		defer keyLog.Close()
	}
	lib, reg, err := openLibrary(env)
	if err != nil {
		return err
	}
	defer lib.Close()
	defer reg.Close()
	cfg, err := configuration(reg, env, keyLog)
	if err != nil {
		return err
	}
	defer cfg.Close()
	switch env.TestCase {
	case runner.CaseMulticonnect:
		for _, u := range env.Requests {
			if _, err := download(reg, cfg, env, []*url.URL{u}, nil); err != nil {
				return err
			}
		}
		return nil
	case runner.CaseResumption, runner.CaseZeroRTT:
		// The first file on a first connection, which gets a ticket; the
		// rest on a second one that resumes with it (and, for zerortt,
		// sends its requests in 0-RTT).
		ticket, err := download(reg, cfg, env, env.Requests[:1], nil)
		if err != nil || len(env.Requests) == 1 {
			return err
		}
		if ticket == nil {
			return errors.New("the server sent no resumption ticket")
		}
		_, err = download(reg, cfg, env, env.Requests[1:], ticket)
		return err
	}
	_, err = download(reg, cfg, env, env.Requests, nil)
	return err
}

// ticketWait bounds the wait for a resumption ticket after the downloads.
const ticketWait = 5 * time.Second

// download fetches urls over one connection, in parallel streams, and
// saves them. The server is the first URL's. With a resumption ticket the
// connection resumes, and the requests may go in 0-RTT. In the resumption
// test cases it waits for the server's ticket and returns it.
func download(reg *quic.Registration, cfg *quic.Configuration, env *runner.Env, urls []*url.URL, resume []byte) ([]byte, error) {
	host, addr, err := runner.ServerAddr(urls[0])
	if err != nil {
		return nil, err
	}
	var (
		mu        sync.Mutex
		failure   error
		pending   = len(urls)
		finished  = make(chan struct{})
		closed    = make(chan struct{})
		stats     quic.Statistics
		ticket    []byte
		gotTicket = make(chan struct{})
		resumed   bool
	)
	finish := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && failure == nil {
			failure = err
		}
		if pending > 0 {
			pending--
			if pending == 0 || err != nil {
				pending = 0
				close(finished)
			}
		}
	}
	c, err := reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		switch ev := ev.(type) {
		case *quic.ConnectedEvent:
			mu.Lock()
			resumed = ev.SessionResumed
			mu.Unlock()
		case *quic.ResumptionTicketReceivedEvent:
			mu.Lock()
			if ticket == nil {
				ticket = ev.Ticket
				close(gotTicket)
			}
			mu.Unlock()
		case *quic.PeerAddressChangedEvent:
			// The lab reads this line (connectionmigration).
			fmt.Fprintf(os.Stderr, "hquic-migrated: peer=%v\n", ev.Addr)
		case *quic.ShutdownInitiatedByTransportEvent:
			finish(fmt.Errorf("connection closed by the transport: %w", ev.Err))
		case *quic.ShutdownInitiatedByPeerEvent:
			finish(fmt.Errorf("server closed the connection with code %#x", ev.ErrorCode))
		case *quic.ConnectionShutdownCompleteEvent:
			stats, _ = c.Statistics()
			finish(errors.New("connection closed"))
			close(closed)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetRemoteAddr(addr); err != nil {
		return nil, err
	}
	if resume != nil {
		if err := c.SetResumptionTicket(resume); err != nil {
			return nil, err
		}
	}
	early := resume != nil && env.TestCase == runner.CaseZeroRTT
	for _, u := range urls {
		if err := get(c, env, u, finish, early); err != nil {
			return nil, err
		}
	}
	if err := c.Start(cfg, quic.AddressFamilyUnspec, host, addr.Port()); err != nil {
		return nil, err
	}
	select {
	case <-finished:
	case <-time.After(connectionTimeout):
		return nil, errors.New("timed out")
	}
	mu.Lock()
	err = failure
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	if resume == nil && (env.TestCase == runner.CaseResumption || env.TestCase == runner.CaseZeroRTT) {
		select {
		case <-gotTicket:
		case <-time.After(ticketWait):
		}
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	<-closed
	// The lab reads this line; the runner ignores it.
	mu.Lock()
	fmt.Fprintf(os.Stderr, "hquic-stats: key_updates=%d ecn_capable=%v retry=%v version_negotiation=%v resumed=%v rtt=%v lost=%d\n",
		stats.KeyUpdateCount, stats.ECNCapable, stats.StatelessRetry, stats.VersionNegotiation, resumed, stats.RTT,
		stats.SendSuspectedLostPackets)
	defer mu.Unlock()
	return ticket, nil
}

// get opens a stream for u's request and saves the response when the
// stream ends; finish is called once with the outcome. With early, the
// request may go in 0-RTT.
func get(c *quic.Connection, env *runner.Env, u *url.URL, finish func(error), early bool) error {
	var (
		body []byte
		fin  bool
		fail error
	)
	s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
		switch ev := ev.(type) {
		case *quic.ReceiveEvent:
			for _, b := range ev.Buffers {
				body = append(body, b...)
			}
			if ev.Flags&quic.ReceiveFIN != 0 {
				fin = true
			}
		case *quic.StartCompleteEvent:
			if ev.Status.Failed() && fail == nil {
				fail = fmt.Errorf("%s: stream start failed: %v", u.Path, ev.Status)
			}
		case *quic.PeerSendAbortedEvent:
			fail = fmt.Errorf("%s: server reset the stream with code %#x", u.Path, ev.ErrorCode)
		case *quic.StreamShutdownCompleteEvent:
			s.Close()
			switch {
			case fail != nil:
			case ev.ConnectionShutdown:
				fail = fmt.Errorf("%s: connection closed during the download", u.Path)
			case !fin:
				fail = fmt.Errorf("%s: stream ended without FIN", u.Path)
			default:
				fail = save(env.DownloadPath(u), body)
			}
			finish(fail)
		}
		return nil
	})
	if err != nil {
		return err
	}
	flags := quic.SendStart | quic.SendFIN
	if early {
		flags |= quic.SendAllow0RTT
	}
	return s.Send([][]byte{runner.Request(u)}, flags, nil)
}

func save(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, data, 0o644)
}
