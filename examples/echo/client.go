package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/hquic/quic"
)

// result is what one echo run produced.
type result struct {
	echoes [][]byte
	stats  quic.Statistics
}

// resolveServer splits host:port and resolves host.
func resolveServer(s string) (string, netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("bad port %q", portStr)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	a, _ := netip.AddrFromSlice(ips[0])
	return host, netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
}

// echo connects to addr, sends each message on its own stream, and collects
// the echoes.
func echo(reg *quic.Registration, addr netip.AddrPort, serverName, alpn string, cred *quic.CredentialConfig, msgs [][]byte) (*result, error) {
	cfg, err := reg.NewConfiguration([]string{alpn}, &quic.Settings{IdleTimeout: quic.Some(30 * time.Second)})
	if err != nil {
		return nil, err
	}
	defer cfg.Close()
	if err := cfg.LoadCredential(cred); err != nil {
		return nil, err
	}
	var (
		mu       sync.Mutex
		res      = &result{echoes: make([][]byte, len(msgs))}
		failure  error
		pending  = len(msgs)
		finished = make(chan struct{})
		closed   = make(chan struct{})
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
				close(finished)
				pending = 0
			}
		}
	}
	c, err := reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		switch ev := ev.(type) {
		case *quic.ShutdownInitiatedByTransportEvent:
			finish(fmt.Errorf("connection closed: %w", ev.Err))
		case *quic.ShutdownInitiatedByPeerEvent:
			finish(fmt.Errorf("server closed the connection with code %d", ev.ErrorCode))
		case *quic.ConnectionShutdownCompleteEvent:
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
	for i, msg := range msgs {
		s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
			switch ev := ev.(type) {
			case *quic.ReceiveEvent:
				mu.Lock()
				for _, b := range ev.Buffers {
					res.echoes[i] = append(res.echoes[i], b...)
				}
				mu.Unlock()
			case *quic.PeerSendAbortedEvent:
				finish(fmt.Errorf("stream %d aborted by the server (code %d)", i, ev.ErrorCode))
			case *quic.StartCompleteEvent:
				if ev.Status.Failed() {
					finish(fmt.Errorf("stream %d: start failed: %w", i, ev.Status))
				}
			case *quic.StreamShutdownCompleteEvent:
				if !ev.ConnectionShutdown {
					finish(nil)
				}
				s.Close()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := s.Send([][]byte{msg}, quic.SendStart|quic.SendFIN, nil); err != nil {
			return nil, err
		}
	}
	if err := c.Start(cfg, quic.AddressFamilyUnspec, serverName, addr.Port()); err != nil {
		return nil, err
	}
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		return nil, errors.New("timed out")
	}
	mu.Lock()
	err = failure
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	res.stats, _ = c.Statistics()
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	<-closed
	return res, nil
}
