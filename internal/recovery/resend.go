package recovery

// DeclareAllLost hands h every packet of space that is neither acknowledged
// nor already declared lost, as lost, and forgets them: they leave bytes in
// flight without a congestion event and no later ACK can report them.
//
// It is for packets the peer will never process through no fault of the
// path: a client's 0-RTT packets once the server rejected 0-RTT (their data
// is sent again in 1-RTT packets, RFC 9001 §4.6.2) or discarded them while
// sending a Retry. Their loss is no congestion signal, like the packets of a
// discarded space (RFC 9002 §6.4), and no ECN validation evidence.
func (l *State) DeclareAllLost(space Space, h Handler) {
	sp := &l.spaces[space]
	if sp.discarded {
		return
	}
	lost := l.lost[:0]
	live := sp.sent.live()
	for i := range live {
		p := live[i].p
		if p == nil {
			continue
		}
		live[i].p = nil
		if p.lost {
			l.pool.put(p)
			continue
		}
		if p.InFlight {
			l.bytesInFlight -= p.Size
			sp.inFlight--
			if p.AckEliciting {
				sp.ackElicitingInFlight--
			}
		}
		lost = append(lost, p)
	}
	sp.lossTime = 0
	sp.runActive = false
	for _, p := range lost {
		h.OnPacketLost(p)
	}
	for i, p := range lost {
		l.pool.put(p)
		lost[i] = nil
	}
	l.lost = lost[:0]
	l.prune(l.now)
	l.setTimer(l.now)
}
