package quic

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestServerRaisesPeerStreamsWhenTheClientNeedsThem(t *testing.T) {
	e := newE2E(t, "echo", &Settings{PeerBidiStreamCount: Some[uint16](1), IdleTimeout: Some(10 * time.Second)})
	raised := make(chan error, 1)
	l, err := e.reg.NewListener(func(l *Listener, ev ListenerEvent) error {
		if ev, ok := ev.(*NewConnectionEvent); ok {
			ev.Connection.SetHandler(func(c *Connection, ev ConnectionEvent) error {
				if _, ok := ev.(*PeerNeedsStreamsEvent); ok {
					raised <- c.SetSettings(&Settings{PeerBidiStreamCount: Some[uint16](10)})
				}
				return echoServerConn(c, ev)
			})
			return ev.Connection.SetConfiguration(e.srvCfg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start([]string{"echo"}, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	e.listener = l
	e.addr, _ = l.LocalAddr()
	c, closed := e.connect(t, nil)
	defer func() { c.Shutdown(ConnectionShutdownNone, 0); wait(t, closed, "shutdown") }()
	accepted := make(chan struct{})
	for i := range 2 {
		s, err := c.NewStream(StreamOpenNone, func(s *Stream, ev StreamEvent) error {
			switch ev.(type) {
			case *PeerAcceptedEvent:
				close(accepted)
			case *StreamShutdownCompleteEvent:
				s.Close()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		flags := StreamStartImmediate
		if i == 1 {
			flags |= StreamStartIndicatePeerAccept
		}
		if err := s.Start(flags); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-raised:
		if err != nil {
			t.Fatalf("live SetSettings: %v", err)
		}
	case <-timeAfter():
		t.Fatal("no PeerNeedsStreamsEvent")
	}
	wait(t, accepted, "the second stream accepted after the server raised its limit")
	if got := c.Settings(); got.PeerBidiStreamCount.Value != 0 {
		t.Fatalf("client's own PeerBidiStreamCount changed to %d", got.PeerBidiStreamCount.Value)
	}
}

func TestLiveSettingsRules(t *testing.T) {
	e := newE2E(t, "echo", nil)
	e.listenEcho()
	c, closed := e.connect(t, nil)
	defer func() { c.Shutdown(ConnectionShutdownNone, 0); wait(t, closed, "shutdown") }()
	for _, tc := range []struct {
		name string
		s    Settings
		want error
	}{
		{"keep-alive", Settings{KeepAliveInterval: Some(time.Second)}, nil},
		{"idle timeout", Settings{IdleTimeout: Some(20 * time.Second)}, nil},
		{"stream counts", Settings{PeerBidiStreamCount: Some[uint16](5), PeerUnidiStreamCount: Some[uint16](5)}, nil},
		{"stream window for new streams", Settings{StreamRecvWindowDefault: Some[uint32](1 << 20)}, nil},
		{"larger connection window", Settings{ConnFlowControlWindow: Some[uint32](32 << 20)}, nil},
		{"smaller connection window", Settings{ConnFlowControlWindow: Some[uint32](1 << 20)}, ErrInvalidParameter},
		{"MTU", Settings{MaximumMTU: Some[uint16](1400)}, ErrInvalidParameter},
		{"ECN", Settings{ECNEnabled: Some(true)}, ErrInvalidParameter},
		{"max ack delay", Settings{MaxAckDelay: Some(10 * time.Millisecond)}, ErrInvalidState},
		{"datagrams", Settings{DatagramReceiveEnabled: Some(true)}, ErrInvalidState},
		{"congestion control", Settings{CongestionControlAlgorithm: Some(CongestionControlBBR)}, ErrInvalidState},
		{"library-wide", Settings{MaxStatelessOperations: Some[uint32](3)}, ErrInvalidState},
		{"a refused field with an allowed one", Settings{KeepAliveInterval: Some(2 * time.Second), InitialRTT: Some(time.Millisecond)}, ErrInvalidState},
	} {
		err := c.SetSettings(&tc.s)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	st, err := c.Statistics()
	if err != nil || st.TimingStart.IsZero() || st.TimingHandshakeFlightEnd < st.TimingInitialFlightEnd ||
		st.TimingInitialFlightEnd <= 0 || st.HandshakeClientFlight1Bytes == 0 || st.HandshakeServerFlight1Bytes == 0 ||
		st.HandshakeClientFlight2Bytes == 0 || st.SendPathMTU < 1248 {
		t.Fatalf("statistics after the handshake: %+v, %v", st, err)
	}
	got := c.Settings()
	if got.KeepAliveInterval.Value != time.Second || !got.KeepAliveInterval.Set || got.IdleTimeout.Value != 20*time.Second ||
		got.ConnFlowControlWindow.Value != 32<<20 || got.StreamRecvWindowBidiRemoteDefault.Value != 1<<20 {
		t.Fatalf("settings after the live changes: %+v", got)
	}
}
