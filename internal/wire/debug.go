package wire

import (
	"fmt"
	"strings"
)

// A DebugFrame is a readable model of one frame for tests and logs. It
// allocates freely and is not used on hot paths.
type DebugFrame interface {
	// String describes the frame in one line.
	String() string
	// Append appends the frame's wire encoding.
	Append(b []byte) []byte
}

// DebugPadding is a run of N PADDING frames.
type DebugPadding struct{ N int }

// DebugPing is a PING frame.
type DebugPing struct{}

// DebugAckRange is an acknowledged range [Smallest, Largest], inclusive.
type DebugAckRange struct{ Smallest, Largest int64 }

// DebugAck is an ACK frame; Ranges are highest first, ECN is nil for type
// 0x02. Delay is the raw, unscaled field.
type DebugAck struct {
	Delay  uint64
	Ranges []DebugAckRange
	ECN    *ECNCounts
}

// DebugResetStream is a RESET_STREAM frame.
type DebugResetStream struct{ ID, Code, FinalSize uint64 }

// DebugStopSending is a STOP_SENDING frame.
type DebugStopSending struct{ ID, Code uint64 }

// DebugCrypto is a CRYPTO frame.
type DebugCrypto struct {
	Off  uint64
	Data []byte
}

// DebugNewToken is a NEW_TOKEN frame.
type DebugNewToken struct{ Token []byte }

// DebugStream is a STREAM frame. NoLength selects the encoding without a
// Length field, which extends to the end of the packet.
type DebugStream struct {
	ID, Off  uint64
	Fin      bool
	Data     []byte
	NoLength bool
}

// DebugMaxData is a MAX_DATA frame.
type DebugMaxData struct{ Max uint64 }

// DebugMaxStreamData is a MAX_STREAM_DATA frame.
type DebugMaxStreamData struct{ ID, Max uint64 }

// DebugMaxStreams is a MAX_STREAMS frame.
type DebugMaxStreams struct {
	Bidi bool
	Max  uint64
}

// DebugDataBlocked is a DATA_BLOCKED frame.
type DebugDataBlocked struct{ Limit uint64 }

// DebugStreamDataBlocked is a STREAM_DATA_BLOCKED frame.
type DebugStreamDataBlocked struct{ ID, Limit uint64 }

// DebugStreamsBlocked is a STREAMS_BLOCKED frame.
type DebugStreamsBlocked struct {
	Bidi  bool
	Limit uint64
}

// DebugNewConnectionID is a NEW_CONNECTION_ID frame.
type DebugNewConnectionID struct {
	Seq, RetirePriorTo uint64
	CID                []byte
	Token              [16]byte
}

// DebugRetireConnectionID is a RETIRE_CONNECTION_ID frame.
type DebugRetireConnectionID struct{ Seq uint64 }

// DebugPathChallenge is a PATH_CHALLENGE frame.
type DebugPathChallenge struct{ Data [8]byte }

// DebugPathResponse is a PATH_RESPONSE frame.
type DebugPathResponse struct{ Data [8]byte }

// DebugConnectionClose is a CONNECTION_CLOSE frame; App selects type 0x1d,
// which has no FrameType field.
type DebugConnectionClose struct {
	App       bool
	Code      uint64
	FrameType uint64
	Reason    string
}

// DebugHandshakeDone is a HANDSHAKE_DONE frame.
type DebugHandshakeDone struct{}

// DebugDatagram is a DATAGRAM frame. NoLength selects type 0x30, which
// extends to the end of the packet.
type DebugDatagram struct {
	Data     []byte
	NoLength bool
}

// Append implements DebugFrame.
func (f DebugPadding) Append(b []byte) []byte { return AppendPadding(b, f.N) }

// Append implements DebugFrame.
func (f DebugPing) Append(b []byte) []byte { return AppendPing(b) }

// Append implements DebugFrame. It encodes the ranges exactly as given,
// which must be valid (highest first, disjoint, non-adjacent, not below
// zero), and appends nothing if there are none.
func (f DebugAck) Append(b []byte) []byte {
	if len(f.Ranges) == 0 {
		return b
	}
	typ := byte(FrameAck)
	if f.ECN != nil {
		typ = FrameAckECN
	}
	top := f.Ranges[0]
	b = append(b, typ)
	b = AppendVarint(b, uint64(top.Largest))
	b = AppendVarint(b, f.Delay)
	b = AppendVarint(b, uint64(len(f.Ranges)-1))
	b = AppendVarint(b, uint64(top.Largest-top.Smallest))
	prev := top.Smallest
	for _, r := range f.Ranges[1:] {
		b = AppendVarint(b, uint64(prev-r.Largest-2))
		b = AppendVarint(b, uint64(r.Largest-r.Smallest))
		prev = r.Smallest
	}
	if f.ECN != nil {
		b = AppendVarint(b, f.ECN.ECT0)
		b = AppendVarint(b, f.ECN.ECT1)
		b = AppendVarint(b, f.ECN.CE)
	}
	return b
}

// Append implements DebugFrame.
func (f DebugResetStream) Append(b []byte) []byte {
	return AppendResetStream(b, f.ID, f.Code, f.FinalSize)
}

// Append implements DebugFrame.
func (f DebugStopSending) Append(b []byte) []byte { return AppendStopSending(b, f.ID, f.Code) }

// Append implements DebugFrame.
func (f DebugCrypto) Append(b []byte) []byte {
	return append(AppendCryptoHeader(b, f.Off, len(f.Data)), f.Data...)
}

// Append implements DebugFrame.
func (f DebugNewToken) Append(b []byte) []byte { return AppendNewToken(b, f.Token) }

// Append implements DebugFrame.
func (f DebugStream) Append(b []byte) []byte {
	b = AppendStreamHeader(b, f.ID, f.Off, len(f.Data), f.Fin, !f.NoLength)
	return append(b, f.Data...)
}

// Append implements DebugFrame.
func (f DebugMaxData) Append(b []byte) []byte { return AppendMaxData(b, f.Max) }

// Append implements DebugFrame.
func (f DebugMaxStreamData) Append(b []byte) []byte { return AppendMaxStreamData(b, f.ID, f.Max) }

// Append implements DebugFrame.
func (f DebugMaxStreams) Append(b []byte) []byte { return AppendMaxStreams(b, f.Bidi, f.Max) }

// Append implements DebugFrame.
func (f DebugDataBlocked) Append(b []byte) []byte { return AppendDataBlocked(b, f.Limit) }

// Append implements DebugFrame.
func (f DebugStreamDataBlocked) Append(b []byte) []byte {
	return AppendStreamDataBlocked(b, f.ID, f.Limit)
}

// Append implements DebugFrame.
func (f DebugStreamsBlocked) Append(b []byte) []byte {
	return AppendStreamsBlocked(b, f.Bidi, f.Limit)
}

// Append implements DebugFrame.
func (f DebugNewConnectionID) Append(b []byte) []byte {
	return AppendNewConnectionID(b, f.Seq, f.RetirePriorTo, f.CID, f.Token)
}

// Append implements DebugFrame.
func (f DebugRetireConnectionID) Append(b []byte) []byte {
	return AppendRetireConnectionID(b, f.Seq)
}

// Append implements DebugFrame.
func (f DebugPathChallenge) Append(b []byte) []byte { return AppendPathChallenge(b, f.Data) }

// Append implements DebugFrame.
func (f DebugPathResponse) Append(b []byte) []byte { return AppendPathResponse(b, f.Data) }

// Append implements DebugFrame.
func (f DebugConnectionClose) Append(b []byte) []byte {
	return AppendConnectionClose(b, f.App, f.Code, f.FrameType, []byte(f.Reason))
}

// Append implements DebugFrame.
func (f DebugHandshakeDone) Append(b []byte) []byte { return AppendHandshakeDone(b) }

// Append implements DebugFrame.
func (f DebugDatagram) Append(b []byte) []byte { return AppendDatagram(b, f.Data, !f.NoLength) }

// String implements DebugFrame.
func (f DebugPadding) String() string { return fmt.Sprintf("PADDING n=%d", f.N) }

// String implements DebugFrame.
func (f DebugPing) String() string { return "PING" }

// String implements DebugFrame.
func (f DebugAck) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "ACK delay=%d ranges=[", f.Delay)
	for i, r := range f.Ranges {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%d-%d", r.Smallest, r.Largest)
	}
	s.WriteByte(']')
	if f.ECN != nil {
		fmt.Fprintf(&s, " ect0=%d ect1=%d ce=%d", f.ECN.ECT0, f.ECN.ECT1, f.ECN.CE)
	}
	return s.String()
}

// String implements DebugFrame.
func (f DebugResetStream) String() string {
	return fmt.Sprintf("RESET_STREAM id=%d code=%d final_size=%d", f.ID, f.Code, f.FinalSize)
}

// String implements DebugFrame.
func (f DebugStopSending) String() string {
	return fmt.Sprintf("STOP_SENDING id=%d code=%d", f.ID, f.Code)
}

// String implements DebugFrame.
func (f DebugCrypto) String() string {
	return fmt.Sprintf("CRYPTO off=%d len=%d", f.Off, len(f.Data))
}

// String implements DebugFrame.
func (f DebugNewToken) String() string { return fmt.Sprintf("NEW_TOKEN token=%x", f.Token) }

// String implements DebugFrame.
func (f DebugStream) String() string {
	s := fmt.Sprintf("STREAM id=%d off=%d len=%d", f.ID, f.Off, len(f.Data))
	if f.Fin {
		s += " fin"
	}
	if f.NoLength {
		s += " nolen"
	}
	return s
}

// String implements DebugFrame.
func (f DebugMaxData) String() string { return fmt.Sprintf("MAX_DATA max=%d", f.Max) }

// String implements DebugFrame.
func (f DebugMaxStreamData) String() string {
	return fmt.Sprintf("MAX_STREAM_DATA id=%d max=%d", f.ID, f.Max)
}

// String implements DebugFrame.
func (f DebugMaxStreams) String() string {
	return fmt.Sprintf("MAX_STREAMS %s max=%d", dirName(f.Bidi), f.Max)
}

// String implements DebugFrame.
func (f DebugDataBlocked) String() string { return fmt.Sprintf("DATA_BLOCKED limit=%d", f.Limit) }

// String implements DebugFrame.
func (f DebugStreamDataBlocked) String() string {
	return fmt.Sprintf("STREAM_DATA_BLOCKED id=%d limit=%d", f.ID, f.Limit)
}

// String implements DebugFrame.
func (f DebugStreamsBlocked) String() string {
	return fmt.Sprintf("STREAMS_BLOCKED %s limit=%d", dirName(f.Bidi), f.Limit)
}

// String implements DebugFrame.
func (f DebugNewConnectionID) String() string {
	return fmt.Sprintf("NEW_CONNECTION_ID seq=%d retire_prior_to=%d cid=%x token=%x",
		f.Seq, f.RetirePriorTo, f.CID, f.Token)
}

// String implements DebugFrame.
func (f DebugRetireConnectionID) String() string {
	return fmt.Sprintf("RETIRE_CONNECTION_ID seq=%d", f.Seq)
}

// String implements DebugFrame.
func (f DebugPathChallenge) String() string { return fmt.Sprintf("PATH_CHALLENGE data=%x", f.Data) }

// String implements DebugFrame.
func (f DebugPathResponse) String() string { return fmt.Sprintf("PATH_RESPONSE data=%x", f.Data) }

// String implements DebugFrame.
func (f DebugConnectionClose) String() string {
	if f.App {
		return fmt.Sprintf("CONNECTION_CLOSE application code=%d reason=%q", f.Code, f.Reason)
	}
	return fmt.Sprintf("CONNECTION_CLOSE transport code=%s frame_type=0x%x reason=%q",
		ErrorCode(f.Code), f.FrameType, f.Reason)
}

// String implements DebugFrame.
func (f DebugHandshakeDone) String() string { return "HANDSHAKE_DONE" }

// String implements DebugFrame.
func (f DebugDatagram) String() string {
	s := fmt.Sprintf("DATAGRAM len=%d", len(f.Data))
	if f.NoLength {
		s += " nolen"
	}
	return s
}

func dirName(bidi bool) string {
	if bidi {
		return "bidi"
	}
	return "uni"
}
