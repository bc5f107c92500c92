package recovery

// What tracing (qlog, internal/qlog) reads of the recovery state. Nothing
// here changes the state.

// InRecovery reports whether a congestion event's recovery period is
// under way: from the event until a packet sent after it is acknowledged
// (RFC 9002 §7.3.2).
func (l *State) InRecovery() bool {
	if l.recoveryStart == 0 {
		return false
	}
	for i := range l.spaces {
		if l.spaces[i].largestAckedTime > l.recoveryStart {
			return false
		}
	}
	return true
}

// ECNState names the ECN validation state of the path (quic-events §7.7):
// "testing", "unknown", "capable" or "failed".
func (l *State) ECNState() string {
	switch l.ecn.state {
	case ecnTesting:
		return "testing"
	case ecnUnknown:
		return "unknown"
	case ecnCapable:
		return "capable"
	}
	return "failed"
}

// LossTimerKind tells what the loss detection timer waits for: a time
// threshold loss ("loss_timeout") or a probe timeout ("pto"), and in which
// packet number space.
func (l *State) LossTimerKind() (kind string, space Space) {
	if t, sp := l.earliestLossTime(); t != 0 {
		return "loss_timeout", sp
	}
	_, sp, _ := l.ptoTimeAndSpace(l.now)
	return "pto", sp
}

// PTOCount is the number of probe timeouts since the last acknowledgment
// (pto_count, RFC 9002 Appendix A.3).
func (l *State) PTOCount() int { return l.ptoCount }

// PacketsInFlight counts the packets of every space that are in flight.
func (l *State) PacketsInFlight() int {
	n := 0
	for i := range l.spaces {
		n += l.spaces[i].inFlight
	}
	return n
}

// MinimumWindow is the smallest congestion window, two datagrams
// (RFC 9002 §7.2).
func (l *State) MinimumWindow() int { return l.params.minWindow() }

// InitialWindow is the congestion window a path starts with.
func (l *State) InitialWindow() int { return l.params.initialWindow() }
