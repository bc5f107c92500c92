package conn

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
)

// The bulk harness runs a handshaken client/server pair over an in-memory
// network that copies each datagram into a recycled buffer, with an
// application that keeps a stream full on one side and consumes everything
// on the other. Nothing in the harness allocates in steady state, so the
// allocations measured are the engine's.

// bulkBuf is a recycled datagram buffer; Release returns it to its free
// list.
type bulkBuf struct {
	b    [2048]byte
	free *[]*bulkBuf
}

func (x *bulkBuf) Release() { *x.free = append(*x.free, x) }

// bulkHost is one side's network: Send delivers every segment to the
// peer's receive queue.
type bulkHost struct {
	peer      *Conn
	from      netip.AddrPort
	local     netip.AddrPort
	free      []*bulkBuf
	datagrams int
	batches   int
	segments  int // segments in multi-segment batches
}

func (h *bulkHost) Send(o *OutBatch) {
	h.batches++
	seg := o.SegSize
	if seg == 0 {
		seg = len(o.Buf)
	} else {
		h.segments += (len(o.Buf) + seg - 1) / seg
	}
	for off := 0; off < len(o.Buf); off += seg {
		d := o.Buf[off:min(off+seg, len(o.Buf))]
		var x *bulkBuf
		if n := len(h.free); n > 0 {
			x, h.free = h.free[n-1], h.free[:n-1]
		} else {
			x = &bulkBuf{free: &h.free}
		}
		n := copy(x.b[:], d)
		h.datagrams++
		if !h.peer.QueueDatagram(Datagram{Data: x.b[:n], Peer: h.from, Local: h.local, Buf: x}) {
			x.Release()
		}
	}
}
func (h *bulkHost) AddCID(cid []byte)             {}
func (h *bulkHost) RemoveCID(cid []byte)          {}
func (h *bulkHost) AddResetToken(tok [16]byte)    {}
func (h *bulkHost) RemoveResetToken(tok [16]byte) {}
func (h *bulkHost) Closed()                       {}

// bulkApp is one side's application: the sender keeps `window` bytes of
// sends queued on its stream, the receiver consumes everything.
type bulkApp struct {
	c        *Conn
	s        *Stream
	bufs     [][]byte
	queued   int
	window   int
	received uint64
	closed   bool
}

func (a *bulkApp) Connected(bool, string)                                 {}
func (a *bulkApp) ShutdownInitiatedByTransport(CloseReason)               { a.closed = true }
func (a *bulkApp) ShutdownInitiatedByPeer(uint64)                         { a.closed = true }
func (a *bulkApp) ShutdownComplete(bool, bool, bool)                      { a.closed = true }
func (a *bulkApp) PeerAddressChanged(netip.AddrPort)                      {}
func (a *bulkApp) LocalAddressChanged(netip.AddrPort)                     {}
func (a *bulkApp) StreamsAvailable(uint64, uint64)                        {}
func (a *bulkApp) PeerNeedsStreams(bool)                                  {}
func (a *bulkApp) DatagramStateChanged(bool, int)                         {}
func (a *bulkApp) DatagramReceived([]byte, bool)                          {}
func (a *bulkApp) DatagramSendStateChanged(ctx any, _ DatagramState) any  { return ctx }
func (a *bulkApp) PeerStreamStarted(*Stream, uint32) error                { return nil }
func (a *bulkApp) StreamStartComplete(*Stream, StartStatus, uint64, bool) {}
func (a *bulkApp) StreamReceive(s *Stream, off uint64, bufs [][]byte, fin, zeroRTT bool) (uint64, ReceiveResult) {
	var n uint64
	for _, b := range bufs {
		n += uint64(len(b))
	}
	a.received += n
	return n, ReceiveDone
}
func (a *bulkApp) StreamSendComplete(s *Stream, ctx any, canceled bool) {
	a.queued -= len(a.bufs[0])
	a.fill()
}
func (a *bulkApp) StreamPeerSendShutdown(*Stream)                     {}
func (a *bulkApp) StreamPeerSendAborted(*Stream, uint64)              {}
func (a *bulkApp) StreamPeerReceiveAborted(*Stream, uint64)           {}
func (a *bulkApp) StreamSendShutdownComplete(*Stream, bool)           {}
func (a *bulkApp) StreamShutdownComplete(*Stream, StreamShutdownInfo) {}
func (a *bulkApp) StreamIdealSendBufferSize(*Stream, uint64)          {}
func (a *bulkApp) StreamCancelOnLoss(*Stream) uint64                  { return 0 }
func (a *bulkApp) StreamPeerAccepted(*Stream)                         {}

// fill queues sends until window bytes are outstanding.
func (a *bulkApp) fill() {
	for a.queued < a.window {
		a.c.StreamSend(a.s, a.bufs, 0, nil)
		a.queued += len(a.bufs[0])
	}
}

// bulkPair is a handshaken pair moving stream data from client to server.
type bulkPair struct {
	now              mono.Time
	step             time.Duration
	client, server   *Conn
	sender, receiver *bulkApp
	up, down         *bulkHost // client→server and server→client networks
}

// newBulkPair handshakes a pair with the harness, then moves both
// connections onto the in-memory network and starts a stream that the
// client keeps full.
func newBulkPair(tb testing.TB, opts ...pairOption) *bulkPair {
	p := newPair(tb, opts...)
	p.serverSettings.ConnFlowControlWindow = 16 << 20
	p.serverSettings.StreamRecvWindowBidiRemote = 1 << 20
	p.handshake()
	bp := &bulkPair{now: p.now, step: 20 * time.Microsecond, client: p.client.c, server: p.server.c}
	bp.up = &bulkHost{peer: bp.server, from: clientAddr, local: serverAddr}
	bp.down = &bulkHost{peer: bp.client, from: serverAddr, local: clientAddr}
	bp.client.host, bp.server.host = bp.up, bp.down
	bp.sender = &bulkApp{c: bp.client, window: 4 << 20, bufs: [][]byte{make([]byte, 256<<10)}}
	bp.receiver = &bulkApp{c: bp.server}
	bp.client.events, bp.server.events = bp.sender, bp.receiver
	bp.sender.s = bp.client.NewStream(0)
	bp.client.StreamStart(bp.sender.s, 0)
	bp.sender.fill()
	return bp
}

// round runs the sender, then the receiver, once each, and advances the
// clock.
func (bp *bulkPair) round() {
	bp.client.Run(bp.now)
	bp.server.Run(bp.now)
	bp.now = bp.now.Add(bp.step)
}

// warm runs until the transfer is in steady state: windows grown, buffers
// and queues at their working sizes.
func (bp *bulkPair) warm(tb testing.TB) {
	for bp.receiver.received < 128<<20 {
		bp.round()
		if bp.sender.closed || bp.receiver.closed {
			tb.Fatal("connection closed during the transfer")
		}
	}
}

// BenchmarkBulkTransfer moves stream data through a client/server pair in
// memory; one op is one full-size datagram delivered, so ns/op and
// allocs/op are per packet (sender and receiver together, including ACK
// generation and processing). cpu-ns/op is the process's CPU time per
// packet; sender-ns/op and receiver-ns/op split the time between the
// sender's runs (ACK processing, build, encrypt, send) and the receiver's
// (receive, decrypt, deliver, acknowledge).
func BenchmarkBulkTransfer(b *testing.B) {
	bp := newBulkPair(b)
	bp.warm(b)
	sent := bp.up.datagrams
	var senderTime, receiverTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for bp.up.datagrams-sent < b.N {
		t0 := time.Now()
		bp.client.Run(bp.now)
		t1 := time.Now()
		bp.server.Run(bp.now)
		receiverTime += time.Since(t1)
		senderTime += t1.Sub(t0)
		bp.now = bp.now.Add(bp.step)
	}
	cpu = processCPU() - cpu
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(senderTime.Nanoseconds())/float64(b.N), "sender-ns/op")
	b.ReportMetric(float64(receiverTime.Nanoseconds())/float64(b.N), "receiver-ns/op")
	if bp.sender.closed || bp.receiver.closed {
		b.Fatal("connection closed during the transfer")
	}
	b.ReportMetric(float64(bp.server.stats.RecvTotalStreamBytes)/float64(bp.server.stats.RecvTotalPackets), "bytes/packet")
	b.ReportMetric(float64(bp.down.datagrams)/float64(bp.up.datagrams), "acks/packet")
	b.ReportMetric(float64(bp.up.segments)/float64(max(bp.up.batches, 1)), "segments/batch")
}

// TestBulkTransferSteadyStateDoesNotAllocate guards the hot paths: once a
// transfer is running, neither the sender's runs (ACK processing, then
// build, encrypt and send) nor the receiver's (receive, decrypt, deliver,
// acknowledge) allocate, whichever processors the scheduler runs them on.
func TestBulkTransferSteadyStateDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("moves 128 MiB, which takes seconds under the race detector")
	}
	bp := newBulkPair(t)
	bp.warm(t)
	before := bp.receiver.received
	const rounds = 300
	n, where := moduleAllocs(func() {
		for range rounds {
			bp.round()
		}
	})
	if n != 0 {
		t.Errorf("%d allocations in %d rounds:%s", n, rounds, strings.Join(where, ""))
	}
	if bp.receiver.received == before {
		t.Error("no data moved while measuring")
	}
}
