package conn

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/packet"
	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/recovery"
	"github.com/hquic/quic/internal/wire"
)

// The scripted-peer harness tests one connection against a peer that
// exists only as the test's script, at the frame level: the test writes
// the peer's frames (writeFrames), and reads and checks every frame the
// connection sends (wantFrame, wantIdle). A pair handshakes first; then the
// connection under test is cut off from the other side, whose Conn never
// runs again and only lends the harness its 1-RTT keys and connection
// IDs. Time is the harness's virtual clock: it moves only with advance
// and advanceToTimer.

// testConn is a connection under test and its scripted peer.
type testConn struct {
	t      *testing.T
	p      *pair
	side   *endpoint // the connection under test, with its recorded events
	c      *Conn
	peer   *endpoint // the other side of the handshake, no longer run
	events int       // side.events consumed by wantEvent

	// The peer's address as the connection sees it, and the connection ID
	// the peer writes to.
	peerAddr netip.AddrPort
	dcid     []byte

	// 1-RTT protection of the peer's packets.
	writeKeys  *protect.Keys
	writePhase bool
	nextPN     int64
	// firstPN is the lowest of the peer's packet numbers the connection
	// still reports in its ACK frames when the test begins.
	firstPN   int64
	readKeys  *protect.Keys
	readPhase bool
	received  []int64 // packet numbers received from the connection, in order

	// hs is set for a connection handed over during the handshake
	// (scripted_handshake_test.go): long-header packets are expected.
	hs *tcHandshake

	pending []sentFrame              // frames sent and not yet consumed
	ignored map[reflect.Type]bool    // frame types wantFrame and wantIdle skip
	lastTo  netip.AddrPort           // destination of the last datagram read
	sizes   map[netip.AddrPort][]int // sizes of the datagrams sent, by destination
}

// sentFrame is one frame the connection sent.
type sentFrame struct {
	pt   wire.PacketType
	f    wire.DebugFrame
	to   netip.AddrPort
	pn   int64
	dcid []byte
	// phase is the key phase bit of the packet that held the frame.
	phase bool
}

func (f sentFrame) String() string { return fmt.Sprintf("%v pn %d to %v: %v", f.pt, f.pn, f.to, f.f) }

// tcOption adjusts the pair before the handshake: the connection under
// test's and the peer's settings, through the pair's options.
type tcOption = pairOption

// withSettings changes the settings of the connection under test (side)
// or of its peer.
func withSettings(side Side, f func(*Settings)) tcOption {
	return func(p *pair, cc *Config, _ *tls.Config) {
		if side == Client {
			f(&cc.Settings)
		} else {
			f(&p.serverSettings)
			f(&p.serverStart)
		}
	}
}

// newTestConn handshakes a pair and hands the connection of the given side
// to the test, with its peer scripted from then on. Pacing is off, so that
// the connection sends what it may as soon as it runs, and so is path-MTU
// discovery, whose probes would come between the frames under test.
func newTestConn(t *testing.T, side Side, opts ...tcOption) *testConn {
	t.Helper()
	opts = append([]tcOption{withSettings(Client, noPacing), withSettings(Server, noPacing)}, opts...)
	p := newPair(t, opts...)
	p.handshake()
	// Let the handshake's last flights, acknowledgments and connection
	// IDs settle, so that the connection starts with nothing in flight
	// and nothing to acknowledge.
	settled := p.now.Add(200 * time.Millisecond)
	if !p.runUntil(10*time.Second, func() bool {
		if p.now < settled || len(p.wire) > 0 {
			return false
		}
		for _, e := range []*endpoint{p.client, p.server} {
			if e.c.loss.BytesInFlight() > 0 || !e.c.spaces[recovery.SpaceApp].acks.AckDeadline().IsZero() {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the handshake did not settle")
	}
	tc := &testConn{t: t, p: p, ignored: map[reflect.Type]bool{}, sizes: map[netip.AddrPort][]int{}}
	tc.side, tc.peer = p.server, p.client
	if side == Client {
		tc.side, tc.peer = p.client, p.server
	}
	tc.c = tc.side.c
	tc.c.host = tc
	// What the peer sent during the handshake is settled too: the count
	// behind a PING added to an acknowledgment (keepsAckElicitingInFlight)
	// starts with the script.
	tc.c.elicitedSinceSent = 0
	tc.peerAddr = tc.peer.addr
	pc := tc.peer.c
	tc.dcid = bytes.Clone(pc.cids.dcid())
	tc.writeKeys, tc.writePhase = pc.app.write, pc.app.phase
	tc.readKeys, tc.readPhase = pc.app.readCur, pc.app.phase
	tc.nextPN = pc.spaces[recovery.SpaceApp].nextPN
	tc.firstPN = tc.nextPN
	// The peer's acknowledgments cover what the real peer received, so
	// that none of the connection's earlier packets looks lost.
	pr := pc.spaces[recovery.SpaceApp].acks.Ranges()
	for i := range pr.Len() {
		for pn := pr.At(i).Start; pn < pr.At(i).End; pn++ {
			tc.received = append(tc.received, pn)
		}
	}
	if r := tc.c.spaces[recovery.SpaceApp].acks.Ranges(); !r.IsEmpty() {
		tc.firstPN = r.At(0).Start
	}
	tc.ignoreFrame(wire.DebugPadding{})
	return tc
}

func noPacing(s *Settings) {
	s.Pacing = false
	s.MaximumMTU = s.MinimumMTU
}

// Host implementation: the connection's datagrams go to the script.

func (tc *testConn) Send(b *OutBatch) {
	seg := b.SegSize
	if seg == 0 {
		seg = len(b.Buf)
	}
	limit := tc.c.path.maxDatagramSize()
	if m := &tc.c.mtu; m.inFlight {
		limit = max(limit, m.probeSize)
	}
	for off := 0; off < len(b.Buf); off += seg {
		d := bytes.Clone(b.Buf[off:min(off+seg, len(b.Buf))])
		if len(d) > limit {
			tc.t.Errorf("sent a %d-byte datagram; the limit is %d", len(d), limit)
		}
		tc.sizes[b.Addr] = append(tc.sizes[b.Addr], len(d))
		tc.decode(d, b.Addr)
	}
}
func (tc *testConn) AddCID(cid []byte)             { tc.side.AddCID(cid) }
func (tc *testConn) RemoveCID(cid []byte)          { tc.side.RemoveCID(cid) }
func (tc *testConn) AddResetToken(tok [16]byte)    {}
func (tc *testConn) RemoveResetToken(tok [16]byte) {}
func (tc *testConn) Closed()                       { tc.side.Closed() }

// decode opens a datagram the connection sent and queues its frames.
// After the handshake every packet is a 1-RTT packet; anything else fails
// the test.
func (tc *testConn) decode(d []byte, to netip.AddrPort) {
	tc.t.Helper()
	if tc.hs != nil && len(d) > 0 && wire.IsLongHeader(d[0]) {
		if d = tc.decodeLong(d, to); len(d) == 0 {
			return
		}
	}
	cidLen := len(tc.peer.c.cids.scid())
	if len(d) == 0 || wire.IsLongHeader(d[0]) || len(d) < 1+cidLen+4+packet.TagLen {
		tc.t.Errorf("sent a datagram that is not a 1-RTT packet: % x", d[:min(len(d), 16)])
		return
	}
	largest := int64(-1)
	if n := len(tc.received); n > 0 {
		largest = tc.received[n-1]
	}
	pn, hdrLen, ok := packet.Unprotect(d, 1+cidLen, &tc.readKeys.HP, largest)
	if !ok {
		tc.t.Errorf("sent a 1-RTT packet whose header does not open")
		return
	}
	phase := packet.KeyPhase(d[0])
	keys := tc.readKeys
	if phase != tc.readPhase {
		next, err := tc.readKeys.Next()
		if err != nil {
			tc.t.Fatal(err)
		}
		keys = next
	}
	payload, err := packet.Open(d, hdrLen, pn, &keys.AEAD)
	if err != nil {
		tc.t.Errorf("packet %d (key phase %v) does not open: %v", pn, phase, err)
		return
	}
	if keys != tc.readKeys {
		tc.readKeys, tc.readPhase = keys, phase
	}
	if packet.ReservedBitsSet(d[0]) {
		tc.t.Errorf("packet %d has reserved bits set", pn)
	}
	tc.received = append(tc.received, pn)
	frames, err := wire.ParseDebugFrames(payload)
	if err != nil {
		tc.t.Errorf("packet %d: %v", pn, err)
	}
	for _, f := range frames {
		tc.pending = append(tc.pending, sentFrame{pt: wire.Packet1RTT, f: f, to: to, pn: pn, dcid: bytes.Clone(d[1 : 1+cidLen]), phase: phase})
	}
}

// run lets the connection process what it has been given and send.
func (tc *testConn) run() {
	for {
		more, _ := tc.c.Run(tc.p.now)
		if !more {
			return
		}
	}
}

// advance moves the clock forward by d and runs the connection.
func (tc *testConn) advance(d time.Duration) {
	tc.p.now = tc.p.now.Add(d)
	tc.run()
}

// advanceTo moves the clock to t, if it is later, and runs the connection.
func (tc *testConn) advanceTo(t mono.Time) {
	if t > tc.p.now {
		tc.p.now = t
	}
	tc.run()
}

// advanceToTimer moves the clock to the connection's next deadline.
func (tc *testConn) advanceToTimer() {
	tc.t.Helper()
	d := tc.c.deadline()
	if d.IsZero() {
		tc.t.Fatal("advanceToTimer: the connection has no timer")
	}
	tc.advanceTo(d)
}

// writeFrames sends the connection one 1-RTT packet holding frames, from
// the peer's address, and runs the connection.
func (tc *testConn) writeFrames(frames ...wire.DebugFrame) {
	tc.t.Helper()
	tc.writeFramesFrom(tc.peerAddr, frames...)
}

// writeFramesFrom is writeFrames from another address of the peer.
func (tc *testConn) writeFramesFrom(from netip.AddrPort, frames ...wire.DebugFrame) {
	tc.t.Helper()
	tc.writeDatagram(from, tc.seal(frames...))
}

// seal protects frames as the peer's next 1-RTT packet.
func (tc *testConn) seal(frames ...wire.DebugFrame) []byte {
	tc.t.Helper()
	d := tc.sealWith(tc.dcid, tc.nextPN, tc.writePhase, tc.writeKeys, frames...)
	tc.nextPN++
	return d
}

// sealWith protects frames as a 1-RTT packet of the peer's to dcid with
// the given packet number, key phase bit and keys; it does not advance
// nextPN.
func (tc *testConn) sealWith(dcid []byte, pn int64, phase bool, keys *protect.Keys, frames ...wire.DebugFrame) []byte {
	tc.t.Helper()
	var payload []byte
	for _, f := range frames {
		payload = f.Append(payload)
	}
	var b packet.Builder
	b.Reset(make([]byte, 0, 1500))
	b.StartDatagram(1500)
	if !b.StartShort(dcid, pn, -1, packet.ShortBits{KeyPhase: phase}, keys) {
		tc.t.Fatal("seal: no room for the packet")
	}
	b.Buf = append(b.Buf, payload...)
	b.Finish()
	_, n := b.EndDatagram(0)
	return bytes.Clone(b.Buf[:n])
}

// writeFramesTo sends frames in the peer's next 1-RTT packet addressed to
// one of the connection's connection IDs, dcid.
func (tc *testConn) writeFramesTo(dcid []byte, frames ...wire.DebugFrame) {
	tc.t.Helper()
	tc.writeDatagram(tc.peerAddr, tc.sealWith(dcid, tc.nextPN, tc.writePhase, tc.writeKeys, frames...))
	tc.nextPN++
}

// writeDatagram hands the connection a datagram from the given address.
func (tc *testConn) writeDatagram(from netip.AddrPort, d []byte) {
	tc.c.QueueDatagram(Datagram{Data: d, Peer: from, Local: tc.side.addr})
	tc.run()
}

// updateWriteKeys makes the peer's next packets use the next key phase
// (RFC 9001 §6.1).
func (tc *testConn) updateWriteKeys() {
	tc.t.Helper()
	next, err := tc.writeKeys.Next()
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.writeKeys, tc.writePhase = next, !tc.writePhase
}

// ackRanges returns the ranges of the packet numbers received from the
// connection, highest first.
func (tc *testConn) ackRanges() []wire.DebugAckRange {
	seen := map[int64]bool{}
	for _, pn := range tc.received {
		seen[pn] = true
	}
	var rs []wire.DebugAckRange
	for pn := tc.largestReceived(); pn >= 0; pn-- {
		if !seen[pn] {
			continue
		}
		if n := len(rs); n > 0 && rs[n-1].Smallest == pn+1 {
			rs[n-1].Smallest = pn
			continue
		}
		rs = append(rs, wire.DebugAckRange{Smallest: pn, Largest: pn})
	}
	return rs
}

func (tc *testConn) largestReceived() int64 {
	l := int64(-1)
	for _, pn := range tc.received {
		l = max(l, pn)
	}
	return l
}

// writeAckForAll acknowledges every packet the connection has sent.
func (tc *testConn) writeAckForAll() {
	tc.t.Helper()
	if rs := tc.ackRanges(); len(rs) > 0 {
		tc.writeFrames(wire.DebugAck{Ranges: rs})
	}
}

// ignoreFrame makes wantFrame and wantIdle skip frames of f's type.
func (tc *testConn) ignoreFrame(f wire.DebugFrame) { tc.ignored[reflect.TypeOf(f)] = true }

// readFrame returns the next frame the connection sent that is not
// ignored.
func (tc *testConn) readFrame() (sentFrame, bool) {
	for len(tc.pending) > 0 {
		f := tc.pending[0]
		tc.pending = tc.pending[1:]
		if !tc.ignored[reflect.TypeOf(f.f)] {
			tc.lastTo = f.to
			return f, true
		}
	}
	return sentFrame{}, false
}

// wantFrame checks that the next frame the connection sent is want, in a
// packet of type pt.
func (tc *testConn) wantFrame(why string, pt wire.PacketType, want wire.DebugFrame) sentFrame {
	tc.t.Helper()
	got, ok := tc.readFrame()
	if !ok {
		tc.t.Fatalf("%s: sent no frame, want %v", why, want)
	}
	if got.pt != pt || !reflect.DeepEqual(normalize(got.f), normalize(want)) {
		tc.t.Fatalf("%s:\ngot  %v %v\nwant %v %v", why, got.pt, got.f, pt, want)
	}
	return got
}

// wantFrameType checks that the next frame the connection sent has the
// type of proto and returns it.
func (tc *testConn) wantFrameType(why string, pt wire.PacketType, proto wire.DebugFrame) sentFrame {
	tc.t.Helper()
	got, ok := tc.readFrame()
	if !ok {
		tc.t.Fatalf("%s: sent no frame, want a %T", why, proto)
	}
	if got.pt != pt || reflect.TypeOf(got.f) != reflect.TypeOf(proto) {
		tc.t.Fatalf("%s: got %v %v, want a %v %T", why, got.pt, got.f, pt, proto)
	}
	return got
}

// wantIdle checks that the connection sends nothing more (ignored frames
// aside) now.
func (tc *testConn) wantIdle(why string) {
	tc.t.Helper()
	tc.run()
	if got, ok := tc.readFrame(); ok {
		tc.t.Fatalf("%s: sent %v, want nothing", why, got)
	}
}

// wantEvent checks that the next event the connection raised since the
// last wantEvent is called name, and returns it.
func (tc *testConn) wantEvent(why, name string) event {
	tc.t.Helper()
	evs := tc.side.events
	if tc.events >= len(evs) {
		tc.t.Fatalf("%s: no event, want %s", why, name)
	}
	ev := evs[tc.events]
	tc.events++
	if ev.name != name {
		tc.t.Fatalf("%s: event %v, want %s (all: %v)", why, ev, name, evs[tc.events-1:])
	}
	return ev
}

// skipEvents consumes the events raised so far.
func (tc *testConn) skipEvents() { tc.events = len(tc.side.events) }

// normalize makes frames comparable: empty and nil byte slices are the
// same.
func normalize(f wire.DebugFrame) wire.DebugFrame {
	switch f := f.(type) {
	case wire.DebugStream:
		if len(f.Data) == 0 {
			f.Data = nil
		}
		return f
	case wire.DebugCrypto:
		if len(f.Data) == 0 {
			f.Data = nil
		}
		return f
	case wire.DebugDatagram:
		if len(f.Data) == 0 {
			f.Data = nil
		}
		return f
	}
	return f
}

// wantClose checks that the connection's next frame is a transport
// CONNECTION_CLOSE with code, naming the frame type that caused it.
func (tc *testConn) wantClose(why string, code wire.ErrorCode, frameType uint64) {
	tc.t.Helper()
	got := tc.wantFrameType(why, wire.Packet1RTT, wire.DebugConnectionClose{})
	cc := got.f.(wire.DebugConnectionClose)
	if cc.App || cc.Code != uint64(code) || cc.FrameType != frameType {
		tc.t.Fatalf("%s: got %v, want a transport CONNECTION_CLOSE with code %#x for frame type %#x", why, cc, uint64(code), frameType)
	}
}

// streamID returns the ID of the n-th stream (from 0) of a kind:
// initiated by the client or the server, bidirectional or not.
func streamID(initiator Side, uni bool, n uint64) uint64 {
	id := n << 2
	if initiator == Server {
		id |= 1
	}
	if uni {
		id |= 2
	}
	return id
}

// openStream opens, starts and writes data on a stream of the connection
// under test, with FIN if fin, and runs the connection.
func (tc *testConn) openStream(uni bool, data []byte, fin bool) *Stream {
	var flags uint32
	if uni {
		flags = StreamOpenUnidirectional
	}
	s := tc.c.NewStream(flags)
	tc.c.StreamStart(s, 0)
	var sf uint32
	if fin {
		sf = SendFlagFIN
	}
	if len(data) > 0 || fin {
		tc.c.StreamSend(s, [][]byte{data}, sf, nil)
	}
	tc.run()
	return s
}

// send writes data on s and runs the connection.
func (tc *testConn) send(s *Stream, data []byte) {
	tc.c.StreamSend(s, [][]byte{data}, 0, nil)
	tc.run()
}

// wantStreamData reads the STREAM frames the connection sends on id until
// they cover [off, end) and checks that they carry data[off:end] in order.
func (tc *testConn) wantStreamData(why string, id uint64, data []byte, off, end int) {
	tc.t.Helper()
	for off < end {
		got := tc.wantFrameType(why, wire.Packet1RTT, wire.DebugStream{})
		f := got.f.(wire.DebugStream)
		if f.ID != id || f.Off != uint64(off) || off+len(f.Data) > end || !bytes.Equal(f.Data, data[off:off+len(f.Data)]) || len(f.Data) == 0 && !f.Fin {
			tc.t.Fatalf("%s: got STREAM id %d offset %d length %d fin %v; want id %d data from %d to %d", why, f.ID, f.Off, len(f.Data), f.Fin, id, off, end)
		}
		off += len(f.Data)
	}
}

// rawFrame is frame bytes written as they are, for frames no DebugFrame
// can express.
type rawFrame []byte

func (f rawFrame) String() string         { return fmt.Sprintf("raw % x", []byte(f)) }
func (f rawFrame) Append(b []byte) []byte { return append(b, f...) }
