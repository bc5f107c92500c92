package udp

import (
	"errors"
	"net/netip"
	"syscall"
)

// This file is the one-datagram-per-system-call path, through the standard
// library: the only path outside Linux, and the Linux path when
// Options.DisableBatch is set. Control messages come from the platform's
// appendOOB and parseOOB.

// readSingle reads one datagram into msgs[0]. The caller holds c.rmu.
func (c *conn) readSingle(msgs []Msg) (int, error) {
	m := &msgs[0]
	buf := m.Buf[:cap(m.Buf)]
	if len(buf) == 0 {
		return 0, errEmptyBuf
	}
	for {
		n, oobn, flags, addr, err := c.uc.ReadMsgUDPAddrPort(buf, c.roob)
		if err != nil {
			if isICMPErrno(errnoOf(err)) {
				c.count(NoticeICMPError)
				continue
			}
			if isTruncErr(err) {
				c.count(NoticeTruncated)
				continue
			}
			return 0, closedErr(err)
		}
		m.Buf = buf[:n]
		m.Addr = unmapAddrPort(addr)
		m.Local, m.IfIndex, m.ECN, m.SegSize = netip.Addr{}, 0, 0, 0
		c.parseOOB(c.roob[:oobn], m)
		c.finishRead(m, flags&msgTrunc != 0)
		return 1, nil
	}
}

// writeSingle sends msgs one datagram or GSO batch at a time. The caller
// holds c.wmu.
func (c *conn) writeSingle(msgs []Msg) (int, error) {
	var f fallback
	i, off := 0, 0
	for i < len(msgs) {
		m := &msgs[i]
		dst, err := c.dest(m)
		if err != nil {
			return i, err
		}
		n, seg := unit(m, off, c.gso.Load())
		ecn := c.ecnMark(m)
		var e syscall.Errno
		if c.failSend != nil {
			e = c.failSend(seg, ecn)
		}
		if e == 0 {
			oob := c.appendOOB(c.woob[:0], seg, ecn, m.Local, m.IfIndex, c.dst4(dst))
			_, _, err = c.uc.WriteMsgUDPAddrPort(m.Buf[off:off+n], oob, dst)
			if err != nil {
				if e = errnoOf(err); e == 0 {
					c.restore(&f)
					return i, closedErr(err)
				}
			}
		}
		if e != 0 {
			if c.sendFailed(&f, e, seg, ecn) {
				continue
			}
			if err == nil {
				err = e
			}
			return i, err
		}
		c.sendSucceeded(&f)
		off += n
		if off >= len(m.Buf) {
			i++
			off = 0
		}
	}
	return len(msgs), nil
}

// errnoOf returns the system error inside err, 0 if there is none.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}
