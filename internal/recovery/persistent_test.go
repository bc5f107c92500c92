package recovery

import (
	"testing"
	"time"
)

// pcTest starts a server with max_ack_delay 0 and one RTT sample of 100 ms
// (smoothed 100, rttvar 50), at t0+100ms.
func pcTest(t *testing.T) *lossTest {
	t.Helper()
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.SetPeerMaxAckDelay(0)
	tt.send(SpaceApp, 0)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	tt.rec.events = nil
	return tt
}

// at moves the clock to t0+d.
func (tt *lossTest) at(d time.Duration) { tt.now = t0.Add(d) }

func TestPersistentCongestion(t *testing.T) {
	const ms = time.Millisecond
	type sendSpec struct {
		space    Space
		pn       int64
		at       time.Duration
		nonAE    bool          // in flight but not ack-eliciting
		ackAfter time.Duration // acknowledge this packet alone after this delay
	}
	app := func(pn int64, at time.Duration) sendSpec { return sendSpec{space: SpaceApp, pn: pn, at: at} }
	for _, tc := range []struct {
		name  string
		sends []sendSpec
		want  bool
	}{
		{
			// Lost packets 1..5 span 1000ms; the ACK at 1200ms leaves
			// smoothed 100, rttvar 37.5: duration (100+150)*3 = 750ms.
			name: "established",
			sends: []sendSpec{app(1, 100*ms), app(2, 350*ms), app(3, 600*ms),
				app(4, 850*ms), app(5, 1100*ms)},
			want: true,
		},
		{
			name: "span shorter than duration",
			sends: []sendSpec{app(1, 500*ms), app(2, 650*ms), app(3, 800*ms),
				app(4, 950*ms), app(5, 1100*ms)},
		},
		{
			name: "packet in between acknowledged",
			sends: []sendSpec{app(1, 100*ms), app(2, 350*ms),
				{space: SpaceApp, pn: 3, at: 600 * ms, ackAfter: 100 * ms},
				app(4, 850*ms), app(5, 1100*ms)},
		},
		{
			// RFC 9002 Section 7.6.2: across all packet-number spaces,
			// nothing sent between the two packets was acknowledged.
			name: "packet in between acknowledged in another space",
			sends: []sendSpec{app(1, 100*ms), app(2, 350*ms),
				{space: SpaceHandshake, pn: 0, at: 500 * ms, ackAfter: 100 * ms},
				app(3, 600*ms), app(4, 850*ms), app(5, 1100*ms)},
		},
		{
			name: "other space acknowledged outside the period",
			sends: []sendSpec{
				{space: SpaceHandshake, pn: 0, at: 100 * ms, ackAfter: 100 * ms},
				app(1, 200*ms), app(2, 400*ms), app(3, 600*ms),
				app(4, 850*ms), app(5, 1100*ms)},
			want: true,
		},
		{
			// Only ack-eliciting packets bound the period: 2..4 span 500ms.
			name: "endpoints not ack-eliciting",
			sends: []sendSpec{
				{space: SpaceApp, pn: 1, at: 100 * ms, nonAE: true},
				app(2, 350*ms), app(3, 600*ms), app(4, 850*ms),
				{space: SpaceApp, pn: 5, at: 1100 * ms, nonAE: true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := pcTest(t)
			for _, s := range tc.sends {
				tt.at(s.at)
				if s.nonAE {
					tt.sendPacket(Sent{PN: s.pn, Space: s.space, Size: 1200, InFlight: true})
				} else {
					tt.send(s.space, s.pn)
				}
				if s.ackAfter != 0 {
					tt.advance(s.ackAfter)
					tt.ack(s.space, rng(s.pn, s.pn))
				}
			}
			tt.at(1100 * ms)
			tt.send(SpaceApp, 6, 7, 8)
			tt.at(1200 * ms)
			tt.ack(SpaceApp, rng(6, 8))
			st := tt.l.Stats()
			got := st.PersistentCongestionEvents == 1
			if got != tc.want {
				t.Fatalf("persistent congestion = %v, want %v (lost %d, duration %v)",
					got, tc.want, st.PacketsLost, tt.l.persistentDuration())
			}
			if tc.want {
				wantVar(t, "cwnd = kMinimumWindow", st.CongestionWindow, 2*1200)
			} else {
				wantVar(t, "cwnd above minimum", st.CongestionWindow > 2*1200, true)
			}
		})
	}
}

func TestPersistentCongestionNeedsPriorRTTSample(t *testing.T) {
	// RFC 9002 Section 7.6.2: both packets must be sent after the first
	// RTT sample.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.SetPeerMaxAckDelay(0)
	for pn := int64(0); pn < 6; pn++ {
		tt.at(time.Duration(pn) * 400 * time.Millisecond)
		tt.send(SpaceApp, pn)
	}
	tt.send(SpaceApp, 6, 7, 8)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(6, 8))
	wantVar(t, "lost", tt.l.Stats().PacketsLost, uint64(6))
	wantVar(t, "persistent congestion", tt.l.Stats().PersistentCongestionEvents, uint64(0))
}

func TestPersistentCongestionAcrossDetectionPasses(t *testing.T) {
	// The run of lost packets continues from an ACK to a later
	// time-threshold expiry.
	const ms = time.Millisecond
	tt := pcTest(t)
	for i, at := range []time.Duration{100, 350, 600, 850, 1100} {
		tt.at(at * ms)
		tt.send(SpaceApp, int64(i+1))
	}
	tt.at(1110 * ms)
	tt.send(SpaceApp, 6)
	tt.at(1120 * ms)
	tt.ack(SpaceApp, rng(6, 6))
	// smoothed 88.75, rttvar 60: duration 986.25ms; 1..4 (750ms) lost.
	wantVar(t, "lost by the ACK", tt.l.Stats().PacketsLost, uint64(4))
	wantVar(t, "not yet", tt.l.Stats().PersistentCongestionEvents, uint64(0))
	tt.advanceToTimer()
	wantVar(t, "5 lost by the timer", tt.l.Stats().PacketsLost, uint64(5))
	wantVar(t, "1..5 span 1000ms", tt.l.Stats().PersistentCongestionEvents, uint64(1))
	wantVar(t, "cwnd", tt.l.Stats().CongestionWindow, 2400)
}

func TestPMTUProbeLossIsNotCongestion(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	cwnd := tt.l.Stats().CongestionWindow
	tt.sendPacket(Sent{PN: 0, Space: SpaceApp, Size: 1400, AckEliciting: true, PMTUProbe: true})
	tt.send(SpaceApp, 1, 2, 3)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(1, 3))
	tt.wantEvents("probe lost", append(acked(SpaceApp, 1, 2, 3), lost(SpaceApp, 0)...)...)
	st := tt.l.Stats()
	wantVar(t, "congestion events", st.CongestionEvents, uint64(0))
	wantVar(t, "cwnd grew in slow start", st.CongestionWindow, cwnd+3*1200)
	wantVar(t, "bytes in flight", st.BytesInFlight, 0)
}
