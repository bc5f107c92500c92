package conn

import "testing"

// countingBuf counts releases of received datagrams.
type countingBuf struct{ n *int }

func (b countingBuf) Release() { *b.n++ }

func TestRecvQueueFIFOBoundAndReuse(t *testing.T) {
	var q recvQueue
	q.setLimit(minRecvQueue)
	released := 0
	dg := func(i int) Datagram { return Datagram{Data: []byte{byte(i)}, Buf: countingBuf{&released}} }
	batch := make([]Datagram, 0, 16)
	for i := range 16 {
		batch = append(batch, dg(i))
	}
	n, wasEmpty := q.pushBatch(batch)
	if n != minRecvQueue || !wasEmpty {
		t.Fatalf("pushBatch took %d (was empty %v), want the bound %d into an empty queue", n, wasEmpty, minRecvQueue)
	}
	if ok, _ := q.push(dg(99)); ok {
		t.Fatal("push into a full queue succeeded")
	}
	c0 := cap(q.buf.s) // pooled storage may come larger than the bound

	next := 0
	for round := range 50 {
		got := q.take(nil, 3)
		for _, d := range got {
			if int(d.Data[0]) != next%256 {
				t.Fatalf("round %d: took datagram %d, want %d", round, d.Data[0], next%256)
			}
			next++
		}
		for i := range len(got) {
			if ok, empty := q.push(dg((next + minRecvQueue - len(got) + i) % 256)); !ok || empty {
				t.Fatalf("round %d: push %d: ok %v, was empty %v", round, i, ok, empty)
			}
		}
	}
	if c := cap(q.buf.s); c > max(c0, 2*minRecvQueue+4) {
		t.Errorf("queue storage grew to %d for a bound of %d", c, minRecvQueue)
	}
	q.drain()
	if released != minRecvQueue {
		t.Errorf("drain released %d datagrams, want %d", released, minRecvQueue)
	}
	if n, _ := q.pushBatch(batch[:1]); n != 0 || q.pending() {
		t.Error("a drained queue accepted a datagram")
	}
}

func TestRecvQueueSteadyStateDoesNotAllocate(t *testing.T) {
	var q recvQueue
	q.setLimit(64)
	batch := make([]Datagram, 45)
	dst := make([]Datagram, 0, 64)
	q.pushBatch(batch)
	dst = q.take(dst[:0], 64)
	if n := testing.AllocsPerRun(100, func() {
		q.pushBatch(batch)
		q.push(Datagram{})
		dst = q.take(dst[:0], 30)
		dst = q.take(dst[:0], 30)
	}); n != 0 {
		t.Errorf("push and take allocate %.1f times", n)
	}
}

func TestEmptyQueuesHoldNoStorage(t *testing.T) {
	var q recvQueue
	q.setLimit(64)
	q.pushBatch(make([]Datagram, 5))
	q.take(nil, 3)
	if q.buf == nil {
		t.Fatal("queue with datagrams has no storage")
	}
	q.take(nil, 3)
	if q.buf != nil || q.pending() {
		t.Error("drained receive queue keeps its storage")
	}
	var o opQueue
	o.push(laneNormal, op{kind: opFunc})
	o.push(laneHigh, op{kind: opFunc})
	if got := o.take(nil, 1); len(got) != 1 || o.lanes[laneHigh] != nil || o.lanes[laneNormal] == nil {
		t.Fatalf("took %d; lanes %v", len(got), o.lanes)
	}
	o.take(nil, 8)
	if o.lanes != [numLanes]*opBuf{} || o.pending() {
		t.Error("drained operation queue keeps storage")
	}
}
