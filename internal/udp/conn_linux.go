package udp

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// msgTrunc is the receive flag of a datagram cut short by a small buffer.
const msgTrunc = unix.MSG_TRUNC

// sysConn is the Linux state of a conn: the batch scratch and the results
// of the RawConn callbacks.
type sysConn struct {
	rd, wr          *mmsgBuf // nil when batching is off
	readFn, writeFn func(fd uintptr) bool
	rk, rn          int // headers offered to and filled by recvmmsg (under rmu)
	rerr            syscall.Errno
	wk, wn          int // headers offered to and sent by sendmmsg (under wmu)
	werr            syscall.Errno

	// maxSendHdrs is a test hook: when positive, each sendmmsg is offered
	// at most this many headers, which makes the kernel's answer look like
	// a partial send.
	maxSendHdrs int
}

// isTruncErr reports whether a read error means the datagram did not fit;
// Linux reports that with MSG_TRUNC instead.
func isTruncErr(error) bool { return false }

func (c *conn) batched() bool { return c.rd != nil }

// ReadBatch implements Conn.
func (c *conn) ReadBatch(msgs []Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.rd == nil {
		return c.readSingle(msgs)
	}
	return c.readMmsg(msgs)
}

// WriteBatch implements Conn.
func (c *conn) WriteBatch(msgs []Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wr == nil {
		return c.writeSingle(msgs)
	}
	return c.writeMmsg(msgs)
}

// setup sets the socket options and records what the kernel granted.
func (c *conn) setup(opts Options) error {
	var err error
	if cerr := c.rc.Control(func(fd uintptr) { err = c.setsockopts(int(fd), opts) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	if !opts.DisableBatch {
		c.rd = newMmsgBuf(c.batch)
		c.wr = newMmsgBuf(c.batch)
		c.readFn = c.doRead
		c.writeFn = c.doWrite
	}
	return nil
}

func (c *conn) setsockopts(fd int, opts Options) error {
	dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	c.v6 = dom == unix.AF_INET6
	c.rbuf = setBuffer(fd, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, opts.RecvBuffer)
	c.sbuf = setBuffer(fd, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, opts.SendBuffer)
	c.refused.RecvBuffer = bufferRefused(c.rbuf, opts.RecvBuffer)
	c.refused.SendBuffer = bufferRefused(c.sbuf, opts.SendBuffer)

	// Options of the socket's family must take; the IPv4 ones on an IPv6
	// socket serve the IPv4 peers of a dual-stack socket and may fail.
	set := func(level, opt, v int, must bool) (bool, error) {
		if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
			if must {
				return false, os.NewSyscallError("setsockopt", err)
			}
			return false, nil
		}
		return true, nil
	}
	v4 := !c.v6

	// Don't fragment, and don't clamp sends to the cached path MTU either:
	// datagram sizes are the business of path-MTU discovery, probes
	// included (RFC 9000, Section 14: UDP datagrams MUST NOT be
	// fragmented at the IP layer; RFC 8899, Section 4.5).
	if _, err := set(unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE, v4); err != nil {
		return err
	}
	if c.v6 {
		if _, err := set(unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE, true); err != nil {
			return err
		}
		if _, err := set(unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1, true); err != nil {
			return err
		}
	}

	ok4, _ := set(unix.IPPROTO_IP, unix.IP_PKTINFO, 1, false)
	c.pktinfo = ok4
	if c.v6 {
		c.pktinfo, _ = set(unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1, false)
	}

	if !opts.DisableECN {
		ok4, _ := set(unix.IPPROTO_IP, unix.IP_RECVTOS, 1, false)
		ecn := ok4
		if c.v6 {
			ecn, _ = set(unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1, false)
		}
		c.ecn.Store(ecn)
		c.refused.ECN = !ecn
	}

	if !opts.DisableGSO {
		// Kernels with UDP_SEGMENT (4.18+) answer this getsockopt.
		_, err := unix.GetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT)
		c.gso.Store(err == nil)
		c.refused.GSO = err != nil
	}
	// Set UDP_GRO either way, so a socket handed over with GRO on cannot
	// deliver batches the caller did not ask for.
	gro := 0
	if !opts.DisableGRO {
		gro = 1
	}
	ok, _ := set(unix.SOL_UDP, unix.UDP_GRO, gro, false)
	c.gro = ok && gro == 1
	c.refused.GRO = !ok && gro == 1
	return nil
}

// bufferRefused reports whether a socket buffer the kernel reports as
// reported bytes is smaller than the asked size: Linux grants at most its
// limit and reports twice what it granted.
func bufferRefused(reported, asked int) bool { return reported/2 < asked }

// setBuffer asks for a socket buffer of size bytes, past the system limit
// if the process may (SO_RCVBUFFORCE/SO_SNDBUFFORCE need CAP_NET_ADMIN), and
// returns the size the kernel reports, 0 if it could not be set.
func setBuffer(fd, force, plain, size int) int {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, size) != nil &&
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, size) != nil {
		return 0
	}
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, plain)
	if err != nil {
		return 0
	}
	return v
}
