package quic

import (
	"encoding/binary"
	"net/netip"
)

// Load balancing (GlobalSettings.LoadBalancingMode): a server fleet behind a
// QUIC-aware load balancer needs the connection IDs each server issues to
// name that server, so that packets keep reaching it after the client
// switches to a new connection ID or migrates. With a mode on, every server
// connection ID has the plaintext layout of QUIC-LB
// (draft-ietf-quic-load-balancers): a first octet holding config ID 0 in its
// three high bits and the length of the rest of the ID in its five low bits,
// a 4-byte server ID, then lbNonceLen random bytes. The server ID is the
// IPv4 address the client reached (the last four bytes of an IPv6 one) with
// LoadBalancingServerIDIP, or GlobalSettings.FixedServerID (big endian) with
// LoadBalancingServerIDFixed. A prefix set with Connection.SetLocalCIDPrefix
// replaces this layout for its connection. Encrypted QUIC-LB configurations
// are not implemented.

const (
	// lbServerIDLen is the length of the server ID in load-balanced IDs.
	lbServerIDLen = 4
	// lbNonceLen is the number of random bytes after the server ID
	// (QUIC-LB requires at least four).
	lbNonceLen = 4
	// lbCIDLen is the length of the connection IDs issued when a
	// load-balancing mode is on.
	lbCIDLen = 1 + lbServerIDLen + lbNonceLen
)

// loadBalancing returns the library's load-balancing mode and fixed
// server ID. Neither changes once a registration exists, so connections
// and bindings read them once.
func (l *Library) loadBalancing() (LoadBalancingMode, uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.global.LoadBalancingMode.Value, l.global.FixedServerID.Value
}

// cidLen returns the length of the connection IDs the library's
// connections issue.
func (l *Library) cidLen() int {
	if mode, _ := l.loadBalancing(); mode != LoadBalancingDisabled {
		return lbCIDLen
	}
	return cidLen
}

// serverCIDPrefix returns the prefix of every connection ID a server
// connection reached at local issues: nil without load balancing.
func (l *Library) serverCIDPrefix(local netip.Addr) []byte {
	mode, fixed := l.loadBalancing()
	var id [lbServerIDLen]byte
	switch mode {
	case LoadBalancingServerIDIP:
		ip := local.Unmap().As16()
		copy(id[:], ip[16-lbServerIDLen:])
	case LoadBalancingServerIDFixed:
		binary.BigEndian.PutUint32(id[:], fixed)
	default:
		return nil
	}
	first := byte(lbCIDLen - 1) // config ID 0, self-encoded length
	return append([]byte{first}, id[:]...)
}

// LoadBalancingMode selects how a server encodes routing information into
// the connection IDs it issues (QUIC_LOAD_BALANCING_MODE).
type LoadBalancingMode uint16

const (
	// LoadBalancingDisabled: random connection IDs (default).
	LoadBalancingDisabled LoadBalancingMode = 0
	// LoadBalancingServerIDIP: the server ID is the IPv4 address the
	// client reached (the last four bytes of an IPv6 address).
	LoadBalancingServerIDIP LoadBalancingMode = 1
	// LoadBalancingServerIDFixed: the server ID is
	// GlobalSettings.FixedServerID, big endian.
	LoadBalancingServerIDFixed LoadBalancingMode = 2

	loadBalancingCount = 3
)

// String returns the mode name.
func (m LoadBalancingMode) String() string {
	return enumString("LoadBalancingMode", uint64(m), map[uint64]string{
		0: "Disabled", 1: "ServerIDIP", 2: "ServerIDFixed",
	})
}
