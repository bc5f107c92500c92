package interop

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"testing"

	quic "github.com/hquic/quic"
	qgo "github.com/quic-go/quic-go"
)

// Versions, Version Negotiation and Retry between hquic and quic-go.

// echoed is what one echo round trip learned about the hquic side.
type echoed struct {
	stats   quic.Statistics
	version uint32
}

// hquicEchoOnce dials addr with cfg, echoes msg on one stream and returns
// the connection's statistics and QUIC version before shutting it down.
func hquicEchoOnce(t *testing.T, h *hq, cfg *quic.Configuration, addr netip.AddrPort, msg []byte) echoed {
	t.Helper()
	rec := newConnRec(nil)
	c, err := h.reg.NewConnection(rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetRemoteAddr(addr); err != nil {
		t.Fatal(err)
	}
	got, done := make(chan []byte, 1), make(chan struct{})
	var buf []byte
	s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
		switch ev := ev.(type) {
		case *quic.ReceiveEvent:
			for _, b := range ev.Buffers {
				buf = append(buf, b...)
			}
		case *quic.StreamShutdownCompleteEvent:
			got <- buf
			s.Close()
			close(done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([][]byte{msg}, quic.SendStart|quic.SendFIN, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(cfg, quic.AddressFamilyUnspec, "localhost", addr.Port()); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, msg) {
			t.Errorf("echoed %d bytes, want %d", len(b), len(msg))
		}
	case ev := <-rec.transport:
		t.Fatalf("connection closed by the transport: %v", ev.Err)
	case ev := <-rec.peer:
		t.Fatalf("connection closed by the peer with code %d", ev.ErrorCode)
	case <-timeoutC():
		t.Fatal("timed out waiting for the echo")
	}
	<-done
	var e echoed
	if e.stats, err = c.Statistics(); err != nil {
		t.Error(err)
	}
	if e.version, err = c.QUICVersion(); err != nil {
		t.Error(err)
	}
	c.Shutdown(quic.ConnectionShutdownNone, 0)
	wait(t, rec.complete, "hquic shutdown complete")
	return e
}

// goEchoOnce echoes msg on one stream of a quic-go connection.
func goEchoOnce(t *testing.T, gc *qgo.Conn, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, err := gc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("echoed %d bytes, want %d", len(got), len(msg))
	}
}

// goDialConf dials addr with quic-go using conf.
func goDialConf(t *testing.T, addr netip.AddrPort, alpn string, conf *qgo.Config) *qgo.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	gc, err := qgo.DialAddr(ctx, addr.String(), goClientTLS(t, alpn), conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gc.CloseWithError(0, "") })
	return gc
}

// goEchoListen starts a quic-go echo server on tr (a fresh one on
// 127.0.0.1 if nil) with conf.
func goEchoListen(t *testing.T, tr *qgo.Transport, alpn string, conf *qgo.Config) netip.AddrPort {
	t.Helper()
	if tr == nil {
		tr = &qgo.Transport{}
	}
	if tr.Conn == nil {
		uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		tr.Conn = uc
	}
	ln, err := tr.Listen(goServerTLS(t, alpn), conf)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
		tr.Close()
	})
	go func() {
		defer close(done)
		for {
			gc, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			go goEchoServe(gc)
		}
	}()
	return tr.Conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// goVersionsConfig is goConfig with a version list.
func goVersionsConfig(vs ...qgo.Version) *qgo.Config {
	c := goConfig()
	c.Versions = vs
	return c
}

// v2Only makes cfg's client connections start in, and accept only, QUIC v2.
func v2Only(t *testing.T, cfg *quic.Configuration) {
	t.Helper()
	vs := []uint32{quic.Version2}
	if err := cfg.SetVersionSettings(&quic.VersionSettings{
		AcceptableVersions: vs, OfferedVersions: vs, FullyDeployedVersions: vs,
	}); err != nil {
		t.Fatal(err)
	}
}

// hquicServerVersion returns the QUIC version of the hquic server's first
// connection.
func hquicServerVersion(t *testing.T, recs <-chan *connRec) uint32 {
	t.Helper()
	rec := wait(t, recs, "hquic NewConnectionEvent")
	c := wait(t, rec.conns, "hquic server connection")
	wait(t, rec.connected, "hquic ConnectedEvent")
	v, err := c.QUICVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestV2GoClientHquicServer(t *testing.T) {
	h := newHQ(t)
	addr, recs, _ := h.listen(h.serverConfig("echo"), "echo", hquicEchoStream)
	gc := goDialConf(t, addr, "echo", goVersionsConfig(qgo.Version2))
	if v := gc.ConnectionState().Version; v != qgo.Version2 {
		t.Errorf("quic-go connected with %v, want v2", v)
	}
	goEchoOnce(t, gc, testData(1, 100<<10))
	if v := hquicServerVersion(t, recs); v != quic.Version2 {
		t.Errorf("hquic server connection version %#x, want v2", v)
	}
}

func TestV2HquicClientGoServer(t *testing.T) {
	h := newHQ(t)
	addr := goEchoListen(t, nil, "echo", goVersionsConfig(qgo.Version2, qgo.Version1))
	cfg := h.clientConfig("echo")
	v2Only(t, cfg)
	e := hquicEchoOnce(t, h, cfg, addr, testData(2, 100<<10))
	if e.version != quic.Version2 || e.stats.VersionNegotiation {
		t.Errorf("version %#x, negotiation %v; want v2 from the start", e.version, e.stats.VersionNegotiation)
	}
}

// An hquic client starting in v2 against a v1-only quic-go server gets a
// Version Negotiation packet and starts again in v1.
func TestVersionNegotiationHquicClientGoServer(t *testing.T) {
	h := newHQ(t)
	addr := goEchoListen(t, nil, "echo", goVersionsConfig(qgo.Version1))
	cfg := h.clientConfig("echo")
	if err := cfg.SetVersionSettings(&quic.VersionSettings{
		AcceptableVersions:    []uint32{quic.Version2, quic.Version1},
		OfferedVersions:       []uint32{quic.Version2, quic.Version1},
		FullyDeployedVersions: []uint32{quic.Version2, quic.Version1},
	}); err != nil {
		t.Fatal(err)
	}
	e := hquicEchoOnce(t, h, cfg, addr, []byte("negotiated"))
	if e.version != quic.Version1 || !e.stats.VersionNegotiation {
		t.Errorf("version %#x, negotiation %v; want v1 after Version Negotiation", e.version, e.stats.VersionNegotiation)
	}
}

// A quic-go client starting in v2 against a v1-only hquic server gets a
// Version Negotiation packet and starts again in v1.
func TestVersionNegotiationGoClientHquicServer(t *testing.T) {
	h := newHQ(t)
	v1 := []uint32{quic.Version1}
	if err := h.lib.SetVersionSettings(&quic.VersionSettings{
		AcceptableVersions: v1, OfferedVersions: v1, FullyDeployedVersions: v1,
	}); err != nil {
		t.Fatal(err)
	}
	addr, recs, _ := h.listen(h.serverConfig("echo"), "echo", hquicEchoStream)
	gc := goDialConf(t, addr, "echo", goVersionsConfig(qgo.Version2, qgo.Version1))
	if v := gc.ConnectionState().Version; v != qgo.Version1 {
		t.Errorf("quic-go connected with %v, want v1", v)
	}
	goEchoOnce(t, gc, []byte("negotiated"))
	if v := hquicServerVersion(t, recs); v != quic.Version1 {
		t.Errorf("hquic server connection version %#x, want v1", v)
	}
}

// A quic-go client follows the Retry of an hquic server that always sends
// one, in v1 and in v2 (whose Retry integrity key differs).
func TestRetryGoClientHquicServer(t *testing.T) {
	for _, v := range []qgo.Version{qgo.Version1, qgo.Version2} {
		t.Run(v.String(), func(t *testing.T) {
			h := newHQ(t)
			if err := h.lib.SetGlobalSettings(&quic.GlobalSettings{StatelessRetryEnabled: quic.Some(true)}); err != nil {
				t.Fatal(err)
			}
			addr, recs, _ := h.listen(h.serverConfig("echo"), "echo", hquicEchoStream)
			gc := goDialConf(t, addr, "echo", goVersionsConfig(v))
			goEchoOnce(t, gc, []byte("after a retry"))
			rec := wait(t, recs, "hquic NewConnectionEvent")
			c := wait(t, rec.conns, "hquic server connection")
			wait(t, rec.connected, "hquic ConnectedEvent")
			st, err := c.Statistics()
			if err != nil {
				t.Fatal(err)
			}
			if !st.StatelessRetry {
				t.Error("the hquic server connection did not go through a Retry")
			}
			gc.CloseWithError(0, "")
			wait(t, rec.complete, "hquic shutdown complete")
		})
	}
}

// An hquic client follows the Retry of a quic-go server that validates
// every client's address, in v1 and in v2.
func TestRetryHquicClientGoServer(t *testing.T) {
	for _, v := range []uint32{quic.Version1, quic.Version2} {
		t.Run(qgo.Version(v).String(), func(t *testing.T) {
			h := newHQ(t)
			tr := &qgo.Transport{VerifySourceAddress: func(net.Addr) bool { return true }}
			addr := goEchoListen(t, tr, "echo", goVersionsConfig(qgo.Version(v)))
			cfg := h.clientConfig("echo")
			vs := []uint32{v}
			if err := cfg.SetVersionSettings(&quic.VersionSettings{
				AcceptableVersions: vs, OfferedVersions: vs, FullyDeployedVersions: vs,
			}); err != nil {
				t.Fatal(err)
			}
			e := hquicEchoOnce(t, h, cfg, addr, []byte("after a retry"))
			if !e.stats.StatelessRetry || e.version != v {
				t.Errorf("retry %v, version %#x; want a Retry in %#x", e.stats.StatelessRetry, e.version, v)
			}
		})
	}
}
