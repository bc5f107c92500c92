package recovery

import (
	"testing"
	"time"
)

func TestPacerRateAndBurst(t *testing.T) {
	// rate = N * cwnd / smoothed_rtt (RFC 9002 Section 7.7), N = 1.25 in
	// congestion avoidance and 2 in slow start; the bucket holds the larger
	// of the initial window and 1 ms at the current rate.
	for _, tc := range []struct {
		name      string
		in        pacerInput
		rate      float64 // bytes per second
		burst     int     // packets available from a full bucket
		interval  time.Duration
		afterWait time.Duration
		refill    int // packets available afterWait after draining
	}{
		{
			name: "congestion avoidance",
			in:   pacerInput{cwnd: 120000, mds: 1200, iw: 12000, srtt: 100 * time.Millisecond},
			rate: 1.5e6, burst: 10, interval: 800 * time.Microsecond,
			afterWait: 4 * time.Millisecond, refill: 5,
		},
		{
			name: "slow start",
			in:   pacerInput{cwnd: 12000, mds: 1200, iw: 12000, srtt: 100 * time.Millisecond, slowStart: true},
			rate: 240000, burst: 10, interval: 5 * time.Millisecond,
			afterWait: 20 * time.Millisecond, refill: 4,
		},
		{
			name: "high rate: bucket of 1 ms",
			in:   pacerInput{cwnd: 12000000, mds: 1200, iw: 12000, srtt: 10 * time.Millisecond},
			rate: 1.5e9, burst: 1250, interval: 800 * time.Nanosecond,
			afterWait: 100 * time.Microsecond, refill: 125,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.in.rate(); r < tc.rate*0.999999 || r > tc.rate*1.000001 {
				t.Fatalf("rate = %v, want %v", r, tc.rate)
			}
			var pc pacer
			now := t0
			wantVar(t, "full bucket", pc.burst(now, &tc.in), tc.burst)
			wantVar(t, "send now", pc.nextSendTime(now, &tc.in), 0)
			for range tc.burst {
				pc.onSent(now, tc.in.mds, &tc.in)
			}
			wantVar(t, "drained", pc.burst(now, &tc.in), 0)
			next := pc.nextSendTime(now, &tc.in)
			if d := next.Sub(now); d < tc.interval-time.Nanosecond || d > tc.interval+time.Nanosecond {
				t.Errorf("next send in %v, want %v", d, tc.interval)
			}
			wantVar(t, "refilled", pc.burst(now.Add(tc.afterWait), &tc.in), tc.refill)
			wantVar(t, "capped after idle", pc.burst(now.Add(time.Hour), &tc.in), tc.burst)
		})
	}
}

func pacedTest(t *testing.T, pacing bool, rtt time.Duration) *lossTest {
	tt := newLossTest(t, Config{InitialRTT: rtt, Pacing: pacing, Algorithm: NewReno}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0)
	tt.advance(rtt)
	tt.ack(SpaceApp, rng(0, 0))
	return tt
}

func TestPacingAtState(t *testing.T) {
	tt := pacedTest(t, true, 100*time.Millisecond)
	// cwnd 13200 after one slow-start ACK; rate 2*13200/0.1s.
	wantVar(t, "burst: bucket of IW", tt.l.BurstPackets(tt.now), 10)
	wantVar(t, "may send now", tt.l.NextSendTime(tt.now), 0)
	for pn := int64(1); pn <= 10; pn++ {
		tt.send(SpaceApp, pn)
	}
	wantVar(t, "bucket empty though cwnd has room", tt.l.BurstPackets(tt.now), 0)
	wantVar(t, "cwnd room", tt.l.CongestionWindowAvailable(), 1200)
	next := tt.l.NextSendTime(tt.now)
	rate := 2 * 13200 / 0.1
	want := time.Duration(float64(time.Second) * 1200 / rate)
	if d := next.Sub(tt.now); d < want-time.Nanosecond || d > want+time.Nanosecond {
		t.Errorf("next send in %v, want %v", d, want)
	}
	tt.now = next
	wantVar(t, "one packet later", tt.l.BurstPackets(tt.now), 1)
}

func TestPacingOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		tt   func(t *testing.T) *lossTest
	}{
		{"PacingEnabled=false", func(t *testing.T) *lossTest { return pacedTest(t, false, 100*time.Millisecond) }},
		{"smoothed RTT below 1ms", func(t *testing.T) *lossTest { return pacedTest(t, true, 500*time.Microsecond) }},
		{"no RTT sample", func(t *testing.T) *lossTest {
			return newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Pacing: true}, true)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := tc.tt(t)
			pn := int64(100)
			for tt.l.CongestionWindowAvailable() >= 2400 {
				tt.send(SpaceApp, pn)
				pn++
				wantVar(t, "NextSendTime", tt.l.NextSendTime(tt.now), 0)
			}
			wantVar(t, "burst = window room", tt.l.BurstPackets(tt.now), tt.l.CongestionWindowAvailable()/1200)
		})
	}
}

func TestBurstPacketsWindowLimits(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	wantVar(t, "IW", tt.l.BurstPackets(tt.now), 10)
	tt.size = 1000
	tt.send(SpaceApp, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	wantVar(t, "room for a smaller packet", tt.l.CongestionWindowAvailable(), 1000)
	wantVar(t, "at least one", tt.l.BurstPackets(tt.now), 1)
	tt.send(SpaceApp, 11)
	wantVar(t, "window full", tt.l.BurstPackets(tt.now), 0)
}

func TestSendIdleTimeout(t *testing.T) {
	// MsQuic SendIdleTimeoutMs. Our rule: when an in-flight packet is sent
	// while nothing is in flight and the previous in-flight packet went out
	// at least SendIdleTimeout earlier, cwnd = min(cwnd, initial window);
	// ssthresh is kept.
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		idle     time.Duration
		inFlight bool
		restart  bool
	}{
		{"idle longer than timeout", time.Second, 2 * time.Second, false, true},
		{"idle exactly timeout", time.Second, 900 * time.Millisecond, false, true},
		{"idle shorter", time.Second, 500 * time.Millisecond, false, false},
		{"data still in flight", time.Second, 2 * time.Second, true, false},
		{"disabled", 0, time.Hour, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: NewReno, SendIdleTimeout: tc.timeout}, true)
			tt.l.OnHandshakeConfirmed()
			var next int64
			tt.roundTrip(&next, 100*time.Millisecond)
			tt.roundTrip(&next, 100*time.Millisecond, next) // loss: ssthresh 12000
			tt.roundTrip(&next, 100*time.Millisecond)
			ssthresh := tt.l.Stats().SlowStartThreshold
			if tc.inFlight {
				tt.send(SpaceApp, next)
				next++
			}
			before := tt.l.Stats().CongestionWindow
			tt.advance(tc.idle) // the last send was 100ms ago
			tt.send(SpaceApp, next)
			st := tt.l.Stats()
			if tc.restart {
				wantVar(t, "cwnd", st.CongestionWindow, min(before, 12000))
				wantVar(t, "restarts", st.IdleRestarts, uint64(1))
			} else {
				wantVar(t, "cwnd", st.CongestionWindow, before)
				wantVar(t, "restarts", st.IdleRestarts, uint64(0))
			}
			wantVar(t, "ssthresh kept", st.SlowStartThreshold, ssthresh)
		})
	}
}

// BBR keeps its window across SendIdleTimeout, and IdleRestarts counts no
// restart that did not happen.
func TestSendIdleTimeoutBBRCountsNoRestart(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, Algorithm: BBR, SendIdleTimeout: time.Second}, true)
	tt.l.OnHandshakeConfirmed()
	var next int64
	tt.roundTrip(&next, 100*time.Millisecond)
	tt.roundTrip(&next, 100*time.Millisecond)
	before := tt.l.Stats().CongestionWindow
	tt.advance(2 * time.Second)
	tt.send(SpaceApp, next)
	st := tt.l.Stats()
	wantVar(t, "cwnd", st.CongestionWindow, before)
	wantVar(t, "restarts", st.IdleRestarts, uint64(0))
}
