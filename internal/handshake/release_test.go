package handshake

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

func TestReleaseKeepsConnectionStateAndRejectsLaterData(t *testing.T) {
	p := newPair(t, []string{"echo"}, []string{"echo"})
	p.server.Release() // before completion: nothing happens
	if p.server.Released() {
		t.Fatal("released before the handshake completed")
	}
	if err := p.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4 && !(p.client.Complete() && p.server.Complete()); i++ {
		if err := flush(p.client, p.server); err != nil {
			t.Fatal(err)
		}
		if err := flush(p.server, p.client); err != nil {
			t.Fatal(err)
		}
	}
	if !p.server.Complete() {
		t.Fatal("handshake did not complete")
	}
	before := p.server.ConnectionState()
	p.server.Release()
	p.server.Release()
	if !p.server.Released() {
		t.Fatal("not released")
	}
	after := p.server.ConnectionState()
	if after.NegotiatedProtocol != "echo" || after.Version != before.Version || after.CipherSuite != before.CipherSuite ||
		after.CurveID != before.CurveID || after.DidResume != before.DidResume || !after.HandshakeComplete ||
		after.ServerName != before.ServerName {
		t.Errorf("state after release %+v, before %+v", after, before)
	}
	if err := p.server.SendSessionTicket(false, nil); err == nil {
		t.Error("SendSessionTicket succeeded after release")
	}
	err := p.server.HandleCrypto(StreamOf(LevelApp), 0, []byte{4, 0, 0, 0})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CryptoError(10) {
		t.Errorf("CRYPTO data after release: %v, want CRYPTO_ERROR(unexpected_message)", err)
	}
	for i := range p.server.streams.recv {
		if p.server.streams.recv[i].buf != nil {
			t.Errorf("stream %d keeps a receive buffer after the handshake", i)
		}
	}
	if !p.server.Compact() || p.server.Send(StreamApp) != nil {
		t.Error("streams kept after release with nothing outstanding")
	}
	if got := p.server.ConnectionState().NegotiatedProtocol; got != "echo" {
		t.Errorf("ALPN after compaction = %q, want echo", got)
	}
	p.server.Close() // safe after release
}

func TestCompactWaitsForReleaseAndAcknowledgment(t *testing.T) {
	p := newPair(t, []string{"echo"}, []string{"echo"})
	if p.client.Compact() {
		t.Fatal("compacted before release")
	}
	if err := p.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.server.Start(); err != nil {
		t.Fatal(err)
	}
	s := p.client.Send(StreamInitial)
	off, n, ok := s.Pending(1 << 20)
	if !ok {
		t.Fatal("no ClientHello")
	}
	s.OnSent(off, n)
	if err := p.server.HandleCrypto(StreamInitial, off, s.Data(off, n)); err != nil {
		t.Fatal(err)
	}
	// The server's flight is sent but unacknowledged.
	for i := 0; i < NumStreams; i++ {
		ss := p.server.Send(i)
		if off, n, ok := ss.Pending(1 << 20); ok {
			ss.OnSent(off, n)
			if err := p.client.HandleCrypto(i, off, bytes.Clone(ss.Data(off, n))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := flush(p.client, p.server); err != nil {
		t.Fatal(err)
	}
	if !p.server.Complete() {
		t.Fatal("handshake did not complete")
	}
	p.server.Release()
	if p.server.Compact() {
		t.Fatal("compacted with unacknowledged CRYPTO data")
	}
	for i := 0; i < NumStreams; i++ {
		if ss := p.server.Send(i); ss.Unacked() {
			ss.OnAcked(0, int(ss.next))
		}
	}
	if !p.server.Compact() {
		t.Fatal("not compacted once everything was acknowledged")
	}
}
