package endpoint

import (
	"bytes"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/token"
	"github.com/hquic/quic/internal/wire"
)

// recordingHandler records the Initial packets offered to it and creates
// no connection.
type recordingHandler struct {
	mu    sync.Mutex
	infos []InitialInfo
	got   chan struct{}
}

func (h *recordingHandler) NewConnection(b *Binding, info *InitialInfo) *conn.Conn {
	h.mu.Lock()
	cp := *info
	cp.DCID = bytes.Clone(info.DCID)
	cp.RetryODCID = bytes.Clone(info.RetryODCID)
	h.infos = append(h.infos, cp)
	h.mu.Unlock()
	h.got <- struct{}{}
	return nil
}

type testBinding struct {
	b      *Binding
	h      *recordingHandler
	sock   *memConn
	peer   netip.AddrPort
	sealer *token.Sealer
	reset  *token.ResetKey
	guard  *Guard
}

// newTestBinding opens a binding over an in-memory socket, inside a
// synctest bubble; with retry set every client without a token is sent a
// Retry.
func newTestBinding(t *testing.T, retry bool) *testBinding {
	t.Helper()
	limit := int64(1 << 40)
	if retry {
		limit = 0
	}
	tb := &testBinding{
		h:      &recordingHandler{got: make(chan struct{}, 64)},
		sealer: token.NewSealer([32]byte{7}),
		reset:  token.NewResetKey([32]byte{8}),
		guard:  NewGuard(1, limit, nil),
		sock:   newMemConn(netip.MustParseAddrPort("127.0.0.1:443")),
		peer:   netip.MustParseAddrPort("127.0.0.1:5000"),
	}
	tb.b = New(tb.sock, Config{
		CIDLen: 8, ResetKey: tb.reset, Handler: tb.h, Versions: []uint32{wire.Version1, wire.Version2},
		Tokens: tb.sealer, Guard: tb.guard,
	})
	tb.b.SetAccepting(true)
	t.Cleanup(func() {
		tb.b.Close()
		tb.b.stateless.Wait()
		if n := tb.b.Outstanding(); n != 0 {
			t.Errorf("%d receive buffers leaked", n)
		}
	})
	return tb
}

// send delivers data from the test peer and waits until the binding has
// dealt with it.
func (tb *testBinding) send(t *testing.T, data []byte) {
	t.Helper()
	tb.sendFrom(data, tb.peer)
}

func (tb *testBinding) sendFrom(data []byte, peer netip.AddrPort) {
	tb.sock.deliver(data, peer)
	synctest.Wait()
}

// recv returns the one datagram the binding wrote since the last call, or
// nil if it wrote none; it fails the test if it wrote several.
func (tb *testBinding) recv(t *testing.T) []byte {
	t.Helper()
	synctest.Wait()
	out := tb.sock.written()
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0].Buf
	}
	t.Fatalf("%d datagrams written, want at most one", len(out))
	return nil
}

func (tb *testBinding) peerAddr() netip.AddrPort { return tb.peer }

// initial builds a long-header Initial of the given size; the payload is
// not protected (the binding never decrypts).
func initial(version uint32, dcid, scid, tok []byte, size int) []byte {
	b, lenOff := wire.AppendLongHeader(nil, wire.PacketInitial, version, dcid, scid, tok, 1)
	b = wire.AppendPacketNumber(b, 0, 1)
	b = append(b, make([]byte, size-len(b))...)
	wire.PutVarint2(b[lenOff:], uint64(len(b)-lenOff-2))
	return b
}

var (
	testDCID = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	testSCID = []byte{11, 12, 13, 14}
)

func TestVersionNegotiationForUnknownVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, false)
		pkt := initial(wire.Version1, testDCID, testSCID, nil, 1200)
		pkt[1], pkt[2], pkt[3], pkt[4] = 0x5a, 0x5a, 0x5a, 0x5a
		tb.send(t, pkt)
		resp := tb.recv(t)
		dcid, scid, versions, ok := wire.ParseVersionNegotiation(resp)
		if !ok {
			t.Fatalf("no Version Negotiation packet: %x", resp)
		}
		if !bytes.Equal(dcid, testSCID) || !bytes.Equal(scid, testDCID) {
			t.Errorf("VN connection IDs %x/%x, want them swapped", dcid, scid)
		}
		if !wire.VersionListContains(versions, wire.Version1) || !wire.VersionListContains(versions, wire.Version2) {
			t.Errorf("VN lists %x", versions)
		}
		greased := false
		for i := 0; i+4 <= len(versions); i += 4 {
			v := uint32(versions[i])<<24 | uint32(versions[i+1])<<16 | uint32(versions[i+2])<<8 | uint32(versions[i+3])
			greased = greased || wire.IsReservedVersion(v)
		}
		if !greased {
			t.Error("VN lists no reserved version")
		}
	})
}

func TestNoVersionNegotiationForSmallDatagram(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, false)
		pkt := initial(wire.Version1, testDCID, testSCID, nil, 1199)
		pkt[1], pkt[2], pkt[3], pkt[4] = 0x5a, 0x5a, 0x5a, 0x5a
		tb.send(t, pkt)
		if resp := tb.recv(t); resp != nil {
			t.Fatalf("answered a %d-byte datagram: %x", len(pkt), resp)
		}
	})
}

func TestStatelessResetForUnknownShortHeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, false)
		pkt := make([]byte, 100)
		pkt[0] = 0x40
		copy(pkt[1:], testDCID)
		tb.send(t, pkt)
		resp := tb.recv(t)
		if resp == nil {
			t.Fatal("no stateless reset")
		}
		want := tb.reset.Token(testDCID)
		if len(resp) >= len(pkt) || len(resp) < 21 || resp[0]&0xc0 != 0x40 || !bytes.Equal(resp[len(resp)-16:], want[:]) {
			t.Fatalf("bad reset (%d bytes): %x", len(resp), resp)
		}
	})
}

func TestNoStatelessResetForTinyPacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, false)
		pkt := make([]byte, 21)
		pkt[0] = 0x40
		tb.send(t, pkt)
		if resp := tb.recv(t); resp != nil {
			t.Fatalf("answered a 21-byte packet with %d bytes: no loop prevention", len(resp))
		}
	})
}

func TestRetryThenValidToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, true)
		tb.send(t, initial(wire.Version1, testDCID, testSCID, nil, 1200))
		resp := tb.recv(t)
		version, dcid, scid, tok, tag, ok := wire.ParseRetry(resp)
		if !ok || version != wire.Version1 || !bytes.Equal(dcid, testSCID) {
			t.Fatalf("no Retry: %x", resp)
		}
		pseudo := wire.AppendRetryPseudoPacket(nil, testDCID, resp[:len(resp)-16])
		if !protect.VerifyRetryIntegrity(wire.Version1, pseudo, tag[:]) {
			t.Fatal("bad Retry integrity tag")
		}
		select {
		case <-tb.h.got:
			t.Fatal("a connection was created before address validation")
		default:
		}
		tb.send(t, initial(wire.Version1, scid, testSCID, tok, 1200))
		select {
		case <-tb.h.got:
		default:
			t.Fatal("the Initial with the Retry token created no connection")
		}
		info := tb.h.infos[0]
		if !bytes.Equal(info.RetryODCID, testDCID) || !bytes.Equal(info.DCID, scid) || !info.AddressValidated {
			t.Errorf("connection info %+v", info)
		}
		if tb.b.RetriesSent.Load() != 1 || tb.b.TokensAccepted.Load() != 1 {
			t.Errorf("counters: %d retries, %d tokens accepted", tb.b.RetriesSent.Load(), tb.b.TokensAccepted.Load())
		}
	})
}

func TestRetryTokenRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, true)
		scid := []byte{9, 9, 9, 9, 9, 9, 9, 9}
		for _, c := range []struct {
			name string
			tok  *token.Token
		}{
			{"wrong port", &token.Token{Kind: token.KindRetry, Version: wire.Version1, Addr: netip.AddrPortFrom(tb.peerAddr().Addr(), tb.peerAddr().Port()+1),
				OriginalDCID: testDCID, RetrySCID: scid, IssuedAt: time.Now()}},
			{"expired", &token.Token{Kind: token.KindRetry, Version: wire.Version1, Addr: tb.peerAddr(),
				OriginalDCID: testDCID, RetrySCID: scid, IssuedAt: time.Now().Add(-time.Hour)}},
			{"other connection ID", &token.Token{Kind: token.KindRetry, Version: wire.Version1, Addr: tb.peerAddr(),
				OriginalDCID: testDCID, RetrySCID: []byte{1, 1, 1, 1, 1, 1, 1, 1}, IssuedAt: time.Now()}},
		} {
			tb.send(t, initial(wire.Version1, scid, testSCID, tb.sealer.Seal(nil, c.tok), 1200))
			if resp := tb.recv(t); resp != nil {
				t.Errorf("%s: answered with %x", c.name, resp[:1])
			}
		}
		select {
		case <-tb.h.got:
			t.Fatal("a connection was created with a bad Retry token")
		default:
		}
		if got := tb.b.TokensRejected.Load(); got != 3 {
			t.Errorf("%d tokens rejected, want 3", got)
		}
	})
}

func TestForgedTokenTreatedAsAbsent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTestBinding(t, true)
		tb.send(t, initial(wire.Version1, testDCID, testSCID, []byte("forged token bytes"), 1200))
		if _, _, _, _, _, ok := wire.ParseRetry(tb.recv(t)); !ok {
			t.Fatal("a forged token did not lead to a Retry")
		}
	})
}
