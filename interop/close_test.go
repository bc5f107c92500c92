package interop

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// goCloseError waits for a quic-go connection to close and returns why.
func goCloseError(t *testing.T, gc *qgo.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, err := gc.AcceptStream(ctx)
	if ctx.Err() != nil {
		t.Fatal("timed out waiting for the quic-go connection to close")
	}
	return err
}

func checkGoAppClose(t *testing.T, err error, code uint64) {
	t.Helper()
	var ae *qgo.ApplicationError
	if !errors.As(err, &ae) || !ae.Remote || uint64(ae.ErrorCode) != code {
		t.Errorf("quic-go saw %v, want a remote application error 0x%x", err, code)
	}
}

func checkHquicPeerClose(t *testing.T, rec *connRec, code uint64) {
	t.Helper()
	ev := wait(t, rec.peer, "hquic ShutdownInitiatedByPeerEvent")
	if ev.ErrorCode != code {
		t.Errorf("hquic ShutdownInitiatedByPeerEvent code 0x%x, want 0x%x", ev.ErrorCode, code)
	}
	done := wait(t, rec.complete, "hquic shutdown complete")
	if !done.HandshakeCompleted {
		t.Error("HandshakeCompleted not set")
	}
}

// hquicClientToGo connects an hquic client to a quic-go server.
func hquicClientToGo(t *testing.T) (*quic.Connection, *connRec, *qgo.Conn) {
	h := newHQ(t)
	addr, conns := goListen(t, "close", nil)
	rec := newConnRec(nil)
	c := h.dial(h.clientConfig("close"), addr, rec)
	wait(t, rec.connected, "hquic ConnectedEvent")
	return c, rec, wait(t, conns, "quic-go accepted connection")
}

// goClientToHquic connects a quic-go client to an hquic listener.
func goClientToHquic(t *testing.T) (*quic.Connection, *connRec, *qgo.Conn) {
	h := newHQ(t)
	var addr netip.AddrPort
	addr, recs, _ := h.listen(h.serverConfig("close"), "close", nil)
	gc, err := goDial(t, addr, "close")
	if err != nil {
		t.Fatal(err)
	}
	rec := wait(t, recs, "hquic NewConnectionEvent")
	c := wait(t, rec.conns, "hquic server connection")
	wait(t, rec.connected, "hquic ConnectedEvent")
	return c, rec, gc
}

func TestCloseCodes(t *testing.T) {
	const code = 0x2a17
	t.Run("HquicClientShutdown", func(t *testing.T) {
		c, rec, gc := hquicClientToGo(t)
		c.Shutdown(quic.ConnectionShutdownNone, code)
		checkGoAppClose(t, goCloseError(t, gc), code)
		wait(t, rec.complete, "hquic shutdown complete")
	})
	t.Run("HquicServerShutdown", func(t *testing.T) {
		c, rec, gc := goClientToHquic(t)
		c.Shutdown(quic.ConnectionShutdownNone, code)
		checkGoAppClose(t, goCloseError(t, gc), code)
		wait(t, rec.complete, "hquic shutdown complete")
	})
	t.Run("GoServerClose", func(t *testing.T) {
		_, rec, gc := hquicClientToGo(t)
		gc.CloseWithError(code, "bye")
		checkHquicPeerClose(t, rec, code)
	})
	t.Run("GoClientClose", func(t *testing.T) {
		_, rec, gc := goClientToHquic(t)
		gc.CloseWithError(code, "bye")
		checkHquicPeerClose(t, rec, code)
	})
}
