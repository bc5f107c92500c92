package handshake

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/hquic/quic/internal/wire"
)

func TestCryptoSendRetransmitsOnlyLostUnackedBytes(t *testing.T) {
	var s CryptoSend
	s.Write([]byte("0123456789"))
	off, n, _ := s.Pending(4)
	s.OnSent(off, n) // 0..4
	off2, n2, _ := s.Pending(100)
	s.OnSent(off2, n2) // 4..10
	if s.HasPending() {
		t.Fatal("pending after everything was sent")
	}
	s.OnAcked(4, 3) // 4..7 acked
	s.OnLost(0, 10) // everything else lost
	var got []string
	for {
		off, n, ok := s.Pending(100)
		if !ok {
			break
		}
		got = append(got, string(s.Data(off, n)))
		s.OnSent(off, n)
	}
	if len(got) != 2 || got[0] != "0123" || got[1] != "789" {
		t.Fatalf("retransmitted %q, want [0123 789]", got)
	}
	s.OnAcked(0, 4)
	s.OnAcked(7, 3)
	if s.Unacked() || len(s.buf) != 0 || s.base != 10 {
		t.Fatalf("after full ack: unacked=%v buf=%d base=%d", s.Unacked(), len(s.buf), s.base)
	}
}

func TestCryptoSendResendUnacked(t *testing.T) {
	var s CryptoSend
	s.Write([]byte("abcdef"))
	s.OnSent(0, 6)
	s.OnAcked(2, 2)
	if !s.ResendUnacked() {
		t.Fatal("nothing to resend")
	}
	off, n, _ := s.Pending(100)
	if off != 0 || n != 2 {
		t.Fatalf("first resend = [%d,+%d)", off, n)
	}
}

func TestCryptoRecvReassemblesRandomOrder(t *testing.T) {
	msg := make([]byte, 5000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	for seed := uint64(0); seed < 50; seed++ {
		rng := rand.New(rand.NewPCG(seed, 2))
		var r CryptoRecv
		var out []byte
		for len(out) < len(msg) {
			off := rng.IntN(len(msg))
			n := 1 + rng.IntN(300)
			end := min(off+n, len(msg))
			if err := r.Push(uint64(off), msg[off:end]); err != nil {
				t.Fatal(err)
			}
			if b := r.Next(); len(b) > 0 {
				out = append(out, b...)
				r.Consume(len(b))
			}
		}
		if !bytes.Equal(out, msg) {
			t.Fatalf("seed %d: reassembled data differs", seed)
		}
	}
}

func TestCryptoRecvBufferLimit(t *testing.T) {
	var r CryptoRecv
	err := r.Push(MaxCryptoBuffer, []byte{1})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CryptoBufferExceeded {
		t.Fatalf("err = %v, want CRYPTO_BUFFER_EXCEEDED", err)
	}
	if err := r.Push(MaxCryptoBuffer-1, []byte{1}); err != nil {
		t.Fatalf("last byte of the window refused: %v", err)
	}
}
