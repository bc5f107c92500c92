package lab

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/hquic/quic/interop/internal/relay"
	"github.com/hquic/quic/interop/internal/runner"
)

// natCases go beyond the runner's rebind cases, which move the client once
// a second into the transfer and then every 5 s: the client sits behind a
// NAT (relay.Config.NAT) on a short, fast link, and the NAT moves it to a
// new binding 300 ms after the start and again every 0.5 to 1 s,
// forgetting the old mapping at once, so that datagrams already on their
// way to it are lost. nat-addr changes address and port together, as a
// NAT's address pool or a client roaming between networks does; nat-port
// changes only the port.
var natCases = []*Case{
	{
		Name: "nat-addr", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{5 * mB}}, Network: natNetwork(true),
		Check: all(checkTransfer, checkPaths(true), checkFollowedNAT),
	},
	{
		Name: "nat-port", ClientCase: runner.CaseTransfer, ServerCase: runner.CaseTransfer,
		Files: FileSpec{Sizes: []int{5 * mB}}, Network: natNetwork(false),
		Check: all(checkTransfer, checkPaths(false), checkFollowedNAT),
	},
}

// natLink is the NAT cases' link, per direction: 5 ms one way, 20 Mbit/s.
var natLink = relay.Impairment{Delay: 5 * time.Millisecond, Rate: 20_000_000, Queue: 25}

func natNetwork(addr bool) func(*relay.Config) {
	return func(c *relay.Config) {
		c.ToServer, c.ToClient = natLink, natLink
		c.NAT, c.RebindAddr = true, addr
		c.RebindFirst, c.RebindEvery, c.RebindJitter = 300*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	}
}

// checkFollowedNAT: the server reached the client on every binding the
// client used, except the last (which may have carried no more than the
// client's final acknowledgments or CONNECTION_CLOSE).
func checkFollowedNAT(t *trial) error {
	var order []netip.AddrPort
	used := make(map[netip.AddrPort]bool)
	reached := make(map[netip.AddrPort]bool)
	for _, r := range t.records {
		switch {
		case r.Dir == relay.ToServer && !used[r.Client]:
			used[r.Client] = true
			order = append(order, r.Client)
		case r.Dir == relay.ToClient && r.Fate == relay.Delivered:
			reached[r.Client] = true
		}
	}
	if len(order) < 2 {
		return fmt.Errorf("the client used only %d binding(s): the transfer ended before the NAT moved it", len(order))
	}
	for i, b := range order[:len(order)-1] {
		if !reached[b] {
			return fmt.Errorf("the server never reached the client on binding %d of %d (%v)", i+1, len(order), b)
		}
	}
	return nil
}
