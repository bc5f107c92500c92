package udp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// FromPacketConn makes a Conn of pc, taking ownership of it (Close closes
// it). A *net.UDPConn gets the full datapath of NewConn. Any other
// net.PacketConn, such as an in-memory network's, gets the portable one:
// one datagram per read and per write, a GSO batch written segment by
// segment, no GRO, no ECN (writes drop the mark and reads report none, so
// the peer's ECN validation fails and QUIC stops marking, RFC 9000
// §13.4.2) and no packet information (the local address is the socket's).
// Capabilities reports exactly that.
//
// If pc has the methods of *net.UDPConn that take and return
// netip.AddrPort (ReadFromUDPAddrPort, WriteToUDPAddrPort), they are used
// and no net.Addr is allocated per datagram.
func FromPacketConn(pc net.PacketConn, opts Options) (Conn, error) {
	if uc, ok := pc.(*net.UDPConn); ok {
		return NewConn(uc, opts)
	}
	local, err := addrPortOf(pc.LocalAddr())
	if err != nil {
		return nil, err
	}
	c := &packetConn{pc: pc, local: local}
	c.ap, _ = pc.(addrPortConn)
	return c, nil
}

// addrPortConn is the allocation-free part of *net.UDPConn's interface.
type addrPortConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// packetConn is the Conn over a net.PacketConn that is not a UDP socket.
type packetConn struct {
	pc    net.PacketConn
	ap    addrPortConn // pc, if it has the methods
	local netip.AddrPort
	rmu   sync.Mutex // serialises readers
	wmu   sync.Mutex // serialises writers
}

var errAddrType = errors.New("udp: packet connection address is not a UDP address")

// addrPortOf converts a net.Addr of a packet connection.
func addrPortOf(a net.Addr) (netip.AddrPort, error) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return unmapAddrPort(a.AddrPort()), nil
	case interface{ AddrPort() netip.AddrPort }:
		return unmapAddrPort(a.AddrPort()), nil
	}
	if a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return unmapAddrPort(ap), nil
		}
	}
	return netip.AddrPort{}, errAddrType
}

// ReadBatch implements Conn: it reads one datagram into msgs[0]. A
// datagram whose sender is not a UDP address is skipped.
func (c *packetConn) ReadBatch(msgs []Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	m := &msgs[0]
	buf := m.Buf[:cap(m.Buf)]
	if len(buf) == 0 {
		return 0, errEmptyBuf
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		var n int
		var addr netip.AddrPort
		var err error
		if c.ap != nil {
			n, addr, err = c.ap.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			n, a, err = c.pc.ReadFrom(buf)
			if err == nil {
				if addr, err = addrPortOf(a); err != nil {
					continue
				}
			}
		}
		if err != nil {
			return 0, err
		}
		m.Buf = buf[:n]
		m.Addr = unmapAddrPort(addr)
		m.Local, m.IfIndex, m.ECN, m.SegSize = netip.Addr{}, 0, 0, 0
		return 1, nil
	}
}

// WriteBatch implements Conn: every segment is its own write; ECN marks
// and source addresses are not carried.
func (c *packetConn) WriteBatch(msgs []Msg) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for i := range msgs {
		m := &msgs[i]
		if !m.Addr.IsValid() {
			return i, errNoAddr
		}
		seg := m.SegSize
		if seg <= 0 || seg > len(m.Buf) {
			seg = max(len(m.Buf), 1)
		}
		for off := 0; off == 0 || off < len(m.Buf); off += seg {
			if err := c.write(m.Buf[off:min(off+seg, len(m.Buf))], m.Addr); err != nil {
				return i, err
			}
		}
	}
	return len(msgs), nil
}

// write sends one datagram.
func (c *packetConn) write(d []byte, to netip.AddrPort) error {
	var err error
	if c.ap != nil {
		_, err = c.ap.WriteToUDPAddrPort(d, to)
	} else {
		_, err = c.pc.WriteTo(d, net.UDPAddrFromAddrPort(to))
	}
	return err
}

// LocalAddr implements Conn.
func (c *packetConn) LocalAddr() netip.AddrPort { return c.local }

// Capabilities implements Conn: none of the socket features.
func (c *packetConn) Capabilities() Capabilities { return Capabilities{MaxSegments: 1} }

// Stats implements Conn: nothing is absorbed.
func (c *packetConn) Stats() Stats { return Stats{} }

// Close implements Conn.
func (c *packetConn) Close() error { return c.pc.Close() }
