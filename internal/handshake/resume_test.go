package handshake

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// handshakeOnce runs a client and a server to completion, then has the
// server issue a ticket and the client store it.
func handshakeOnce(t *testing.T, clientCfg, serverCfg *tls.Config, cr, sr *recorder) (*TLS, *TLS) {
	t.Helper()
	c := NewClient(clientCfg, []byte("client-params"), cr, true)
	s := NewServer(serverCfg, []byte("server-params"), sr)
	t.Cleanup(func() { c.Close(); s.Close() })
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4 && !(c.Complete() && s.Complete()); i++ {
		if err := flush(c, s); err != nil {
			t.Fatal(err)
		}
		if err := flush(s, c); err != nil {
			t.Fatal(err)
		}
	}
	if !c.Complete() || !s.Complete() {
		t.Fatal("handshake did not complete")
	}
	return c, s
}

// resumptionSetup completes a first handshake whose ticket allows 0-RTT and
// stores it, with client-extra added, in the client's cache.
func resumptionSetup(t *testing.T) (clientCfg, serverCfg *tls.Config) {
	t.Helper()
	cert, pool := testCert(t)
	clientCfg = &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "localhost", RootCAs: pool,
		NextProtos: []string{"echo"}, ClientSessionCache: tls.NewLRUClientSessionCache(1)}
	serverCfg = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, NextProtos: []string{"echo"}}
	cr := &recorder{}
	c, s := handshakeOnce(t, clientCfg, serverCfg, cr, &recorder{})
	if err := s.SendSessionTicket(true, [][]byte{[]byte("server-extra")}); err != nil {
		t.Fatal(err)
	}
	if err := flush(s, c); err != nil {
		t.Fatal(err)
	}
	if cr.sessions != 1 || cr.stored == nil || !cr.stored.EarlyData {
		t.Fatalf("client got %d sessions (%+v), want one allowing early data", cr.sessions, cr.stored)
	}
	cr.stored.Extra = append(cr.stored.Extra, []byte("client-extra"))
	if err := c.StoreSession(cr.stored); err != nil {
		t.Fatal(err)
	}
	return clientCfg, serverCfg
}

// TestSessionResumptionWithEarlyData: a client stores the ticket it
// received through StoreSession; the next handshake reports the session on
// both sides through ResumeSession and installs 0-RTT secrets that match.
func TestSessionResumptionWithEarlyData(t *testing.T) {
	clientCfg, serverCfg := resumptionSetup(t)
	var clientExtra, serverExtra [][]byte
	cr := &recorder{onResume: func(s *tls.SessionState) { clientExtra = s.Extra }}
	sr := &recorder{onResume: func(s *tls.SessionState) { serverExtra = s.Extra }}
	c, s := handshakeOnce(t, clientCfg, serverCfg, cr, sr)
	if cr.resumed != 1 || sr.resumed != 1 {
		t.Fatalf("ResumeSession calls: client %d, server %d; want 1 each", cr.resumed, sr.resumed)
	}
	if len(clientExtra) != 1 || string(clientExtra[0]) != "client-extra" {
		t.Errorf("client session Extra = %q", clientExtra)
	}
	if len(serverExtra) != 1 || string(serverExtra[0]) != "server-extra" {
		t.Errorf("server session Extra = %q", serverExtra)
	}
	if !c.ConnectionState().DidResume || !s.ConnectionState().DidResume {
		t.Fatal("TLS did not resume")
	}
	early := cr.write[LevelEarly]
	if len(early) == 0 || !bytes.Equal(early, sr.read[LevelEarly]) {
		t.Fatalf("0-RTT secrets: client write %x, server read %x", early, sr.read[LevelEarly])
	}
	if cr.rejected {
		t.Error("0-RTT rejected")
	}
}

// TestServerDeclinesEarlyData: a server that clears EarlyData in
// ResumeSession still resumes, installs no 0-RTT keys, and the client
// learns that 0-RTT was rejected.
func TestServerDeclinesEarlyData(t *testing.T) {
	clientCfg, serverCfg := resumptionSetup(t)
	cr := &recorder{}
	sr := &recorder{onResume: func(s *tls.SessionState) { s.EarlyData = false }}
	c, s := handshakeOnce(t, clientCfg, serverCfg, cr, sr)
	if !c.ConnectionState().DidResume || !s.ConnectionState().DidResume {
		t.Fatal("TLS did not resume")
	}
	if len(cr.write[LevelEarly]) == 0 {
		t.Fatal("client offered no 0-RTT")
	}
	if sr.read[LevelEarly] != nil {
		t.Error("server installed 0-RTT keys")
	}
	if !cr.rejected {
		t.Error("client not told that 0-RTT was rejected")
	}
}
