package flow

// SendCredit tracks the limit the peer gave us for one scope (its
// initial_max_data / initial_max_stream_data_* transport parameter, raised by
// MAX_DATA or MAX_STREAM_DATA frames) and whether we owe it a DATA_BLOCKED or
// STREAM_DATA_BLOCKED frame.
//
// The caller keeps its own count of bytes used (the highest offset sent on a
// stream, or the sum of them for a connection) and passes it in.
//
// The zero value is a limit of zero; call Init with the transport parameter.
type SendCredit struct {
	limit    uint64
	blocked  bool // the sender ran into limit
	reported bool // a BLOCKED frame was reported for limit
}

// Init sets the initial limit.
func (c *SendCredit) Init(limit uint64) {
	*c = SendCredit{limit: limit}
}

// OnMaxData applies a MAX_DATA or MAX_STREAM_DATA value. Limits only increase:
// a value that does not raise the limit is ignored, as frames may arrive out
// of order (RFC 9000, Section 4.1 and 19.9). It returns true if the sender had
// run into the old limit (see Blocked) and the new one lets it continue.
func (c *SendCredit) OnMaxData(v uint64) bool {
	if v <= c.limit {
		return false
	}
	c.limit = v
	unblocked := c.blocked
	c.blocked = false
	c.reported = false
	return unblocked
}

// Available returns how many more bytes may be sent when used bytes have been
// sent already.
func (c *SendCredit) Available(used uint64) uint64 {
	if used >= c.limit {
		return 0
	}
	return c.limit - used
}

// Blocked is called when the sender has data it cannot send. If used has
// reached the limit it records that the sender is blocked and returns the
// limit with report=true the first time for that limit value, so exactly one
// DATA_BLOCKED / STREAM_DATA_BLOCKED frame is sent per limit (RFC 9000,
// Section 4.1: a sender SHOULD send one when it is blocked). Call it when the
// frame is about to be written.
func (c *SendCredit) Blocked(used uint64) (limit uint64, report bool) {
	if used < c.limit {
		return c.limit, false
	}
	c.blocked = true
	if c.reported {
		return c.limit, false
	}
	c.reported = true
	return c.limit, true
}

// OnBlockedLost tells the credit that a BLOCKED frame carrying limit was
// lost. If the sender is still blocked at that same limit, the next Blocked
// call reports it again (RFC 9000, Section 13.3); otherwise the loss is
// ignored.
func (c *SendCredit) OnBlockedLost(limit uint64) {
	if limit == c.limit && c.blocked {
		c.reported = false
	}
}

// Limit returns the peer's current limit.
func (c *SendCredit) Limit() uint64 { return c.limit }
