package quic

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/udp"
)

// Problems of the library's UDP sockets. The library never prints or logs
// them: what a socket could not get from the system when it was opened,
// what it turned off or absorbed later, and every datagram it dropped
// before a connection saw it are counted in Library.SocketStatistics and,
// as they happen, handed to the library-wide Tracer (the
// Extensions.Tracer of Library.SetSettings) as trace events whose
// Connection is empty: a loglevel:warning event whose "code" is a
// SocketProblem and whose "message" names the socket, or a
// quic:packet_dropped event whose "details" hold the drop's "reason" (a
// DropStatistics field in snake case) and the socket's "local" address.
// They belong to no connection, so they are not written to the
// connections' qlog files (Extensions.QlogDir). Datagrams a connection
// drops are its own quic:packet_dropped events and count in its
// Statistics.RecvDroppedPackets.

// SocketStatistics count the problems of every UDP socket the library
// opened (hquic extension; sockets of a Library.SetPacketNetwork network
// have no system features to refuse).
type SocketStatistics struct {
	// Sockets counts the sockets opened.
	Sockets uint64
	// RecvBufferRefused and SendBufferRefused count the sockets whose
	// buffer the system made smaller than the 4 MiB asked for (on Linux:
	// the limits net.core.rmem_max and wmem_max, which a process without
	// CAP_NET_ADMIN cannot exceed).
	RecvBufferRefused, SendBufferRefused uint64
	// GSOUnavailable, GROUnavailable and ECNUnavailable count the sockets
	// on which the Linux kernel refused UDP segmentation offload
	// (UDP_SEGMENT), receive offload (UDP_GRO) or reporting received ECN
	// codepoints. Features turned off by HQUIC_DISABLE_GSO, _GRO or _ECN
	// are not asked for and not counted.
	GSOUnavailable, GROUnavailable, ECNUnavailable uint64
	// GSOFallbacks and ECNFallbacks count the times a socket turned GSO or
	// ECN marking off because a send carrying it failed and succeeded
	// without it.
	GSOFallbacks, ECNFallbacks uint64
	// ICMPErrors counts errors reported after ICMP messages that the
	// sockets skipped.
	ICMPErrors uint64
	// Truncated counts received datagrams dropped because they were
	// larger than the receive buffer.
	Truncated uint64
	// WriteErrors counts socket writes that failed; their datagrams were
	// not sent.
	WriteErrors uint64
	// Dropped counts the received datagrams the sockets dropped before a
	// connection saw them, by reason: the sum of every socket's, clients'
	// included (ListenerStatistics.Dropped has a listener's own).
	Dropped DropStatistics
}

// SocketProblem is the code of a loglevel:warning trace event of a
// library socket.
type SocketProblem uint64

// The socket problems.
const (
	// SocketRecvBufferRefused: the receive buffer is smaller than asked.
	SocketRecvBufferRefused SocketProblem = 1 + iota
	// SocketSendBufferRefused: the send buffer is smaller than asked.
	SocketSendBufferRefused
	// SocketGSOUnavailable: the kernel refused UDP_SEGMENT.
	SocketGSOUnavailable
	// SocketGROUnavailable: the kernel refused UDP_GRO.
	SocketGROUnavailable
	// SocketECNUnavailable: the kernel refused to report ECN codepoints.
	SocketECNUnavailable
	// SocketGSOFallback: GSO was turned off after a failed send.
	SocketGSOFallback
	// SocketECNFallback: ECN marking was turned off after a failed send.
	SocketECNFallback
	// SocketICMPError: an error reported after an ICMP message was
	// skipped.
	SocketICMPError
	// SocketWriteError: a socket write failed.
	SocketWriteError
)

// SocketStatistics returns the counters of every socket the library has
// opened so far.
func (l *Library) SocketStatistics() SocketStatistics {
	c := &l.sockets
	s := SocketStatistics{
		Sockets:           c.opened.Load(),
		RecvBufferRefused: c.recvBufRefused.Load(), SendBufferRefused: c.sendBufRefused.Load(),
		GSOUnavailable: c.gsoRefused.Load(), GROUnavailable: c.groRefused.Load(), ECNUnavailable: c.ecnRefused.Load(),
		GSOFallbacks: c.gsoFallbacks.Load(), ECNFallbacks: c.ecnFallbacks.Load(),
		ICMPErrors: c.icmpErrors.Load(), Truncated: c.truncated.Load(), WriteErrors: c.writeErrors.Load(),
	}
	s.Dropped = dropStatistics(func(r endpoint.DropReason) uint64 { return c.drops[r].Load() })
	return s
}

// dropStatistics fills DropStatistics from the counter of each reason.
func dropStatistics(d func(endpoint.DropReason) uint64) DropStatistics {
	return DropStatistics{
		Malformed: d(endpoint.DropMalformed), UnknownConnection: d(endpoint.DropUnknownConnection),
		TooSmall: d(endpoint.DropTooSmall), NotAccepting: d(endpoint.DropNotAccepting),
		ShortDCID: d(endpoint.DropShortDCID), InvalidToken: d(endpoint.DropInvalidToken),
		Overloaded: d(endpoint.DropOverloaded), Refused: d(endpoint.DropRefused),
		StatelessSpacing: d(endpoint.DropStatelessSpacing), StatelessBindingCap: d(endpoint.DropStatelessBindingLimit),
		StatelessQueueFull: d(endpoint.DropStatelessQueueFull), NoReset: d(endpoint.DropNoReset),
		QueueFull: d(endpoint.DropQueueFull),
	}
}

// dropReasons name each drop reason as its DropStatistics field, in snake
// case, with the quic:packet_dropped trigger it falls under.
var dropReasons = [endpoint.NumDropReasons]struct{ name, trigger string }{
	endpoint.DropMalformed:             {"malformed", "invalid"},
	endpoint.DropUnknownConnection:     {"unknown_connection", "connection_unknown"},
	endpoint.DropTooSmall:              {"too_small", "invalid"},
	endpoint.DropNotAccepting:          {"not_accepting", "rejected"},
	endpoint.DropShortDCID:             {"short_dcid", "invalid"},
	endpoint.DropInvalidToken:          {"invalid_token", "rejected"},
	endpoint.DropOverloaded:            {"overloaded", "rejected"},
	endpoint.DropRefused:               {"refused", "rejected"},
	endpoint.DropStatelessSpacing:      {"stateless_spacing", "rejected"},
	endpoint.DropStatelessBindingLimit: {"stateless_binding_cap", "rejected"},
	endpoint.DropStatelessQueueFull:    {"stateless_queue_full", "rejected"},
	endpoint.DropNoReset:               {"no_reset", "connection_unknown"},
	endpoint.DropQueueFull:             {"queue_full", "general"},
}

// socketCounters are the library's socket counters and the trace their
// events go to.
type socketCounters struct {
	opened                                 atomic.Uint64
	recvBufRefused, sendBufRefused         atomic.Uint64
	gsoRefused, groRefused, ecnRefused     atomic.Uint64
	gsoFallbacks, ecnFallbacks, icmpErrors atomic.Uint64
	truncated, writeErrors                 atomic.Uint64
	drops                                  [endpoint.NumDropReasons]atomic.Uint64

	// tracer is the library-wide Tracer (nil: events are only counted).
	tracer atomic.Pointer[Tracer]
	trace  socketTrace
}

// socketTrace is the trace of the library's socket events: one producer
// at a time, under mu, since every socket's goroutines produce.
type socketTrace struct {
	mu     sync.Mutex
	t      *qlog.Trace
	sink   Tracer // what t delivers to
	closed bool
}

// setSocketTracer records the library-wide Tracer; l.mu is held.
func (l *Library) setSocketTracer() {
	if tr := l.settings.Extensions.Tracer.Value; tr != nil {
		l.sockets.tracer.Store(&tr)
	} else {
		l.sockets.tracer.Store(nil)
	}
}

// socketEvent logs one event of a socket, through log, if the library has
// a Tracer.
func (l *Library) socketEvent(log func(t *qlog.Trace, now mono.Time)) {
	p := l.sockets.tracer.Load()
	if p == nil {
		return
	}
	st := &l.sockets.trace
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	if st.t == nil || st.sink != *p {
		if st.t != nil {
			st.t.Close()
		}
		tracer := *p
		var ev TraceEvent
		st.t = qlog.New(qlog.Options{WallClock: time.Now(), Buffer: 1 << 20, Sink: func(r *qlog.Record) {
			ev.Time, ev.Name, ev.Data = r.Time, r.Name, r.Data
			tracer.TraceEvent(&ev)
		}})
		st.sink = tracer
	}
	log(st.t, mono.Now())
	st.t.Flush()
}

// closeSocketTrace ends the socket trace once its events are delivered;
// later events are only counted.
func (l *Library) closeSocketTrace() {
	st := &l.sockets.trace
	st.mu.Lock()
	t := st.t
	st.closed, st.t = true, nil
	st.mu.Unlock()
	if t != nil {
		t.Close()
		<-t.Done()
	}
}

// socketWarning logs a loglevel:warning event of the socket on local.
func (l *Library) socketWarning(p SocketProblem, format string, args ...any) {
	l.socketEvent(func(t *qlog.Trace, now mono.Time) {
		t.Warn(now, uint64(p), fmt.Sprintf(format, args...))
	})
}

// socketOpened counts a new socket and what it was refused.
func (l *Library) socketOpened(local netip.AddrPort, caps udp.Capabilities) {
	c := &l.sockets
	c.opened.Add(1)
	r := caps.Refused
	if !r.Any() {
		return
	}
	type refusal struct {
		on      bool
		n       *atomic.Uint64
		p       SocketProblem
		message string
	}
	for _, f := range []refusal{
		{r.RecvBuffer, &c.recvBufRefused, SocketRecvBufferRefused,
			fmt.Sprintf("receive buffer %d bytes as the system counts it, asked for %d: the system limit applies", caps.RecvBuffer, udpBuffer)},
		{r.SendBuffer, &c.sendBufRefused, SocketSendBufferRefused,
			fmt.Sprintf("send buffer %d bytes as the system counts it, asked for %d: the system limit applies", caps.SendBuffer, udpBuffer)},
		{r.GSO, &c.gsoRefused, SocketGSOUnavailable, "the kernel has no UDP segmentation offload (UDP_SEGMENT): one send per datagram"},
		{r.GRO, &c.groRefused, SocketGROUnavailable, "the kernel refused UDP receive offload (UDP_GRO)"},
		{r.ECN, &c.ecnRefused, SocketECNUnavailable, "the kernel refused to report ECN codepoints: ECN is not validated"},
	} {
		if f.on {
			f.n.Add(1)
			l.socketWarning(f.p, "socket %v: %s", local, f.message)
		}
	}
}

// udpBuffer is the socket buffer size the library asks for (udp's
// default).
const udpBuffer = 4 << 20

// socketNotice counts an event a socket absorbed.
func (l *Library) socketNotice(local netip.AddrPort, n udp.Notice) {
	c := &l.sockets
	switch n {
	case udp.NoticeICMPError:
		c.icmpErrors.Add(1)
		l.socketWarning(SocketICMPError, "socket %v: skipped an error reported after an ICMP message", local)
	case udp.NoticeTruncated:
		c.truncated.Add(1)
		l.socketEvent(func(t *qlog.Trace, now mono.Time) { socketDropped(t, now, local, "truncated", "general") })
	case udp.NoticeGSOFallback:
		c.gsoFallbacks.Add(1)
		l.socketWarning(SocketGSOFallback, "socket %v: GSO turned off: a send with it failed and succeeded without", local)
	case udp.NoticeECNFallback:
		c.ecnFallbacks.Add(1)
		l.socketWarning(SocketECNFallback, "socket %v: ECN marking turned off: a marked send failed and succeeded unmarked", local)
	}
}

// socketDrop counts a datagram a socket dropped.
func (l *Library) socketDrop(local netip.AddrPort, r endpoint.DropReason) {
	if r >= endpoint.NumDropReasons {
		return
	}
	l.sockets.drops[r].Add(1)
	l.socketEvent(func(t *qlog.Trace, now mono.Time) {
		socketDropped(t, now, local, dropReasons[r].name, dropReasons[r].trigger)
	})
}

// socketWriteError counts a failed socket write.
func (l *Library) socketWriteError(local netip.AddrPort, err error) {
	l.sockets.writeErrors.Add(1)
	l.socketWarning(SocketWriteError, "socket %v: write failed: %v", local, err)
}

// socketDropped logs quic:packet_dropped for a datagram of the socket on
// local.
func socketDropped(t *qlog.Trace, now mono.Time, local netip.AddrPort, reason, trigger string) {
	e := t.Begin(now, qlog.PacketDropped)
	e.Obj("details")
	e.Str("reason", reason)
	var b [64]byte
	e.Key("local")
	e.StringBytes(local.AppendTo(b[:0]))
	e.EndObject()
	e.Str("trigger", trigger)
	t.End()
}
