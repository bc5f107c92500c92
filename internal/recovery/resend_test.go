package recovery

import (
	"testing"
	"time"
)

// TestDeclareAllLostRejectedZeroRTT: when the server rejects 0-RTT, every
// outstanding Application Data packet is handed back as lost, leaves bytes
// in flight, and the congestion window is untouched (RFC 9001 §4.6.2).
func TestDeclareAllLostRejectedZeroRTT(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, false)
	tt.send(SpaceInitial, 0)
	tt.send(SpaceApp, 0, 1, 2)
	cwnd := tt.l.Stats().CongestionWindow
	tt.l.DeclareAllLost(SpaceApp, &tt.rec)
	tt.wantEvents("0-RTT packets lost", lost(SpaceApp, 0, 1, 2)...)
	st := tt.l.Stats()
	wantVar(t, "bytes in flight: the Initial only", st.BytesInFlight, 1200)
	wantVar(t, "congestion window", st.CongestionWindow, cwnd)
	wantVar(t, "congestion events", st.CongestionEvents, uint64(0))
	wantVar(t, "App space has nothing in flight", tt.l.HasInFlight(SpaceApp), false)

	// The packet numbers stay sent: an ACK of them is no protocol error,
	// and reports nothing.
	tt.send(SpaceApp, 3)
	tt.advance(50 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 3))
	tt.wantEvents("only the new packet is acknowledged", acked(SpaceApp, 3)...)
	wantVar(t, "RTT from packet 3", tt.l.Stats().LatestRTT, 50*time.Millisecond)

	tt.l.DeclareAllLost(SpaceApp, &tt.rec)
	tt.wantEvents("nothing left to lose", nil...)
}

// TestDeclareAllLostSkipsDeclaredLost: packets already declared lost (kept
// to detect spurious losses) are not reported twice.
func TestDeclareAllLostSkipsDeclaredLost(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, false)
	tt.send(SpaceApp, 0, 1, 2, 3, 4)
	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(4, 4))
	tt.wantEvents("packet threshold", append(acked(SpaceApp, 4), lost(SpaceApp, 0, 1)...)...)
	tt.l.DeclareAllLost(SpaceApp, &tt.rec)
	tt.wantEvents("the rest", lost(SpaceApp, 2, 3)...)
	wantVar(t, "bytes in flight", tt.l.Stats().BytesInFlight, 0)
}

func TestDeclareAllLostDiscardedSpace(t *testing.T) {
	tt := newLossTest(t, Config{}, false)
	tt.send(SpaceInitial, 0)
	tt.l.DiscardSpace(SpaceInitial)
	tt.l.DeclareAllLost(SpaceInitial, &tt.rec)
	tt.wantEvents("discarded space", nil...)
}
