package conn

import (
	"testing"
	"time"
)

// The request/response harness runs requests over the bulk harness's
// in-memory network: the client keeps rrInFlight requests of rrRequest
// bytes outstanding, each on a new stream, and the server answers each
// with rrResponse bytes.
const (
	rrInFlight = 16
	rrRequest  = 512
	rrResponse = 4096
)

// rrApp is one side of the request/response harness.
type rrApp struct {
	bulkApp
	server    bool
	data      [][]byte
	completed int // client: responses received in full
	inFlight  int
}

func (a *rrApp) StreamReceive(s *Stream, off uint64, bufs [][]byte, fin, zeroRTT bool) (uint64, ReceiveResult) {
	n, r := a.bulkApp.StreamReceive(s, off, bufs, fin, zeroRTT)
	if fin {
		if a.server {
			a.c.StreamSend(s, a.data, SendFlagFIN, nil)
		} else {
			a.completed++
			a.inFlight--
		}
	}
	return n, r
}

func (a *rrApp) StreamSendComplete(*Stream, any, bool) {}

func (a *rrApp) StreamShutdownComplete(s *Stream, _ StreamShutdownInfo) {
	a.c.StreamClose(s)
}

// request opens a stream and sends one request on it.
func (a *rrApp) request() {
	s := a.c.NewStream(0)
	a.c.StreamStart(s, 0)
	a.c.StreamSend(s, a.data, SendFlagFIN, nil)
	a.inFlight++
}

// rrPair is a handshaken pair exchanging requests and responses.
type rrPair struct {
	bulkPair
	cli, srv *rrApp
}

func newRRPair(tb testing.TB, opts ...pairOption) *rrPair {
	p := newPair(tb, opts...)
	p.serverSettings.PeerBidiStreamCount = 1000
	p.handshake()
	rp := &rrPair{bulkPair: bulkPair{now: p.now, step: 20 * time.Microsecond, client: p.client.c, server: p.server.c}}
	rp.up = &bulkHost{peer: rp.server, from: clientAddr, local: serverAddr}
	rp.down = &bulkHost{peer: rp.client, from: serverAddr, local: clientAddr}
	rp.client.host, rp.server.host = rp.up, rp.down
	rp.cli = &rrApp{bulkApp: bulkApp{c: rp.client}, data: [][]byte{make([]byte, rrRequest)}}
	rp.srv = &rrApp{bulkApp: bulkApp{c: rp.server}, server: true, data: [][]byte{make([]byte, rrResponse)}}
	rp.client.events, rp.server.events = rp.cli, rp.srv
	return rp
}

// round tops up the requests in flight and runs both sides once.
func (rp *rrPair) round() {
	for rp.cli.inFlight < rrInFlight {
		rp.cli.request()
	}
	rp.bulkPair.round()
}

// BenchmarkRequestResponse exchanges requests and responses; one op is
// one request answered. packets/op counts the datagrams of both
// directions, so ns per packet is ns/op divided by it. cpu-ns/op is the
// process's CPU time per request (with a trace, its writer's too), which
// other load on the machine disturbs less than ns/op.
func BenchmarkRequestResponse(b *testing.B) {
	benchRequestResponse(b)
}

func benchRequestResponse(b *testing.B, opts ...pairOption) {
	rp := newRRPair(b, opts...)
	for rp.cli.completed < 10000 {
		rp.round()
	}
	done, packets := rp.cli.completed, rp.up.datagrams+rp.down.datagrams
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for rp.cli.completed-done < b.N {
		rp.round()
		if rp.cli.closed || rp.srv.closed {
			b.Fatal("connection closed during the exchange")
		}
	}
	cpu = processCPU() - cpu
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(rp.up.datagrams+rp.down.datagrams-packets)/float64(b.N), "packets/op")
}
