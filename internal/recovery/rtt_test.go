package recovery

import (
	"testing"
	"time"
)

func TestRTTInitialValues(t *testing.T) {
	for _, tc := range []struct {
		name     string
		initial  time.Duration
		smoothed time.Duration
		rttvar   time.Duration
	}{
		{"default 333ms", 0, 333 * time.Millisecond, 166500 * time.Microsecond},
		{"InitialRttMs 100", 100 * time.Millisecond, 100 * time.Millisecond, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: tc.initial}, true)
			r := tt.l.RTT()
			wantVar(t, "smoothed_rtt", r.Smoothed, tc.smoothed)
			wantVar(t, "rttvar", r.Var, tc.rttvar)
			wantVar(t, "HasSample", r.HasSample, false)
		})
	}
}

func TestRTTFirstSample(t *testing.T) {
	// RFC 9002 Section 5.3: the first sample sets min_rtt = smoothed_rtt =
	// latest_rtt and rttvar = latest_rtt / 2; ack delay is not used.
	tt := newLossTest(t, Config{InitialRTT: 333 * time.Millisecond}, true)
	tt.send(SpaceApp, 0)
	tt.advance(100 * time.Millisecond)
	tt.ackFull(SpaceApp, 20*time.Millisecond, nil, rng(0, 0))
	r := tt.l.RTT()
	wantVar(t, "latest_rtt", r.Latest, 100*time.Millisecond)
	wantVar(t, "min_rtt", r.Min, 100*time.Millisecond)
	wantVar(t, "smoothed_rtt", r.Smoothed, 100*time.Millisecond)
	wantVar(t, "rttvar", r.Var, 50*time.Millisecond)
	wantVar(t, "HasSample", r.HasSample, true)
}

func TestRTTFirstHandshakeSampleLessAckDelay(t *testing.T) {
	// A first sample from a handshake acknowledgment the peer held for
	// 950 ms (it had no keys, or repeated a lost ACK in a probe) starts
	// smoothed_rtt from the 50 ms of network time; min_rtt keeps the
	// sample whole (RFC 9002 Section 5.2) until a later one lowers it.
	for _, tc := range []struct {
		name     string
		space    Space
		delay    time.Duration
		smoothed time.Duration
	}{
		{"Handshake", SpaceHandshake, 950 * time.Millisecond, 50 * time.Millisecond},
		{"Initial", SpaceInitial, 950 * time.Millisecond, 50 * time.Millisecond},
		{"delay above the sample: granularity", SpaceHandshake, 2 * time.Second, granularity},
		{"application space: Section 5.3 as written", SpaceApp, 950 * time.Millisecond, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 333 * time.Millisecond}, true)
			tt.send(tc.space, 0)
			tt.advance(time.Second)
			tt.ackFull(tc.space, tc.delay, nil, rng(0, 0))
			r := tt.l.RTT()
			wantVar(t, "latest_rtt", r.Latest, time.Second)
			wantVar(t, "min_rtt", r.Min, time.Second)
			wantVar(t, "smoothed_rtt", r.Smoothed, tc.smoothed)
			wantVar(t, "rttvar", r.Var, tc.smoothed/2)
			tt.send(tc.space, 1)
			tt.advance(40 * time.Millisecond)
			tt.ack(tc.space, rng(0, 1))
			wantVar(t, "min_rtt after a prompt sample", tt.l.RTT().Min, 40*time.Millisecond)
		})
	}
}

func TestRTTAckDelay(t *testing.T) {
	// Second sample of 200 ms (first was 100 ms) with various ack delays;
	// peer max_ack_delay is 25 ms. Expected values from RFC 9002 Section
	// 5.3 arithmetic.
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	for _, tc := range []struct {
		name      string
		space     Space
		confirmed bool
		latest    time.Duration
		delay     time.Duration
		smoothed  time.Duration
		rttvar    time.Duration
	}{
		// Capped at max_ack_delay only after confirmation: adjusted = 175.
		{"confirmed caps delay", SpaceApp, true, ms(200), ms(50), ms(109.375), ms(56.25)},
		// Not confirmed: full 50 ms subtracted, adjusted = 150.
		{"unconfirmed uses delay", SpaceApp, false, ms(200), ms(50), ms(106.25), ms(50)},
		// Initial acknowledgments report their delay too (a repeated
		// one): used like the Handshake space's.
		{"initial uses delay", SpaceInitial, false, ms(200), ms(50), ms(106.25), ms(50)},
		// latest < min_rtt + ack_delay: not subtracted.
		{"no subtraction below min_rtt", SpaceApp, false, ms(120), ms(50), ms(102.5), ms(42.5)},
		{"zero delay", SpaceHandshake, false, ms(200), 0, ms(112.5), ms(62.5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{}, true)
			tt.l.SetPeerMaxAckDelay(25 * time.Millisecond)
			if tc.confirmed {
				tt.l.OnHandshakeConfirmed()
			}
			tt.send(tc.space, 0)
			tt.advance(100 * time.Millisecond)
			tt.ack(tc.space, rng(0, 0))
			tt.send(tc.space, 1)
			tt.advance(tc.latest)
			tt.ackFull(tc.space, tc.delay, nil, rng(0, 1))
			r := tt.l.RTT()
			wantVar(t, "latest_rtt", r.Latest, tc.latest)
			wantVar(t, "min_rtt", r.Min, 100*time.Millisecond)
			wantVar(t, "smoothed_rtt", r.Smoothed, tc.smoothed)
			wantVar(t, "rttvar", r.Var, tc.rttvar)
			wantVar(t, "max_rtt", r.Max, max(tc.latest, 100*time.Millisecond))
		})
	}
}

func TestRTTMinIgnoresAckDelay(t *testing.T) {
	tt := newLossTest(t, Config{}, true)
	tt.send(SpaceApp, 0)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	tt.send(SpaceApp, 1)
	tt.advance(80 * time.Millisecond)
	tt.ackFull(SpaceApp, 10*time.Millisecond, nil, rng(1, 1))
	wantVar(t, "min_rtt", tt.l.RTT().Min, 80*time.Millisecond)
}

func TestRTTSampleRules(t *testing.T) {
	// RFC 9002 Section 5.1: a sample is taken only if the largest
	// acknowledged packet is newly acknowledged and at least one newly
	// acknowledged packet is ack-eliciting.
	t.Run("largest not newly acked", func(t *testing.T) {
		tt := newLossTest(t, Config{}, true)
		tt.send(SpaceApp, 0, 1)
		tt.advance(100 * time.Millisecond)
		tt.ack(SpaceApp, rng(1, 1))
		tt.advance(300 * time.Millisecond)
		tt.ack(SpaceApp, rng(0, 1)) // 0 is newly acked, 1 is not
		wantVar(t, "latest_rtt", tt.l.RTT().Latest, 100*time.Millisecond)
	})
	t.Run("only non-ack-eliciting acked", func(t *testing.T) {
		tt := newLossTest(t, Config{}, true)
		tt.sendPacket(Sent{PN: 0, Space: SpaceApp, Size: 50})
		tt.advance(100 * time.Millisecond)
		tt.ack(SpaceApp, rng(0, 0))
		wantVar(t, "HasSample", tt.l.RTT().HasSample, false)
	})
	t.Run("non-ack-eliciting largest with ack-eliciting below", func(t *testing.T) {
		tt := newLossTest(t, Config{}, true)
		tt.send(SpaceApp, 0)
		tt.advance(10 * time.Millisecond)
		tt.sendPacket(Sent{PN: 1, Space: SpaceApp, Size: 50})
		tt.advance(100 * time.Millisecond)
		tt.ack(SpaceApp, rng(0, 1))
		// The sample is measured from the largest acknowledged packet.
		wantVar(t, "latest_rtt", tt.l.RTT().Latest, 100*time.Millisecond)
	})
}

func TestPersistentCongestionResetsMinRTT(t *testing.T) {
	// RFC 9002 Section 5.2: after persistent congestion, min_rtt SHOULD be
	// set to the next sample.
	tt := newLossTest(t, Config{InitialRTT: 10 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0)
	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	for pn := int64(1); pn <= 10; pn++ {
		tt.send(SpaceApp, pn)
		tt.advance(50 * time.Millisecond)
	}
	tt.send(SpaceApp, 11, 12, 13)
	tt.advance(40 * time.Millisecond)
	tt.ack(SpaceApp, rng(11, 13))
	wantVar(t, "persistent congestion events", tt.l.Stats().PersistentCongestionEvents, uint64(1))
	wantVar(t, "min_rtt before next sample", tt.l.RTT().Min, 10*time.Millisecond)
	tt.send(SpaceApp, 14)
	tt.advance(30 * time.Millisecond)
	tt.ack(SpaceApp, rng(14, 14))
	wantVar(t, "min_rtt", tt.l.RTT().Min, 30*time.Millisecond)
}
