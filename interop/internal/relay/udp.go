package relay

import (
	"net"
	"net/netip"
)

// udpConn is a UDP socket that reports and forwards ECN codepoints where
// the platform allows.
type udpConn struct {
	c     *net.UDPConn
	local netip.AddrPort
	v6    bool
	oob   []byte
}

func listen(a netip.AddrPort) (*udpConn, error) {
	network := "udp4"
	if a.Addr().Is6() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(a))
	if err != nil {
		return nil, err
	}
	u := &udpConn{c: c, v6: a.Addr().Is6(), oob: make([]byte, 128)}
	la := c.LocalAddr().(*net.UDPAddr).AddrPort()
	u.local = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	enableECN(u)
	return u, nil
}

// read reads one datagram and its ECN codepoint. It is called from one
// goroutine per socket.
func (u *udpConn) read(b []byte) (int, uint8, netip.AddrPort, error) {
	n, oobn, _, from, err := u.c.ReadMsgUDPAddrPort(b, u.oob)
	if err != nil {
		return 0, 0, netip.AddrPort{}, err
	}
	return n, parseECN(u.oob[:oobn]), netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), nil
}

// write sends b to to with ECN codepoint ecn; send errors are ignored, as
// on a network.
func (u *udpConn) write(b []byte, ecn uint8, to netip.AddrPort) {
	if oob := ecnOOB(u.v6, ecn); oob != nil {
		u.c.WriteMsgUDPAddrPort(b, oob, to)
		return
	}
	u.c.WriteToUDPAddrPort(b, to)
}

func (u *udpConn) Close() error { return u.c.Close() }
