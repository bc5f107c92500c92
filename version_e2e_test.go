package quic

import (
	"errors"
	"testing"
)

// A client that starts with a version the server doesn't speak gets a
// Version Negotiation packet and starts again with one it does, invisibly
// to the application.
func TestVersionNegotiationRestartsTransparently(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.listenEcho()
		const reserved = 0x1a2a3a4a
		if err := e.cliCfg.SetVersionSettings(&VersionSettings{
			FullyDeployedVersions: []uint32{reserved, Version1},
			OfferedVersions:       []uint32{reserved, Version1},
		}); err != nil {
			t.Fatal(err)
		}
		st := e.dialEcho(t, "after version negotiation")
		if !st.VersionNegotiation {
			t.Error("no version negotiation recorded")
		}
		if st.Version != Version1 {
			t.Errorf("QUICVersion = %#x, want v1", st.Version)
		}
	})
}

// QUIC v2 end to end: the client starts in v2.
func TestVersion2Handshake(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		e.listenEcho()
		if err := e.cliCfg.SetVersionSettings(&VersionSettings{
			FullyDeployedVersions: []uint32{Version2},
			OfferedVersions:       []uint32{Version2},
		}); err != nil {
			t.Fatal(err)
		}
		if st := e.dialEcho(t, "over QUIC v2"); st.Version != Version2 {
			t.Errorf("QUICVersion = %#x, want v2", st.Version)
		}
	})
}

// Compatible version negotiation (RFC 9368): the client starts in v1 and
// offers v2; a server that prefers v2 switches it.
func TestCompatibleVersionNegotiationToV2(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		if err := e.lib.SetVersionSettings(&VersionSettings{
			AcceptableVersions:    []uint32{Version2, Version1},
			FullyDeployedVersions: []uint32{Version2, Version1},
		}); err != nil {
			t.Fatal(err)
		}
		e.listenEcho()
		if err := e.cliCfg.SetVersionSettings(&VersionSettings{
			FullyDeployedVersions: []uint32{Version1},
			OfferedVersions:       []uint32{Version1, Version2},
		}); err != nil {
			t.Fatal(err)
		}
		st := e.dialEcho(t, "upgraded to v2")
		if !st.VersionNegotiation || st.Version != Version2 {
			t.Errorf("the connection did not change version: negotiation %v, QUICVersion %#x", st.VersionNegotiation, st.Version)
		}
	})
}

// A client's version is unknown until it starts.
func TestQUICVersionBeforeStart(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		c, err := e.reg.NewConnection(func(*Connection, ConnectionEvent) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if v, err := c.QUICVersion(); !errors.Is(err, ErrInvalidState) {
			t.Errorf("QUICVersion before Start = %#x, %v; want ErrInvalidState", v, err)
		}
	})
}
