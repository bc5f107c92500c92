package main

import (
	"net/netip"
	"time"

	"github.com/hquic/quic"
)

// server is a running echo listener.
type server struct {
	cfg      *quic.Configuration
	listener *quic.Listener
	addr     netip.AddrPort
}

// startServer listens on addr and echoes every stream of every connection.
func startServer(reg *quic.Registration, addr netip.AddrPort, cred *quic.CredentialConfig, alpn string) (*server, error) {
	cfg, err := reg.NewConfiguration([]string{alpn}, &quic.Settings{
		PeerBidiStreamCount: quic.Some[uint16](1000),
		IdleTimeout:         quic.Some(30 * time.Second),
	})
	if err != nil {
		return nil, err
	}
	if err := cfg.LoadCredential(cred); err != nil {
		cfg.Close()
		return nil, err
	}
	l, err := reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			ev.Connection.SetHandler(serverConnection)
			return ev.Connection.SetConfiguration(cfg)
		}
		return nil
	})
	if err != nil {
		cfg.Close()
		return nil, err
	}
	if err := l.Start([]string{alpn}, addr); err != nil {
		l.Close()
		cfg.Close()
		return nil, err
	}
	bound, _ := l.LocalAddr()
	return &server{cfg: cfg, listener: l, addr: bound}, nil
}

func (s *server) close() {
	s.listener.Close()
	s.cfg.Close()
}

func serverConnection(c *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.PeerStreamStartedEvent:
		ev.Stream.SetHandler(serverStream)
	case *quic.ConnectionShutdownCompleteEvent:
		if !ev.AppCloseInProgress {
			c.Close()
		}
	}
	return nil
}

// serverStream sends back what it receives. Each received chunk is copied,
// since the receive buffers are only lent for the handler's duration, and
// the copy is owned by the library until its send completes.
func serverStream(s *quic.Stream, ev quic.StreamEvent) error {
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		var data []byte
		for _, b := range ev.Buffers {
			data = append(data, b...)
		}
		flags := quic.SendNone
		if ev.Flags&quic.ReceiveFIN != 0 {
			flags = quic.SendFIN
		}
		if len(data) > 0 || flags != quic.SendNone {
			if err := s.Send([][]byte{data}, flags, nil); err != nil {
				s.Shutdown(quic.StreamShutdownAbort, 1)
			}
		}
	case *quic.PeerSendAbortedEvent:
		s.Shutdown(quic.StreamShutdownAbort, ev.ErrorCode)
	case *quic.StreamShutdownCompleteEvent:
		if !ev.AppCloseInProgress {
			s.Close()
		}
	}
	return nil
}
