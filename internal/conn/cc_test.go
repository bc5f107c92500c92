package conn

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/hquic/quic/internal/recovery"
)

func TestBBRBulkTransferUnderLossAndReordering(t *testing.T) {
	// Settings.Congestion selects BBR for the connection's sender; a
	// transfer under loss and reordering completes intact.
	p := newPair(t, withClientSettings(func(s *Settings) { s.Congestion = recovery.BBR }))
	p.handshake()
	p.lossRate = 0.05
	p.reorderRate = 0.05
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 29 >> 2)
	}
	s := openSend(p, data, true)
	ok := p.runUntil(300*time.Second, func() bool {
		return p.server.has("PeerSendShutdown") && p.client.has("SendShutdownComplete")
	})
	if !ok {
		t.Fatalf("transfer did not finish: got %d of %d bytes", len(p.server.received[s.ID()]), len(data))
	}
	if got := p.server.received[s.ID()]; sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("received %d bytes, checksum mismatch", len(got))
	}
	bbrStates := []string{"Startup", "Drain", "ProbeBW_DOWN", "ProbeBW_CRUISE", "ProbeBW_REFILL", "ProbeBW_UP", "ProbeRTT"}
	if st := p.client.c.loss.CongestionState(); !slices.Contains(bbrStates, st) {
		t.Errorf("client controller in state %q, not a BBR state", st)
	}
	if st := p.server.c.loss.CongestionState(); slices.Contains(bbrStates, st) {
		t.Errorf("server (CUBIC) controller in BBR state %q", st)
	}
	if p.client.c.loss.PacingRate() <= 0 {
		t.Error("BBR sender not paced")
	}
}
