package quic

import (
	"bytes"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// resumeServer records what a resumption-enabled echo server saw.
type resumeServer struct {
	mu         sync.Mutex
	resumed    [][]byte // ResumedEvent states
	streamFlag []StreamOpenFlags
	recvFlags  []ReceiveFlags
	ticketErr  []error // SendResumptionTicket results
	secondErr  []error // second SendResumptionTicket results
	rejectNext bool    // the next ResumedEvent handler fails
}

// listenResume starts a listener whose connections send a ticket carrying
// appData when connected, and echo every stream.
func (e *e2e) listenResume(rs *resumeServer, appData []byte) {
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			ev.Connection.SetHandler(rs.connHandler(appData))
			return ev.Connection.SetConfiguration(e.srvCfg)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		e.t.Fatal(err)
	}
	e.listener = l
	e.addr, _ = l.LocalAddr()
}

func (rs *resumeServer) connHandler(appData []byte) ConnectionHandler {
	return func(c *Connection, ev ConnectionEvent) error {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		switch ev := ev.(type) {
		case *ResumedEvent:
			rs.resumed = append(rs.resumed, bytes.Clone(ev.ResumptionState))
			if rs.rejectNext {
				rs.rejectNext = false
				return errors.New("no 0-RTT today")
			}
		case *ConnectedEvent:
			rs.ticketErr = append(rs.ticketErr, c.SendResumptionTicket(SendResumptionFinal, appData))
			rs.secondErr = append(rs.secondErr, c.SendResumptionTicket(SendResumptionNone, nil))
		case *PeerStreamStartedEvent:
			rs.streamFlag = append(rs.streamFlag, ev.Flags)
			ev.Stream.SetHandler(func(s *Stream, sev StreamEvent) error {
				if r, ok := sev.(*ReceiveEvent); ok {
					rs.mu.Lock()
					rs.recvFlags = append(rs.recvFlags, r.Flags)
					rs.mu.Unlock()
				}
				return echoServerStream(s, sev)
			})
		case *ConnectionShutdownCompleteEvent:
			if !ev.AppCloseInProgress {
				c.Close()
			}
		}
		return nil
	}
}

// resumeResult is what a client connection saw.
type resumeResult struct {
	ticket  []byte
	resumed bool
	echo    []byte
	stats   Statistics // after the echo
}

// dialResume connects with ticket (none if nil), sends msg with
// SendAllow0RTT before Start, waits for the echo and, if wantTicket, for a
// new ticket, then shuts down.
func (e *e2e) dialResume(t *testing.T, ticket []byte, msg string, wantTicket bool) resumeResult {
	t.Helper()
	var mu sync.Mutex
	var res resumeResult
	gotTicket := make(chan struct{})
	done := make(chan struct{})
	closed := make(chan struct{})
	c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *ConnectedEvent:
			res.resumed = ev.SessionResumed
		case *ResumptionTicketReceivedEvent:
			if res.ticket == nil {
				res.ticket = ev.Ticket
				close(gotTicket)
			}
		case *ShutdownInitiatedByTransportEvent:
			t.Errorf("transport closed the connection: %v", ev.Err)
		case *ConnectionShutdownCompleteEvent:
			c.Close()
			close(closed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ticket != nil {
		if err := c.SetResumptionTicket(ticket); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
		switch ev := ev.(type) {
		case *ReceiveEvent:
			mu.Lock()
			for _, b := range ev.Buffers {
				res.echo = append(res.echo, b...)
			}
			mu.Unlock()
		case *StreamShutdownCompleteEvent:
			s.Close()
			close(done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([][]byte{[]byte(msg)}, SendStart|SendFIN|SendAllow0RTT, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
		t.Fatal(err)
	}
	if err := c.SetResumptionTicket(ticket); !errors.Is(err, ErrInvalidState) && !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("SetResumptionTicket after Start = %v, want an error", err)
	}
	wait(t, done, "echo")
	st, _ := c.Statistics()
	mu.Lock()
	res.stats = st
	mu.Unlock()
	if wantTicket {
		wait(t, gotTicket, "resumption ticket")
	}
	if err := c.SendResumptionTicket(SendResumptionNone, nil); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("client SendResumptionTicket = %v, want ErrInvalidParameter", err)
	}
	c.Shutdown(ConnectionShutdownNone, 0)
	wait(t, closed, "shutdown")
	mu.Lock()
	defer mu.Unlock()
	return res
}

func resumeSettings(level ServerResumptionLevel) *Settings {
	return &Settings{PeerBidiStreamCount: Some[uint16](100), IdleTimeout: Some(10 * time.Second),
		ServerResumptionLevel: Some(level)}
}

// TestResumptionAndZeroRTT runs MsQuic's resumption lifecycle
// through the public API: a first connection gets a ticket; a second one
// resumes with it and its data goes in 0-RTT, which the server sees with
// Receive0RTT on a stream opened with StreamOpen0RTT, after ResumedEvent
// with the ticket's app data.
func TestResumptionAndZeroRTT(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", resumeSettings(ServerResumeAndZeroRTT))
		rs := &resumeServer{}
		e.listenResume(rs, []byte("app state"))

		first := e.dialResume(t, nil, "first", true)
		if first.resumed || string(first.echo) != "first" || len(first.ticket) == 0 {
			t.Fatalf("first connection: resumed %v, echo %q, ticket %d bytes", first.resumed, first.echo, len(first.ticket))
		}
		second := e.dialResume(t, first.ticket, "early data", false)
		if !second.resumed {
			t.Fatal("second connection not resumed")
		}
		if f, s := first.stats, second.stats; f.ResumptionAttempted || f.ResumptionSucceeded || !s.ResumptionAttempted || !s.ResumptionSucceeded {
			t.Errorf("ResumptionAttempted/ResumptionSucceeded: first connection %v/%v, second %v/%v; want false/false, true/true",
				f.ResumptionAttempted, f.ResumptionSucceeded, s.ResumptionAttempted, s.ResumptionSucceeded)
		}
		if string(second.echo) != "early data" {
			t.Fatalf("echo %q", second.echo)
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if len(rs.resumed) != 1 || string(rs.resumed[0]) != "app state" {
			t.Errorf("ResumedEvent states %q, want one with the ticket's app data", rs.resumed)
		}
		if len(rs.streamFlag) != 2 || rs.streamFlag[0]&StreamOpen0RTT != 0 || rs.streamFlag[1]&StreamOpen0RTT == 0 {
			t.Errorf("PeerStreamStarted flags %v, want StreamOpen0RTT on the second connection only", rs.streamFlag)
		}
		var zeroRTT bool
		for _, f := range rs.recvFlags {
			zeroRTT = zeroRTT || f&Receive0RTT != 0
		}
		if !zeroRTT {
			t.Errorf("receive flags %v: no Receive0RTT", rs.recvFlags)
		}
		for i, err := range rs.ticketErr {
			if err != nil {
				t.Errorf("connection %d: SendResumptionTicket: %v", i, err)
			}
		}
		for i, err := range rs.secondErr {
			if !errors.Is(err, ErrInvalidState) {
				t.Errorf("connection %d: second SendResumptionTicket = %v, want ErrInvalidState", i, err)
			}
		}
	})
}

// TestZeroRTTRejectedByServerApp: the server application
// declines 0-RTT in ResumedEvent; the session resumes and the data arrives
// in 1-RTT, once.
func TestZeroRTTRejectedByServerApp(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", resumeSettings(ServerResumeAndZeroRTT))
		rs := &resumeServer{}
		e.listenResume(rs, nil)
		first := e.dialResume(t, nil, "first", true)
		rs.mu.Lock()
		rs.rejectNext = true
		rs.mu.Unlock()
		second := e.dialResume(t, first.ticket, "resent in 1-RTT", false)
		if !second.resumed || string(second.echo) != "resent in 1-RTT" {
			t.Fatalf("resumed %v, echo %q", second.resumed, second.echo)
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		for _, f := range rs.recvFlags {
			if f&Receive0RTT != 0 {
				t.Fatalf("receive flags %v: 0-RTT data accepted", rs.recvFlags)
			}
		}
	})
}

func TestResumptionAPIMisuse(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, bad := range [][]byte{nil, {}, []byte("not a ticket"), {1, 0, 0, 0, 1, 5, 'x'}} {
			if err := c.SetResumptionTicket(bad); !errors.Is(err, ErrInvalidParameter) {
				t.Errorf("SetResumptionTicket(%q) = %v, want ErrInvalidParameter", bad, err)
			}
		}
		if err := c.SendResumptionTicket(SendResumptionNone, nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("client SendResumptionTicket = %v, want ErrInvalidParameter", err)
		}

		// Server side: checked inside NewConnectionEvent, before the handshake.
		errs := make(chan []error, 1)
		l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
			if ev, ok := ev.(*NewConnectionEvent); ok {
				sc := ev.Connection
				errs <- []error{
					sc.SetResumptionTicket([]byte{1}),
					sc.SendResumptionTicket(SendResumptionNone, make([]byte, MaxResumptionAppDataLength+1)),
					sc.SendResumptionTicket(SendResumptionFinal<<1, nil),
					sc.SendResumptionTicket(SendResumptionNone, nil),
				}
			}
			return errors.New("refused")
		})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
			t.Fatal(err)
		}
		addr, _ := l.LocalAddr()
		closed := make(chan struct{})
		cc, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
			if _, ok := ev.(*ConnectionShutdownCompleteEvent); ok {
				c.Close()
				close(closed)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := cc.Start(e.cliCfg, AddressFamilyIPv4, "localhost", addr.Port()); err != nil {
			t.Fatal(err)
		}
		var got []error
		select {
		case got = <-errs:
		case <-time.After(10 * time.Second):
			t.Fatal("no NewConnectionEvent")
		}
		want := []error{ErrInvalidParameter, ErrInvalidParameter, ErrInvalidParameter, ErrInvalidState}
		for i := range want {
			if !errors.Is(got[i], want[i]) {
				t.Errorf("server call %d = %v, want %v", i, got[i], want[i])
			}
		}
		wait(t, closed, "refused connection's shutdown")
	})
}
