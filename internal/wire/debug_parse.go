package wire

// ParseDebugFrames parses a whole packet payload into DebugFrames, copying
// all data. It returns an *Error with code FRAME_ENCODING_ERROR for a
// truncated or malformed frame or an unknown frame type (RFC 9000 §12.4),
// and PROTOCOL_VIOLATION for a frame type that is not minimally encoded
// (RFC 9000 §12.4). It does not check which frames the packet type allows
// (see FrameAllowed).
func ParseDebugFrames(payload []byte) ([]DebugFrame, error) {
	var frames []DebugFrame
	for len(payload) > 0 {
		typ, n := ConsumeFrameType(payload)
		if n < 0 {
			if _, m := ConsumeVarint(payload); m < 0 {
				return nil, &Error{Code: FrameEncodingError, Reason: "truncated frame type"}
			}
			return nil, &Error{Code: ProtocolViolation, Reason: "frame type not minimally encoded"}
		}
		f, n, known := parseDebugFrame(typ, payload)
		if !known {
			return nil, &Error{Code: FrameEncodingError, FrameType: typ, Reason: "unknown frame type"}
		}
		if n < 0 {
			return nil, &Error{Code: FrameEncodingError, FrameType: typ, Reason: "malformed frame"}
		}
		frames = append(frames, f)
		payload = payload[n:]
	}
	return frames, nil
}

// parseDebugFrame dispatches on typ to the Consume function for it.
func parseDebugFrame(typ uint64, b []byte) (f DebugFrame, n int, known bool) {
	switch {
	case typ == FramePadding:
		n = ConsumePadding(b)
		f = DebugPadding{N: n}
	case typ == FramePing:
		n = ConsumePing(b)
		f = DebugPing{}
	case typ == FrameAck || typ == FrameAckECN:
		var a AckFrame
		a, n = ConsumeAck(b)
		f = debugAckFrom(&a)
	case typ == FrameResetStream:
		var d DebugResetStream
		d.ID, d.Code, d.FinalSize, n = ConsumeResetStream(b)
		f = d
	case typ == FrameStopSending:
		var d DebugStopSending
		d.ID, d.Code, n = ConsumeStopSending(b)
		f = d
	case typ == FrameCrypto:
		var d DebugCrypto
		d.Off, d.Data, n = ConsumeCrypto(b)
		d.Data = cloneBytes(d.Data)
		f = d
	case typ == FrameNewToken:
		var d DebugNewToken
		d.Token, n = ConsumeNewToken(b)
		d.Token = cloneBytes(d.Token)
		f = d
	case typ >= FrameStream && typ <= FrameStream|0x07:
		d := DebugStream{NoLength: typ&StreamBitLen == 0}
		d.ID, d.Off, d.Fin, d.Data, n = ConsumeStream(b)
		d.Data = cloneBytes(d.Data)
		f = d
	case typ == FrameMaxData:
		var d DebugMaxData
		d.Max, n = ConsumeMaxData(b)
		f = d
	case typ == FrameMaxStreamData:
		var d DebugMaxStreamData
		d.ID, d.Max, n = ConsumeMaxStreamData(b)
		f = d
	case typ == FrameMaxStreamsBidi || typ == FrameMaxStreamsUni:
		var d DebugMaxStreams
		d.Bidi, d.Max, n = ConsumeMaxStreams(b)
		f = d
	case typ == FrameDataBlocked:
		var d DebugDataBlocked
		d.Limit, n = ConsumeDataBlocked(b)
		f = d
	case typ == FrameStreamDataBlocked:
		var d DebugStreamDataBlocked
		d.ID, d.Limit, n = ConsumeStreamDataBlocked(b)
		f = d
	case typ == FrameStreamsBlockedBidi || typ == FrameStreamsBlockedUni:
		var d DebugStreamsBlocked
		d.Bidi, d.Limit, n = ConsumeStreamsBlocked(b)
		f = d
	case typ == FrameNewConnectionID:
		var d DebugNewConnectionID
		d.Seq, d.RetirePriorTo, d.CID, d.Token, n = ConsumeNewConnectionID(b)
		d.CID = cloneBytes(d.CID)
		f = d
	case typ == FrameRetireConnectionID:
		var d DebugRetireConnectionID
		d.Seq, n = ConsumeRetireConnectionID(b)
		f = d
	case typ == FramePathChallenge:
		var d DebugPathChallenge
		d.Data, n = ConsumePathChallenge(b)
		f = d
	case typ == FramePathResponse:
		var d DebugPathResponse
		d.Data, n = ConsumePathResponse(b)
		f = d
	case typ == FrameConnectionCloseTransport || typ == FrameConnectionCloseApp:
		var d DebugConnectionClose
		var reason []byte
		d.App, d.Code, d.FrameType, reason, n = ConsumeConnectionClose(b)
		d.Reason = string(reason)
		f = d
	case typ == FrameHandshakeDone:
		n = ConsumeHandshakeDone(b)
		f = DebugHandshakeDone{}
	case typ == FrameDatagram || typ == FrameDatagramLen:
		d := DebugDatagram{NoLength: typ == FrameDatagram}
		d.Data, n = ConsumeDatagram(b)
		d.Data = cloneBytes(d.Data)
		f = d
	default:
		return nil, -1, false
	}
	return f, n, true
}

// debugAckFrom converts a parsed ACK frame to its debug model.
func debugAckFrom(a *AckFrame) DebugAck {
	d := DebugAck{Delay: a.Delay}
	if a.ECN {
		d.ECN = &ECNCounts{a.ECT0, a.ECT1, a.CE}
	}
	it := a.Iter()
	for s, l, ok := it.Next(); ok; s, l, ok = it.Next() {
		d.Ranges = append(d.Ranges, DebugAckRange{Smallest: s, Largest: l})
	}
	return d
}

// cloneBytes copies b, returning nil when it is empty.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
