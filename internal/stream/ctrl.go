package stream

// ctrl tracks one retransmittable control frame of a stream (RESET_STREAM,
// STOP_SENDING): it is sent until acknowledged and repeated when lost
// (RFC 9000, Section 13.3).
type ctrl uint8

const (
	ctrlNone  ctrl = iota // nothing to send
	ctrlWant              // must be sent (first time or after a loss)
	ctrlSent              // in flight
	ctrlAcked             // acknowledged; never sent again
)

func (c *ctrl) onSent() {
	if *c == ctrlWant {
		*c = ctrlSent
	}
}

func (c *ctrl) onLost() {
	if *c == ctrlSent {
		*c = ctrlWant
	}
}

func (c *ctrl) onAcked() {
	if *c != ctrlNone {
		*c = ctrlAcked
	}
}
