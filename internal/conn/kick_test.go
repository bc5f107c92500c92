package conn

import "testing"

// inlineSched records how a connection asked to run: a Wake, or a TryRun
// that succeeds or fails as told.
type inlineSched struct {
	wakes, tries, clears int
	canRun               bool
}

func (s *inlineSched) Wake()      { s.wakes++ }
func (s *inlineSched) ClearWake() { s.clears++ }
func (s *inlineSched) TryRun() bool {
	s.tries++
	return s.canRun
}

func TestKickRunsInlineOnlyOnceConnectedAndWhenAsked(t *testing.T) {
	p := newPair(t)
	s := &inlineSched{canRun: true}
	c := p.client.c
	c.SetScheduler(s)
	c.Kick(true)
	if s.tries != 0 || s.wakes != 1 {
		t.Fatalf("during the handshake: %d TryRun, %d Wake; want the worker woken (0, 1)", s.tries, s.wakes)
	}
	p.handshake()
	*s = inlineSched{canRun: true}
	c.Kick(false)
	if s.tries != 0 || s.wakes != 1 {
		t.Fatalf("busy read: %d TryRun, %d Wake; want (0, 1)", s.tries, s.wakes)
	}
	*s = inlineSched{canRun: true}
	c.Kick(true)
	if s.tries != 1 || s.wakes != 0 {
		t.Fatalf("quiet read: %d TryRun, %d Wake; want the connection run inline (1, 0)", s.tries, s.wakes)
	}
	*s = inlineSched{canRun: false}
	c.Kick(true)
	if s.tries != 1 || s.wakes != 1 {
		t.Fatalf("connection busy elsewhere: %d TryRun, %d Wake; want (1, 1)", s.tries, s.wakes)
	}
}

func TestQueueDatagramsLaterAsksForOneKick(t *testing.T) {
	p := newPair(t)
	c := p.client.c
	s := &inlineSched{}
	c.SetScheduler(s)
	d := Datagram{Data: make([]byte, 50), Peer: serverAddr}
	if n, kick := c.QueueDatagramsLater([]Datagram{d, d}); n != 2 || !kick {
		t.Fatalf("first datagrams: took %d, kick %v; want 2, true", n, kick)
	}
	if n, kick := c.QueueDatagramsLater([]Datagram{d}); n != 1 || kick {
		t.Fatalf("behind queued ones: took %d, kick %v; want 1, false", n, kick)
	}
	if s.wakes != 0 {
		t.Fatalf("%d wake-ups before the kick", s.wakes)
	}
}

func TestRunClearsWakesOfItsOwnCallbacks(t *testing.T) {
	p := newPair(t)
	s := &inlineSched{}
	p.client.c.SetScheduler(s)
	p.handshake()
	if s.clears == 0 {
		t.Fatal("runs never cleared the wake-ups their callbacks caused")
	}
}
