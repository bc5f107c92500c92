package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hquic/quic/interop/internal/relay"
)

// packets returns the headers of the given type in one direction, in
// arrival order; with delivered, only those the peer received.
func (t *trial) packets(dir relay.Direction, typ relay.PacketType, delivered bool) []relay.Header {
	var out []relay.Header
	for _, r := range t.records {
		if r.Dir != dir || delivered && r.Fate != relay.Delivered {
			continue
		}
		for _, h := range r.Headers {
			if h.Type == typ {
				out = append(out, h)
			}
		}
	}
	return out
}

// handshakes counts the server's connections as the runner does, by the
// distinct Source Connection IDs of the server's Initial packets, but only
// those that also sent Handshake packets: under corruption a server may
// answer a damaged first Initial with a lone CONNECTION_CLOSE (for example
// INVALID_TOKEN for a corrupted token), which is no handshake.
func (t *trial) handshakes() int {
	flights := make(map[string]bool)
	for _, h := range t.packets(relay.ToClient, relay.TypeHandshake, false) {
		flights[string(h.SCID)] = true
	}
	ids := make(map[string]bool)
	for _, h := range t.packets(relay.ToClient, relay.TypeInitial, false) {
		if flights[string(h.SCID)] {
			ids[string(h.SCID)] = true
		}
	}
	return len(ids)
}

// versions returns the versions of one direction's packets of a type.
func (t *trial) versions(dir relay.Direction, typ relay.PacketType) map[uint32]bool {
	vs := make(map[uint32]bool)
	for _, h := range t.packets(dir, typ, false) {
		vs[h.Version] = true
	}
	return vs
}

func versionList(vs map[uint32]bool) string {
	var s []string
	for v := range vs {
		s = append(s, fmt.Sprintf("%#x", v))
	}
	slices.Sort(s)
	return "[" + strings.Join(s, " ") + "]"
}

// handshakeBytesPerConnection sums the server's Handshake packet sizes per
// server connection ID, in order of the connections' first packets.
func (t *trial) handshakeBytesPerConnection() []int {
	index := make(map[string]int)
	var sizes []int
	for _, h := range t.packets(relay.ToClient, relay.TypeHandshake, false) {
		i, ok := index[string(h.SCID)]
		if !ok {
			i = len(sizes)
			index[string(h.SCID)] = i
			sizes = append(sizes, 0)
		}
		sizes[i] += h.Size
	}
	return sizes
}

func hasType(r relay.Record, typ relay.PacketType) bool {
	for _, h := range r.Headers {
		if h.Type == typ {
			return true
		}
	}
	return false
}
