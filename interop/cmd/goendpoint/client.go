package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hquic/quic/interop/internal/runner"
	qgo "github.com/quic-go/quic-go"
)

// connectionTimeout bounds one connection's downloads.
const connectionTimeout = 5 * time.Minute

// runClient downloads env's requests: all on one connection; one
// connection each for multiconnect; the first request on one connection
// and the rest on a resumed one (with 0-RTT for zerortt).
func runClient(env *runner.Env) error {
	keyLog, err := env.KeyLog()
	if err != nil {
		return err
	}
	if keyLog != nil {
		defer keyLog.Close()
	}
	tlsConf := &tls.Config{
		NextProtos:         []string{runner.ALPN},
		InsecureSkipVerify: !env.Verify,
		ClientSessionCache: tls.NewLRUClientSessionCache(4),
	}
	if keyLog != nil {
		tlsConf.KeyLogWriter = keyLog
	}
	if env.Verify {
		pem, err := os.ReadFile(env.CAFile())
		if err != nil {
			return err
		}
		tlsConf.RootCAs = x509.NewCertPool()
		if !tlsConf.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no certificate", env.CAFile())
		}
	}
	switch env.TestCase {
	case runner.CaseMulticonnect:
		for _, u := range env.Requests {
			if err := download(env, tlsConf, []*url.URL{u}, false); err != nil {
				return err
			}
		}
		return nil
	case runner.CaseResumption, runner.CaseZeroRTT:
		if err := download(env, tlsConf, env.Requests[:1], false); err != nil {
			return err
		}
		if len(env.Requests) > 1 {
			return download(env, tlsConf, env.Requests[1:], env.TestCase == runner.CaseZeroRTT)
		}
		return nil
	}
	return download(env, tlsConf, env.Requests, false)
}

// download fetches urls over one connection in parallel streams.
func download(env *runner.Env, tlsConf *tls.Config, urls []*url.URL, early bool) error {
	host, addr, err := runner.ServerAddr(urls[0])
	if err != nil {
		return err
	}
	tc := tlsConf.Clone()
	tc.ServerName = host
	conf := &qgo.Config{MaxIdleTimeout: 30 * time.Second, HandshakeIdleTimeout: 30 * time.Second, Tracer: qlogTracer(env)}
	ctx, cancel := context.WithTimeout(context.Background(), connectionTimeout)
	defer cancel()
	var c *qgo.Conn
	if early {
		c, err = qgo.DialAddrEarly(ctx, addr.String(), tc, conf)
	} else {
		c, err = qgo.DialAddr(ctx, addr.String(), tc, conf)
	}
	if err != nil {
		return err
	}
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = get(ctx, c, env, u)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.CloseWithError(1, "download failed")
		return err
	}
	if early && !c.ConnectionState().Used0RTT {
		fmt.Fprintln(os.Stderr, "goendpoint: 0-RTT was not used")
	}
	return c.CloseWithError(0, "")
}

func get(ctx context.Context, c *qgo.Conn, env *runner.Env, u *url.URL) error {
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if _, err := s.Write(runner.Request(u)); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	body, err := io.ReadAll(s)
	if err != nil {
		return fmt.Errorf("%s: %w", u.Path, err)
	}
	name := env.DownloadPath(u)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, body, 0o644)
}
