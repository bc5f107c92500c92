package stream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hquic/quic/internal/flow"
	"github.com/hquic/quic/internal/mono"
)

// packet is a STREAM frame or RESET_STREAM in flight in the transfer
// simulation.
type packet struct {
	off   uint64
	data  []byte
	fin   bool
	reset bool
}

// TestTransferUnderLossAndReordering drives a SendState and a RecvState the
// way a connection does, over a simulated path that loses, reorders and
// duplicates packets, with stream and connection flow control. It checks that
// the receiver reads exactly the bytes sent, every send completes exactly once
// and only after its bytes were acknowledged, and (in the reset variants) that
// the reset cancels the rest exactly once and the flow-control accounting
// balances.
func TestTransferUnderLossAndReordering(t *testing.T) {
	for seed := uint64(0); seed < 120; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runTransfer(t, seed) })
	}
}

func runTransfer(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	withReset := seed%4 == 3
	var s SendState
	s.Init(16<<10, seed%2 == 0)
	s.SetIdealSendBuffer(uint64(8 << 10 << rng.IntN(3)))
	var r RecvState
	r.Init(16<<10, 256<<10, 4096)
	var connSend flow.SendCredit
	connSend.Init(48 << 10)
	var connRecv flow.RecvWindow
	connRecv.Init(48<<10, 1<<20)
	var connUsed, connReceived uint64

	total := 50000 + rng.IntN(200000)
	content := make([]byte, total)
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	queuedTo := 0
	type sendInfo struct{ end uint64 }
	sends := map[int]sendInfo{}
	completed := map[int]bool{}
	canceledN := 0
	nextCtx := 0
	var inflight []packet
	var got []byte
	now := mono.Time(1)
	resetAt, didReset := -1, false
	if withReset {
		resetAt = 20 + rng.IntN(400)
	}

	popAll := func() {
		for {
			ctx, canceled, ok := s.PopCompleted()
			if !ok {
				return
			}
			id := ctx.(int)
			if completed[id] {
				t.Fatalf("send %d completed twice", id)
			}
			completed[id] = true
			if canceled {
				canceledN++
				continue
			}
			if !s.buffering && s.Acked() < sends[id].end && s.Phase() != SendDataRecvd {
				t.Fatalf("send %d completed with only %d of %d bytes acknowledged", id, s.Acked(), sends[id].end)
			}
		}
	}

	for step := 0; step < 200000; step++ {
		now += 1000
		if s.Phase() == SendDataRecvd && r.Phase() == RecvDataRead {
			break
		}
		if s.Phase() == SendResetRecvd && r.Phase() == RecvResetRecvd {
			break
		}
		// Application sends: up to 3 buffers per send, FIN with the last.
		if queuedTo < total && rng.IntN(4) == 0 {
			var bufs [][]byte
			for range 1 + rng.IntN(3) {
				n := min(total-queuedTo, rng.IntN(6000))
				bufs = append(bufs, content[queuedTo:queuedTo+n])
				queuedTo += n
			}
			switch err := s.Queue(bufs, queuedTo == total, nextCtx); {
			case err == nil:
				sends[nextCtx] = sendInfo{uint64(queuedTo)}
				nextCtx++
			case err != ErrReset || !didReset:
				t.Fatalf("Queue: %v", err)
			}
		}
		if step == resetAt {
			s.Reset(0xabc)
			didReset = s.Phase() == SendResetSent
		}
		// Build a packet.
		if code, final, ok := s.ResetPending(); ok {
			if code != 0xabc {
				t.Fatal("reset code")
			}
			s.OnResetSent()
			inflight = append(inflight, packet{off: final, reset: true})
		} else if off, n, fin, ok := s.Pending(connSend.Available(connUsed)); ok && rng.IntN(3) > 0 {
			if n > 1100 {
				n, fin = uint64(1+rng.IntN(1100)), false
			}
			buf := make([]byte, n)
			if s.WriteData(buf, off) != int(n) {
				t.Fatal("WriteData short")
			}
			connUsed += s.OnSent(off, int(n), fin)
			if connUsed > connSend.Limit() {
				t.Fatal("connection credit exceeded")
			}
			inflight = append(inflight, packet{off: off, data: buf, fin: fin})
		}
		// The path: deliver, lose or keep a random packet in flight.
		if len(inflight) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(inflight))
			p := inflight[i]
			if rng.IntN(10) != 0 { // duplicate sometimes: keep it in flight
				inflight = append(inflight[:i], inflight[i+1:]...)
			}
			switch {
			case rng.IntN(8) == 0: // lost
				if p.reset {
					s.OnResetLost()
				} else {
					s.OnLost(p.off, len(p.data), p.fin)
				}
			case p.reset:
				grown, freed, err := r.OnReset(0xabc, p.off)
				if err != nil {
					t.Fatalf("OnReset: %v", err)
				}
				connReceived += grown
				if !connRecv.OnReceived(connReceived) {
					t.Fatal("connection window exceeded by a reset")
				}
				connRecv.OnConsumed(now, freed, testRTT)
				s.OnResetAcked()
			default:
				grown, freed, err := r.OnData(p.off, p.data, p.fin)
				if err != nil {
					t.Fatalf("OnData(%d, %d): %v", p.off, len(p.data), err)
				}
				connReceived += grown
				if !connRecv.OnReceived(connReceived) {
					t.Fatal("connection window exceeded")
				}
				connRecv.OnConsumed(now, freed, testRTT)
				s.OnAcked(p.off, len(p.data), p.fin)
				if rng.IntN(5) == 0 { // a late loss report after the ack
					s.OnLost(p.off, len(p.data), p.fin)
				}
			}
		}
		popAll()
		// The receiving application reads part of what is there.
		if rng.IntN(3) == 0 && r.Phase() != RecvResetRecvd {
			off, bufs, _ := r.Readable()
			data := joined(bufs)
			if off != uint64(len(got)) {
				t.Fatalf("read offset %d, have %d", off, len(got))
			}
			k := len(data)
			if rng.IntN(2) == 0 {
				k = rng.IntN(k + 1)
			}
			got = append(got, data[:k]...)
			if err := r.Consume(now, uint64(k), testRTT); err != nil {
				t.Fatalf("Consume: %v", err)
			}
			connRecv.OnConsumed(now, uint64(k), testRTT)
		}
		if lim, ok := r.MaxStreamData(now); ok {
			s.OnMaxStreamData(lim)
		}
		if lim, ok := connRecv.Update(now); ok {
			connSend.OnMaxData(lim)
		}
		r.TakeEvents()
		s.TakeEvents()
	}
	if !bytes.Equal(got, content[:len(got)]) {
		t.Fatal("received bytes differ from the sent ones")
	}
	popAll()
	if len(completed) != nextCtx {
		t.Fatalf("%d of %d sends completed", len(completed), nextCtx)
	}
	if didReset {
		if s.Phase() != SendResetRecvd || r.Phase() != RecvResetRecvd {
			t.Fatalf("reset run ended in %v / %v", s.Phase(), r.Phase())
		}
		final, _ := r.FinalSize()
		if final != s.Sent() {
			t.Fatalf("final size %d, sent %d", final, s.Sent())
		}
		// Every byte counted as received was returned to the connection.
		if connRecv.Consumed() != connReceived || connReceived != final {
			t.Fatalf("connection accounting: consumed %d received %d final %d", connRecv.Consumed(), connReceived, final)
		}
		return
	}
	if s.Phase() != SendDataRecvd || r.Phase() != RecvDataRead || len(got) != total {
		t.Fatalf("ended in %v / %v with %d of %d bytes", s.Phase(), r.Phase(), len(got), total)
	}
	if canceledN != 0 {
		t.Fatalf("%d sends canceled without a reset", canceledN)
	}
}
