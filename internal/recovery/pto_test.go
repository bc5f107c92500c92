package recovery

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestPTOBackoffAndReset(t *testing.T) {
	// RFC 9002 Section 6.2.1: PTO = smoothed_rtt + max(4*rttvar,
	// kGranularity) + max_ack_delay, doubled on each expiry, reset when an
	// ACK arrives.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0)
	tt.wantDeadline("first PTO: 100 + 4*50 + 25", 325*time.Millisecond)

	tt.advanceToTimer()
	tt.wantEvents("PTO declares nothing lost")
	wantVar(t, "probes", tt.l.ProbesNeeded(SpaceApp), 2)
	tt.wantDeadline("backoff x2 from the last ack-eliciting packet", 650*time.Millisecond)

	tt.send(SpaceApp, 1)
	wantVar(t, "probes after one", tt.l.ProbesNeeded(SpaceApp), 1)
	tt.send(SpaceApp, 2)
	wantVar(t, "probes after two", tt.l.ProbesNeeded(SpaceApp), 0)
	tt.wantDeadline("second PTO", (325+650)*time.Millisecond)

	tt.advanceToTimer()
	tt.wantDeadline("third PTO: x4", (325+1300)*time.Millisecond)
	wantVar(t, "PTOCount stat", tt.l.Stats().PTOCount, uint64(2))

	tt.advance(10 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 2))
	tt.wantDeadline("nothing in flight", -1)
	wantVar(t, "pto_count reset", tt.l.ptoCount, 0)
	tt.send(SpaceApp, 3)
	want := tt.since() + tt.l.PTO()
	tt.wantDeadline("unbacked PTO from the new estimate", want)
}

func TestPTOSpuriousWakeup(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0)
	tt.advance(100 * time.Millisecond)
	tt.l.OnLossDetectionTimeout(tt.now, &tt.rec)
	wantVar(t, "probes", tt.l.ProbesNeeded(SpaceApp), 0)
	tt.wantDeadline("unchanged", 325*time.Millisecond)
}

func TestPTOHandshakeSpaces(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceInitial, 0)
	tt.advance(10 * time.Millisecond)
	tt.send(SpaceHandshake, 0)
	tt.advance(10 * time.Millisecond)
	tt.send(SpaceApp, 0)
	// Initial and Handshake PTOs do not include max_ack_delay; App is not
	// armed before the handshake is confirmed (RFC 9002 Section 6.2.1).
	tt.wantDeadline("earliest space is Initial", 300*time.Millisecond)

	tt.advanceToTimer()
	// Probe the expired space, and the other spaces with data in flight
	// (Section 6.2.4).
	wantVar(t, "Initial probes", tt.l.ProbesNeeded(SpaceInitial), 2)
	wantVar(t, "Handshake probes", tt.l.ProbesNeeded(SpaceHandshake), 1)
	wantVar(t, "App probes", tt.l.ProbesNeeded(SpaceApp), 1)
	tt.wantDeadline("backed off Initial", 600*time.Millisecond)

	tt.l.DiscardSpace(SpaceInitial)
	wantVar(t, "Initial probes cleared", tt.l.ProbesNeeded(SpaceInitial), 0)
	tt.wantDeadline("Handshake, backoff reset by discard", 310*time.Millisecond)

	tt.l.DiscardSpace(SpaceHandshake)
	tt.wantDeadline("App not armed before confirmation", -1)

	tt.l.OnHandshakeConfirmed()
	tt.wantDeadline("App with max_ack_delay", (20+325)*time.Millisecond)
}

func TestPTOClientAppNotArmedBeforeConfirmation(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, false)
	tt.l.SetPeerAddressValidated()
	tt.send(SpaceApp, 0)
	tt.wantDeadline("no App PTO", -1)
	tt.l.OnHandshakeConfirmed()
	tt.wantDeadline("armed", 325*time.Millisecond)
}

func TestClientAntiDeadlockPTO(t *testing.T) {
	// RFC 9002 Section 6.2.2.1: a client whose address the server has not
	// validated keeps a PTO armed with nothing in flight, and sends a
	// Handshake packet if it has Handshake keys, else an Initial one.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, false)
	tt.send(SpaceInitial, 0)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceInitial, rng(0, 0))
	wantVar(t, "nothing in flight", tt.l.BytesInFlight(), 0)
	tt.wantDeadline("anti-deadlock timer from now", (100+300)*time.Millisecond)

	tt.advanceToTimer()
	wantVar(t, "Initial probe", tt.l.ProbesNeeded(SpaceInitial), 1)
	wantVar(t, "Handshake probe", tt.l.ProbesNeeded(SpaceHandshake), 0)
	tt.wantDeadline("re-armed with backoff", (400+600)*time.Millisecond)
	wantVar(t, "Initial ack does not reset pto_count", tt.l.ptoCount, 1)

	tt.l.SetHandshakeKeysAvailable()
	tt.advanceToTimer()
	wantVar(t, "Handshake probe", tt.l.ProbesNeeded(SpaceHandshake), 1)

	tt.send(SpaceHandshake, 0)
	wantVar(t, "probe sent", tt.l.ProbesNeeded(SpaceHandshake), 0)
	tt.wantDeadline("Handshake PTO x4", (1000+1200)*time.Millisecond)
	tt.advance(50 * time.Millisecond)
	tt.ack(SpaceHandshake, rng(0, 0))
	tt.wantDeadline("server validated the address: no timer", -1)
	wantVar(t, "pto_count reset", tt.l.ptoCount, 0)
}

// 0-RTT packets in flight do not stop the anti-deadlock timer: before the
// handshake is confirmed no PTO is armed for them (Section 6.2.1), so with
// the Initial packets acknowledged or lost nothing else would ever probe.
func TestClientAntiDeadlockWithZeroRTTInFlight(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, false)
	tt.send(SpaceInitial, 0)
	tt.send(SpaceApp, 0, 1, 2)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceInitial, rng(0, 0))
	tt.wantDeadline("anti-deadlock timer from now", (100+300)*time.Millisecond)
	tt.advanceToTimer()
	wantVar(t, "Initial probe", tt.l.ProbesNeeded(SpaceInitial), 1)
	wantVar(t, "no 0-RTT probe", tt.l.ProbesNeeded(SpaceApp), 0)
}

func TestClientAntiDeadlockAfterInitialDiscard(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, false)
	tt.send(SpaceInitial, 0)
	tt.l.DiscardSpace(SpaceInitial)
	tt.wantDeadline("anti-deadlock", 300*time.Millisecond)
	tt.advanceToTimer()
	wantVar(t, "Handshake probe", tt.l.ProbesNeeded(SpaceHandshake), 1)
}

func TestServerAmplificationLimitedNoPTO(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceInitial, 0)
	tt.l.SetAmplificationLimited(true)
	tt.wantDeadline("blocked server arms no PTO", -1)
	tt.l.SetAmplificationLimited(false)
	tt.wantDeadline("unblocked", 300*time.Millisecond)
}

func TestServerNoAntiDeadlock(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceInitial, 0)
	tt.advance(100 * time.Millisecond)
	tt.ack(SpaceInitial, rng(0, 0))
	tt.wantDeadline("server with nothing in flight", -1)
}

func TestMaxPTOCount(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      int
		fires    int
		exceeded bool
	}{
		{"unlimited", 0, 10, false},
		{"below", 2, 2, false},
		{"one more than allowed", 2, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, MaxPTOCount: tc.max}, false)
			tt.send(SpaceInitial, 0)
			for i := range tc.fires {
				tt.advanceToTimer()
				tt.send(SpaceInitial, int64(i+1))
			}
			wantVar(t, "PTOCountExceeded", tt.l.PTOCountExceeded(), tc.exceeded)
			tt.l.OnHandshakeConfirmed()
			wantVar(t, "after confirmation", tt.l.PTOCountExceeded(), false)
		})
	}
}

func TestHandshakePTOFloor(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, HandshakePTOFloor: time.Second}, true)
	tt.send(SpaceInitial, 0)
	tt.wantDeadline("floor replaces 300ms", time.Second)
	tt.advanceToTimer()
	tt.wantDeadline("backoff applies to the floor", 2*time.Second)
	wantVar(t, "PTO() floored", tt.l.PTO(), time.Second+DefaultMaxAckDelay)
	tt.l.DiscardSpace(SpaceInitial)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0)
	tt.wantDeadline("no floor once confirmed", time.Second+325*time.Millisecond)

	small := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond, HandshakePTOFloor: time.Millisecond}, true)
	small.send(SpaceInitial, 0)
	small.wantDeadline("floor below RFC value", 300*time.Millisecond)
}

func TestPTOValue(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	wantVar(t, "initial PTO", tt.l.PTO(), 325*time.Millisecond)
	tt.l.SetPeerMaxAckDelay(50 * time.Millisecond)
	wantVar(t, "with max_ack_delay 50ms", tt.l.PTO(), 350*time.Millisecond)
	tt.send(SpaceApp, 0)
	tt.advance(20 * time.Millisecond)
	tt.ack(SpaceApp, rng(0, 0))
	// smoothed 20ms, rttvar 10ms: 20 + 40 + 50.
	wantVar(t, "after sample", tt.l.PTO(), 110*time.Millisecond)
}

func TestPTOGranularityFloor(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Microsecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.l.SetPeerMaxAckDelay(0)
	wantVar(t, "PTO", tt.l.PTO(), 100*time.Microsecond+time.Millisecond)
}

func TestDiscardSpace(t *testing.T) {
	// RFC 9002 Section 6.4: discarded packets leave bytes in flight without
	// being declared lost.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceInitial, 0, 1)
	tt.send(SpaceHandshake, 0)
	tt.advanceToTimer()
	tt.l.DiscardSpace(SpaceInitial)
	tt.wantEvents("no callbacks")
	wantVar(t, "bytes in flight", tt.l.BytesInFlight(), 1200)
	wantVar(t, "HasInFlight(Initial)", tt.l.HasInFlight(SpaceInitial), false)
	wantVar(t, "HasInFlight(Handshake)", tt.l.HasInFlight(SpaceHandshake), true)
	wantVar(t, "pto_count reset", tt.l.ptoCount, 0)
	tt.wantDeadline("Handshake PTO", 300*time.Millisecond)
	if err := tt.l.OnAckReceived(tt.now, SpaceInitial, []AckRange{rng(0, 5)}, 0, nil, &tt.rec); err != nil {
		t.Fatalf("ACK in discarded space: %v", err)
	}
	tt.send(SpaceInitial, 2)
	wantVar(t, "send in discarded space ignored", tt.l.BytesInFlight(), 1200)
	tt.wantEvents("nothing")
}

func TestProbesDecrementOnlyOnAckEliciting(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	tt.send(SpaceApp, 0)
	tt.advanceToTimer()
	tt.sendPacket(Sent{PN: 1, Space: SpaceApp, Size: 40})
	wantVar(t, "ACK-only packet is not a probe", tt.l.ProbesNeeded(SpaceApp), 2)
	tt.send(SpaceApp, 2)
	wantVar(t, "probe", tt.l.ProbesNeeded(SpaceApp), 1)
}

func TestRequestProbesSpeedsUpWithoutPTO(t *testing.T) {
	// RFC 9002 Section 6.2.3: a handshake speed-up sends CRYPTO data
	// before the PTO expires; it neither counts as a PTO nor moves the
	// timer, and its packets are probes (not congestion-limited).
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.send(SpaceInitial, 0)
	tt.wantDeadline("PTO", 300*time.Millisecond)
	tt.l.RequestProbes(SpaceInitial, 5)
	wantVar(t, "probes capped at two", tt.l.ProbesNeeded(SpaceInitial), 2)
	tt.l.RequestProbes(SpaceInitial, 1)
	wantVar(t, "a smaller request keeps the larger", tt.l.ProbesNeeded(SpaceInitial), 2)
	wantVar(t, "no PTO counted", tt.l.ptoCount, 0)
	tt.wantDeadline("timer unchanged", 300*time.Millisecond)
	tt.advance(50 * time.Millisecond)
	tt.send(SpaceInitial, 1, 2)
	wantVar(t, "probes sent", tt.l.ProbesNeeded(SpaceInitial), 0)
	tt.wantDeadline("PTO from the last ack-eliciting packet", 350*time.Millisecond)
	tt.l.DiscardSpace(SpaceInitial)
	tt.l.RequestProbes(SpaceInitial, 1)
	wantVar(t, "discarded space", tt.l.ProbesNeeded(SpaceInitial), 0)
}

func TestForgetSentAcceptsAckOfUntrackedPackets(t *testing.T) {
	// A server acknowledges Initial packets before its configuration
	// arrives and then starts recovery afresh: the peer may acknowledge
	// those ACK-only packets later.
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	if err := tt.l.OnAckReceived(tt.now, SpaceInitial, []AckRange{rng(0, 1)}, 0, nil, &tt.rec); !errors.Is(err, ErrAckOfUnsentPacket) {
		t.Fatalf("before ForgetSent: %v", err)
	}
	tt.l.ForgetSent(SpaceInitial, 1)
	if err := tt.l.OnAckReceived(tt.now, SpaceInitial, []AckRange{rng(0, 1)}, 0, nil, &tt.rec); err != nil {
		t.Fatalf("ack of forgotten packets: %v", err)
	}
	tt.wantEvents("nothing to report")
	tt.send(SpaceInitial, 2)
	tt.advance(30 * time.Millisecond)
	tt.ack(SpaceInitial, rng(0, 2))
	tt.wantEvents("tracked packet acknowledged", event{space: SpaceInitial, pn: 2})
	wantVar(t, "RTT sample from the tracked packet", tt.l.RTT().Latest, 30*time.Millisecond)
	if err := tt.l.OnAckReceived(tt.now, SpaceInitial, []AckRange{rng(0, 3)}, 0, nil, &tt.rec); !errors.Is(err, ErrAckOfUnsentPacket) {
		t.Fatalf("above the largest sent: %v", err)
	}
}

func TestNextProbeDataWalksOutstandingPackets(t *testing.T) {
	tt := newLossTest(t, Config{InitialRTT: 100 * time.Millisecond}, true)
	tt.l.OnHandshakeConfirmed()
	if p := tt.l.NextProbeData(SpaceApp); p != nil {
		t.Fatalf("nothing sent: %d", p.PN)
	}
	tt.sendPacket(Sent{PN: 0, Space: SpaceApp, Size: 1200, InFlight: true, AckEliciting: true, PMTUProbe: true})
	tt.sendPacket(Sent{PN: 1, Space: SpaceApp, Size: 40})
	tt.send(SpaceApp, 2, 3, 4, 5, 6, 7)
	tt.advance(50 * time.Millisecond)
	tt.ack(SpaceApp, rng(7, 7), rng(3, 3))
	// 2 and 4 are lost (packet threshold), 0 is a PMTU probe, 1 not
	// ack-eliciting, 3 and 7 acknowledged: 5 and 6 in turn, then again.
	var got []int64
	for range 5 {
		p := tt.l.NextProbeData(SpaceApp)
		if p == nil {
			t.Fatal("NextProbeData = nil")
		}
		got = append(got, p.PN)
	}
	if want := []int64{5, 6, 5, 6, 5}; !slices.Equal(got, want) {
		t.Fatalf("probes carried %v, want %v", got, want)
	}
	tt.ack(SpaceApp, rng(3, 7))
	if p := tt.l.NextProbeData(SpaceApp); p != nil {
		t.Fatalf("all acknowledged or lost: %d", p.PN)
	}
}
