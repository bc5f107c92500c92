//go:build !linux

package udp

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// This file maps Msg fields to control messages through golang.org/x/net,
// which knows each platform's encoding. It allocates, as the x/net API does;
// only the Linux path is allocation-free.

// setupControl turns on the control messages the platform supports.
func (c *conn) setupControl(opts Options) {
	// IPv4 packet information, also for the IPv4 peers of a dual-stack
	// socket, where it may be refused.
	ok4 := ipv4.NewPacketConn(c.uc).SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true) == nil
	if !c.v6 {
		c.pktinfo = ok4
		return
	}
	p6 := ipv6.NewPacketConn(c.uc)
	c.pktinfo = p6.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true) == nil
	if !opts.DisableECN {
		c.ecn.Store(p6.SetControlMessage(ipv6.FlagTrafficClass, true) == nil)
	}
}

// appendOOB appends the control messages of one send. seg is always 0 here:
// GSO is never on outside Linux.
func (c *conn) appendOOB(b []byte, seg int, ecn uint8, local netip.Addr, ifindex uint32, dst4 bool) []byte {
	local = local.Unmap()
	if local.IsValid() && local.Is4() != dst4 {
		local = netip.Addr{}
	}
	var src net.IP
	if local.IsValid() {
		src = local.AsSlice()
	}
	if dst4 {
		if src == nil && ifindex == 0 {
			return b
		}
		cm := ipv4.ControlMessage{Src: src, IfIndex: int(ifindex)}
		return append(b, cm.Marshal()...)
	}
	if src == nil && ifindex == 0 && ecn == 0 {
		return b
	}
	cm := ipv6.ControlMessage{TrafficClass: int(ecn & 3), Src: src, IfIndex: int(ifindex)}
	return append(b, cm.Marshal()...)
}

// parseOOB fills the ECN, Local and IfIndex fields of m from the control
// messages in b.
func (c *conn) parseOOB(b []byte, m *Msg) {
	if len(b) == 0 {
		return
	}
	var cm4 ipv4.ControlMessage
	if cm4.Parse(b) == nil && cm4.Dst != nil {
		m.Local, _ = netip.AddrFromSlice(cm4.Dst)
		m.Local = m.Local.Unmap()
		m.IfIndex = uint32(cm4.IfIndex)
	}
	var cm6 ipv6.ControlMessage
	if cm6.Parse(b) == nil {
		if cm6.Dst != nil {
			m.Local, _ = netip.AddrFromSlice(cm6.Dst)
			m.Local = m.Local.Unmap()
			m.IfIndex = uint32(cm6.IfIndex)
		}
		m.ECN = uint8(cm6.TrafficClass) & 3
	}
}
