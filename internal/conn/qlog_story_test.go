package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/qlog/schema"
)

// The qlog of a lossy transfer with key updates must tell what happened:
// every lost packet's data is sent again later, the congestion window
// shrinks at a loss, and the key phase steps up one at a time, its bit
// alternating, each phase announced by key_updated.
func TestQlogOfALossyTransferTellsItsStory(t *testing.T) {
	var tr traces
	p := newPair(t, withTraces(&tr))
	p.handshake()
	p.client.c.set.MaxBytesPerKey = 200 << 10
	p.lossRate = 0.03
	const size = 1500 << 10
	s := startStream(p, payload(7, size), true, nil)
	if !p.runUntil(5*time.Minute, func() bool { return len(p.server.received[s.ID()]) == size }) {
		t.Fatalf("transfer incomplete: %d of %d bytes", len(p.server.received[s.ID()]), size)
	}
	p.lossRate = 0
	closePair(t, p)
	f := tr.checked(t, false)

	lost, resent := checkLostDataIsResent(t, f)
	if lost == 0 {
		t.Fatal("no packet with stream data was lost: the test shows nothing")
	}
	t.Logf("%d lost stream ranges, %d of them sent again", lost, resent)
	if n := checkWindowShrinksAtLoss(t, f); n < 3 {
		t.Errorf("only %d losses led into recovery", n)
	}
	if phases := checkKeyPhases(t, f); phases < 3 {
		t.Errorf("only %d key phases; want at least 3", phases)
	}
	checkLostHeadersNameOnlyTypeAndNumber(t, f)
}

// checkLostHeadersNameOnlyTypeAndNumber: a lost packet's record keeps no
// connection IDs or key phase, so packet_lost must not claim any.
func checkLostHeadersNameOnlyTypeAndNumber(t *testing.T, f *schema.File) {
	t.Helper()
	for _, ev := range f.Events {
		if ev.Name != "quic:packet_lost" {
			continue
		}
		for k := range ev.Data["header"].(map[string]any) {
			if k != "packet_type" && k != "packet_number" {
				t.Fatalf("event %d: packet_lost header has %q: %v", ev.Index, k, ev.Data["header"])
			}
		}
	}
}

type streamRange struct{ id, off, end uint64 }

func num(v any) uint64 { f, _ := v.(float64); return uint64(f) }

// streamRanges returns the STREAM frames of an event's frames.
func streamRanges(ev schema.Event) []streamRange {
	var out []streamRange
	frames, _ := ev.Data["frames"].([]any)
	for _, fr := range frames {
		m := fr.(map[string]any)
		if m["frame_type"] != "stream" {
			continue
		}
		n := uint64(0)
		if raw, ok := m["raw"].(map[string]any); ok {
			n = num(raw["length"])
		}
		if n > 0 {
			out = append(out, streamRange{num(m["stream_id"]), num(m["offset"]), num(m["offset"]) + n})
		}
	}
	return out
}

// checkLostDataIsResent checks that the stream bytes of every lost packet
// appear in packets sent after the loss, and returns how many ranges were
// lost and how many resent.
func checkLostDataIsResent(t *testing.T, f *schema.File) (lost, resent int) {
	t.Helper()
	for i, ev := range f.Events {
		if ev.Name != "quic:packet_lost" {
			continue
		}
		for _, r := range streamRanges(ev) {
			lost++
			// The bytes [r.off, r.end) must all be covered by later sends.
			covered := r.off
			for changed := true; changed && covered < r.end; {
				changed = false
				for _, later := range f.Events[i+1:] {
					if later.Name != "quic:packet_sent" {
						continue
					}
					for _, s := range streamRanges(later) {
						if s.id == r.id && s.off <= covered && s.end > covered {
							covered, changed = s.end, true
						}
					}
				}
			}
			if covered < r.end {
				t.Errorf("event %d: stream %d bytes [%d, %d) lost, only up to %d sent again", ev.Index, r.id, r.off, r.end, covered)
				continue
			}
			resent++
		}
	}
	return lost, resent
}

// checkWindowShrinksAtLoss checks that whenever the congestion controller
// enters recovery after packets were lost, the congestion window logged
// next is smaller than the one logged before the first of those losses.
func checkWindowShrinksAtLoss(t *testing.T, f *schema.File) (checked int) {
	t.Helper()
	var cwnd, atLoss uint64
	sawLoss := false
	for i, ev := range f.Events {
		switch ev.Name {
		case "quic:packet_lost":
			if !sawLoss {
				sawLoss, atLoss = true, cwnd
			}
		case "quic:recovery_metrics_updated":
			if w, ok := ev.Data["congestion_window"]; ok {
				cwnd = num(w)
			}
		case "quic:congestion_state_updated":
			if ev.Data["new"] != "recovery" || !sawLoss {
				sawLoss = false
				continue
			}
			sawLoss = false
			for _, next := range f.Events[i+1:] {
				if w, ok := next.Data["congestion_window"]; ok && next.Name == "quic:recovery_metrics_updated" {
					if num(w) >= atLoss {
						t.Errorf("event %d: entering recovery after a loss, cwnd went from %d to %d", ev.Index, atLoss, num(w))
					}
					checked++
					break
				}
			}
		}
	}
	return checked
}

// checkKeyPhases checks 1-RTT key phases of sent packets and returns how
// many there were.
func checkKeyPhases(t *testing.T, f *schema.File) int {
	t.Helper()
	phase, updated := uint64(0), map[uint64]bool{0: true}
	for _, ev := range f.Events {
		switch ev.Name {
		case "quic:key_updated":
			if ev.Data["key_type"] == "client_1rtt_secret" {
				updated[num(ev.Data["key_phase"])] = true
			}
		case "quic:packet_sent":
			h := ev.Data["header"].(map[string]any)
			if h["packet_type"] != "1RTT" {
				continue
			}
			kp := num(h["key_phase"])
			if bit := h["key_phase_bit"].(bool); bit != (kp%2 == 1) {
				t.Errorf("event %d: key_phase %d with key_phase_bit %v", ev.Index, kp, bit)
			}
			switch {
			case kp == phase:
			case kp == phase+1 && updated[kp]:
				phase = kp
			default:
				t.Fatalf("event %d: key phase %d after %d (updates logged: %v)", ev.Index, kp, phase, updated)
			}
		}
	}
	return int(phase) + 1
}
