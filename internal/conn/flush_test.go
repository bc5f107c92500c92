package conn

import (
	"testing"
	"time"
)

func TestFlushAtItsLimitAsksToRunAgain(t *testing.T) {
	p := newPair(t, withClientSettings(func(s *Settings) { s.InitialWindowPackets = 1000 }))
	p.serverSettings.StreamRecvWindowBidiRemote = 1 << 20
	p.handshake()
	p.runUntil(time.Second, func() bool { return p.client.c.mtu.done })
	c := p.client.c
	c.loss.SetMaxDatagramSize(c.path.maxDatagramSize())
	startStream(p, make([]byte, 1<<20), true, nil)
	sent := p.sentCount[p.client]
	more, _ := c.Run(p.now)
	first := p.sentCount[p.client] - sent
	if first == 0 {
		t.Fatal("the first run sent nothing")
	}
	if !more {
		t.Fatalf("a run that sent %d datagrams with more data and window left did not ask to run again", first)
	}
	more, _ = c.Run(p.now)
	if got := p.sentCount[p.client] - sent - first; got == 0 {
		t.Errorf("the second run sent nothing (more %v)", more)
	}
}
