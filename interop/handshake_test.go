package interop

import (
	"errors"
	"testing"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// noALPN is CRYPTO_ERROR(no_application_protocol), RFC 9001 §4.8.
const noALPN = 0x100 + 120

func TestHandshakeHquicClientGoServer(t *testing.T) {
	h := newHQ(t)
	addr, conns := goListen(t, "interop-a", nil)
	rec := newConnRec(nil)
	c := h.dial(h.clientConfig("interop-a"), addr, rec)
	ev := wait(t, rec.connected, "hquic ConnectedEvent")
	if ev.NegotiatedALPN != "interop-a" {
		t.Errorf("hquic negotiated ALPN %q, want interop-a", ev.NegotiatedALPN)
	}
	if got := c.NegotiatedALPN(); got != "interop-a" {
		t.Errorf("Connection.NegotiatedALPN = %q", got)
	}
	gc := wait(t, conns, "quic-go accepted connection")
	<-gc.HandshakeComplete()
	if p := gc.ConnectionState().TLS.NegotiatedProtocol; p != "interop-a" {
		t.Errorf("quic-go negotiated ALPN %q", p)
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	wait(t, rec.complete, "hquic shutdown complete")
}

func TestHandshakeGoClientHquicServer(t *testing.T) {
	h := newHQ(t)
	addr, recs, _ := h.listen(h.serverConfig("interop-b"), "interop-b", nil)
	gc, err := goDial(t, addr, "interop-b")
	if err != nil {
		t.Fatal(err)
	}
	if p := gc.ConnectionState().TLS.NegotiatedProtocol; p != "interop-b" {
		t.Errorf("quic-go negotiated ALPN %q", p)
	}
	rec := wait(t, recs, "hquic NewConnectionEvent")
	ev := wait(t, rec.connected, "hquic ConnectedEvent")
	if ev.NegotiatedALPN != "interop-b" {
		t.Errorf("hquic server negotiated ALPN %q", ev.NegotiatedALPN)
	}
	gc.CloseWithError(0, "")
	wait(t, rec.complete, "hquic shutdown complete")
}

func TestALPNMismatchHquicClientGoServer(t *testing.T) {
	h := newHQ(t)
	addr, conns := goListen(t, "server-only", nil)
	rec := newConnRec(nil)
	h.dial(h.clientConfig("client-only"), addr, rec)
	ev := wait(t, rec.transport, "hquic ShutdownInitiatedByTransportEvent")
	if ev.ErrorCode != quic.CryptoError(120) || ev.Status != quic.StatusALPNNegotiationFailure {
		t.Errorf("hquic transport shutdown: code %v status %v, want %v / %v",
			ev.ErrorCode, ev.Status, quic.CryptoError(120), quic.StatusALPNNegotiationFailure)
	}
	var te *quic.TransportError
	if !errors.As(ev.Err, &te) || !te.Remote || te.Code != quic.CryptoError(120) {
		t.Errorf("hquic Err = %v, want a remote CRYPTO_ERROR(no_application_protocol)", ev.Err)
	}
	if !errors.Is(ev.Err, quic.ErrALPNNegotiationFailure) {
		t.Errorf("errors.Is(%v, ErrALPNNegotiationFailure) = false", ev.Err)
	}
	done := wait(t, rec.complete, "hquic shutdown complete")
	if done.HandshakeCompleted {
		t.Error("HandshakeCompleted set after an ALPN failure")
	}
	select {
	case <-conns:
		t.Error("quic-go accepted a connection without a common ALPN")
	default:
	}
}

func TestALPNMismatchGoClientHquicServer(t *testing.T) {
	h := newHQ(t)
	addr, _, newConns := h.listen(h.serverConfig("server-only"), "server-only", nil)
	_, err := goDial(t, addr, "client-only")
	var te *qgo.TransportError
	if !errors.As(err, &te) || !te.Remote || te.ErrorCode != noALPN {
		t.Fatalf("quic-go dial error %v, want remote CRYPTO_ERROR 0x%x", err, noALPN)
	}
	if newConns.Load() != 0 {
		t.Errorf("hquic listener saw %d NewConnectionEvents for a connection without a common ALPN", newConns.Load())
	}
}
