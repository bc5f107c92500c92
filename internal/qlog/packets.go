package qlog

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/wire"
)

// staged is a packet that was built but whose final size is not known yet:
// the last packet of a datagram may still be padded.
type staged struct {
	valid      bool
	h          Header
	dcid, scid []byte // copies, h's CIDs point here
	frames     []byte // the encoded "frames" member
	size       int
	payloadLen int
}

// StageSent describes a packet just built, while its payload is still
// plaintext; CommitSent logs it once its size is final. A packet staged
// and not committed is replaced by the next one staged.
func (t *Trace) StageSent(h *Header, size int, payload []byte, ackExp uint8) {
	st := &t.staged
	st.valid = true
	st.h = *h
	st.dcid = append(st.dcid[:0], h.DCID...)
	st.scid = append(st.scid[:0], h.SCID...)
	st.h.DCID, st.h.SCID = st.dcid, st.scid
	fe := Encoder{b: st.frames[:0]}
	fe.Frames(payload, ackExp)
	st.frames = fe.b
	st.size, st.payloadLen = size, len(payload)
}

// CommitSent logs packet_sent for the staged packet numbered pn, which
// became size bytes: padding added after it was staged is logged as a
// padding frame.
func (t *Trace) CommitSent(now mono.Time, pn int64, size int, mtuProbe bool) {
	st := &t.staged
	if !st.valid || st.h.PN != pn {
		return
	}
	st.valid = false
	e := t.Begin(now, PacketSent)
	e.Header(&st.h)
	e.sep()
	fr := st.frames
	pad := size - st.size
	if pad > 0 {
		// Reopen the frames array for the padding frame.
		e.b = append(e.b, fr[:len(fr)-1]...)
		e.comma = fr[len(fr)-2] != '['
		e.beginFrame("padding")
		e.Obj("raw")
		e.U64("length", uint64(pad))
		e.U64("payload_length", uint64(pad))
		e.EndObject()
		e.EndObject()
		e.EndArray()
	} else {
		e.b = append(e.b, fr...)
		e.comma = true
	}
	e.Obj("raw")
	e.U64("length", uint64(size))
	e.U64("payload_length", uint64(st.payloadLen+max(pad, 0)))
	e.EndObject()
	if mtuProbe {
		e.Flag("is_mtu_probe_packet", true)
	}
	t.End()
}

// BeginPacketLost starts packet_lost for a packet and leaves the encoder
// inside its frames array, for the caller to describe the frames it
// remembers; EndPacketLost finishes the event. The header names only the
// packet's type and number: what a sent packet's record keeps (its
// connection IDs and key phase are not known then, and a default would
// misreport them).
func (t *Trace) BeginPacketLost(now mono.Time, typ wire.PacketType, pn int64, trigger string, mtuProbe bool) *Encoder {
	e := t.Begin(now, PacketLost)
	e.Obj("header")
	e.Str("packet_type", PacketTypeName(typ))
	e.I64("packet_number", pn)
	e.EndObject()
	if trigger != "" {
		e.Str("trigger", trigger)
	}
	if mtuProbe {
		e.Flag("is_mtu_probe_packet", true)
	}
	e.Arr("frames")
	return e
}

// EndPacketLost finishes the event BeginPacketLost started.
func (t *Trace) EndPacketLost() {
	t.enc.EndArray()
	t.End()
}

// PacketReceived logs packet_received with the frames of the plaintext
// payload; trigger is "keys_available" for a packet that was buffered.
func (t *Trace) PacketReceived(now mono.Time, h *Header, size int, payload []byte, ackExp uint8, trigger string) {
	e := t.Begin(now, PacketReceived)
	e.Packet(h, size, payload, ackExp)
	if trigger != "" {
		e.Str("trigger", trigger)
	}
	t.End()
}

// PacketDropped logs packet_dropped. h may be nil when not even the
// packet type is known.
func (t *Trace) PacketDropped(now mono.Time, h *Header, size int, trigger string) {
	e := t.Begin(now, PacketDropped)
	if h != nil {
		e.Header(h)
	}
	e.Raw(size)
	e.Str("trigger", trigger)
	t.End()
}

// PacketBuffered logs packet_buffered for a packet whose keys are not
// available yet.
func (t *Trace) PacketBuffered(now mono.Time, h *Header, size int) {
	e := t.Begin(now, PacketBuffered)
	e.Header(h)
	e.Raw(size)
	e.Str("trigger", "keys_unavailable")
	t.End()
}

// VersionNegotiation logs packet_received for a Version Negotiation
// packet; versions is its list of 4-byte versions.
func (t *Trace) VersionNegotiation(now mono.Time, h *Header, size int, versions []byte) {
	e := t.Begin(now, PacketReceived)
	e.Header(h)
	e.Arr("supported_versions")
	for ; len(versions) >= 4; versions = versions[4:] {
		e.Hex(versions[:4])
	}
	e.EndArray()
	e.Raw(size)
	t.End()
}

// StatelessReset logs packet_received for a stateless reset carrying
// token.
func (t *Trace) StatelessReset(now mono.Time, token []byte) {
	e := t.Begin(now, PacketReceived)
	h := Header{Type: PacketStatelessReset, PN: -1}
	e.Header(&h)
	e.HexField("stateless_reset_token", token)
	t.End()
}
