package lab

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hquic/quic/interop/internal/relay"
	"github.com/hquic/quic/interop/internal/runner"
)

// Sizes.
const (
	kB = 1 << 10
	mB = 1 << 20
)

// FileSpec is what a case serves.
type FileSpec struct {
	Sizes   []int
	NameLen int // 0: 10 letters
}

// Case is one of the runner's test cases.
type Case struct {
	// Name is the runner's name, e.g. "transfer".
	Name string
	// ClientCase and ServerCase are the TESTCASE each endpoint gets; empty
	// means Name.
	ClientCase, ServerCase string
	// Files are served and downloaded.
	Files FileSpec
	// Network adjusts the runner's default network (15 ms one way,
	// 10 Mbit/s, 25-packet queue, both directions); nil keeps it.
	Network func(*relay.Config)
	// IPv6 runs over ::1.
	IPv6 bool
	// CertChain is the server certificate chain length (default 1).
	CertChain int
	// PreferredAddress makes the lab keep the server's port + 1 free for
	// the preferred address the server offers.
	PreferredAddress bool
	// Timeout bounds the client (default 60 s, as the runner).
	Timeout time.Duration
	// Check decides the outcome once the client succeeded.
	Check func(*trial) error
}

func (c *Case) clientCase() string {
	if c.ClientCase != "" {
		return c.ClientCase
	}
	return c.Name
}

func (c *Case) serverCase() string {
	if c.ServerCase != "" {
		return c.ServerCase
	}
	return c.Name
}

// defaultLink is the runner's default network, per direction.
var defaultLink = relay.Impairment{Delay: 15 * time.Millisecond, Rate: 10_000_000, Queue: 25}

func (c *Case) network() relay.Config {
	cfg := relay.Config{ToServer: defaultLink, ToClient: defaultLink}
	if c.Network != nil {
		c.Network(&cfg)
	}
	return cfg
}

// Cases are the runner's test cases in its order, then the lab's NAT
// cases (nat.go).
var Cases = append(runnerCases, natCases...)

// runnerCases are the runner's test cases in its order, with its file
// sizes, networks and checks (where the checks need decrypted frames, the
// lab checks what the relay and the endpoints can see; see each case).
var runnerCases = []*Case{
	{Name: "handshake", Files: FileSpec{Sizes: []int{1 * kB}}, Check: checkHandshake},
	{Name: "transfer", Files: FileSpec{Sizes: []int{2 * mB, 3 * mB, 5 * mB}}, Check: checkTransfer},
	{
		Name: "longrtt", ClientCase: runner.CaseHandshake, ServerCase: runner.CaseHandshake,
		Files: FileSpec{Sizes: []int{1 * kB}},
		Network: func(c *relay.Config) {
			c.ToServer.Delay, c.ToClient.Delay = 750*time.Millisecond, 750*time.Millisecond
		},
		Check: all(checkHandshake, checkClientHelloRetransmitted),
	},
	{Name: "chacha20", Files: FileSpec{Sizes: []int{3 * mB}}, Check: checkTransfer},
	{
		// The runner also checks that the server's stream limit is at
		// most 1000, which is encrypted; both endpoints set 1000.
		Name: "multiplexing", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: repeat(1999, 32)}, Check: checkTransfer,
	},
	{Name: "retry", Files: FileSpec{Sizes: []int{10 * kB}}, Check: all(checkTransfer, checkRetry)},
	{Name: "resumption", Files: FileSpec{Sizes: []int{5 * kB, 10 * kB}}, Check: checkResumption},
	{Name: "zerortt", Files: FileSpec{Sizes: repeat(40, 32), NameLen: 250}, Check: checkZeroRTT},
	{
		Name: "blackhole", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{10 * mB}},
		Network: func(c *relay.Config) {
			c.BlackholeOn, c.BlackholeOff = 5*time.Second, 2*time.Second
		},
		Check: checkTransfer,
	},
	{
		Name: "keyupdate", ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{3 * mB}}, Check: all(checkTransfer, checkKeyUpdate),
	},
	{Name: "ecn", Files: FileSpec{Sizes: []int{1 * kB}}, Check: all(checkHandshake, checkECN)},
	{
		Name: "amplificationlimit", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{5 * kB}}, CertChain: 9,
		Network: func(c *relay.Config) { c.ToServer.Drop = []int{2, 3, 4, 5, 6, 7} },
		Check:   all(checkTransfer, checkAmplification),
	},
	{
		Name: "handshakeloss", ClientCase: runner.CaseMulticonnect, ServerCase: runner.CaseMulticonnect,
		Files: FileSpec{Sizes: repeat(50, 1*kB)}, Timeout: 300 * time.Second,
		Network: lossy(0.30, false), Check: checkHandshakes(50),
	},
	{
		Name: "transferloss", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{2 * mB}}, Network: lossy(0.02, false), Check: checkTransfer,
	},
	{
		Name: "handshakecorruption", ClientCase: runner.CaseMulticonnect, ServerCase: runner.CaseMulticonnect,
		Files: FileSpec{Sizes: repeat(50, 1*kB)}, Timeout: 300 * time.Second,
		Network: lossy(0.30, true), Check: checkHandshakes(50),
	},
	{
		Name: "transfercorruption", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{2 * mB}}, Network: lossy(0.02, true), Check: checkTransfer,
	},
	{
		Name: "ipv6", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer, IPv6: true,
		Files: FileSpec{Sizes: []int{5 * kB, 10 * kB}}, Check: all(checkTransfer, checkIPv6),
	},
	{Name: "v2", Files: FileSpec{Sizes: []int{1 * kB}}, Check: all(checkFiles, checkV2)},
	{
		// The runner also checks PATH_CHALLENGE/PATH_RESPONSE on each new
		// path, which are encrypted.
		Name: "rebind-port", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{10 * mB}},
		Network: func(c *relay.Config) {
			c.RebindFirst, c.RebindEvery = time.Second, 5*time.Second
		},
		Check: all(checkTransfer, checkPaths(false)),
	},
	{
		Name: "rebind-addr", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{10 * mB}},
		Network: func(c *relay.Config) {
			c.RebindFirst, c.RebindEvery, c.RebindAddr = time.Second, 5*time.Second, true
		},
		Check: all(checkTransfer, checkPaths(true)),
	},
	{
		// The client migrates to the server's preferred_address (the
		// listening port + 1), which bypasses the relay: the lab checks the
		// client's report of the move instead of the runner's capture of
		// the new path.
		Name: "connectionmigration", ClientCase: runner.CaseTransfer, PreferredAddress: true,
		Files: FileSpec{Sizes: []int{2 * mB}}, Check: all(checkTransfer, checkMigrated),
	},
}

// CaseByName returns the named case, or nil.
func CaseByName(name string) *Case {
	for _, c := range Cases {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// lossy is the runner's drop-rate / corrupt-rate scenario with burst 3, in
// both directions: each datagram is hit independently at rate, but never
// more than 3 in a row (relay.Impairment.LossRunMax).
func lossy(rate float64, corrupt bool) func(*relay.Config) {
	return func(c *relay.Config) {
		for _, imp := range []*relay.Impairment{&c.ToServer, &c.ToClient} {
			if corrupt {
				imp.CorruptRate, imp.CorruptRunMax = rate, 3
			} else {
				imp.LossRate, imp.LossRunMax = rate, 3
			}
		}
	}
}

// all runs checks in order and returns the first failure.
func all(checks ...func(*trial) error) func(*trial) error {
	return func(t *trial) error {
		for _, c := range checks {
			if err := c(t); err != nil {
				return err
			}
		}
		return nil
	}
}

func checkFiles(t *trial) error { return t.checkFiles() }

// checkTransfer is the runner's transfer check: one handshake, QUIC v1
// only, and the files.
func checkTransfer(t *trial) error { return checkHandshakes(1)(t) }

// checkHandshake adds to checkTransfer that no Retry was sent.
func checkHandshake(t *trial) error {
	if err := checkTransfer(t); err != nil {
		return err
	}
	if n := len(t.packets(relay.ToClient, relay.TypeRetry, false)); n > 0 {
		return fmt.Errorf("the server sent %d Retry packets", n)
	}
	return nil
}

// checkHandshakes wants n handshakes in QUIC v1 and the files.
func checkHandshakes(n int) func(*trial) error {
	return func(t *trial) error {
		if got := t.handshakes(); got != n {
			return fmt.Errorf("expected %d handshakes, saw %d", n, got)
		}
		if vs := t.versions(relay.ToClient, relay.TypeInitial); len(vs) != 1 || !vs[relay.Version1] {
			return fmt.Errorf("expected only QUIC v1 in the server's Initial packets, saw %s", versionList(vs))
		}
		return t.checkFiles()
	}
}

// checkClientHelloRetransmitted: with a 1.5 s RTT the client must have sent
// its Initial again before anything came back.
func checkClientHelloRetransmitted(t *trial) error {
	var firstReply time.Time
	for _, r := range t.records {
		if r.Dir == relay.ToClient && !r.DeliverAt.IsZero() && (firstReply.IsZero() || r.DeliverAt.Before(firstReply)) {
			firstReply = r.DeliverAt
		}
	}
	n := 0
	for _, r := range t.records {
		if r.Dir == relay.ToServer && hasType(r, relay.TypeInitial) && (firstReply.IsZero() || r.Time.Before(firstReply)) {
			n++
		}
	}
	if n < 2 {
		return fmt.Errorf("expected at least 2 ClientHello datagrams before the server's reply, saw %d", n)
	}
	return nil
}

// checkRetry: the server sent a Retry with a token, and a client Initial
// carried it.
func checkRetry(t *trial) error {
	tokens := make(map[string]bool)
	for _, h := range t.packets(relay.ToClient, relay.TypeRetry, false) {
		if len(h.Token) == 0 {
			return errors.New("a Retry packet has no token")
		}
		tokens[string(h.Token)] = true
	}
	if len(tokens) == 0 {
		return errors.New("the server sent no Retry")
	}
	for _, h := range t.packets(relay.ToServer, relay.TypeInitial, false) {
		if tokens[string(h.Token)] {
			return nil
		}
	}
	return errors.New("no client Initial used the Retry token")
}

// checkResumption: two handshakes, the second without the server's
// certificate. hquic's client reports whether TLS resumed; for other
// clients it is seen as a much smaller server Handshake flight (which a
// server that pads its Handshake packets, as MsQuic does, would hide).
func checkResumption(t *trial) error {
	if err := checkHandshakes(2)(t); err != nil {
		return err
	}
	if n := strings.Count(t.clientOut, "hquic-stats:"); n > 0 {
		if n != 2 || !strings.Contains(t.clientOut[strings.LastIndex(t.clientOut, "hquic-stats:"):], " resumed=true ") {
			return errors.New("the client's second connection did not resume its TLS session")
		}
		return nil
	}
	sizes := t.handshakeBytesPerConnection()
	if len(sizes) != 2 {
		return fmt.Errorf("expected Handshake packets from 2 server connections, saw %d", len(sizes))
	}
	if sizes[1]*2 > sizes[0] {
		return fmt.Errorf("the second handshake is not resumed: server Handshake bytes %d then %d", sizes[0], sizes[1])
	}
	return nil
}

// checkZeroRTT: two handshakes, 0-RTT packets from the client, and little
// client 1-RTT payload (the requests went in 0-RTT).
func checkZeroRTT(t *trial) error {
	if err := checkHandshakes(2)(t); err != nil {
		return err
	}
	zero, one := 0, 0
	for _, h := range t.packets(relay.ToServer, relay.Type0RTT, false) {
		zero += h.Size
	}
	for _, h := range t.packets(relay.ToServer, relay.TypeShort, false) {
		one += h.Size
	}
	if zero == 0 {
		return errors.New("the client sent no 0-RTT packets")
	}
	if limit := 250 * 40 / 2; one > limit {
		return fmt.Errorf("the client sent %d bytes in 1-RTT packets, more than %d", one, limit)
	}
	return nil
}

// checkECN: both endpoints marked their packets ECT(0) or ECT(1), and
// nothing was marked CE. (The runner also wants ACK frames with ECN
// counts, which are encrypted.)
func checkECN(t *trial) error {
	for _, dir := range []relay.Direction{relay.ToServer, relay.ToClient} {
		var counts [4]int
		for _, r := range t.records {
			if r.Dir == dir {
				counts[r.ECN]++
			}
		}
		who := map[relay.Direction]string{relay.ToServer: "client", relay.ToClient: "server"}[dir]
		if counts[1]+counts[2] == 0 {
			return fmt.Errorf("the %s marked no packet ECT(0) or ECT(1)", who)
		}
		if counts[3] > 0 {
			return fmt.Errorf("the %s sent %d CE-marked packets", who, counts[3])
		}
	}
	return nil
}

// checkAmplification replays what the server saw, as the runner does:
// before the client's first Handshake packet, no server datagram may
// bring its total past 3 (with a tolerance of 4) times what it received;
// and the server must have sent its large certificate chain.
func checkAmplification(t *trial) error {
	hs := 0
	for _, h := range t.packets(relay.ToClient, relay.TypeHandshake, false) {
		hs += h.Size
	}
	if hs < 7500 {
		return fmt.Errorf("the server sent only %d bytes of Handshake packets: not the 9-certificate chain?", hs)
	}
	type event struct {
		at     time.Time
		client bool
		rec    relay.Record
	}
	var evs []event
	for _, r := range t.records {
		switch {
		case r.Dir == relay.ToServer && (r.Fate == relay.Delivered || r.Fate == relay.Corrupted):
			evs = append(evs, event{r.DeliverAt, true, r})
		case r.Dir == relay.ToClient:
			evs = append(evs, event{r.Time, false, r})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	allowed, tolerance := 0, 0
	for _, e := range evs {
		if e.client {
			if hasType(e.rec, relay.TypeHandshake) {
				return nil
			}
			if hasType(e.rec, relay.TypeInitial) {
				allowed += 3 * e.rec.Size
				tolerance += 4 * e.rec.Size
			}
			continue
		}
		if e.rec.Size >= tolerance {
			return fmt.Errorf("the server exceeded the amplification limit: a %d-byte datagram with %d bytes of allowance left", e.rec.Size, allowed)
		}
		allowed -= e.rec.Size
		tolerance -= e.rec.Size
	}
	return errors.New("the client never sent a Handshake packet")
}

// checkIPv6: no IPv4 anywhere.
func checkIPv6(t *trial) error {
	for _, r := range t.records {
		if !r.Client.Addr().Is6() || r.Client.Addr().Is4In6() {
			return fmt.Errorf("IPv4 traffic seen: %v", r.Client)
		}
	}
	return nil
}

// checkV2: the client starts in v1, the server answers in v2, and both
// use only v2 for Handshake packets.
func checkV2(t *trial) error {
	if vs := t.versions(relay.ToServer, relay.TypeInitial); !vs[relay.Version1] {
		return fmt.Errorf("expected QUIC v1 in the client's Initial packets, saw %s", versionList(vs))
	}
	if vs := t.versions(relay.ToClient, relay.TypeInitial); !vs[relay.Version2] {
		return fmt.Errorf("expected QUIC v2 in the server's Initial packets, saw %s", versionList(vs))
	}
	for _, dir := range []relay.Direction{relay.ToServer, relay.ToClient} {
		if vs := t.versions(dir, relay.TypeHandshake); len(vs) != 1 || !vs[relay.Version2] {
			return fmt.Errorf("expected only QUIC v2 in %s Handshake packets, saw %s", dir, versionList(vs))
		}
	}
	return nil
}

// checkPaths: the server sent on more than one client path (more than one
// client address too with addr), so the transfer survived rebinding.
func checkPaths(addr bool) func(*trial) error {
	return func(t *trial) error {
		paths := make(map[string]bool)
		ips := make(map[string]bool)
		for _, r := range t.records {
			if r.Dir == relay.ToClient && r.Fate != relay.Unroutable {
				paths[r.Client.String()] = true
				ips[r.Client.Addr().String()] = true
			}
		}
		if len(paths) < 2 {
			return fmt.Errorf("the server used only %d client path(s)", len(paths))
		}
		if addr && len(ips) < 2 {
			return fmt.Errorf("the server saw only %d client address(es)", len(ips))
		}
		return nil
	}
}

// checkMigrated: the client reported moving to the server's preferred
// address.
func checkMigrated(t *trial) error {
	if !strings.Contains(t.clientOut, "hquic-migrated: peer="+t.preferred.String()) {
		return fmt.Errorf("the client did not report moving to the preferred address %v", t.preferred)
	}
	return nil
}
