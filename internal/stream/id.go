package stream

// ID is a stream ID (RFC 9000, Section 2.1). Bit 0 is the initiator
// (0 client, 1 server), bit 1 the direction (0 bidirectional,
// 1 unidirectional); the remaining bits are the stream's index among the
// streams of its type.
type ID uint64

// Side says which endpoint we are, or which endpoint opened a stream.
type Side uint8

// The two endpoints, numbered as bit 0 of a stream ID.
const (
	SideClient Side = 0
	SideServer Side = 1
)

// MaxStreams is the largest number of streams of one type an endpoint may
// open, and so the largest valid MAX_STREAMS value (RFC 9000, Section 4.6).
const MaxStreams = 1 << 60

// MaxOffset is the largest stream offset plus one: the sum of a frame's
// offset and length cannot exceed 2^62-1 (RFC 9000, Section 19.8).
const MaxOffset = 1<<62 - 1

// Peer returns the other side.
func (s Side) Peer() Side { return s ^ 1 }

// String returns "client" or "server".
func (s Side) String() string {
	if s == SideClient {
		return "client"
	}
	return "server"
}

// Bidi reports whether the stream is bidirectional.
func (id ID) Bidi() bool { return id&2 == 0 }

// Initiator returns the side that opened the stream.
func (id ID) Initiator() Side { return Side(id & 1) }

// Index returns the stream's position among the streams of its type
// (initiator and direction), starting at 0.
func (id ID) Index() uint64 { return uint64(id >> 2) }

// CanSend reports whether the endpoint local may send on the stream: every
// bidirectional stream, and the unidirectional streams it opened.
func (id ID) CanSend(local Side) bool { return id.Bidi() || id.Initiator() == local }

// CanRecv reports whether the endpoint local may receive on the stream: every
// bidirectional stream, and the unidirectional streams its peer opened.
func (id ID) CanRecv(local Side) bool { return id.Bidi() || id.Initiator() != local }

// FirstID returns the ID of the first stream of a type: 0 (client bidi),
// 1 (server bidi), 2 (client uni) or 3 (server uni).
func FirstID(side Side, bidi bool) ID { return IDFromIndex(side, bidi, 0) }

// IDFromIndex returns the ID of the index'th stream of a type.
func IDFromIndex(side Side, bidi bool, index uint64) ID {
	id := ID(index<<2) | ID(side)
	if !bidi {
		id |= 2
	}
	return id
}

// typ returns 0 for bidirectional and 1 for unidirectional streams: the index
// into per-type arrays.
func typ(bidi bool) int {
	if bidi {
		return 0
	}
	return 1
}
