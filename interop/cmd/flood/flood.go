package main

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// flooder sends client Initials that never complete a handshake, each to a
// fresh random DCID, from many loopback source addresses: one wildcard
// socket sends every datagram with an IP_PKTINFO source address, so a batch
// of datagrams from different addresses costs one sendmmsg.
type flooder struct {
	pc     *ipv4.PacketConn
	conn   *net.UDPConn
	server *net.UDPAddr
	hellos []hello
	srcs   [][]byte // marshalled IP_PKTINFO control messages, one per source address
	// pool, when filled, holds sealed Initial datagrams that the senders
	// send in turn instead of sealing each anew (see fillPool).
	pool []pooled

	sent, sendErr atomic.Uint64
	// Replies the server sent back, by long-header packet type.
	retries, initials, vns, others atomic.Uint64
}

// floodBase is the first flood source address; the legitimate clients use
// 127.0.0.1.
var floodBase = netip.MustParseAddr("127.1.0.0")

// newFlooder prepares a flood against server from addrs source addresses,
// with hellos pre-generated ClientHellos.
func newFlooder(server netip.AddrPort, addrs int, hellos []hello) (*flooder, error) {
	if addrs < 1 || addrs > 1<<16 {
		return nil, errors.New("-addrs must be between 1 and 65536")
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		return nil, err
	}
	c.SetReadBuffer(4 << 20)
	c.SetWriteBuffer(4 << 20)
	f := &flooder{pc: ipv4.NewPacketConn(c), conn: c, server: net.UDPAddrFromAddrPort(server), hellos: hellos}
	a := floodBase
	for range addrs {
		cm := ipv4.ControlMessage{Src: a.AsSlice()}
		f.srcs = append(f.srcs, cm.Marshal())
		a = a.Next()
	}
	go f.readReplies()
	return f, nil
}

// pooled is a sealed Initial datagram and the source address it goes from.
type pooled struct {
	pkt []byte
	src []byte // IP_PKTINFO control message
}

// fillPool seals Initials to n fresh random DCIDs, each from its own
// source address in turn, for the senders to send round robin: sealing
// (key derivation and AES-GCM over 1200 bytes) is most of the generator's
// CPU per Initial, so a pool lets a machine that cannot both seal and send
// at the rate asked reach it, at the price of DCIDs that recur once per
// pass over the pool. A server that has switched to Retry keeps no state
// per DCID, so a recurring DCID costs it as much as a fresh one; one that
// made a half-open connection for it sees a duplicate Initial.
func (f *flooder) fillPool(n int) {
	s := newSealer()
	for i := range n {
		h := &f.hellos[i%len(f.hellos)]
		bufs := make([][]byte, h.datagrams())
		for j := range bufs {
			bufs[j] = make([]byte, 0, initialSize)
		}
		pkts, _ := s.seal(bufs, h)
		for _, p := range pkts {
			f.pool = append(f.pool, pooled{pkt: p, src: f.srcs[i%len(f.srcs)]})
		}
	}
}

// readReplies counts what the server answers until the socket closes.
func (f *flooder) readReplies() {
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	for {
		n, err := f.pc.ReadBatch(msgs, 0)
		if err != nil {
			return
		}
		for _, m := range msgs[:n] {
			b := m.Buffers[0][:m.N]
			switch {
			case len(b) < 5 || b[0]&0x80 == 0:
				f.others.Add(1)
			case b[1]|b[2]|b[3]|b[4] == 0:
				f.vns.Add(1)
			case b[0]&0x30 == 0x30:
				f.retries.Add(1)
			case b[0]&0x30 == 0:
				f.initials.Add(1)
			default:
				f.others.Add(1)
			}
		}
	}
}

// run sends rate Initials per second until stop is closed, spread over
// senders goroutines.
func (f *flooder) run(rate float64, senders int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.send(rate/float64(senders), i, stop)
		}()
	}
	wg.Wait()
}

// send is one sender goroutine: it keeps its share of the rate against the
// clock, in batches of at most 64 datagrams.
func (f *flooder) send(rate float64, seed int, stop <-chan struct{}) {
	const batch = 64
	msgs := make([]ipv4.Message, batch)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, 0, initialSize)
		msgs[i].Addr = f.server
	}
	s := newSealer()
	start := time.Now()
	next := seed * 7919 // walk addresses and hellos from different points
	var sent float64
	for {
		select {
		case <-stop:
			return
		default:
		}
		due := int(time.Since(start).Seconds()*rate - sent)
		if due <= 0 {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		n := 0
		for len(f.pool) > 0 && n < min(due, batch) {
			p := &f.pool[next%len(f.pool)]
			msgs[n].Buffers = [][]byte{p.pkt}
			msgs[n].OOB = p.src
			n++
			next++
		}
		for len(f.pool) == 0 && n < min(due, batch-1) {
			h := &f.hellos[next%len(f.hellos)]
			pkts, _ := s.seal(bufs[n:], h)
			for _, p := range pkts {
				msgs[n].Buffers = [][]byte{p}
				msgs[n].OOB = f.srcs[next%len(f.srcs)]
				n++
			}
			next++
		}
		w, err := f.pc.WriteBatch(msgs[:n], 0)
		if err != nil {
			f.sendErr.Add(1)
			w = max(w, 0)
		}
		f.sent.Add(uint64(w))
		sent += float64(n)
	}
}

// close stops the reply reader.
func (f *flooder) close() { f.conn.Close() }
