package quic

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/testutil"
	"github.com/hquic/quic/netsim"
)

// These tests run a client and a server through the public API only,
// over netsim in a synctest bubble (simTest), so that they take virtual
// time and depend on nothing of the machine; a few run over real UDP on
// 127.0.0.1 to test the socket layer.

type e2e struct {
	t        *testing.T
	lib      *Library
	reg      *Registration
	srvCfg   *Configuration
	cliCfg   *Configuration
	listener *Listener
	addr     netip.AddrPort
	net      *netsim.Network // the network the library runs on; nil over UDP
	host     *netsim.Host    // the library's host on net (e2eHostAddrs)
}

// certTime is a time inside the test certificates' validity, which the
// clock of a synctest bubble, starting in 2000, must first reach.
var certTime = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// simTest runs f in a synctest bubble whose clock has been moved to
// certTime: over netsim, everything f does then runs in virtual time.
func simTest(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(time.Until(certTime))
		f(t)
	})
}

// e2eHostAddrs are the addresses of the simulated host the e2e library
// runs on.
var e2eHostAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")}

// newE2E opens a library on a netsim network (e.net, empty and without
// loss or delay until the test configures it) with a registration and a
// server and a client configuration for alpn.
func newE2E(t *testing.T, alpn string, serverSettings *Settings) *e2e {
	t.Helper()
	return newE2EGlobal(t, alpn, serverSettings, nil)
}

// newE2EGlobal is newE2E with global settings applied before the
// registration opens.
func newE2EGlobal(t *testing.T, alpn string, serverSettings *Settings, global *GlobalSettings) *e2e {
	t.Helper()
	return newE2EOn(t, alpn, serverSettings, global, true)
}

// newE2EUDP is newE2E over the system's UDP.
func newE2EUDP(t *testing.T, alpn string, serverSettings *Settings) *e2e {
	t.Helper()
	return newE2EOn(t, alpn, serverSettings, nil, false)
}

func newE2EOn(t *testing.T, alpn string, serverSettings *Settings, global *GlobalSettings, sim bool) *e2e {
	t.Helper()
	lib, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if global != nil {
		if err := lib.SetGlobalSettings(global); err != nil {
			t.Fatal(err)
		}
	}
	e := &e2e{t: t, lib: lib}
	if sim {
		e.net = netsim.New(netsim.Config{})
		e.host = e.net.Host(e2eHostAddrs...)
		if err := lib.SetPacketNetwork(e.host); err != nil {
			t.Fatal(err)
		}
	}
	e.reg, err = lib.NewRegistration(&RegistrationConfig{AppName: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	reg := e.reg
	if serverSettings == nil {
		serverSettings = &Settings{PeerBidiStreamCount: Some[uint16](100), IdleTimeout: Some(10 * time.Second)}
	}
	e.srvCfg, err = reg.NewConfiguration([]string{alpn}, serverSettings)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srvCfg.LoadCredential(&CredentialConfig{Type: CredentialTLSCertificate,
		Certificates: []tls.Certificate{testutil.ServerCertificate()}}); err != nil {
		t.Fatal(err)
	}
	e.cliCfg, err = reg.NewConfiguration([]string{alpn}, &Settings{IdleTimeout: Some(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cliCfg.LoadCredential(&CredentialConfig{Type: CredentialNone, Flags: CredentialClient,
		RootCAs: testutil.RootCAs()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func (e *e2e) close() {
	if e.listener != nil {
		e.listener.Close()
	}
	e.srvCfg.Close()
	e.cliCfg.Close()
	done := e.reg.CloseAsync()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		e.t.Error("registration did not close: a handle leaked")
		return
	}
	if err := e.lib.Close(); err != nil {
		e.t.Error(err)
	}
}

// listenEcho starts a listener whose connections echo every stream.
func (e *e2e) listenEcho() {
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		switch ev := ev.(type) {
		case *NewConnectionEvent:
			ev.Connection.SetHandler(echoServerConn)
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

func echoServerConn(c *Connection, ev ConnectionEvent) error {
	switch ev := ev.(type) {
	case *PeerStreamStartedEvent:
		ev.Stream.SetHandler(echoServerStream)
	case *ConnectionShutdownCompleteEvent:
		if !ev.AppCloseInProgress {
			c.Close()
		}
	}
	return nil
}

func echoServerStream(s *Stream, ev StreamEvent) error {
	switch ev := ev.(type) {
	case *ReceiveEvent:
		var data []byte
		for _, b := range ev.Buffers {
			data = append(data, b...)
		}
		flags := SendNone
		if ev.Flags&ReceiveFIN != 0 {
			flags = SendFIN
		}
		if len(data) > 0 || flags != SendNone {
			s.Send([][]byte{data}, flags, nil)
		}
	case *StreamShutdownCompleteEvent:
		s.Close()
	}
	return nil
}

func TestEchoOverLoopback(t *testing.T) {
	e := newE2EUDP(t, "echo", nil)
	e.listenEcho()

	var mu sync.Mutex
	var got []byte
	done := make(chan struct{})
	connected := make(chan struct{})
	closed := make(chan struct{})
	var events []string
	c, err := e.reg.NewConnection(func(c *Connection, ev ConnectionEvent) error {
		mu.Lock()
		events = append(events, typeName(ev))
		mu.Unlock()
		switch ev.(type) {
		case *ConnectedEvent:
			close(connected)
		case *ConnectionShutdownCompleteEvent:
			c.Close()
			close(closed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
		switch ev := ev.(type) {
		case *ReceiveEvent:
			mu.Lock()
			for _, b := range ev.Buffers {
				got = append(got, b...)
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
	if err := c.Start(e.cliCfg, AddressFamilyIPv4, "localhost", e.addr.Port()); err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello over loopback")
	if err := s.Send([][]byte{msg}, SendStart|SendFIN, "ctx"); err != nil {
		t.Fatal(err)
	}
	wait(t, connected, "CONNECTED")
	wait(t, done, "stream SHUTDOWN_COMPLETE")
	mu.Lock()
	if !bytes.Equal(got, msg) {
		t.Errorf("echo = %q, want %q", got, msg)
	}
	mu.Unlock()
	if err := c.Shutdown(ConnectionShutdownNone, 7); err != nil {
		t.Fatal(err)
	}
	wait(t, closed, "connection SHUTDOWN_COMPLETE")
	mu.Lock()
	t.Logf("client events: %v", events)
	mu.Unlock()
	if err := s.Send(nil, SendFIN, nil); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Send on a closed stream = %v, want ErrInvalidState", err)
	}
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func typeName(v any) string {
	return fmt.Sprintf("%T", v)
}

// echoOn echoes msg on a new stream of c.
func echoOn(t *testing.T, c *Connection, msg string) {
	t.Helper()
	var got []byte
	done := make(chan struct{})
	s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
		switch ev := ev.(type) {
		case *ReceiveEvent:
			for _, b := range ev.Buffers {
				got = append(got, b...)
			}
		case *StreamShutdownCompleteEvent:
			s.Close()
			close(done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([][]byte{[]byte(msg)}, SendStart|SendFIN, nil); err != nil {
		t.Fatal(err)
	}
	wait(t, done, "echo of "+msg)
	if string(got) != msg {
		t.Errorf("echo %q, want %q", got, msg)
	}
}
