package quicnet

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic"
)

// dialFailure dials the test server with client configuration ctls and
// returns the error and how long (in the bubble's virtual time) it took.
func dialFailure(t *testing.T, tn *testNet, ctls *tls.Config, conf *Config) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	c, err := Dial(context.Background(), serverAddr, ctls, on(tn.client, conf))
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded")
	}
	return err, time.Since(start)
}

// wantCryptoError checks that err carries the TLS alert the client sent
// and text saying why.
func wantCryptoError(t *testing.T, err error, alert uint8, why string) {
	t.Helper()
	var te *quic.TransportError
	if !errors.As(err, &te) || te.Code != quic.CryptoError(alert) {
		t.Fatalf("Dial = %v, want CRYPTO_ERROR with alert %d", err, alert)
	}
	if !strings.Contains(err.Error(), why) {
		t.Errorf("Dial = %q, which does not say %q", err, why)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("Dial = %v, not a *net.OpError", err)
	}
}

func TestDialWithTheWrongCAFailsAtOnceWithUnknownCA(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		testListen(t, tn, nil)
		ctls := clientTLS(t)
		ctls.RootCAs = testCAs(t)[1].pool
		err, took := dialFailure(t, tn, ctls, nil)
		wantCryptoError(t, err, 48, "unknown authority") // unknown_ca
		t.Logf("wrong CA: after %v: %v", took, err)
		if took > 10*time.Millisecond {
			t.Errorf("took %v; the client knows after one round trip (2 ms)", took)
		}
	})
}

func TestDialWithTheWrongNameFailsAtOnceWithBadCertificate(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		testListen(t, tn, nil)
		ctls := clientTLS(t)
		ctls.ServerName = "other.test"
		err, took := dialFailure(t, tn, ctls, nil)
		wantCryptoError(t, err, 42, "other.test")
		t.Logf("name mismatch: after %v: %v", took, err)
		if took > 10*time.Millisecond {
			t.Errorf("took %v; the client knows after one round trip (2 ms)", took)
		}
	})
}

func TestDialWithNoCommonALPNFailsAtOnce(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		testListen(t, tn, nil)
		ctls := clientTLS(t)
		ctls.NextProtos = []string{"other"}
		err, took := dialFailure(t, tn, ctls, nil)
		t.Logf("ALPN mismatch: after %v: %v", took, err)
		var te *quic.TransportError
		switch {
		case errors.As(err, &te) && te.Code == quic.ErrCodeCryptoNoApplicationProtocol:
		case errors.Is(err, quic.ErrConnectionRefused):
		default:
			t.Fatalf("Dial = %v, want no_application_protocol or a refusal", err)
		}
		if took > 10*time.Millisecond {
			t.Errorf("took %v; the server answers the first flight (2 ms)", took)
		}
	})
}

func TestDialWithNothingListeningTimesOut(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		conf := &Config{Settings: &quic.Settings{HandshakeIdleTimeout: quic.Some(2 * time.Second)}}
		err, took := dialFailure(t, tn, clientTLS(t), conf)
		t.Logf("nothing listening: after %v: %v", took, err)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, quic.ErrConnectionIdle) {
			t.Fatalf("Dial = %v, want a timeout matching quic.ErrConnectionIdle", err)
		}
		if !strings.Contains(err.Error(), "no answer") || !strings.Contains(err.Error(), "2s") {
			t.Errorf("Dial = %q, which does not say that nothing answered in 2s", err)
		}
		if took < 2*time.Second || took > 3*time.Second {
			t.Errorf("took %v, want the 2 s handshake idle timeout", took)
		}
	})
}

func TestDialGivesUpWhenTheContextEnds(t *testing.T) {
	bubble(t, func(t *testing.T, tn *testNet) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := Dial(ctx, serverAddr, clientTLS(t), on(tn.client, nil))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial = %v, want context.DeadlineExceeded", err)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Dial = %v, not a net.Error with Timeout", err)
		}
	})
}
