package recovery

// ecnState is the validation state of ECN on a path (RFC 9000 Section
// 13.4.2 and Appendix A.4).
type ecnState uint8

const (
	// ecnTesting: the first ecnTestingPackets packets on a path carry
	// ECT(0).
	ecnTesting ecnState = iota
	// ecnUnknown: testing is over; packets are sent unmarked until an ACK
	// validates the marks of the testing packets.
	ecnUnknown
	// ecnCapable: validation succeeded; every packet is marked.
	ecnCapable
	// ecnFailed: validation failed; no packet is marked on this path.
	ecnFailed
)

// ecnTestingPackets is how many packets are marked before validation
// completes (RFC 9000 Section 13.4.2 suggests ten).
const ecnTestingPackets = 10

// ecnValidator validates the peer's ECN feedback. Counts are kept per
// packet-number space because the peer's counters are (RFC 9000 Section
// 13.4.1).
type ecnValidator struct {
	state    ecnState
	failures uint32               // validations that failed, one per path at most
	testSent int                  // marked packets sent while testing
	testLost int                  // marked packets sent while testing and declared lost
	sent     [NumSpaces]uint64    // ECT(0) packets sent per space
	peer     [NumSpaces]ECNCounts // highest counts reported per space
}

// fail ends validation on this path: its packets go unmarked.
func (v *ecnValidator) fail() {
	v.state = ecnFailed
	v.failures++
}

func (v *ecnValidator) marking() bool {
	return v.state == ecnTesting || v.state == ecnCapable
}

// restart begins validation of a new path. Per-space totals continue: the
// peer's counters are per space, not per path.
func (v *ecnValidator) restart() {
	v.state = ecnTesting
	v.testSent = 0
	v.testLost = 0
}

func (v *ecnValidator) onSent(p *Sent) {
	if !p.ECT {
		return
	}
	v.sent[p.Space]++
	if v.state == ecnTesting {
		v.testSent++
		if v.testSent >= ecnTestingPackets {
			v.state = ecnUnknown
		}
	}
}

// onLost fails validation once testing is over and every marked testing
// packet was lost: the marks are probably being dropped (RFC 9000 Section
// 13.4.2).
func (v *ecnValidator) onLost(p *Sent) {
	if !p.ECT || (v.state != ecnTesting && v.state != ecnUnknown) {
		return
	}
	v.testLost++
	if v.state == ecnUnknown && v.testLost >= v.testSent {
		v.fail()
	}
}

// discard forgets a space's counters (its keys are gone).
func (v *ecnValidator) discard(s Space) {
	v.sent[s] = 0
	v.peer[s] = ECNCounts{}
}

// onAck validates the counts of one ACK frame in space s (RFC 9000 Section
// 13.4.2.1). newlyECT is the number of newly acknowledged packets sent with
// ECT(0); largestIncreased reports whether the frame raised the largest
// acknowledged packet number. It returns by how much the CE count
// increased, which the caller treats as a congestion signal (RFC 9002
// Section 7.1).
func (v *ecnValidator) onAck(s Space, newlyECT uint64, largestIncreased bool, c *ECNCounts) (ce uint64) {
	if v.state == ecnFailed {
		return 0
	}
	prev := &v.peer[s]
	if c == nil {
		// Newly acknowledged marked packets without counts: a path or
		// peer that clears or ignores marks.
		if newlyECT > 0 {
			v.fail()
		}
		return 0
	}
	// A reordered ACK frame (largest not increased) MUST NOT fail
	// validation (RFC 9000 Section 13.4.2.1).
	if largestIncreased {
		switch {
		case c.ECT0 < prev.ECT0 || c.ECT1 < prev.ECT1 || c.CE < prev.CE:
			// Cumulative counters never decrease.
			v.fail()
		case (c.ECT0-prev.ECT0)+(c.CE-prev.CE) < newlyECT:
			// Marks were removed or ECT(0) remarked (increase of ECT(0)
			// and CE below the newly acknowledged ECT(0) packets).
			v.fail()
		case c.ECT0 > v.sent[s] || c.ECT1 > 0:
			// More ECT(0) reported than sent, or ECT(1) we never use.
			v.fail()
		}
		if v.state == ecnFailed {
			return 0
		}
		if newlyECT > 0 && (v.state == ecnTesting || v.state == ecnUnknown) {
			v.state = ecnCapable
		}
	}
	if c.CE > prev.CE {
		ce = c.CE - prev.CE
	}
	prev.ECT0 = max(prev.ECT0, c.ECT0)
	prev.ECT1 = max(prev.ECT1, c.ECT1)
	prev.CE = max(prev.CE, c.CE)
	return ce
}
