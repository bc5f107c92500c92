package conn

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// The challenge schedule of one validation: the first is due at once,
// each later one a doubled PTO after the previous (capped), and the
// deadline ends the validation whatever the schedule says.
func TestPathProbeSchedule(t *testing.T) {
	const pto = 100 * time.Millisecond
	start := mono.Time(0).Add(time.Second)
	pr := newPathProbe(start, clientAddr, serverAddr, 10*time.Second)
	steps := []struct {
		sentAt   time.Duration // since start
		wantNext time.Duration // since start
	}{
		{0, 200 * time.Millisecond},
		{200 * time.Millisecond, 600 * time.Millisecond},
		{600 * time.Millisecond, 1400 * time.Millisecond},
		{1400 * time.Millisecond, 3000 * time.Millisecond},
		{3000 * time.Millisecond, 6200 * time.Millisecond},
		{6200 * time.Millisecond, 12600 * time.Millisecond},  // 2^6 PTOs
		{12600 * time.Millisecond, 19000 * time.Millisecond}, // capped at 2^6
	}
	if !pr.challengeDue(start) {
		t.Fatal("the first challenge is not due at once")
	}
	for i, s := range steps {
		now := start.Add(s.sentAt)
		if !pr.challengeDue(now) {
			t.Fatalf("step %d: challenge not due at +%v", i, s.sentAt)
		}
		pr.onChallengeSent(now, pto)
		if got := pr.next.Sub(start); got != s.wantNext {
			t.Errorf("step %d: next challenge at +%v, want +%v", i, got, s.wantNext)
		}
		if pr.challengeDue(start.Add(s.wantNext - 1)) {
			t.Errorf("step %d: challenge due before +%v", i, s.wantNext)
		}
	}
	if got, want := pr.timer(), start.Add(10*time.Second); got != want {
		t.Errorf("timer %v, want the deadline %v once it comes before the next challenge", got, want)
	}
	if pr.expired(start.Add(10*time.Second - 1)) {
		t.Error("expired before the deadline")
	}
	if !pr.expired(start.Add(10 * time.Second)) {
		t.Error("not expired at the deadline")
	}
}

// Only the latest maxChallenges challenges are answered; data never sent
// is not.
func TestPathProbeAnswers(t *testing.T) {
	pr := newPathProbe(0, clientAddr, serverAddr, time.Second)
	var sent [][8]byte
	for range maxChallenges + 3 {
		sent = append(sent, pr.newChallenge())
	}
	for i, d := range sent {
		want := i >= len(sent)-maxChallenges
		if got := pr.answers(d); got != want {
			t.Errorf("challenge %d of %d: answers %v, want %v", i, len(sent), got, want)
		}
	}
	if pr.answers([8]byte{1, 2, 3}) {
		t.Error("a response to data never sent validates the path")
	}
	if (&pathProbe{}).answers([8]byte{}) {
		t.Error("a probe that sent nothing accepts a zero response")
	}
}

// A server sends at most three times what arrived from the path being
// validated (RFC 9000 §8.2.1, §9.3).
func TestPathProbeSendBudget(t *testing.T) {
	cases := []struct {
		recvd, sent []int
		want        int
	}{
		{nil, nil, 0},
		{[]int{50}, nil, 150},
		{[]int{50, 1200}, []int{1200}, 2550},
		{[]int{100}, []int{300}, 0},
		{[]int{100}, []int{1200}, 0}, // already over: no wrap-around
	}
	for _, tc := range cases {
		pr := newPathProbe(0, clientAddr, serverAddr, time.Second)
		for _, n := range tc.recvd {
			pr.onReceived(n)
		}
		for _, n := range tc.sent {
			pr.onSent(n)
		}
		if got := pr.sendBudget(); got != tc.want {
			t.Errorf("received %v, sent %v: budget %d, want %d", tc.recvd, tc.sent, got, tc.want)
		}
	}
	huge := pathProbe{recvd: math.MaxUint64 / 4}
	if got := huge.sendBudget(); got != math.MaxInt32 {
		t.Errorf("huge budget %d, want it capped at %d", got, math.MaxInt32)
	}
}

// on matches the probed path, a wildcard local address matching any
// address on its port.
func TestPathProbeOn(t *testing.T) {
	wild := netip.MustParseAddrPort("0.0.0.0:4433")
	pr := newPathProbe(0, clientAddr, wild, time.Second)
	cases := []struct {
		peer, local netip.AddrPort
		want        bool
	}{
		{clientAddr, wild, true},
		{clientAddr, netip.MustParseAddrPort("127.0.0.1:4433"), true},
		{clientAddr, netip.MustParseAddrPort("127.0.0.1:4434"), false},
		{netip.AddrPortFrom(clientAddr.Addr(), clientAddr.Port()+1), wild, false},
	}
	for _, tc := range cases {
		if got := pr.on(tc.peer, tc.local); got != tc.want {
			t.Errorf("on(%v, %v) = %v, want %v", tc.peer, tc.local, got, tc.want)
		}
	}
}

// What a move between two paths changes: a port-only change keeps the
// congestion state, an address change resets it, and the events follow
// what the application can see.
func TestChangeBetween(t *testing.T) {
	ap := netip.MustParseAddrPort
	cases := []struct {
		name                               string
		oldPeer, oldLocal, newPeer, newLoc string
		want                               pathChange
	}{
		{"peer port (NAT rebinding)", "192.0.2.1:1000", "192.0.2.9:443", "192.0.2.1:1001", "192.0.2.9:443",
			pathChange{peer: true}},
		{"peer address", "192.0.2.1:1000", "192.0.2.9:443", "192.0.2.2:1000", "192.0.2.9:443",
			pathChange{addr: true, peer: true}},
		{"local port", "192.0.2.1:1000", "192.0.2.9:5000", "192.0.2.1:1000", "192.0.2.9:5001",
			pathChange{local: true}},
		{"local address", "192.0.2.1:1000", "192.0.2.9:5000", "192.0.2.1:1000", "192.0.2.8:5000",
			pathChange{addr: true, local: true}},
		{"wildcard local filled in", "192.0.2.1:1000", "0.0.0.0:443", "192.0.2.1:1001", "192.0.2.9:443",
			pathChange{peer: true}},
		{"to the preferred address", "192.0.2.1:443", "192.0.2.9:5000", "198.51.100.1:443", "192.0.2.9:5000",
			pathChange{addr: true, peer: true}},
	}
	for _, tc := range cases {
		got := changeBetween(ap(tc.oldPeer), ap(tc.oldLocal), ap(tc.newPeer), ap(tc.newLoc))
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
