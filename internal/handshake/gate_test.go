package handshake

import (
	"bytes"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

// gatedPair is a handshake pair whose client holds the server's Finished
// for a decision; verified counts the client's VerifyConnection calls.
type gatedPair struct {
	*pair
	asks, verified int
	verifiedAtAsk  int
	answer         func() (bool, error)
}

func newGatedPair(t *testing.T) *gatedPair {
	t.Helper()
	g := &gatedPair{pair: newPair(t, []string{"echo"}, []string{"echo"})}
	cert, pool := testCert(t)
	g.server.Close()
	g.server = NewServer(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		NextProtos: []string{"echo"}}, []byte("server-params"), g.servRec)
	g.client.Close()
	g.client = NewClient(&tls.Config{MinVersion: tls.VersionTLS13, ServerName: "localhost", RootCAs: pool,
		NextProtos: []string{"echo"},
		VerifyConnection: func(tls.ConnectionState) error {
			g.verified++
			return nil
		}}, []byte("client-params"), g.clientRec, false)
	g.client.GatePeerFinished(func() (bool, error) {
		g.asks++
		g.verifiedAtAsk = g.verified
		return g.answer()
	})
	if err := g.client.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.server.Start(); err != nil {
		t.Fatal(err)
	}
	return g
}

// run exchanges flights until nothing moves.
func (g *gatedPair) run(t *testing.T) (clientErr error) {
	t.Helper()
	for range 4 {
		if err := flush(g.client, g.server); err != nil {
			t.Fatalf("server: %v", err)
		}
		if err := flush(g.server, g.client); err != nil {
			return err
		}
	}
	return nil
}

func TestGateAsksOnceAfterTLSVerifiedTheCertificate(t *testing.T) {
	g := newGatedPair(t)
	g.answer = func() (bool, error) { return false, nil }
	if err := g.run(t); err != nil {
		t.Fatal(err)
	}
	if g.asks != 1 || g.verifiedAtAsk != 1 {
		t.Fatalf("asked %d times, after %d VerifyConnection calls; want once, after 1", g.asks, g.verifiedAtAsk)
	}
	if !g.clientRec.complete || !g.servRec.complete {
		t.Fatal("an accepted certificate did not complete the handshake")
	}
}

func TestPendingGateHoldsTheHandshakeUntilOpened(t *testing.T) {
	g := newGatedPair(t)
	g.answer = func() (bool, error) { return true, nil }
	if err := g.run(t); err != nil {
		t.Fatal(err)
	}
	if !g.client.GatePending() {
		t.Fatal("gate not pending")
	}
	if g.clientRec.complete || g.servRec.complete {
		t.Fatal("handshake completed while the decision was pending")
	}
	if len(g.clientRec.write[LevelApp]) != 0 {
		t.Fatal("client installed 1-RTT keys while the decision was pending")
	}
	if g.client.Send(StreamHandshake).HasPending() {
		t.Fatal("client wrote its Finished while the decision was pending")
	}
	if err := g.client.OpenGate(); err != nil {
		t.Fatal(err)
	}
	if err := g.run(t); err != nil {
		t.Fatal(err)
	}
	if g.asks != 1 || !g.clientRec.complete || !g.servRec.complete {
		t.Fatalf("after OpenGate: asks=%d client complete=%v server complete=%v", g.asks, g.clientRec.complete, g.servRec.complete)
	}
}

func TestGateRejectionFailsTheHandshake(t *testing.T) {
	g := newGatedPair(t)
	reject := &wire.Error{Code: wire.CryptoError(48), Reason: "unknown CA"}
	g.answer = func() (bool, error) { return false, reject }
	err := g.run(t)
	if !errors.Is(err, reject) {
		t.Fatalf("client error = %v, want the decision's error", err)
	}
	if g.clientRec.complete {
		t.Fatal("a rejected certificate completed the handshake")
	}
}

func TestGateSeesTheFinishedWhateverTheChunking(t *testing.T) {
	for seed := range uint64(50) {
		g := newGatedPair(t)
		g.answer = func() (bool, error) { return false, nil }
		if err := flush(g.client, g.server); err != nil {
			t.Fatal(err)
		}
		// The server's Handshake flight arrives in random pieces, out of
		// order.
		s := g.server.Send(StreamInitial)
		off, n, _ := s.Pending(1 << 20)
		if err := g.client.HandleCrypto(StreamInitial, off, bytes.Clone(s.Data(off, n))); err != nil {
			t.Fatal(err)
		}
		hs := g.server.Send(StreamHandshake)
		off, n, _ = hs.Pending(1 << 20)
		data := bytes.Clone(hs.Data(off, n))
		rng := rand.New(rand.NewPCG(seed, 1))
		type piece struct{ at, end int }
		var pieces []piece
		for at := 0; at < len(data); {
			end := min(len(data), at+1+rng.IntN(300))
			pieces = append(pieces, piece{at, end})
			at = end
		}
		rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		for _, p := range pieces {
			if err := g.client.HandleCrypto(StreamHandshake, off+uint64(p.at), data[p.at:p.end]); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		if g.asks != 1 || !g.clientRec.complete {
			t.Fatalf("seed %d: asks=%d complete=%v", seed, g.asks, g.clientRec.complete)
		}
	}
}

func TestCryptoRecvKeepsTheFirstCopyOfEachByte(t *testing.T) {
	var r CryptoRecv
	if err := r.Push(2, []byte("cd")); err != nil {
		t.Fatal(err)
	}
	if err := r.Push(0, []byte("abXYef")); err != nil {
		t.Fatal(err)
	}
	if got := string(r.Next()); got != "abcdef" {
		t.Fatalf("Next = %q, want the first copy of bytes 2-3: abcdef", got)
	}
}

func FuzzFinishedGate(f *testing.F) {
	f.Add([]byte{8, 0, 0, 2, 0, 0, 11, 0, 0, 1, 0, 20, 0, 0, 0}, uint8(3))
	f.Add([]byte{20, 0, 0, 32}, uint8(1))
	f.Add([]byte{15, 0xff, 0xff, 0xff, 20}, uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		asks := 0
		g := &finishedGate{decide: func() (bool, error) { asks++; return false, nil }}
		step := int(chunk%16) + 1
		var off uint64 // bytes given to TLS so far
		for have := 0; have <= len(stream); have = min(have+step, len(stream)+1) {
			b := stream[off:min(have, len(stream))]
			n, err := g.admit(off, b)
			if err != nil || n < 0 || n > len(b) {
				t.Fatalf("admit(%d, %d bytes) = %d, %v", off, len(b), n, err)
			}
			off += uint64(n)
			if have == len(stream) {
				break
			}
		}
		if asks > 1 {
			t.Fatalf("decision asked %d times", asks)
		}
	})
}
