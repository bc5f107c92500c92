package quic

import (
	"context"
	"net"
	"net/netip"

	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/udp"
)

// PacketNetwork opens the UDP sockets of a Library: those of its
// listeners, of its client connections, of a server's preferred address
// and of a client's migration. The default is the operating system's UDP;
// netsim.Host is an in-memory network with virtual time for tests.
//
// ListenPacket is called with network "udp", "udp4" or "udp6" and a local
// address that may be unspecified or have port 0, as for net.ListenUDP;
// the returned socket's LocalAddr must be the address it got, and after
// Close its reads must fail with an error wrapping net.ErrClosed. Errors
// wrapping syscall.EADDRINUSE and EADDRNOTAVAIL become ErrAddressInUse and
// ErrAddressNotAvailable.
//
// A *net.UDPConn keeps the full datapath (batched reads and writes,
// segmentation offload, ECN, packet information). Any other
// net.PacketConn gets one datagram per read and per write, and no ECN and
// no packet information: hquic then writes every segment of a batch on its
// own, and its ECN validation fails, so its connections stop marking ECN
// (RFC 9000 §13.4.2). Connection statistics and behaviour stay otherwise
// the same.
//
// If the network also has a LookupNetIP method with the signature of
// net.Resolver's, Connection.Start resolves server names with it.
type PacketNetwork interface {
	ListenPacket(network string, laddr netip.AddrPort) (net.PacketConn, error)
}

// resolver is the optional name lookup of a PacketNetwork.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// SetPacketNetwork makes the library open its sockets through n; nil
// restores the operating system's UDP. It must be called before the first
// registration is opened (ErrInvalidState after), so that every socket of
// the library is on one network.
func (l *Library) SetPacketNetwork(n PacketNetwork) error {
	l.mu.Lock()
	inUse := l.inUse
	l.mu.Unlock()
	if inUse {
		return opError("Library.SetPacketNetwork", StatusInvalidState, "a registration was opened")
	}
	t := &l.bindings
	t.netMu.Lock()
	t.net = n
	t.netMu.Unlock()
	return nil
}

// packetNetwork returns the network set with SetPacketNetwork, or nil.
func (l *Library) packetNetwork() PacketNetwork {
	t := &l.bindings
	t.netMu.Lock()
	defer t.netMu.Unlock()
	return t.net
}

// listen opens a binding on laddr through the library's network.
func (l *Library) listen(network string, laddr netip.AddrPort, cfg endpoint.Config) (*endpoint.Binding, error) {
	b, err := l.listenOn(network, laddr, cfg)
	if err == nil {
		l.socketOpened(b.LocalAddr(), b.Capabilities())
	}
	return b, err
}

// listenOn opens the binding on the operating system's UDP or the network
// set with SetPacketNetwork.
func (l *Library) listenOn(network string, laddr netip.AddrPort, cfg endpoint.Config) (*endpoint.Binding, error) {
	pn := l.packetNetwork()
	if pn == nil {
		return endpoint.Listen(network, laddr, cfg)
	}
	pc, err := pn.ListenPacket(network, laddr)
	if err != nil {
		return nil, err
	}
	s, err := udp.FromPacketConn(pc, cfg.UDP)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return endpoint.New(s, cfg), nil
}

// resolver returns what resolves server names: the network's lookup if it
// has one, else the system's.
func (l *Library) resolver() resolver {
	if r, ok := l.packetNetwork().(resolver); ok {
		return r
	}
	return net.DefaultResolver
}
