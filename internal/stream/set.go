package stream

import "iter"

// Part says which part of one of our streams a received frame addresses.
type Part uint8

// Stream parts, for Set.Incoming.
const (
	// PartRecv: frames from the peer's sending part to our receiving
	// part: STREAM, RESET_STREAM, STREAM_DATA_BLOCKED.
	PartRecv Part = iota
	// PartSend: frames from the peer's receiving part to our sending part:
	// STOP_SENDING, MAX_STREAM_DATA.
	PartSend
)

// Set holds the streams of one connection, keyed by ID, with the stream-count
// limits in both directions (RFC 9000, Section 4.6) and the send scheduler.
//
// S is whatever the connection keeps per stream, typically a pointer to its
// stream struct (which embeds SendState and RecvState); the Set stores it in
// the stream's Entry and never calls it, so no interface is involved on any
// path. Lookup is a map access; entries are recycled, so opening and closing
// streams does not allocate once the Set has grown to its working size.
//
// The zero value is not usable; call Init.
type Set[S any] struct {
	local Side
	m     map[ID]*Entry[S]
	free  []*Entry[S]
	out   [2]outgoing // our streams, indexed by typ
	in    [2]incoming // the peer's streams, indexed by typ
	sched scheduler[S]
}

// outgoing is the state of one type of locally opened stream.
type outgoing struct {
	opened        uint64 // streams opened: the next index
	limit         uint64 // the peer's MAX_STREAMS
	blocked       bool   // we wanted a stream beyond limit
	reported      bool   // STREAMS_BLOCKED reported for reportedLimit
	reportedLimit uint64
}

// incoming is the state of one type of peer-opened stream.
type incoming struct {
	count      uint64 // concurrent streams allowed (PeerBidiStreamCount ...)
	opened     uint64 // streams the peer opened: the next index
	closed     uint64 // peer streams removed from the Set
	advertised uint64 // current limit: transport parameter or MAX_STREAMS
	resend     bool   // the frame carrying advertised was lost
	urgent     bool   // send an increase now (STREAMS_BLOCKED or setting raised)
}

// Init prepares the Set for the endpoint local. peerBidi and peerUni are how
// many streams of each type the peer may have open at once (MsQuic's
// PeerBidiStreamCount and PeerUnidiStreamCount); they are also the initial
// limits we advertise (initial_max_streams_bidi/uni; see PeerLimit). The peer's
// limits for our streams start at zero until OnMaxStreams applies its
// transport parameters.
func (s *Set[S]) Init(local Side, peerBidi, peerUni uint64) {
	*s = Set[S]{local: local, m: make(map[ID]*Entry[S])}
	for t, n := range [2]uint64{peerBidi, peerUni} {
		n = min(n, MaxStreams)
		s.in[t] = incoming{count: n, advertised: n}
	}
}

// Local returns our side.
func (s *Set[S]) Local() Side { return s.local }

// Len returns the number of streams in the Set.
func (s *Set[S]) Len() int { return len(s.m) }

// Get returns the entry of stream id, or nil.
func (s *Set[S]) Get(id ID) *Entry[S] { return s.m[id] }

// All iterates over the entries in no particular order. Removing the
// current entry during iteration is allowed.
func (s *Set[S]) All() iter.Seq[*Entry[S]] {
	return func(yield func(*Entry[S]) bool) {
		for _, e := range s.m {
			if !yield(e) {
				return
			}
		}
	}
}

func (s *Set[S]) add(id ID) *Entry[S] {
	var e *Entry[S]
	if n := len(s.free); n > 0 {
		e = s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
	} else {
		e = new(Entry[S])
	}
	e.id = id
	e.prio = DefaultPriority
	s.m[id] = e
	return e
}

// Remove takes a finished stream out of the Set (and the send queue) and
// recycles its entry. For a peer stream this returns one stream of credit
// to the peer: the limit we may advertise grows by one (MsQuic re-issues
// stream-count credit as streams complete; see MaxStreams).
func (s *Set[S]) Remove(e *Entry[S]) {
	if s.m[e.id] != e {
		return
	}
	s.sched.remove(e)
	delete(s.m, e.id)
	if e.id.Initiator() != s.local {
		s.in[typ(e.id.Bidi())].closed++
	}
	*e = Entry[S]{}
	s.free = append(s.free, e)
}

// OpenLocal opens our next stream of a type and returns its entry (with a
// zero Stream for the caller to fill). As in MsQuic, a stream beyond the
// peer's limit is still opened: it has an ID but may not send until the
// peer raises the limit (see Accepted, OnMaxStreams), and a STREAMS_BLOCKED
// becomes due. It fails only when all 2^60 IDs of the type are used.
func (s *Set[S]) OpenLocal(bidi bool) (*Entry[S], error) {
	o := &s.out[typ(bidi)]
	if o.opened >= MaxStreams {
		return nil, ErrStreamsExhausted
	}
	id := IDFromIndex(s.local, bidi, o.opened)
	o.opened++
	if o.opened > o.limit {
		o.blocked = true
	}
	return s.add(id), nil
}

// Accepted reports whether stream id is within the peer's stream limit, so
// it may send (always true for peer streams).
func (s *Set[S]) Accepted(id ID) bool {
	return id.Initiator() != s.local || id.Index() < s.out[typ(id.Bidi())].limit
}

// Available returns how many more streams of a type we may open within the
// peer's limit (MsQuic's STREAMS_AVAILABLE counts).
func (s *Set[S]) Available(bidi bool) uint64 {
	o := &s.out[typ(bidi)]
	if o.opened >= o.limit {
		return 0
	}
	return o.limit - o.opened
}

// MarkBlocked records that the application wanted to open a stream of a type
// but the peer's limit did not allow it (MsQuic FAIL_BLOCKED start), so a
// STREAMS_BLOCKED frame becomes due.
func (s *Set[S]) MarkBlocked(bidi bool) {
	if o := &s.out[typ(bidi)]; o.opened >= o.limit {
		o.blocked = true
	}
}

// StreamsBlocked returns the limit to report in a STREAMS_BLOCKED frame of a
// type; ok is true once per limit value while we are blocked (RFC 9000,
// Section 4.6: SHOULD send STREAMS_BLOCKED when unable to open a stream).
func (s *Set[S]) StreamsBlocked(bidi bool) (limit uint64, ok bool) {
	o := &s.out[typ(bidi)]
	if !o.blocked || (o.reported && o.reportedLimit == o.limit) {
		return o.limit, false
	}
	o.reported, o.reportedLimit = true, o.limit
	return o.limit, true
}

// OnStreamsBlockedLost records that a STREAMS_BLOCKED frame carrying limit
// was lost; it is reported again if we are still blocked at that limit.
func (s *Set[S]) OnStreamsBlockedLost(bidi bool, limit uint64) {
	if o := &s.out[typ(bidi)]; o.blocked && o.reportedLimit == limit && o.limit == limit {
		o.reported = false
	}
}

// OnMaxStreams applies the peer's limit for our streams of a type, from its
// transport parameters or a MAX_STREAMS frame. A value above 2^60 is a
// FRAME_ENCODING_ERROR (RFC 9000, Section 19.11); one that does not raise the
// limit is ignored (Section 4.6). raised reports a higher limit (raise
// STREAMS_AVAILABLE); the already opened streams with indexes in
// [acceptFrom, acceptTo) became accepted (raise PEER_ACCEPTED, let them send).
func (s *Set[S]) OnMaxStreams(bidi bool, limit uint64) (raised bool, acceptFrom, acceptTo uint64, err error) {
	if limit > MaxStreams {
		return false, 0, 0, errMaxStreamsTooBig
	}
	o := &s.out[typ(bidi)]
	if limit <= o.limit {
		return false, 0, 0, nil
	}
	acceptFrom, acceptTo = o.limit, max(o.limit, min(limit, o.opened))
	o.limit = limit
	o.blocked = o.opened > limit
	return true, acceptFrom, acceptTo, nil
}

// Incoming validates the stream ID of a received frame addressed to part of
// our stream and finds the stream. Connection errors (*Error):
//   - a frame for a part the stream does not have (STREAM or RESET_STREAM
//     for a send-only stream, STOP_SENDING or MAX_STREAM_DATA for a
//     receive-only one ...): STREAM_STATE_ERROR (RFC 9000, Section 19.4-19.13);
//   - a locally initiated stream not yet opened: STREAM_STATE_ERROR;
//   - a peer stream beyond the limit we advertised: STREAM_LIMIT_ERROR
//     (Section 4.6).
//
// Otherwise e is the stream's entry; or e is nil and open is 0 when the stream
// was already removed (ignore the frame); or e is nil and open > 0 when the
// frame opens peer streams: the caller calls OpenPeer open times (the peer
// opened every lower-numbered stream of that type too, Section 3.2), the last
// one being id.
func (s *Set[S]) Incoming(id ID, part Part) (e *Entry[S], open uint64, err error) {
	if part == PartRecv && !id.CanRecv(s.local) {
		return nil, 0, errNoRecvPart
	}
	if part == PartSend && !id.CanSend(s.local) {
		return nil, 0, errNoSendPart
	}
	t, idx := typ(id.Bidi()), id.Index()
	if id.Initiator() == s.local {
		if idx >= s.out[t].opened {
			return nil, 0, errNotCreated
		}
		return s.m[id], 0, nil
	}
	in := &s.in[t]
	if idx >= in.advertised {
		return nil, 0, errStreamLimit
	}
	if idx < in.opened {
		return s.m[id], 0, nil
	}
	return nil, idx + 1 - in.opened, nil
}

// OpenPeer opens the peer's next stream of a type, as told by Incoming, and
// returns its entry (with a zero Stream for the caller to fill). It returns
// nil if that would exceed the limit we advertised.
func (s *Set[S]) OpenPeer(bidi bool) *Entry[S] {
	in := &s.in[typ(bidi)]
	if in.opened >= in.advertised {
		return nil
	}
	id := IDFromIndex(s.local.Peer(), bidi, in.opened)
	in.opened++
	return s.add(id)
}

// PeerLimit returns the limit we advertise for the peer's streams of a type
// (initially our initial_max_streams_* transport parameter).
func (s *Set[S]) PeerLimit(bidi bool) uint64 { return s.in[typ(bidi)].advertised }

// PeerOpened returns how many streams of a type the peer has opened.
func (s *Set[S]) PeerOpened(bidi bool) uint64 { return s.in[typ(bidi)].opened }

// SetPeerStreamCount changes how many streams of a type the peer may have
// open at once (MsQuic allows changing PeerBidiStreamCount /
// PeerUnidiStreamCount on a live connection). A larger count is advertised
// at once; a smaller one takes effect as streams close, since an advertised
// limit cannot be lowered.
func (s *Set[S]) SetPeerStreamCount(bidi bool, count uint64) {
	in := &s.in[typ(bidi)]
	count = min(count, MaxStreams)
	if count > in.count {
		in.urgent = true
	}
	in.count = count
}

func (in *incoming) target() uint64 {
	return min(in.closed+in.count, MaxStreams)
}

// NeedsMaxStreams reports whether MaxStreams would return a value.
func (s *Set[S]) NeedsMaxStreams(bidi bool) bool {
	in := &s.in[typ(bidi)]
	if in.resend {
		return true
	}
	target := in.target()
	if target <= in.advertised {
		return false
	}
	inc, left := target-in.advertised, in.advertised-in.opened
	return in.urgent || 2*inc >= in.count || 2*left < in.count
}

// MaxStreams returns a new limit for the peer's streams of a type to send in
// a MAX_STREAMS frame, when one is due. The limit is closed+count: the peer may
// always have count streams open. It is sent when the increase is worthwhile:
// the peer has less than half of count left to open, or the increase is at
// least half of count, or the peer said it is blocked (OnStreamsBlocked), or
// the count was raised, or the last frame was lost (OnMaxStreamsLost).
func (s *Set[S]) MaxStreams(bidi bool) (limit uint64, ok bool) {
	in := &s.in[typ(bidi)]
	if !s.NeedsMaxStreams(bidi) {
		return in.advertised, false
	}
	in.advertised = max(in.advertised, in.target())
	in.resend, in.urgent = false, false
	return in.advertised, true
}

// OnMaxStreamsLost records that a MAX_STREAMS frame carrying v was lost; it
// is sent again if v is still the current limit.
func (s *Set[S]) OnMaxStreamsLost(bidi bool, v uint64) {
	if in := &s.in[typ(bidi)]; v == in.advertised {
		in.resend = true
	}
}

// OnStreamsBlocked processes the peer's STREAMS_BLOCKED frame. A limit above
// 2^60 is a FRAME_ENCODING_ERROR (RFC 9000, Section 19.14). needs reports that
// the peer is blocked by our current limit (raise PEER_NEEDS_STREAMS); any
// increase we can give is then sent without waiting.
func (s *Set[S]) OnStreamsBlocked(bidi bool, limit uint64) (needs bool, err error) {
	if limit > MaxStreams {
		return false, errBlockedTooBig
	}
	in := &s.in[typ(bidi)]
	if limit < in.advertised {
		return false, nil
	}
	in.urgent = true
	return true, nil
}
