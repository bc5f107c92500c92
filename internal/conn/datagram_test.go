package conn

import (
	"math/rand/v2"
	"testing"
	"time"
)

// DATAGRAM frames alongside a stream transfer, under loss and
// reordering: every datagram reaches exactly one final send state
// (acknowledged or lost-discarded; MsQuic's QUIC_DATAGRAM_SEND_STATE), the
// peer receives each at most once and at least every acknowledged one,
// and no packet outgrows its datagram (the harness checks each).
func TestDatagramsReachOneFinalStateUnderLoss(t *testing.T) {
	t.Parallel() // a seed sweep of independent pairs; sequential tests count allocations alone
	for seed := uint64(1); seed <= sweepSeeds(60); seed++ {
		r := rand.New(rand.NewPCG(seed, 22))
		p := newPair(t, withClientSettings(func(s *Settings) { s.DatagramReceive = true }))
		p.serverSettings.DatagramReceive = true
		p.rng = rand.New(rand.NewPCG(seed, 3))
		p.server.echo = true
		p.delay = time.Duration(1+r.IntN(40)) * time.Millisecond
		p.handshake()
		p.lossRate = []float64{0, 0.05, 0.2}[r.IntN(3)]
		p.reorderRate = []float64{0, 0.1, 0.3}[r.IntN(3)]
		maxSend := p.client.c.datagrams.maxSend
		if maxSend <= 0 {
			t.Fatalf("datagrams not enabled: max send %d", maxSend)
		}
		openSend(p, payload(seed, r.IntN(300<<10)), true)
		n := 1 + r.IntN(400)
		for i := range n {
			size := 1 + r.IntN(maxSend)
			p.client.c.SendDatagram([][]byte{make([]byte, size)}, size, i, 0)
			if r.IntN(10) == 0 {
				p.runUntil(time.Duration(r.IntN(50))*time.Millisecond, func() bool { return false })
			}
		}
		p.runUntil(60*time.Second, func() bool { return false })
		finals, acked := map[any]int{}, 0
		for _, ev := range p.client.events {
			if ev.name != "DatagramSendState" {
				continue
			}
			switch DatagramState(ev.a) {
			case DatagramSent, DatagramLostSuspect:
			case DatagramAcknowledged, DatagramAcknowledgedSpurious:
				acked++
				finals[ev.ctx]++
			default:
				finals[ev.ctx]++
			}
		}
		for i := range n {
			if finals[i] != 1 {
				t.Fatalf("seed %d: datagram %d reached %d final states", seed, i, finals[i])
			}
		}
		if got := p.server.count("DatagramReceived"); got < acked || got > n {
			t.Fatalf("seed %d: the server received %d datagrams; %d were sent, %d acknowledged", seed, got, n, acked)
		}
	}
}
