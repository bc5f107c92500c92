package udp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file encodes and decodes Linux control messages and socket addresses
// in place, without allocating. Control buffers are 8-byte aligned (oobSize
// is a multiple of 8 and Go aligns byte slices of that size), as the
// cmsghdr casts require.

// appendCmsg appends a control message header for n bytes of data of the
// given level and type, and returns the extended buffer and the data field.
// cap(b) must leave room for unix.CmsgSpace(n) more bytes.
func appendCmsg(b []byte, level, typ int32, n int) ([]byte, []byte) {
	off := len(b)
	b = b[:off+unix.CmsgSpace(n)]
	clear(b[off:])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[off]))
	h.Level = level
	h.Type = typ
	h.SetLen(unix.CmsgLen(n))
	return b, b[off+unix.CmsgLen(0) : off+unix.CmsgLen(n)]
}

// appendOOB appends the control messages of one send: the GSO segment size
// when seg > 0, the traffic class when ecn != 0, and the packet information
// when local or ifindex asks for a source address or interface. dst4 selects
// the IPv4 forms (also on a dual-stack socket sending to an IPv4 peer).
func (c *conn) appendOOB(b []byte, seg int, ecn uint8, local netip.Addr, ifindex uint32, dst4 bool) []byte {
	var d []byte
	if seg > 0 {
		b, d = appendCmsg(b, unix.SOL_UDP, unix.UDP_SEGMENT, 2)
		binary.NativeEndian.PutUint16(d, uint16(seg))
	}
	if ecn != 0 {
		// The DSCP bits stay zero: only the two ECN bits are set.
		if dst4 {
			b, d = appendCmsg(b, unix.IPPROTO_IP, unix.IP_TOS, 4)
		} else {
			b, d = appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4)
		}
		binary.NativeEndian.PutUint32(d, uint32(ecn&3))
	}
	local = local.Unmap()
	if local.IsValid() && local.Is4() != dst4 {
		local = netip.Addr{}
	}
	if !local.IsValid() && ifindex == 0 {
		return b
	}
	if dst4 {
		// struct in_pktinfo: ipi_ifindex, ipi_spec_dst (the source to
		// use), ipi_addr (unused on send).
		b, d = appendCmsg(b, unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo)
		binary.NativeEndian.PutUint32(d[0:4], ifindex)
		if local.IsValid() {
			a := local.As4()
			copy(d[4:8], a[:])
		}
	} else {
		// struct in6_pktinfo: ipi6_addr, ipi6_ifindex.
		b, d = appendCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
		if local.IsValid() {
			a := local.As16()
			copy(d[0:16], a[:])
		}
		binary.NativeEndian.PutUint32(d[16:20], ifindex)
	}
	return b
}

// parseOOB fills the ECN, Local, IfIndex and SegSize fields of m from the
// control messages in b. Unknown or malformed messages are ignored.
func (c *conn) parseOOB(b []byte, m *Msg) {
	for len(b) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < unix.CmsgLen(0) || l > len(b) {
			return
		}
		d := b[unix.CmsgLen(0):l]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TOS && len(d) >= 1:
			m.ECN = d[0] & 3
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_TCLASS && len(d) >= 4:
			m.ECN = uint8(binary.NativeEndian.Uint32(d)) & 3
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(d) >= unix.SizeofInet4Pktinfo:
			m.IfIndex = binary.NativeEndian.Uint32(d[0:4])
			m.Local = netip.AddrFrom4([4]byte(d[8:12])) // ipi_addr: the header's destination
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(d) >= unix.SizeofInet6Pktinfo:
			m.Local = netip.AddrFrom16([16]byte(d[0:16])).Unmap()
			m.IfIndex = binary.NativeEndian.Uint32(d[16:20])
		case h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && len(d) >= 4:
			if v := binary.NativeEndian.Uint32(d); v <= maxGSOPayload {
				m.SegSize = int(v)
			}
		}
		next := cmsgAlign(l)
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}

// cmsgAlign rounds n up to the alignment of control messages.
func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// putSockaddr writes dst into sa in the socket's family, mapping IPv4 into
// IPv6 on an AF_INET6 socket, and returns the address length.
func (c *conn) putSockaddr(sa *unix.RawSockaddrInet6, dst netip.AddrPort) (uint32, error) {
	a := dst.Addr()
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port[0], port[1] = byte(dst.Port()>>8), byte(dst.Port())
	if !c.v6 {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		sa4.Addr = a.As4()
		sa4.Zero = [8]byte{}
		return unix.SizeofSockaddrInet4, nil
	}
	sa.Family = unix.AF_INET6
	sa.Flowinfo = 0
	sa.Addr = a.As16()
	sa.Scope_id = 0
	if z := a.Zone(); z != "" {
		id, err := zoneIndex(z)
		if err != nil {
			return 0, err
		}
		sa.Scope_id = id
	}
	return unix.SizeofSockaddrInet6, nil
}

// zoneIndex returns the interface index of an IPv6 zone: numeric, as
// getSockaddr produces, or an interface name.
func zoneIndex(z string) (uint32, error) {
	if id, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(id), nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}

// getSockaddr decodes a received peer address. IPv4-mapped addresses come
// back as plain IPv4; a scope becomes a numeric zone.
func getSockaddr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p := uint16(port[0])<<8 | uint16(port[1])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), p)
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if a.Is6() && sa.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, p)
	}
	return netip.AddrPort{}
}
