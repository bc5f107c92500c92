package udp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

const (
	defaultBatch  = 64
	maxBatch      = 1024 // UIO_MAXIOV, the most sendmmsg/recvmmsg take
	defaultBuffer = 4 << 20

	// maxGSOSegments is the most segments per UDP_SEGMENT send that every
	// kernel with GSO accepts (UDP_MAX_SEGMENTS was 64 for years; newer
	// kernels take 128). With MTU-size segments the payload limit below
	// binds first anyway: 45 segments of 1,452 bytes.
	maxGSOSegments = 64
	// maxGSOPayload is the largest UDP payload of one send over IPv4
	// (65,535 minus the IPv4 and UDP headers); IPv6 allows a little more,
	// but one limit keeps the segmentation independent of the path.
	maxGSOPayload = 65535 - 20 - 8

	// maxICMPRetries bounds how often one WriteBatch retries a send that
	// reported an earlier ICMP error in a row.
	maxICMPRetries = 3

	// oobSize is the room for control messages of one datagram: on write a
	// GSO size, a traffic class and an IPv6 packet information (88 bytes on
	// 64-bit Linux); on read the same plus the IPv4 forms of a dual-stack
	// socket (144 bytes).
	oobSize = 192
)

var (
	errEmptyBuf = errors.New("udp: receive buffer has zero capacity")
	errNoAddr   = errors.New("udp: invalid destination address")
	errFamily   = errors.New("udp: IPv6 destination on an IPv4 socket")
)

// conn is the Conn of every platform. The platform files add sysConn and the
// functions setup, appendOOB, parseOOB, ReadBatch and WriteBatch.
type conn struct {
	uc        *net.UDPConn
	rc        syscall.RawConn
	local     netip.AddrPort
	connected bool // uc has a remote address; writes ignore Msg.Addr
	remote4   bool // connected to an IPv4 peer
	v6        bool // the socket is AF_INET6, possibly dual-stack
	batch     int  // datagrams per system call

	gso, ecn     atomic.Bool // may turn off at run time (see sendFailed)
	gro, pktinfo bool
	rbuf, sbuf   int
	refused      Refusals
	notify       func(netip.AddrPort, Notice)

	icmpErrors, truncated      atomic.Uint64
	gsoFallbacks, ecnFallbacks atomic.Uint64
	rmu, wmu                   sync.Mutex // serialise readers, writers
	roob                       []byte     // one-at-a-time read control buffer, under rmu
	woob                       []byte     // one-at-a-time write control buffer, under wmu

	// failSend is a test hook. When set, it is called before each send
	// system call with the GSO segment size and ECN codepoint of the first
	// datagram the call would carry; a non-zero result makes that datagram
	// fail with this error as if the kernel had returned it.
	failSend func(segSize int, ecn uint8) syscall.Errno

	sysConn
}

func newConn(uc *net.UDPConn, opts Options) (*conn, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &conn{
		uc:     uc,
		rc:     rc,
		batch:  opts.BatchSize,
		roob:   make([]byte, oobSize),
		woob:   make([]byte, 0, oobSize),
		notify: opts.Notify,
	}
	if c.batch <= 0 {
		c.batch = defaultBatch
	}
	c.batch = min(c.batch, maxBatch)
	if la, ok := uc.LocalAddr().(*net.UDPAddr); ok {
		ap := la.AddrPort()
		c.local = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if ra, ok := uc.RemoteAddr().(*net.UDPAddr); ok {
		c.connected = true
		c.remote4 = ra.AddrPort().Addr().Unmap().Is4()
	}
	if opts.RecvBuffer <= 0 {
		opts.RecvBuffer = defaultBuffer
	}
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = defaultBuffer
	}
	if err := c.setup(opts); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *conn) LocalAddr() netip.AddrPort { return c.local }

func (c *conn) Capabilities() Capabilities {
	cp := Capabilities{
		GSO:         c.gso.Load(),
		GRO:         c.gro,
		ECN:         c.ecn.Load(),
		PktInfo:     c.pktinfo,
		Batch:       c.batched(),
		MaxSegments: 1,
		RecvBuffer:  c.rbuf,
		SendBuffer:  c.sbuf,
		Refused:     c.refused,
	}
	if cp.GSO {
		cp.MaxSegments = maxGSOSegments
	}
	return cp
}

func (c *conn) Stats() Stats {
	return Stats{
		ICMPErrors:   c.icmpErrors.Load(),
		Truncated:    c.truncated.Load(),
		GSOFallbacks: c.gsoFallbacks.Load(),
		ECNFallbacks: c.ecnFallbacks.Load(),
	}
}

func (c *conn) Close() error { return c.uc.Close() }

// count adds one to the counter of notice n and tells Options.Notify.
func (c *conn) count(n Notice) {
	switch n {
	case NoticeICMPError:
		c.icmpErrors.Add(1)
	case NoticeTruncated:
		c.truncated.Add(1)
	case NoticeGSOFallback:
		c.gsoFallbacks.Add(1)
	case NoticeECNFallback:
		c.ecnFallbacks.Add(1)
	}
	if c.notify != nil {
		c.notify(c.local, n)
	}
}

// closedErr turns the error of an operation on a closed socket into
// net.ErrClosed itself.
func closedErr(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return net.ErrClosed
	}
	return err
}

// isICMPErrno reports whether e is how the kernel surfaces an ICMP message
// received earlier (on connected sockets, or with IP_RECVERR). Such errors
// concern an earlier datagram, never the current call.
func isICMPErrno(e syscall.Errno) bool {
	switch e {
	case syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH,
		syscall.ENETUNREACH, syscall.EHOSTDOWN:
		return true
	}
	return false
}

// dest returns the destination of m as the socket needs it: unmapped, and
// the zero AddrPort on a connected socket.
func (c *conn) dest(m *Msg) (netip.AddrPort, error) {
	if c.connected {
		return netip.AddrPort{}, nil
	}
	a := m.Addr.Addr().Unmap()
	if !a.IsValid() || m.Addr.Port() == 0 {
		return netip.AddrPort{}, errNoAddr
	}
	if a.Is6() && !c.v6 {
		return netip.AddrPort{}, errFamily
	}
	return netip.AddrPortFrom(a, m.Addr.Port()), nil
}

// dst4 reports whether the datagram goes over IPv4, which selects the
// level of its control messages.
func (c *conn) dst4(dst netip.AddrPort) bool {
	if c.connected {
		return c.remote4
	}
	return dst.Addr().Is4()
}

// unit returns the length of the next send of m starting at offset off, and
// the GSO segment size of that send (0 for a single datagram). Without gso,
// or when the remaining bytes are one segment, a send is one datagram.
func unit(m *Msg, off int, gso bool) (n, seg int) {
	rest := len(m.Buf) - off
	if m.SegSize <= 0 || rest <= m.SegSize {
		return rest, 0
	}
	if !gso {
		return m.SegSize, 0
	}
	k := min(maxGSOSegments, maxGSOPayload/m.SegSize)
	if k < 2 {
		return m.SegSize, 0
	}
	return min(rest, k*m.SegSize), m.SegSize
}

// ecnMark returns the codepoint to set on m, 0 when marking is off.
func (c *conn) ecnMark(m *Msg) uint8 {
	if !c.ecn.Load() {
		return 0
	}
	return m.ECN & 3
}

// finishRead normalises a received message: a GRO batch that fits one
// segment is a single datagram, and a truncated datagram is dropped (for a
// GRO batch, only its incomplete trailing segment).
func (c *conn) finishRead(m *Msg, truncated bool) {
	if truncated {
		c.count(NoticeTruncated)
		if m.SegSize > 0 {
			m.Buf = m.Buf[:len(m.Buf)/m.SegSize*m.SegSize]
		} else {
			m.Buf = m.Buf[:0]
		}
	}
	if m.SegSize >= len(m.Buf) {
		m.SegSize = 0
	}
}

// Features a failing send may be blamed on.
const (
	featGSO uint8 = 1 << iota
	featECN
)

// fallback is the runtime-fallback state of one WriteBatch call. A feature
// is turned off on suspicion when a send carrying it fails; the next send of
// the same datagram without it decides: success keeps it off (and counts a
// fallback), failure turns it back on, since the error was not its doing.
type fallback struct {
	probing uint8 // feature turned off, awaiting the verdict
	tried   uint8 // features already suspected for the datagram at hand
	icmp    int   // ICMP errors retried in a row
}

// sendFailed handles the failure, with errno e, of a send whose first
// datagram had GSO segment size seg and ECN codepoint ecn. It returns true
// when the datagram should be sent again.
func (c *conn) sendFailed(f *fallback, e syscall.Errno, seg int, ecn uint8) bool {
	if isICMPErrno(e) && f.icmp < maxICMPRetries {
		// The error belongs to an earlier datagram; reporting it cleared
		// it, and this datagram was not sent.
		f.icmp++
		c.count(NoticeICMPError)
		return true
	}
	c.restore(f)
	switch {
	case seg > 0 && (e == syscall.EIO || e == syscall.EINVAL) && f.tried&featGSO == 0:
		// EIO: the device cannot checksum a GSO batch; EINVAL: the
		// kernel rejects the segmentation for this route.
		f.tried |= featGSO
		f.probing = featGSO
		c.gso.Store(false)
		return true
	case ecn != 0 && e == syscall.EINVAL && f.tried&featECN == 0:
		f.tried |= featECN
		f.probing = featECN
		c.ecn.Store(false)
		return true
	}
	return false
}

// restore turns back on a feature that was suspected wrongly.
func (c *conn) restore(f *fallback) {
	switch f.probing {
	case featGSO:
		c.gso.Store(true)
	case featECN:
		c.ecn.Store(true)
	}
	f.probing = 0
}

// sendSucceeded confirms a pending suspicion after a send went out.
func (c *conn) sendSucceeded(f *fallback) {
	switch f.probing {
	case featGSO:
		c.count(NoticeGSOFallback)
	case featECN:
		c.count(NoticeECNFallback)
	}
	*f = fallback{}
}

// unmapAddrPort reports IPv4 peers of a dual-stack socket as plain IPv4.
func unmapAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
