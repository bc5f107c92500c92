package netsim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
)

// Host is a machine on a Network with one or more addresses. It opens
// sockets the way a program on that machine would, and it resolves names;
// its ListenPacket and LookupNetIP methods are those hquic's
// quic.Library.SetPacketNetwork takes.
type Host struct {
	n     *Network
	addrs []netip.Addr
}

// Host returns a host with the given addresses (at least one). Hosts need
// not be declared before use: a datagram reaches whichever socket has its
// destination address.
func (n *Network) Host(addrs ...netip.Addr) *Host {
	if len(addrs) == 0 {
		panic("netsim: a host needs an address")
	}
	h := &Host{n: n}
	for _, a := range addrs {
		h.addrs = append(h.addrs, a.Unmap())
	}
	return h
}

// Addrs returns the host's addresses.
func (h *Host) Addrs() []netip.Addr { return slices.Clone(h.addrs) }

// Listen opens a socket. network is "udp", "udp4" or "udp6". An
// unspecified address in laddr binds the host's first address of the
// family the network or laddr asks for ("udp" with an unspecified address
// takes the host's first address of any family); a specified address must
// be one of the host's (else the error wraps syscall.EADDRNOTAVAIL). Port
// 0 picks a free port.
func (h *Host) Listen(network string, laddr netip.AddrPort) (*Conn, error) {
	a := laddr.Addr().Unmap()
	if a.IsValid() && !a.IsUnspecified() {
		if network == "udp4" && !a.Is4() || network == "udp6" && !a.Is6() {
			return nil, &bindError{addr: laddr, err: syscall.EAFNOSUPPORT}
		}
		if !slices.Contains(h.addrs, a) {
			return nil, &bindError{addr: laddr, err: syscall.EADDRNOTAVAIL}
		}
		return h.n.Listen(netip.AddrPortFrom(a, laddr.Port()))
	}
	want4, want6 := network == "udp4", network == "udp6"
	switch {
	case network != "udp" && !want4 && !want6:
		return nil, net.UnknownNetworkError(network)
	case network == "udp" && a.IsValid() && a.Is4():
		want4 = true
	}
	for _, ha := range h.addrs {
		if want4 && !ha.Is4() || want6 && !ha.Is6() {
			continue
		}
		return h.n.Listen(netip.AddrPortFrom(ha, laddr.Port()))
	}
	return nil, &bindError{addr: laddr, err: syscall.EADDRNOTAVAIL}
}

// ListenPacket is Listen returning a net.PacketConn.
func (h *Host) ListenPacket(network string, laddr netip.AddrPort) (net.PacketConn, error) {
	c, err := h.Listen(network, laddr)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SetName makes name resolve to addrs on every host of the network.
func (n *Network) SetName(name string, addrs ...netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.names[name] = slices.Clone(addrs)
}

// LookupNetIP resolves name (as net.Resolver.LookupNetIP does): an IP
// literal is itself, a name set with Network.SetName its addresses, and
// "localhost", unless set, the host's own addresses. network is "ip",
// "ip4" or "ip6" and filters the result.
func (h *Host) LookupNetIP(ctx context.Context, network, name string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return []netip.Addr{a}, nil
	}
	h.n.mu.Lock()
	addrs, ok := h.n.names[name]
	h.n.mu.Unlock()
	if !ok && name == "localhost" {
		addrs, ok = h.addrs, true
	}
	var out []netip.Addr
	for _, a := range addrs {
		if network == "ip4" && !a.Is4() || network == "ip6" && !a.Is6() {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: fmt.Sprintf("no %s address", network), Name: name, IsNotFound: true}
	}
	return out, nil
}
