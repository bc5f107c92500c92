package quic

import (
	"testing"
)

// A client that starts with a version the server doesn't speak gets a
// Version Negotiation packet and starts again with one it does, invisibly
// to the application.
func TestVersionNegotiationRestartsTransparently(t *testing.T) {
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
}

// QUIC v2 end to end: the client starts in v2.
func TestVersion2Handshake(t *testing.T) {
	e := newE2E(t, "echo", nil)
	e.listenEcho()
	if err := e.cliCfg.SetVersionSettings(&VersionSettings{
		FullyDeployedVersions: []uint32{Version2},
		OfferedVersions:       []uint32{Version2},
	}); err != nil {
		t.Fatal(err)
	}
	e.dialEcho(t, "over QUIC v2")
}

// Compatible version negotiation (RFC 9368): the client starts in v1 and
// offers v2; a server that prefers v2 switches it.
func TestCompatibleVersionNegotiationToV2(t *testing.T) {
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
	if !st.VersionNegotiation {
		t.Error("the connection did not change version")
	}
}
