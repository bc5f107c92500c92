package quicnet

import "testing"

// fillAndSend writes n bytes into b (through tail, as Write does) and
// takes records for them until every byte is handed over.
func fillAndSend(t *testing.T, b *sendBuf, n int) []*sendRec {
	t.Helper()
	for n > 0 {
		p := b.tail(n)
		if len(p) == 0 {
			t.Fatalf("no room with %d bytes to write", n)
		}
		b.written += uint64(len(p))
		n -= len(p)
	}
	var recs []*sendRec
	for r := b.take(false); r != nil; r = b.take(false) {
		recs = append(recs, r)
	}
	return recs
}

func TestFullSendBufferWakesTheWriterOnceAQuarterIsFree(t *testing.T) {
	const limit = 1 << 20
	var b sendBuf
	b.init(limit)
	recs := fillAndSend(t, &b, limit)
	if b.room() != 0 {
		t.Fatalf("room %d after filling the buffer", b.room())
	}
	// Each record covers maxSend bytes; a quarter of the buffer is one
	// record's worth.
	for i, r := range recs {
		b.complete(r)
		free := uint64(i+1) * maxSend
		if got, want := b.refill(), free >= limit/4; got != want {
			t.Fatalf("after %d bytes acknowledged: refill %v, want %v", free, got, want)
		}
	}
	if !b.refill() || b.room() != limit {
		t.Fatalf("everything acknowledged: refill %v, room %d", b.refill(), b.room())
	}
}

func TestSmallWritesCompletingOneByOneReachTheRefillMark(t *testing.T) {
	// Completions of sends much smaller than a quarter of the buffer
	// wake the writer only once enough of them came.
	const limit = maxSends * 1024
	var b sendBuf
	b.init(limit)
	var recs []*sendRec
	for range maxSends {
		recs = append(recs, fillAndSend(t, &b, 1024)...)
	}
	if b.room() != 0 || b.refill() {
		t.Fatalf("full buffer: room %d, refill %v", b.room(), b.refill())
	}
	woken := -1
	for i, r := range recs {
		b.complete(r)
		if b.refill() {
			woken = i
			break
		}
	}
	if want := limit/4/1024 - 1; woken != want {
		t.Fatalf("writer woken after completion %d, want %d", woken, want)
	}
}
