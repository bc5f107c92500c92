// Package udp is hquic's socket layer: batched UDP input and output with
// segmentation offload, ECN marking and packet information. It knows nothing
// of QUIC.
//
// On Linux a Conn moves up to Options.BatchSize datagrams per system call
// (recvmmsg/sendmmsg), sends a run of equal-size datagrams as one
// generic-segmentation-offload message (UDP_SEGMENT) and receives coalesced
// runs as one generic-receive-offload message (UDP_GRO). It sets and reads the
// ECN codepoint (IP_TOS / IPV6_TCLASS), reports and chooses the local address
// of each datagram (IP_PKTINFO / IPV6_PKTINFO), and sets the don't-fragment
// bit in probe mode so path-MTU discovery controls datagram sizes. Elsewhere,
// and when Options.DisableBatch is set, a Conn moves one datagram per system
// call through the standard library, with whatever control messages the
// platform supports.
//
// Steady-state ReadBatch and WriteBatch do not allocate on Linux: the system
// call scratch (message headers, I/O vectors, addresses and control buffers)
// lives in the Conn and is reused.
package udp

import (
	"net"
	"net/netip"
)

// Msg is one datagram or, with SegSize > 0, a run of segments of SegSize bytes
// each except the last, which may be shorter (a GSO batch on write, a GRO
// batch on read).
//
// Ownership: the memory behind Buf belongs to the caller before and after
// ReadBatch and WriteBatch; the Conn uses it only during the call and keeps no
// reference that it reads or writes afterwards.
type Msg struct {
	// Buf is, on read, the receive buffer: the Conn reads into
	// Buf[:cap(Buf)] and sets len(Buf) to the number of bytes received. On
	// write it is the payload.
	//
	// A zero-length Buf after a read means the slot holds nothing usable:
	// either an empty datagram or one larger than the buffer, which is
	// dropped and counted in Stats.Truncated.
	Buf []byte

	// SegSize is, on read, the GRO segment size (0 for a single datagram).
	// On write it asks for len(Buf) to be sent as datagrams of SegSize
	// bytes, the last one possibly shorter; 0, or len(Buf) <= SegSize, sends
	// one datagram. The Conn uses GSO when it can and otherwise sends the
	// segments one by one, so callers need not check Capabilities.GSO.
	SegSize int

	// Addr is the peer: the source on read, the destination on write. IPv4
	// peers of a dual-stack socket are reported as plain IPv4 addresses, and
	// plain IPv4 destinations are accepted on such a socket.
	Addr netip.AddrPort

	// Local is, on read, the destination address of the datagram
	// (IP_PKTINFO / IPV6_PKTINFO) when Capabilities.PktInfo. On write, a
	// valid Local is used as the source address, so a socket bound to a
	// wildcard address answers from the address the peer used; the invalid
	// Addr lets the kernel choose. A Local of the other address family than
	// Addr is ignored.
	Local netip.Addr

	// IfIndex is, on read, the index of the interface the datagram arrived
	// on, from the packet information. On write it selects the outgoing
	// interface together with Local (0 = any).
	IfIndex uint32

	// ECN is, on read, the ECN codepoint of the datagram (0..3); on write,
	// the codepoint to set (0..3; other bits are ignored so the DSCP bits
	// stay zero). Reading needs and marking is done only when
	// Capabilities.ECN.
	ECN uint8
}

// Capabilities reports what a Conn does. GSO and ECN may turn false at run
// time when the kernel or the route rejects them (see Conn.WriteBatch).
type Capabilities struct {
	GSO     bool // UDP_SEGMENT: a multi-segment Msg goes out in one send
	GRO     bool // UDP_GRO: reads may return multi-segment Msgs (use GSO-class buffers)
	ECN     bool // ECN codepoints are read and written
	PktInfo bool // Msg.Local and Msg.IfIndex are reported on read and honoured on write
	Batch   bool // several datagrams per system call (recvmmsg/sendmmsg)

	// MaxSegments is the most segments one GSO send may carry; a Msg with
	// more, or longer than 65,507 bytes in total, is split across sends.
	// It is 1 without GSO.
	MaxSegments int

	// RecvBuffer and SendBuffer are the socket buffer sizes in effect, as the
	// kernel reports them (Linux reports twice the requested size, the extra
	// half being its bookkeeping allowance), or the requested size where the
	// platform cannot report it; 0 if setting it failed.
	RecvBuffer, SendBuffer int

	// Refused lists what the Conn was asked for when it was opened and did
	// not get from the system.
	Refused Refusals
}

// Refusals are the features a Conn asked the system for when it was
// opened, and did not get. A feature turned off in Options is not asked
// for, so it is never refused.
type Refusals struct {
	// RecvBuffer and SendBuffer: the system granted a smaller socket
	// buffer than Options asked for (its limit, net.core.rmem_max and
	// wmem_max on Linux, without the privilege to exceed it), or none.
	RecvBuffer, SendBuffer bool
	// GSO: the kernel has no UDP_SEGMENT; GRO: it refused UDP_GRO; ECN: it
	// refused to report received ECN codepoints (IP_RECVTOS or
	// IPV6_RECVTCLASS). These are judged on Linux only: elsewhere the
	// offloads do not exist and ECN is what the platform supports.
	GSO, GRO, ECN bool
}

// Any reports whether anything was refused.
func (r Refusals) Any() bool { return r != Refusals{} }

// Options tunes a Conn. The zero value enables everything the platform
// supports.
type Options struct {
	DisableGSO   bool // never send with UDP_SEGMENT
	DisableGRO   bool // never ask for UDP_GRO
	DisableECN   bool // neither mark nor read ECN
	DisableBatch bool // one datagram per system call, through the standard library

	// RecvBuffer and SendBuffer are the desired socket buffer sizes in
	// bytes; 0 asks for 4 MiB. The Conn tries to force the size past the
	// system limit (possible with CAP_NET_ADMIN on Linux) and falls back to
	// the ordinary request, which the system caps.
	RecvBuffer, SendBuffer int

	// BatchSize is the number of datagrams per system call (default 64,
	// at most 1024, the kernel's limit).
	BatchSize int

	// Notify, if set, is told of every event Stats counts, as it happens,
	// with the Conn's local address, on the goroutine of the ReadBatch or
	// WriteBatch call that absorbed it. It must return quickly and must
	// not call the Conn.
	Notify func(local netip.AddrPort, n Notice)
}

// Notice is an event a Conn absorbed instead of failing; each counts in
// one field of Stats.
type Notice uint8

// The notices.
const (
	// NoticeICMPError: an error caused by an ICMP message was skipped
	// (Stats.ICMPErrors).
	NoticeICMPError Notice = iota + 1
	// NoticeTruncated: a datagram, or the trailing part of a GRO batch,
	// did not fit the receive buffer and was dropped (Stats.Truncated).
	NoticeTruncated
	// NoticeGSOFallback: GSO was turned off because a send carrying it
	// failed and succeeded without it (Stats.GSOFallbacks).
	NoticeGSOFallback
	// NoticeECNFallback: ECN marking was turned off because a marked send
	// failed and succeeded unmarked (Stats.ECNFallbacks).
	NoticeECNFallback
)

// String names the notice.
func (n Notice) String() string {
	switch n {
	case NoticeICMPError:
		return "icmp_error"
	case NoticeTruncated:
		return "truncated"
	case NoticeGSOFallback:
		return "gso_fallback"
	case NoticeECNFallback:
		return "ecn_fallback"
	}
	return "unknown"
}

// Stats counts events a Conn absorbed instead of failing.
type Stats struct {
	// ICMPErrors counts errors such as ECONNREFUSED that the kernel reports
	// on a socket after an ICMP message; reads skip them and writes retry.
	ICMPErrors uint64
	// Truncated counts datagrams, or trailing parts of GRO batches, dropped
	// because they did not fit the receive buffer.
	Truncated uint64
	// GSOFallbacks and ECNFallbacks count the times GSO or ECN marking was
	// turned off because a send carrying it failed and succeeded without it.
	GSOFallbacks, ECNFallbacks uint64
}

// Conn is a UDP socket that moves datagrams in batches. ReadBatch and
// WriteBatch may be called concurrently with each other; concurrent calls of
// the same method take turns.
type Conn interface {
	// ReadBatch blocks until at least one datagram is available, then fills
	// msgs[0:n] (at most Options.BatchSize) and returns n. Every Buf must
	// have a non-zero capacity. Errors caused by ICMP messages are skipped
	// and counted in Stats.ICMPErrors. After Close it returns net.ErrClosed.
	ReadBatch(msgs []Msg) (int, error)

	// WriteBatch sends msgs in order and returns how many were sent. It
	// blocks while the socket buffer is full. On error, msgs[:n] were sent
	// and msgs[n] failed; when msgs[n] has several segments, a prefix of
	// them may have been sent.
	//
	// If a send carrying GSO fails with EIO or EINVAL and succeeds segment
	// by segment, GSO is turned off for the Conn; if a send carrying an ECN
	// mark fails with EINVAL and succeeds unmarked, ECN is turned off. No
	// datagram is lost either way, and Capabilities reflects the change.
	WriteBatch(msgs []Msg) (int, error)

	// LocalAddr returns the address the socket is bound to.
	LocalAddr() netip.AddrPort

	// Capabilities reports the features in effect now.
	Capabilities() Capabilities

	// Stats returns the counters of absorbed events.
	Stats() Stats

	// Close closes the socket and makes blocked and future ReadBatch and
	// WriteBatch calls return net.ErrClosed.
	Close() error
}

// Listen opens a UDP socket on laddr. network is "udp", "udp4" or "udp6";
// "udp" on an unspecified address gives a dual-stack socket.
func Listen(network string, laddr netip.AddrPort, opts Options) (Conn, error) {
	uc, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(laddr))
	if err != nil {
		return nil, err
	}
	c, err := NewConn(uc, opts)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return c, nil
}

// NewConn wraps an existing UDP socket. The Conn takes ownership of c: it
// sets socket options on it, and Close closes it. c may be connected, in
// which case writes go to its remote address and Msg.Addr is ignored. On
// error c stays open and the caller keeps it.
func NewConn(c *net.UDPConn, opts Options) (Conn, error) {
	return newConn(c, opts)
}
