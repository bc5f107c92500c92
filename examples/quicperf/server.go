package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hquic/quic"
)

// perfServer answers perf requests on every connection it accepts.
type perfServer struct {
	cfg       *quic.Configuration
	listener  *quic.Listener
	connsOpen atomic.Int64
}

func runServer(args []string) int {
	fs := flag.NewFlagSet("quicperf server", flag.ExitOnError)
	addrFlag := fs.String("addr", "127.0.0.1:4433", "address to listen on (HOST:PORT)")
	certFile := fs.String("cert", "", "PEM certificate chain (default: a self-signed certificate)")
	keyFile := fs.String("key", "", "PEM private key")
	execFlag := fs.String("exec", "lowlat", execHelp)
	ccFlag := fs.String("cc", "cubic", ccHelp)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file at each stats report (SIGUSR1)")
	fs.Parse(args)
	if *memProfile != "" {
		runtime.MemProfileRate = 512
	}
	addr, err := netip.ParseAddrPort(*addrFlag)
	if err != nil {
		return fail(fmt.Errorf("-addr: %w", err))
	}
	profile, err := parseProfile(*execFlag)
	if err != nil {
		return fail(err)
	}
	cc, err := parseCC(*ccFlag)
	if err != nil {
		return fail(err)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fail(err)
	}
	defer stopProfile()
	lib, reg, err := open(profile)
	if err != nil {
		return fail(err)
	}
	defer lib.Close()
	defer reg.Close()
	var cred *quic.CredentialConfig
	switch {
	case *certFile != "" && *keyFile != "":
		cred = &quic.CredentialConfig{Type: quic.CredentialCertificateFile, CertFile: *certFile, KeyFile: *keyFile}
	case *certFile != "" || *keyFile != "":
		return fail(fmt.Errorf("-cert and -key go together"))
	default:
		if cred, err = selfSigned(); err != nil {
			return fail(err)
		}
	}
	srv, err := startServer(reg, addr, cred, cc)
	if err != nil {
		return fail(err)
	}
	defer srv.close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	report := notifyStats()
	bound, _ := srv.listener.LocalAddr()
	fmt.Printf("listening addr=%v\n", bound)
	for {
		select {
		case <-stop:
			return 0
		case <-report:
			fmt.Println(statsLine(srv.connsOpen.Load()))
			if err := writeHeapProfile(*memProfile); err != nil {
				fmt.Fprintln(os.Stderr, "quicperf:", err)
			}
		}
	}
}

// serverSettings are the transport settings of the server: room for many
// parallel request streams, connections that stay while idle long enough
// for the idle-memory measurement, and congestion controller cc.
func serverSettings(cc quic.CongestionControlAlgorithm) *quic.Settings {
	return &quic.Settings{
		PeerBidiStreamCount:        quic.Some[uint16](1000),
		PeerUnidiStreamCount:       quic.Some[uint16](1000),
		IdleTimeout:                quic.Some(120 * time.Second),
		SendBufferingEnabled:       quic.Some(false),
		CongestionControlAlgorithm: quic.Some(cc),
	}
}

func startServer(reg *quic.Registration, addr netip.AddrPort, cred *quic.CredentialConfig, cc quic.CongestionControlAlgorithm) (*perfServer, error) {
	cfg, err := reg.NewConfiguration([]string{alpn}, serverSettings(cc))
	if err != nil {
		return nil, err
	}
	if err := cfg.LoadCredential(cred); err != nil {
		cfg.Close()
		return nil, err
	}
	srv := &perfServer{cfg: cfg}
	l, err := reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			srv.connsOpen.Add(1)
			ev.Connection.SetHandler(srv.connection)
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
	srv.listener = l
	return srv, nil
}

func (srv *perfServer) close() {
	srv.listener.Close()
	srv.cfg.Close()
}

func (srv *perfServer) connection(c *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.PeerStreamStartedEvent:
		r := &request{c: c, uni: ev.Flags&quic.StreamOpenUnidirectional != 0}
		ev.Stream.SetHandler(r.onEvent)
	case *quic.ConnectionShutdownCompleteEvent:
		srv.connsOpen.Add(-1)
		if !ev.AppCloseInProgress {
			c.Close()
		}
	}
	return nil
}

// request is one request stream on the server: it drains the upload to
// FIN, then sends the requested bytes and FIN, on the same stream or, for
// a unidirectional request, on a new unidirectional stream.
type request struct {
	c    *quic.Connection
	uni  bool
	hdr  headerParser
	resp *sender
}

func (r *request) onEvent(s *quic.Stream, ev quic.StreamEvent) error {
	if r.resp != nil && !r.uni {
		if handled, err := r.resp.onEvent(ev); handled {
			if err != nil {
				s.Shutdown(quic.StreamShutdownAbort, 1)
			}
			return nil
		}
	}
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		r.hdr.feed(ev.Buffers)
		if ev.Flags&quic.ReceiveFIN != 0 {
			r.respond(s)
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

// respond starts the response once the request has been read.
func (r *request) respond(s *quic.Stream) {
	if !r.hdr.complete() {
		s.Shutdown(quic.StreamShutdownAbort, 2)
		return
	}
	want := r.hdr.value()
	if !r.uni {
		r.resp = newSender(s, nil, want, false)
		if err := r.resp.pump(); err != nil {
			s.Shutdown(quic.StreamShutdownAbort, 1)
		}
		return
	}
	var resp *sender
	out, err := r.c.NewStream(quic.StreamOpenUnidirectional, func(s *quic.Stream, ev quic.StreamEvent) error {
		if handled, err := resp.onEvent(ev); handled {
			if err != nil {
				s.Shutdown(quic.StreamShutdownAbort, 1)
			}
			return nil
		}
		if ev, ok := ev.(*quic.StreamShutdownCompleteEvent); ok && !ev.AppCloseInProgress {
			s.Close()
		}
		return nil
	})
	if err != nil {
		return
	}
	resp = newSender(out, nil, want, true)
	if err := resp.pump(); err != nil {
		out.Shutdown(quic.StreamShutdownAbort, 1)
	}
}
