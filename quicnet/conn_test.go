package quicnet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic"
)

func TestPeerCloseCodeReachesBlockedCalls(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		done := make(chan error)
		go func() {
			_, err := client.AcceptStream(context.Background())
			done <- err
		}()
		server.CloseWithError(42)
		err := <-done
		var ae *quic.ApplicationError
		if !errors.As(err, &ae) || ae.Code != 42 || !ae.Remote {
			t.Fatalf("AcceptStream after the peer closed with 42 = %v", err)
		}
		if _, err := client.OpenStream(context.Background()); !errors.As(err, &ae) {
			t.Fatalf("OpenStream on the closed connection = %v", err)
		}
		<-client.Context().Done()
		if !errors.As(context.Cause(client.Context()), &ae) {
			t.Fatalf("context cause = %v", context.Cause(client.Context()))
		}
	})
}

func TestLocalCloseFailsStreamOperations(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		a, _ := openPair(t, client, server)
		client.Close()
		_, err := a.Read(make([]byte, 1))
		var ae *quic.ApplicationError
		if !errors.As(err, &ae) || ae.Remote {
			t.Fatalf("Read on a stream of a closed connection = %v, want a local *quic.ApplicationError", err)
		}
	})
}

func TestContextEndsBlockingCalls(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		client, server := testPair(t, tn, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := client.AcceptStream(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("AcceptStream = %v", err)
		}
		if _, err := server.AcceptUniStream(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("AcceptUniStream = %v", err)
		}
		if _, err := client.ReceiveDatagram(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("ReceiveDatagram = %v", err)
		}
	})
}

func TestOpenStreamWaitsForThePeersStreamLimit(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		one := &Config{Settings: &quic.Settings{PeerBidiStreamCount: quic.Some[uint16](1)}}
		client, server := testPair(t, tn, one)
		a, b := openPair(t, client, server)
		canceled, cancel := context.WithCancel(context.Background())
		opened := make(chan error)
		go func() {
			_, err := client.OpenStream(canceled)
			opened <- err
		}()
		cancel()
		if err := <-opened; !errors.Is(err, context.Canceled) {
			t.Fatalf("OpenStream beyond the limit = %v, want context.Canceled", err)
		}
		// Once the first stream is done in both directions, the server's new
		// credit lets another stream open.
		a.Close()
		b.Close()
		ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		if _, err := client.OpenStream(ctx); err != nil {
			t.Fatalf("OpenStream after the first stream ended = %v", err)
		}
	})
}

func TestListenerAcceptAfterCloseFails(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		l := testListen(t, tn, nil)
		l.Close()
		if _, err := l.Accept(context.Background()); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close = %v", err)
		}
	})
}

func TestUnsupportedTLSFieldsAreRefused(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		conf := clientTLS(t)
		conf.VerifyPeerCertificate = func([][]byte, [][]*x509.Certificate) error { return nil }
		_, err := Dial(context.Background(), "127.0.0.1:1", conf, nil)
		if err == nil || !strings.Contains(err.Error(), "VerifyPeerCertificate") {
			t.Fatalf("Dial with VerifyPeerCertificate = %v, want a refusal naming the field", err)
		}
		srv := serverTLS(t)
		srv.ClientAuth = tls.VerifyClientCertIfGiven
		if _, err := Listen("127.0.0.1:0", srv, nil); err == nil || !strings.Contains(err.Error(), "ClientAuth") {
			t.Fatalf("Listen with VerifyClientCertIfGiven = %v", err)
		}
		noALPN := clientTLS(t)
		noALPN.NextProtos = nil
		if _, err := Dial(context.Background(), "127.0.0.1:1", noALPN, nil); err == nil || !strings.Contains(err.Error(), "NextProtos") {
			t.Fatalf("Dial without NextProtos = %v", err)
		}
	})
}

func TestDatagramsBothWays(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		on := &Config{Settings: &quic.Settings{DatagramReceiveEnabled: quic.Some(true)}}
		client, server := testPair(t, tn, on)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.SendDatagram([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		got, err := server.ReceiveDatagram(ctx)
		if err != nil || string(got) != "ping" {
			t.Fatalf("server received %q, %v", got, err)
		}
		if err := server.SendDatagram([]byte("pong")); err != nil {
			t.Fatal(err)
		}
		got, err = client.ReceiveDatagram(ctx)
		if err != nil || string(got) != "pong" {
			t.Fatalf("client received %q, %v", got, err)
		}
	})
}
