package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hquic/quic/interop/internal/runner"
	qgo "github.com/quic-go/quic-go"
)

// Stream error codes the server resets with.
const (
	codeBadRequest = 0x10
	codeNotFound   = 0x11
)

// serve runs the HTTP/0.9 server until SIGINT or SIGTERM.
func serve(env *runner.Env) error {
	keyLog, err := env.KeyLog()
	if err != nil {
		return err
	}
	if keyLog != nil {
		defer keyLog.Close()
	}
	cert, err := tls.LoadX509KeyPair(env.CertFile(), env.KeyFile())
	if err != nil {
		return err
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{runner.ALPN}}
	if keyLog != nil {
		tlsConf.KeyLogWriter = keyLog
	}
	ua, err := net.ResolveUDPAddr("udp", env.Listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return err
	}
	tr := &qgo.Transport{Conn: uc}
	if env.TestCase == runner.CaseRetry {
		tr.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	defer tr.Close()
	conf := &qgo.Config{
		MaxIdleTimeout:       30 * time.Second,
		HandshakeIdleTimeout: 30 * time.Second,
		MaxIncomingStreams:   1000,
		Allow0RTT:            env.TestCase == runner.CaseZeroRTT,
		Tracer:               qlogTracer(env),
	}
	ln, err := tr.ListenEarly(tlsConf, conf)
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
			go serveConn(env, c)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return ln.Close()
}

func serveConn(env *runner.Env, c *qgo.Conn) {
	for {
		s, err := c.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go serveStream(env, s)
	}
}

func serveStream(env *runner.Env, s *qgo.Stream) {
	req, err := io.ReadAll(io.LimitReader(s, runner.MaxRequest+1))
	if err != nil || len(req) > runner.MaxRequest {
		s.CancelRead(codeBadRequest)
		s.CancelWrite(codeBadRequest)
		return
	}
	name, err := runner.ParseRequest(env.WWW, req)
	if err != nil {
		s.CancelWrite(codeBadRequest)
		return
	}
	f, err := runner.Open(name)
	if err != nil {
		s.CancelWrite(codeNotFound)
		return
	}
	defer f.Close()
	if _, err := io.Copy(s, f); err != nil {
		s.CancelWrite(codeNotFound)
		return
	}
	s.Close()
}
