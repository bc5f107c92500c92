package wire

// Frame types (RFC 9000 §12.4 Table 3, §19; RFC 9221 §4). All fit in one
// byte when minimally encoded.
const (
	FramePadding                  = 0x00
	FramePing                     = 0x01
	FrameAck                      = 0x02
	FrameAckECN                   = 0x03
	FrameResetStream              = 0x04
	FrameStopSending              = 0x05
	FrameCrypto                   = 0x06
	FrameNewToken                 = 0x07
	FrameStream                   = 0x08 // 0x08-0x0f: FrameStream | StreamBitOff | StreamBitLen | StreamBitFin
	FrameMaxData                  = 0x10
	FrameMaxStreamData            = 0x11
	FrameMaxStreamsBidi           = 0x12
	FrameMaxStreamsUni            = 0x13
	FrameDataBlocked              = 0x14
	FrameStreamDataBlocked        = 0x15
	FrameStreamsBlockedBidi       = 0x16
	FrameStreamsBlockedUni        = 0x17
	FrameNewConnectionID          = 0x18
	FrameRetireConnectionID       = 0x19
	FramePathChallenge            = 0x1a
	FramePathResponse             = 0x1b
	FrameConnectionCloseTransport = 0x1c
	FrameConnectionCloseApp       = 0x1d
	FrameHandshakeDone            = 0x1e
	FrameDatagram                 = 0x30
	FrameDatagramLen              = 0x31
)

// Flag bits in the type of a STREAM frame (RFC 9000 §19.8).
const (
	StreamBitOff = 0x04
	StreamBitLen = 0x02
	StreamBitFin = 0x01
)

// ConsumeFrameType decodes the type of the frame at the start of b. It
// returns n < 0 if the varint is truncated or not minimally encoded. RFC
// 9000 §12.4 requires the shortest encoding and lets a receiver treat a
// longer one as a connection error of type PROTOCOL_VIOLATION; the caller
// maps n < 0 to that error (or to FRAME_ENCODING_ERROR when b is a
// truncated varint, which can be told apart with ConsumeVarint). An unknown
// type is the caller's FRAME_ENCODING_ERROR (RFC 9000 §12.4).
func ConsumeFrameType(b []byte) (typ uint64, n int) {
	typ, n = ConsumeVarint(b)
	if n < 0 || n != SizeVarint(typ) {
		return 0, -1
	}
	return typ, n
}

// Packet-type masks for FrameAllowed, after the "Pkts" column of RFC 9000
// §12.4 Table 3.
const (
	inInitial   = 1 << PacketInitial
	inHandshake = 1 << PacketHandshake
	in0RTT      = 1 << Packet0RTT
	in1RTT      = 1 << Packet1RTT
	inIH01      = inInitial | inHandshake | in0RTT | in1RTT
	inIH1       = inInitial | inHandshake | in1RTT
	in01        = in0RTT | in1RTT
)

// FrameAllowed reports whether a frame of type typ may appear in a packet of
// type pt (RFC 9000 §12.4 Table 3, §12.5, §17.2.3; RFC 9221 §4). Receiving a
// frame in a packet type where it is not allowed is a connection error of
// type PROTOCOL_VIOLATION (RFC 9000 §12.4). In 0-RTT, ACK, CRYPTO,
// HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE and RETIRE_CONNECTION_ID are not
// allowed (RFC 9000 §17.2.3; Table 3 lists RETIRE_CONNECTION_ID as "__01",
// but a client cannot have a server-issued connection ID to retire before
// 1-RTT, so the stricter §17.2.3 rule is applied). Only CONNECTION_CLOSE of
// type 0x1c may appear in Initial and Handshake packets. Unknown frame types
// and packet types without frames (Retry, Version Negotiation) yield false.
func FrameAllowed(typ uint64, pt PacketType) bool {
	var mask uint
	switch {
	case typ == FramePadding, typ == FramePing, typ == FrameConnectionCloseTransport:
		mask = inIH01
	case typ == FrameAck, typ == FrameAckECN, typ == FrameCrypto:
		mask = inIH1
	case typ == FrameNewToken, typ == FramePathResponse, typ == FrameHandshakeDone,
		typ == FrameRetireConnectionID:
		mask = in1RTT
	case typ >= FrameResetStream && typ <= FramePathChallenge,
		typ == FrameConnectionCloseApp, typ == FrameDatagram, typ == FrameDatagramLen:
		mask = in01
	}
	return mask&(1<<pt) != 0
}

// IsAckEliciting reports whether a frame of type typ makes its packet
// ack-eliciting: every frame except ACK, PADDING and CONNECTION_CLOSE
// (RFC 9002 §2, RFC 9000 §13.2).
func IsAckEliciting(typ uint64) bool {
	switch typ {
	case FrameAck, FrameAckECN, FramePadding, FrameConnectionCloseTransport, FrameConnectionCloseApp:
		return false
	}
	return true
}

// IsProbing reports whether typ is a probing frame: PATH_CHALLENGE,
// PATH_RESPONSE, NEW_CONNECTION_ID or PADDING (RFC 9000 §9.1). A packet
// containing only probing frames does not cause migration (RFC 9000 §9.2).
func IsProbing(typ uint64) bool {
	switch typ {
	case FramePathChallenge, FramePathResponse, FrameNewConnectionID, FramePadding:
		return true
	}
	return false
}
