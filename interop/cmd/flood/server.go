package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// The echo servers under test: hquic's with library defaults (the
// settings of examples/echo) and quic-go's with its defaults. Each prints
// "listening on ADDR" once ready and exits on SIGINT or SIGTERM.

// selfSigned makes an ECDSA P-256 certificate for localhost.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// serverStats is what the hquic server reports each second on stdout.
type serverStats struct {
	Listener   quic.ListenerStatistics
	HalfOpen   int64  // server connections in their handshake
	Conns      int64  // accepted connections not yet shut down
	Goroutines int    // runtime.NumGoroutine
	HeapLive   uint64 // live heap after a collection (with -gc)
	DoSMode    bool
}

// openConns counts the accepted connections not yet shut down.
var openConns atomic.Int64

// serveHquic runs hquic's echo server on listen.
// With gc set, each report first collects garbage, to report the live heap,
// and with memprofile also rewrites that heap profile. settings are applied
// to the library (Library.SetSettings).
func serveHquic(listen netip.AddrPort, alpn string, statsEvery time.Duration, gc bool, memprofile string, settings *quic.Settings) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	lib, err := quic.Open()
	if err != nil {
		return err
	}
	defer lib.Close()
	if err := lib.SetSettings(settings); err != nil {
		return err
	}
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "flood"})
	if err != nil {
		return err
	}
	defer reg.Close()
	cfg, err := reg.NewConfiguration([]string{alpn}, &quic.Settings{
		PeerBidiStreamCount: quic.Some[uint16](1000),
		IdleTimeout:         quic.Some(30 * time.Second),
	})
	if err != nil {
		return err
	}
	defer cfg.Close()
	if err := cfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialTLSCertificate, Certificates: []tls.Certificate{cert}}); err != nil {
		return err
	}
	l, err := reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		switch ev := ev.(type) {
		case *quic.NewConnectionEvent:
			ev.Connection.SetHandler(echoConnection)
			if err := ev.Connection.SetConfiguration(cfg); err != nil {
				return err
			}
			openConns.Add(1)
		case *quic.DoSModeChangedEvent:
			fmt.Printf("dosmode %v\n", ev.Enabled)
		}
		return nil
	})
	if err != nil {
		return err
	}
	l.SetDoSModeEvents(true)
	defer l.Close()
	if err := l.Start([]string{alpn}, listen); err != nil {
		return err
	}
	addr, _ := l.LocalAddr()
	fmt.Printf("listening on %v\n", addr)
	return waitForSignal(statsEvery, func() {
		st := serverStats{Listener: l.Statistics(), HalfOpen: lib.HalfOpenConnections(), Conns: openConns.Load(),
			Goroutines: runtime.NumGoroutine(), DoSMode: lib.DoSMode()}
		if gc {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			st.HeapLive = m.HeapAlloc
			if memprofile != "" {
				writeHeapProfile(memprofile)
			}
		}
		b, _ := json.Marshal(st)
		fmt.Printf("stats %s\n", b)
	})
}

// writeHeapProfile replaces file with a heap profile, through a temporary
// file so that a reader never sees half of one.
func writeHeapProfile(file string) {
	tmp := file + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return
	}
	err = pprof.WriteHeapProfile(f)
	if f.Close() == nil && err == nil {
		os.Rename(tmp, file)
	}
}

func echoConnection(c *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.PeerStreamStartedEvent:
		ev.Stream.SetHandler(echoStream)
	case *quic.ConnectionShutdownCompleteEvent:
		openConns.Add(-1)
		if !ev.AppCloseInProgress {
			c.Close()
		}
	}
	return nil
}

// echoStream sends back what it receives (a copy: receive buffers are only
// lent for the handler's duration).
func echoStream(s *quic.Stream, ev quic.StreamEvent) error {
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

// serveQuicGo runs quic-go's echo server on listen with quic-go's default
// Transport and Config (no forced address validation).
func serveQuicGo(listen netip.AddrPort, alpn string) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(listen))
	if err != nil {
		return err
	}
	tr := &qgo.Transport{Conn: uc}
	defer tr.Close()
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}, &qgo.Config{MaxIncomingStreams: 1000})
	if err != nil {
		return err
	}
	fmt.Printf("listening on %v\n", uc.LocalAddr())
	go func() {
		for {
			c, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			go func() {
				for {
					s, err := c.AcceptStream(context.Background())
					if err != nil {
						return
					}
					go func() {
						io.Copy(s, s)
						s.Close()
					}()
				}
			}()
		}
	}()
	return waitForSignal(0, nil)
}

// waitForSignal returns on SIGINT or SIGTERM, calling tick every interval
// meanwhile (if both are set).
func waitForSignal(interval time.Duration, tick func()) error {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	var c <-chan time.Time
	if interval > 0 && tick != nil {
		t := time.NewTicker(interval)
		defer t.Stop()
		c = t.C
	}
	for {
		select {
		case <-stop:
			return nil
		case <-c:
			tick()
		}
	}
}
