package stream

import (
	"slices"
	"testing"
)

func TestSchedulerRoundRobinFairness1000Streams(t *testing.T) {
	s := newSet(SideClient, 0, 0)
	s.OnMaxStreams(true, 1000)
	s.SetScheme(SchemeRoundRobin)
	var entries []*Entry[*testStream]
	for range 1000 {
		e, _ := s.OpenLocal(true)
		entries = append(entries, e)
		s.Schedule(e)
	}
	sent := make(map[ID]int)
	// 10 rounds of one packet each: every stream sends once per round, in
	// the order they were scheduled.
	for round := range 10 {
		for i := range 1000 {
			e := s.Front()
			if e != entries[i] {
				t.Fatalf("round %d slot %d: got stream %d, want %d", round, i, e.ID(), entries[i].ID())
			}
			sent[e.ID()]++
			s.Rotate(e)
		}
	}
	for _, e := range entries {
		if sent[e.ID()] != 10 {
			t.Fatalf("stream %d sent %d packets, want 10", e.ID(), sent[e.ID()])
		}
	}
	// Streams leaving mid-round do not disturb the others' order.
	s.Unschedule(entries[0])
	s.Unschedule(entries[2])
	if s.Front() != entries[1] || s.Next(entries[1]) != entries[3] {
		t.Fatal("order after unscheduling")
	}
	if s.ScheduledLen() != 998 {
		t.Fatalf("ScheduledLen = %d", s.ScheduledLen())
	}
}

func TestSchedulerStrictPriority(t *testing.T) {
	s := newSet(SideClient, 0, 0)
	s.OnMaxStreams(true, 100)
	s.SetScheme(SchemeRoundRobin)
	prios := []uint16{DefaultPriority, 0xFFFF, 0, DefaultPriority, 0xFFFF, 100}
	var es []*Entry[*testStream]
	for _, p := range prios {
		e, _ := s.OpenLocal(true)
		s.SetPriority(e, p)
		s.Schedule(e)
		es = append(es, e)
	}
	// Send order while all have data: the two 0xFFFF streams alternate,
	// nothing else is served.
	for i := range 6 {
		e := s.Front()
		if want := es[1+3*(i%2)]; e != want {
			t.Fatalf("packet %d: stream %d (prio %d), want %d", i, e.ID(), e.Priority(), want.ID())
		}
		s.Rotate(e)
	}
	// Draining streams in Front order must yield non-increasing priority.
	last := uint16(0xFFFF)
	var order []int
	for e := s.Front(); e != nil; e = s.Front() {
		if e.Priority() > last {
			t.Fatalf("priority %d served after %d", e.Priority(), last)
		}
		last = e.Priority()
		for i := range es {
			if es[i] == e {
				order = append(order, i)
			}
		}
		s.Unschedule(e)
	}
	if want := []int{1, 4, 0, 3, 5, 2}; !slices.Equal(order, want) {
		t.Fatalf("drain order %v, want %v", order, want)
	}
	// Next walks across priorities.
	for _, e := range es {
		s.Schedule(e)
	}
	var walk []int
	for e := s.Front(); e != nil; e = s.Next(e) {
		walk = append(walk, int(e.ID().Index()))
	}
	if want := []int{1, 4, 0, 3, 5, 2}; !slices.Equal(walk, want) {
		t.Fatalf("Next walk %v, want %v", walk, want)
	}
	if s.Next(es[2]) != nil {
		t.Fatal("Next after the last entry")
	}
	// A priority change moves a scheduled stream to the back of its new level.
	s.SetPriority(es[2], 0xFFFF)
	if s.Front() != es[1] || s.Next(es[4]) != es[2] {
		t.Fatal("SetPriority did not re-sort")
	}
	s.SetPriority(es[2], 0xFFFF) // no-op
	s.Unschedule(es[2])
	s.SetPriority(es[2], 1)
	if es[2].Priority() != 1 || es[2].Scheduled() {
		t.Fatal("SetPriority on an unscheduled entry")
	}
}

func TestSchedulerFIFO(t *testing.T) {
	s := newSet(SideClient, 0, 0)
	s.OnMaxStreams(true, 10)
	var es []*Entry[*testStream]
	for range 3 {
		e, _ := s.OpenLocal(true)
		s.Schedule(e)
		s.Schedule(e) // idempotent
		es = append(es, e)
	}
	// FIFO (the default): the first stream keeps the connection until it
	// runs out of data.
	for range 5 {
		if s.Front() != es[0] {
			t.Fatal("FIFO rotated")
		}
		s.Rotate(es[0])
	}
	s.Unschedule(es[0])
	s.Unschedule(es[0]) // idempotent
	if s.Front() != es[1] {
		t.Fatal("FIFO order")
	}
	// Round-robin rotation of a non-head entry moves it to the back.
	s.SetScheme(SchemeRoundRobin)
	s.Schedule(es[0])
	s.Rotate(es[2])
	if s.Front() != es[1] || s.Next(es[1]) != es[0] || s.Next(es[0]) != es[2] {
		t.Fatal("rotating a non-head entry")
	}
	if s.Next(&Entry[*testStream]{}) != nil {
		t.Fatal("Next of an unscheduled entry")
	}
}

func TestSchedulerDoesNotAllocate(t *testing.T) {
	s := newSet(SideClient, 0, 0)
	s.OnMaxStreams(true, 100)
	s.SetScheme(SchemeRoundRobin)
	var es []*Entry[*testStream]
	for i := range 64 {
		e, _ := s.OpenLocal(true)
		s.SetPriority(e, uint16(i%4))
		s.Schedule(e)
		es = append(es, e)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		e := s.Front()
		s.Rotate(e)
		x := es[i%64]
		s.Unschedule(x)
		s.SetPriority(x, uint16(i%5))
		s.Schedule(x)
		i++
	})
	if allocs != 0 {
		t.Fatalf("scheduler allocated %v times per run", allocs)
	}
}

func BenchmarkSchedulerRotate(b *testing.B) {
	b.ReportAllocs()
	s := newSet(SideClient, 0, 0)
	s.OnMaxStreams(true, 1000)
	s.SetScheme(SchemeRoundRobin)
	for i := range 1000 {
		e, _ := s.OpenLocal(true)
		s.SetPriority(e, uint16(i%8))
		s.Schedule(e)
	}
	for b.Loop() {
		e := s.Front()
		s.Unschedule(e)
		s.Schedule(e)
		s.Rotate(s.Front())
	}
}
