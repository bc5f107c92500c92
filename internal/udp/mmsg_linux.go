package udp

import (
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file is the batched path: recvmmsg and sendmmsg on the raw socket,
// with every header, I/O vector, address and control buffer allocated once
// per Conn and reused, so a steady-state batch allocates nothing.

// mmsgBuf is the system-call scratch of one direction.
type mmsgBuf struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	oob   []byte // oobSize bytes per header
	sends []sendUnit
}

// sendUnit records what one header of a send carries.
type sendUnit struct {
	n   int   // payload bytes
	seg int   // GSO segment size, 0 for one datagram
	ecn uint8 // ECN codepoint in the control messages
}

func newMmsgBuf(n int) *mmsgBuf {
	b := &mmsgBuf{
		hdrs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n),
		oob:   make([]byte, n*oobSize),
		sends: make([]sendUnit, n),
	}
	for i := range b.hdrs {
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = &b.oob[i*oobSize]
	}
	return b
}

// doRead is the RawConn read callback: one recvmmsg of c.rk headers. It
// returns false to wait for readability.
func (c *conn) doRead(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&c.rd.hdrs[0])), uintptr(c.rk), 0, 0, 0)
		switch {
		case e == 0:
			c.rn, c.rerr = int(n), 0
			return true
		case e == unix.EINTR:
		case e == unix.EAGAIN:
			return false
		case isICMPErrno(e):
			c.count(NoticeICMPError)
		default:
			c.rn, c.rerr = 0, e
			return true
		}
	}
}

// doWrite is the RawConn write callback: one sendmmsg of c.wk headers. It
// returns false to wait for writability.
func (c *conn) doWrite(fd uintptr) bool {
	k := c.wk
	if c.maxSendHdrs > 0 {
		k = min(k, c.maxSendHdrs)
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&c.wr.hdrs[0])), uintptr(k), 0, 0, 0)
		switch e {
		case 0:
			c.wn, c.werr = int(n), 0
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			c.wn, c.werr = 0, e
			return true
		}
	}
}

// readMmsg reads up to c.batch datagrams with one recvmmsg. The caller holds
// c.rmu.
func (c *conn) readMmsg(msgs []Msg) (int, error) {
	rd := c.rd
	k := min(len(msgs), c.batch)
	for i := range k {
		b := msgs[i].Buf[:cap(msgs[i].Buf)]
		if len(b) == 0 {
			return 0, errEmptyBuf
		}
		rd.iovs[i].Base = &b[0]
		rd.iovs[i].SetLen(len(b))
		h := &rd.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(oobSize)
		h.Flags = 0
	}
	c.rk = k
	if err := c.rc.Read(c.readFn); err != nil {
		return 0, closedErr(err)
	}
	if c.rerr != 0 {
		return 0, os.NewSyscallError("recvmmsg", c.rerr)
	}
	for i := range c.rn {
		h := &rd.hdrs[i]
		m := &msgs[i]
		m.Buf = m.Buf[:h.Len]
		m.Addr = getSockaddr(&rd.names[i])
		m.Local, m.IfIndex, m.ECN, m.SegSize = netip.Addr{}, 0, 0, 0
		c.parseOOB(rd.oob[i*oobSize:i*oobSize+int(h.Hdr.Controllen)], m)
		c.finishRead(m, h.Hdr.Flags&unix.MSG_TRUNC != 0)
	}
	return c.rn, nil
}

// writeMmsg sends msgs with as few sendmmsg calls as the batch size, partial
// sends and fallbacks allow. The caller holds c.wmu.
func (c *conn) writeMmsg(msgs []Msg) (int, error) {
	wr := c.wr
	var f fallback
	i, off := 0, 0 // first datagram not yet sent: msgs[i].Buf[off:]
	for i < len(msgs) {
		gso := c.gso.Load()
		k := 0
		for ci, coff := i, off; k < c.batch && ci < len(msgs); k++ {
			m := &msgs[ci]
			dst, err := c.dest(m)
			if err != nil {
				if k == 0 {
					return i, err
				}
				break // send what precedes it first
			}
			h := &wr.hdrs[k].Hdr
			if c.connected {
				h.Namelen = 0
			} else if h.Namelen, err = c.putSockaddr(&wr.names[k], dst); err != nil {
				if k == 0 {
					return i, err
				}
				break
			}
			n, seg := unit(m, coff, gso)
			ecn := c.ecnMark(m)
			if n > 0 {
				wr.iovs[k].Base = &m.Buf[coff]
			} else {
				wr.iovs[k].Base = nil
			}
			wr.iovs[k].SetLen(n)
			oob := c.appendOOB(wr.oob[k*oobSize:k*oobSize:(k+1)*oobSize], seg, ecn, m.Local, m.IfIndex, c.dst4(dst))
			h.SetControllen(len(oob))
			wr.sends[k] = sendUnit{n: n, seg: seg, ecn: ecn}
			if coff += n; coff >= len(m.Buf) {
				ci++
				coff = 0
			}
		}
		var e syscall.Errno
		if c.failSend != nil {
			e = c.failSend(wr.sends[0].seg, wr.sends[0].ecn)
		}
		sent := 0
		if e == 0 {
			c.wk = k
			if err := c.rc.Write(c.writeFn); err != nil {
				c.restore(&f)
				return i, closedErr(err)
			}
			sent, e = c.wn, c.werr
		}
		if sent > 0 {
			c.sendSucceeded(&f)
		}
		for j := range sent {
			if off += wr.sends[j].n; off >= len(msgs[i].Buf) {
				i++
				off = 0
			}
		}
		if e != 0 && !c.sendFailed(&f, e, wr.sends[0].seg, wr.sends[0].ecn) {
			return i, os.NewSyscallError("sendmmsg", e)
		}
	}
	return len(msgs), nil
}
