package stream

import (
	"fmt"
	"testing"
)

type testStream struct{ name string }

func newSet(local Side, peerBidi, peerUni uint64) *Set[*testStream] {
	s := new(Set[*testStream])
	s.Init(local, peerBidi, peerUni)
	return s
}

func TestIDs(t *testing.T) {
	cases := []struct {
		id        ID
		bidi      bool
		initiator Side
		index     uint64
	}{
		{0, true, SideClient, 0}, {1, true, SideServer, 0}, {2, false, SideClient, 0},
		{3, false, SideServer, 0}, {4, true, SideClient, 1}, {11, false, SideServer, 2},
	}
	for _, c := range cases {
		if c.id.Bidi() != c.bidi || c.id.Initiator() != c.initiator || c.id.Index() != c.index {
			t.Errorf("ID %d: bidi %v initiator %v index %d", c.id, c.id.Bidi(), c.id.Initiator(), c.id.Index())
		}
		if IDFromIndex(c.initiator, c.bidi, c.index) != c.id {
			t.Errorf("IDFromIndex(%v, %v, %d) != %d", c.initiator, c.bidi, c.index, c.id)
		}
	}
	if FirstID(SideServer, false) != 3 || FirstID(SideClient, true) != 0 {
		t.Fatal("FirstID")
	}
	// Unidirectional streams: only the initiator sends.
	if !ID(2).CanSend(SideClient) || ID(2).CanRecv(SideClient) || ID(2).CanSend(SideServer) || !ID(2).CanRecv(SideServer) {
		t.Fatal("uni stream directions")
	}
	if !ID(0).CanSend(SideServer) || !ID(0).CanRecv(SideServer) {
		t.Fatal("bidi stream directions")
	}
	if SideClient.Peer() != SideServer || SideServer.String() != "server" || SideClient.String() != "client" {
		t.Fatal("Side helpers")
	}
}

func TestSetLocalStreamLimits(t *testing.T) {
	s := newSet(SideClient, 0, 0)
	e, err := s.OpenLocal(true)
	if err != nil || e.ID() != 0 {
		t.Fatalf("OpenLocal = %v, %v", e, err)
	}
	if s.Accepted(0) || s.Available(true) != 0 {
		t.Fatal("stream accepted with a peer limit of 0")
	}
	lim, ok := s.StreamsBlocked(true)
	if !ok || lim != 0 {
		t.Fatalf("StreamsBlocked = %d, %v", lim, ok)
	}
	if _, ok := s.StreamsBlocked(true); ok {
		t.Fatal("STREAMS_BLOCKED twice for one limit")
	}
	if _, ok := s.StreamsBlocked(false); ok {
		t.Fatal("uni blocked without trying")
	}
	s.OnStreamsBlockedLost(true, 0)
	if _, ok := s.StreamsBlocked(true); !ok {
		t.Fatal("lost STREAMS_BLOCKED not reported again")
	}
	s.OpenLocal(true) // ID 4
	s.OpenLocal(true) // ID 8
	raised, from, to, err := s.OnMaxStreams(true, 2)
	if err != nil || !raised || from != 0 || to != 2 {
		t.Fatalf("OnMaxStreams = %v %d %d %v; want streams 0 and 1 accepted", raised, from, to, err)
	}
	if !s.Accepted(0) || !s.Accepted(4) || s.Accepted(8) {
		t.Fatal("Accepted wrong after MAX_STREAMS 2")
	}
	if lim, ok := s.StreamsBlocked(true); !ok || lim != 2 {
		t.Fatal("still blocked at the new limit but not reported")
	}
	if raised, _, _, _ := s.OnMaxStreams(true, 1); raised {
		t.Fatal("a lower MAX_STREAMS was applied")
	}
	raised, from, to, _ = s.OnMaxStreams(true, 10)
	if !raised || from != 2 || to != 3 || s.Available(true) != 7 {
		t.Fatalf("OnMaxStreams(10) = %v %d %d, available %d", raised, from, to, s.Available(true))
	}
	if _, ok := s.StreamsBlocked(true); ok {
		t.Fatal("blocked reported with streams available")
	}
	s.MarkBlocked(true) // available: ignored
	if _, ok := s.StreamsBlocked(true); ok {
		t.Fatal("MarkBlocked with credit left")
	}
	_, _, _, err = s.OnMaxStreams(false, MaxStreams+1)
	wantCode(t, err, FrameEncodingError)
	if _, _, _, err := s.OnMaxStreams(false, MaxStreams); err != nil {
		t.Fatal(err)
	}
	s.out[1].opened = MaxStreams
	if _, err := s.OpenLocal(false); err != ErrStreamsExhausted {
		t.Fatalf("opening stream 2^60: %v", err)
	}
	// FAIL_BLOCKED: the app could not open, nothing opened.
	s2 := newSet(SideServer, 0, 0)
	s2.MarkBlocked(false)
	if lim, ok := s2.StreamsBlocked(false); !ok || lim != 0 {
		t.Fatal("MarkBlocked did not make STREAMS_BLOCKED due")
	}
}

func TestSetIncomingValidation(t *testing.T) {
	s := newSet(SideServer, 4, 2)
	s.OpenLocal(true)  // ID 1
	s.OpenLocal(false) // ID 3
	cases := []struct {
		id   ID
		part Part
		code uint64
	}{
		{3, PartRecv, StreamStateError},  // STREAM on our send-only stream
		{2, PartSend, StreamStateError},  // MAX_STREAM_DATA on the peer's uni stream
		{5, PartRecv, StreamStateError},  // our bidi stream 1 not yet opened
		{7, PartSend, StreamStateError},  // our uni stream 1 not yet opened
		{16, PartRecv, StreamLimitError}, // peer bidi index 4, limit 4
		{10, PartRecv, StreamLimitError}, // peer uni index 2, limit 2
		{1 << 62, PartRecv, StreamLimitError},
	}
	for _, c := range cases {
		_, _, err := s.Incoming(c.id, c.part)
		wantCode(t, err, c.code)
	}
	// Peer bidi stream 8 (index 2) opens 0, 4 and 8.
	e, open, err := s.Incoming(8, PartRecv)
	if err != nil || e != nil || open != 3 {
		t.Fatalf("Incoming(8) = %v %d %v; want 3 streams to open", e, open, err)
	}
	var ids []ID
	for range open {
		n := s.OpenPeer(true)
		n.Stream = &testStream{fmt.Sprint(n.ID())}
		ids = append(ids, n.ID())
	}
	if fmt.Sprint(ids) != "[0 4 8]" {
		t.Fatalf("opened %v", ids)
	}
	if e, open, _ := s.Incoming(4, PartSend); e == nil || open != 0 || e.Stream.name != "4" {
		t.Fatal("lookup of an implicitly opened stream")
	}
	if e, _, _ := s.Incoming(1, PartSend); e == nil || e.ID() != 1 {
		t.Fatal("lookup of our own stream")
	}
	s.Remove(s.Get(4))
	if e, open, err := s.Incoming(4, PartRecv); e != nil || open != 0 || err != nil {
		t.Fatal("a removed stream must be reported as closed (ignore the frame)")
	}
	if s.Len() != 4 {
		t.Fatalf("Len = %d", s.Len())
	}
	n := 0
	for range s.All() {
		n++
	}
	if n != 4 {
		t.Fatalf("All yielded %d", n)
	}
	// OpenPeer refuses to go beyond our limit.
	s.OpenPeer(true)
	if s.OpenPeer(true) != nil {
		t.Fatal("OpenPeer beyond the advertised limit")
	}
}

func TestSetMaxStreamsAsPeerStreamsClose(t *testing.T) {
	s := newSet(SideClient, 4, 1)
	if s.PeerLimit(true) != 4 || s.PeerLimit(false) != 1 {
		t.Fatal("initial limits")
	}
	open := func(bidi bool) *Entry[*testStream] {
		e := s.OpenPeer(bidi)
		if e == nil {
			t.Fatal("OpenPeer failed")
		}
		return e
	}
	a, b := open(true), open(true)
	s.Remove(a)
	// One closed stream, and the peer still has 2 of 4 to open: not yet.
	if _, ok := s.MaxStreams(true); ok {
		t.Fatal("MAX_STREAMS sent for an increase of 1 with half the credit left")
	}
	s.Remove(b)
	if lim, ok := s.MaxStreams(true); !ok || lim != 6 {
		t.Fatalf("MaxStreams = %d, %v; want 6", lim, ok)
	}
	// The peer uses its credit: every close is then worth an update.
	for range 4 {
		open(true)
	}
	s.Remove(s.Get(IDFromIndex(SideServer, true, 2)))
	if lim, ok := s.MaxStreams(true); !ok || lim != 7 {
		t.Fatalf("MaxStreams with the peer out of credit = %d, %v", lim, ok)
	}
	s.OnMaxStreamsLost(true, 6) // stale
	if s.NeedsMaxStreams(true) {
		t.Fatal("stale loss triggered a resend")
	}
	s.OnMaxStreamsLost(true, 7)
	if lim, ok := s.MaxStreams(true); !ok || lim != 7 {
		t.Fatal("lost MAX_STREAMS not resent")
	}
	// Unidirectional with a count of 1: each close re-issues.
	u := open(false)
	s.Remove(u)
	if lim, ok := s.MaxStreams(false); !ok || lim != 2 {
		t.Fatalf("uni MaxStreams = %d, %v", lim, ok)
	}
	// STREAMS_BLOCKED from the peer.
	if needs, _ := s.OnStreamsBlocked(false, 1); needs {
		t.Fatal("stale STREAMS_BLOCKED reported the peer as blocked")
	}
	if needs, _ := s.OnStreamsBlocked(false, 2); !needs {
		t.Fatal("STREAMS_BLOCKED at our limit not reported")
	}
	_, err := s.OnStreamsBlocked(false, MaxStreams+1)
	wantCode(t, err, FrameEncodingError)
	// Raising the count sends at once.
	s.SetPeerStreamCount(false, 10)
	if lim, ok := s.MaxStreams(false); !ok || lim != 11 {
		t.Fatalf("after raising the count: %d, %v", lim, ok)
	}
	// Lowering it never lowers the advertised limit.
	s.SetPeerStreamCount(false, 0)
	if lim, ok := s.MaxStreams(false); ok || lim != 11 || s.PeerOpened(false) != 1 {
		t.Fatal("lowering the count changed the limit")
	}
}

func TestSetEntriesRecycledWithoutAllocation(t *testing.T) {
	s := newSet(SideServer, 1<<20, 0)
	st := &testStream{}
	for range 10 {
		e, _ := s.OpenLocal(true)
		s.Remove(e)
	}
	s.OnMaxStreams(true, 1<<40)
	allocs := testing.AllocsPerRun(1000, func() {
		e, _ := s.OpenLocal(true)
		e.Stream = st
		if s.Get(e.ID()) != e {
			panic("lookup")
		}
		s.Schedule(e)
		s.Remove(e)
	})
	if allocs != 0 {
		t.Fatalf("open/lookup/remove allocated %v times per run", allocs)
	}
}
