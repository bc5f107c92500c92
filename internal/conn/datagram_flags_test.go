package conn

import (
	"crypto/tls"
	"testing"
	"time"
)

// datagramStates returns the states the client reported for ctx.
func datagramStates(e *endpoint, ctx any) []DatagramState {
	var st []DatagramState
	for _, ev := range e.events {
		if ev.name == "DatagramSendState" && ev.ctx == ctx {
			st = append(st, DatagramState(ev.a))
		}
	}
	return st
}

func withDatagrams() pairOption {
	return withClientSettings(func(s *Settings) { s.DatagramReceive = true })
}

func TestCancelOnBlockedDatagramIsCanceledWhenNotSentAtOnce(t *testing.T) {
	p := newPair(t, withDatagrams())
	p.serverSettings.DatagramReceive = true
	c := p.client.c
	// Before the handshake nothing can carry a datagram: the one that
	// must go at once is canceled, the other waits for 1-RTT.
	c.SendDatagram([][]byte{[]byte("now or never")}, 12, "blocked", DatagramCancelOnBlocked)
	c.SendDatagram([][]byte{[]byte("whenever")}, 8, "patient", 0)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	if st := datagramStates(p.client, "blocked"); len(st) != 1 || st[0] != DatagramCanceled {
		t.Fatalf("cancel-on-blocked datagram states %v, want [Canceled]", st)
	}
	if st := datagramStates(p.client, "patient"); len(st) == 0 || st[len(st)-1] != DatagramAcknowledged {
		t.Fatalf("ordinary datagram states %v, want it acknowledged", st)
	}
	// Once connected, a datagram the window allows goes out.
	c.SendDatagram([][]byte{[]byte("open road")}, 9, "sent", DatagramCancelOnBlocked)
	p.runUntil(time.Second, func() bool { return false })
	if st := datagramStates(p.client, "sent"); len(st) == 0 || st[0] != DatagramSent {
		t.Fatalf("states %v, want it sent", st)
	}
	if p.server.count("DatagramReceived") != 2 {
		t.Fatalf("server received %d datagrams, want 2", p.server.count("DatagramReceived"))
	}
}

func TestDatagramsIn0RTTOnlyWhenAllowed(t *testing.T) {
	cfg := resumeServer()
	dg := func(p *pair, cc *Config, _ *tls.Config) {
		cc.Settings.DatagramReceive = true
		p.serverSettings.DatagramReceive = true
	}
	ticket := getTicket(t, cfg, ResumeZeroRTT, "", dg)
	p := newPair(t, withResumption(cfg, ResumeZeroRTT, ticket), dg)
	c := p.client.c
	c.SendDatagram([][]byte{[]byte("early")}, 5, "early", DatagramAllow0RTT)
	c.SendDatagram([][]byte{[]byte("late")}, 4, "late", 0)
	p.handshake()
	p.runUntil(time.Second, func() bool { return false })
	var early, late bool
	for _, ev := range p.server.events {
		if ev.name == "DatagramReceived" {
			switch string(ev.data) {
			case "early":
				early = ev.c == 1
			case "late":
				late = ev.c == 0
			}
		}
	}
	if !early || !late {
		t.Fatalf("server events %v: want the allowed datagram in 0-RTT and the other in 1-RTT", p.server.names())
	}
}

func TestDatagramFrontGoesFirst(t *testing.T) {
	p := newPair(t, withDatagrams())
	p.serverSettings.DatagramReceive = true
	p.handshake()
	c := p.client.c
	c.SendDatagram([][]byte{[]byte("second")}, 6, 2, 0)
	c.SendDatagram([][]byte{[]byte("first")}, 5, 1, DatagramFront)
	p.runUntil(time.Second, func() bool { return p.server.count("DatagramReceived") == 2 })
	var got []string
	for _, ev := range p.server.events {
		if ev.name == "DatagramReceived" {
			got = append(got, string(ev.data))
		}
	}
	if len(got) != 2 || got[0] != "first" {
		t.Fatalf("server received %q, want the front datagram first", got)
	}
}
