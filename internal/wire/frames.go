package wire

// Parsers in this file take the frame including its type byte and return
// n < 0 on any malformation RFC 9000 treats as FRAME_ENCODING_ERROR
// (RFC 9000 §12.4, §19). Every known frame type is a single byte when
// minimally encoded, so each parser checks b[0] itself: a misdispatched or
// non-minimally encoded type is rejected too.

// maxStreams is the largest stream count a MAX_STREAMS or STREAMS_BLOCKED
// frame may carry (RFC 9000 §19.11, §19.14).
const maxStreams = 1 << 60

// consumeVarints1 reads one varint after the type byte of b.
func consumeVarints1(b []byte, typ byte) (v uint64, n int) {
	if len(b) == 0 || b[0] != typ {
		return 0, -1
	}
	v, n = ConsumeVarint(b[1:])
	if n < 0 {
		return 0, -1
	}
	return v, 1 + n
}

// consumeVarints2 reads two varints after the type byte of b.
func consumeVarints2(b []byte, typ byte) (v1, v2 uint64, n int) {
	v1, n = consumeVarints1(b, typ)
	if n < 0 {
		return 0, 0, -1
	}
	v2, m := ConsumeVarint(b[n:])
	if m < 0 {
		return 0, 0, -1
	}
	return v1, v2, n + m
}

// ConsumePadding returns the length of the run of PADDING bytes (0x00) at
// the start of b (RFC 9000 §19.1), or -1 if b does not start with one.
func ConsumePadding(b []byte) (n int) {
	for n < len(b) && b[n] == FramePadding {
		n++
	}
	if n == 0 {
		return -1
	}
	return n
}

// AppendPadding appends n PADDING frames (n zero bytes).
func AppendPadding(b []byte, n int) []byte {
	for range n {
		b = append(b, FramePadding)
	}
	return b
}

// ConsumePing parses a PING frame (RFC 9000 §19.2).
func ConsumePing(b []byte) (n int) {
	if len(b) == 0 || b[0] != FramePing {
		return -1
	}
	return 1
}

// AppendPing appends a PING frame.
func AppendPing(b []byte) []byte { return append(b, FramePing) }

// ConsumeResetStream parses a RESET_STREAM frame (RFC 9000 §19.4).
func ConsumeResetStream(b []byte) (id, code, finalSize uint64, n int) {
	id, code, n = consumeVarints2(b, FrameResetStream)
	if n < 0 {
		return 0, 0, 0, -1
	}
	finalSize, m := ConsumeVarint(b[n:])
	if m < 0 {
		return 0, 0, 0, -1
	}
	return id, code, finalSize, n + m
}

// AppendResetStream appends a RESET_STREAM frame.
func AppendResetStream(b []byte, id, code, finalSize uint64) []byte {
	b = append(b, FrameResetStream)
	b = AppendVarint(b, id)
	b = AppendVarint(b, code)
	return AppendVarint(b, finalSize)
}

// ConsumeStopSending parses a STOP_SENDING frame (RFC 9000 §19.5).
func ConsumeStopSending(b []byte) (id, code uint64, n int) {
	return consumeVarints2(b, FrameStopSending)
}

// AppendStopSending appends a STOP_SENDING frame.
func AppendStopSending(b []byte, id, code uint64) []byte {
	b = append(b, FrameStopSending)
	b = AppendVarint(b, id)
	return AppendVarint(b, code)
}

// ConsumeCrypto parses a CRYPTO frame (RFC 9000 §19.6). data aliases b.
// An offset plus length above 2^62-1 is rejected (RFC 9000 §19.6: a MUST,
// FRAME_ENCODING_ERROR or CRYPTO_BUFFER_EXCEEDED).
func ConsumeCrypto(b []byte) (off uint64, data []byte, n int) {
	off, n = consumeVarints1(b, FrameCrypto)
	if n < 0 {
		return 0, nil, -1
	}
	data, m := consumeVarintBytes(b[n:])
	if m < 0 || uint64(len(data)) > MaxVarint-off {
		return 0, nil, -1
	}
	return off, data, n + m
}

// SizeCryptoHeader returns the size of a CRYPTO frame header (type, offset
// and length) for length bytes of data at off.
func SizeCryptoHeader(off uint64, length int) int {
	return 1 + SizeVarint(off) + SizeVarint(uint64(length))
}

// AppendCryptoHeader appends a CRYPTO frame header; the caller appends
// length bytes of data.
func AppendCryptoHeader(b []byte, off uint64, length int) []byte {
	b = append(b, FrameCrypto)
	b = AppendVarint(b, off)
	return AppendVarint(b, uint64(length))
}

// ConsumeNewToken parses a NEW_TOKEN frame (RFC 9000 §19.7). token aliases
// b. An empty token MUST be treated as FRAME_ENCODING_ERROR (RFC 9000
// §19.7) and is rejected.
func ConsumeNewToken(b []byte) (token []byte, n int) {
	if len(b) == 0 || b[0] != FrameNewToken {
		return nil, -1
	}
	token, n = consumeVarintBytes(b[1:])
	if n < 0 || len(token) == 0 {
		return nil, -1
	}
	return token, 1 + n
}

// AppendNewToken appends a NEW_TOKEN frame.
func AppendNewToken(b []byte, token []byte) []byte {
	b = append(b, FrameNewToken)
	return appendVarintBytes(b, token)
}

// ConsumeStream parses a STREAM frame of any of the types 0x08-0x0f
// (RFC 9000 §19.8). data aliases b; without a Length field it extends to the
// end of b. An offset plus length above 2^62-1 is rejected (RFC 9000 §19.8:
// a MUST, FRAME_ENCODING_ERROR or FLOW_CONTROL_ERROR).
func ConsumeStream(b []byte) (id, off uint64, fin bool, data []byte, n int) {
	if len(b) == 0 || b[0]&^0x07 != FrameStream {
		return 0, 0, false, nil, -1
	}
	typ := b[0]
	id, n = ConsumeVarint(b[1:])
	if n < 0 {
		return 0, 0, false, nil, -1
	}
	n++
	if typ&StreamBitOff != 0 {
		var m int
		off, m = ConsumeVarint(b[n:])
		if m < 0 {
			return 0, 0, false, nil, -1
		}
		n += m
	}
	if typ&StreamBitLen != 0 {
		var m int
		data, m = consumeVarintBytes(b[n:])
		if m < 0 {
			return 0, 0, false, nil, -1
		}
		n += m
	} else {
		data = b[n:]
		n = len(b)
	}
	if uint64(len(data)) > MaxVarint-off {
		return 0, 0, false, nil, -1
	}
	return id, off, typ&StreamBitFin != 0, data, n
}

// SizeStreamHeader returns the size of the STREAM frame header written by
// AppendStreamHeader with the same arguments.
func SizeStreamHeader(id, off uint64, length int, withLength bool) int {
	n := 1 + SizeVarint(id)
	if off != 0 {
		n += SizeVarint(off)
	}
	if withLength {
		n += SizeVarint(uint64(length))
	}
	return n
}

// AppendStreamHeader appends a STREAM frame header for length bytes of
// data at off; the caller appends the data. The Offset field is omitted when
// off is zero. Without a Length field (withLength=false) the data extends to
// the end of the packet, so the frame must be the packet's last.
func AppendStreamHeader(b []byte, id, off uint64, length int, fin, withLength bool) []byte {
	typ := byte(FrameStream)
	if off != 0 {
		typ |= StreamBitOff
	}
	if withLength {
		typ |= StreamBitLen
	}
	if fin {
		typ |= StreamBitFin
	}
	b = append(b, typ)
	b = AppendVarint(b, id)
	if off != 0 {
		b = AppendVarint(b, off)
	}
	if withLength {
		b = AppendVarint(b, uint64(length))
	}
	return b
}

// ConsumeMaxData parses a MAX_DATA frame (RFC 9000 §19.9).
func ConsumeMaxData(b []byte) (max uint64, n int) {
	return consumeVarints1(b, FrameMaxData)
}

// AppendMaxData appends a MAX_DATA frame.
func AppendMaxData(b []byte, max uint64) []byte {
	return AppendVarint(append(b, FrameMaxData), max)
}

// ConsumeMaxStreamData parses a MAX_STREAM_DATA frame (RFC 9000 §19.10).
func ConsumeMaxStreamData(b []byte) (id, max uint64, n int) {
	return consumeVarints2(b, FrameMaxStreamData)
}

// AppendMaxStreamData appends a MAX_STREAM_DATA frame.
func AppendMaxStreamData(b []byte, id, max uint64) []byte {
	b = AppendVarint(append(b, FrameMaxStreamData), id)
	return AppendVarint(b, max)
}

// consumeStreamCount parses MAX_STREAMS or STREAMS_BLOCKED: type bidi or
// bidi+1 (uni), then a count of at most 2^60.
func consumeStreamCount(b []byte, bidiType byte) (bidi bool, v uint64, n int) {
	if len(b) == 0 || b[0]&^1 != bidiType {
		return false, 0, -1
	}
	v, n = consumeVarints1(b, b[0])
	if n < 0 || v > maxStreams {
		return false, 0, -1
	}
	return b[0] == bidiType, v, n
}

// ConsumeMaxStreams parses a MAX_STREAMS frame (RFC 9000 §19.11). A count
// above 2^60 MUST be treated as FRAME_ENCODING_ERROR (RFC 9000 §19.11) and
// is rejected.
func ConsumeMaxStreams(b []byte) (bidi bool, max uint64, n int) {
	return consumeStreamCount(b, FrameMaxStreamsBidi)
}

// AppendMaxStreams appends a MAX_STREAMS frame.
func AppendMaxStreams(b []byte, bidi bool, max uint64) []byte {
	typ := byte(FrameMaxStreamsUni)
	if bidi {
		typ = FrameMaxStreamsBidi
	}
	return AppendVarint(append(b, typ), max)
}

// ConsumeDataBlocked parses a DATA_BLOCKED frame (RFC 9000 §19.12).
func ConsumeDataBlocked(b []byte) (limit uint64, n int) {
	return consumeVarints1(b, FrameDataBlocked)
}

// AppendDataBlocked appends a DATA_BLOCKED frame.
func AppendDataBlocked(b []byte, limit uint64) []byte {
	return AppendVarint(append(b, FrameDataBlocked), limit)
}

// ConsumeStreamDataBlocked parses a STREAM_DATA_BLOCKED frame (RFC 9000
// §19.13).
func ConsumeStreamDataBlocked(b []byte) (id, limit uint64, n int) {
	return consumeVarints2(b, FrameStreamDataBlocked)
}

// AppendStreamDataBlocked appends a STREAM_DATA_BLOCKED frame.
func AppendStreamDataBlocked(b []byte, id, limit uint64) []byte {
	b = AppendVarint(append(b, FrameStreamDataBlocked), id)
	return AppendVarint(b, limit)
}

// ConsumeStreamsBlocked parses a STREAMS_BLOCKED frame (RFC 9000 §19.14).
// A limit above 2^60 MUST be treated as a connection error (RFC 9000
// §19.14, FRAME_ENCODING_ERROR) and is rejected.
func ConsumeStreamsBlocked(b []byte) (bidi bool, limit uint64, n int) {
	return consumeStreamCount(b, FrameStreamsBlockedBidi)
}

// AppendStreamsBlocked appends a STREAMS_BLOCKED frame.
func AppendStreamsBlocked(b []byte, bidi bool, limit uint64) []byte {
	typ := byte(FrameStreamsBlockedUni)
	if bidi {
		typ = FrameStreamsBlockedBidi
	}
	return AppendVarint(append(b, typ), limit)
}

// ConsumeNewConnectionID parses a NEW_CONNECTION_ID frame (RFC 9000 §19.15).
// cid aliases b. A connection ID length of 0 or above 20, or Retire Prior To
// greater than Sequence Number, MUST be treated as FRAME_ENCODING_ERROR
// (RFC 9000 §19.15) and is rejected.
func ConsumeNewConnectionID(b []byte) (seq, retirePriorTo uint64, cid []byte, token [16]byte, n int) {
	seq, retirePriorTo, n = consumeVarints2(b, FrameNewConnectionID)
	if n < 0 || retirePriorTo > seq {
		return 0, 0, nil, token, -1
	}
	cid, n, ok := consumeCID(b, n, MaxCIDLen)
	if !ok || len(cid) == 0 || len(b)-n < len(token) {
		return 0, 0, nil, token, -1
	}
	copy(token[:], b[n:])
	return seq, retirePriorTo, cid, token, n + len(token)
}

// AppendNewConnectionID appends a NEW_CONNECTION_ID frame.
func AppendNewConnectionID(b []byte, seq, retirePriorTo uint64, cid []byte, token [16]byte) []byte {
	b = AppendVarint(append(b, FrameNewConnectionID), seq)
	b = AppendVarint(b, retirePriorTo)
	b = append(b, byte(len(cid)))
	b = append(b, cid...)
	return append(b, token[:]...)
}

// ConsumeRetireConnectionID parses a RETIRE_CONNECTION_ID frame (RFC 9000
// §19.16).
func ConsumeRetireConnectionID(b []byte) (seq uint64, n int) {
	return consumeVarints1(b, FrameRetireConnectionID)
}

// AppendRetireConnectionID appends a RETIRE_CONNECTION_ID frame.
func AppendRetireConnectionID(b []byte, seq uint64) []byte {
	return AppendVarint(append(b, FrameRetireConnectionID), seq)
}

// consumePathData parses PATH_CHALLENGE or PATH_RESPONSE.
func consumePathData(b []byte, typ byte) (data [8]byte, n int) {
	if len(b) < 1+len(data) || b[0] != typ {
		return data, -1
	}
	copy(data[:], b[1:])
	return data, 1 + len(data)
}

// ConsumePathChallenge parses a PATH_CHALLENGE frame (RFC 9000 §19.17).
func ConsumePathChallenge(b []byte) (data [8]byte, n int) {
	return consumePathData(b, FramePathChallenge)
}

// AppendPathChallenge appends a PATH_CHALLENGE frame.
func AppendPathChallenge(b []byte, data [8]byte) []byte {
	return append(append(b, FramePathChallenge), data[:]...)
}

// ConsumePathResponse parses a PATH_RESPONSE frame (RFC 9000 §19.18).
func ConsumePathResponse(b []byte) (data [8]byte, n int) {
	return consumePathData(b, FramePathResponse)
}

// AppendPathResponse appends a PATH_RESPONSE frame.
func AppendPathResponse(b []byte, data [8]byte) []byte {
	return append(append(b, FramePathResponse), data[:]...)
}

// ConsumeConnectionClose parses a CONNECTION_CLOSE frame of type 0x1c
// (transport, with a Frame Type field) or 0x1d (application, app = true)
// (RFC 9000 §19.19). reason aliases b; a reason length past the end of b is
// rejected.
func ConsumeConnectionClose(b []byte) (app bool, code, frameType uint64, reason []byte, n int) {
	if len(b) == 0 || b[0]&^1 != FrameConnectionCloseTransport {
		return false, 0, 0, nil, -1
	}
	app = b[0] == FrameConnectionCloseApp
	code, n = ConsumeVarint(b[1:])
	if n < 0 {
		return false, 0, 0, nil, -1
	}
	n++
	if !app {
		var m int
		frameType, m = ConsumeVarint(b[n:])
		if m < 0 {
			return false, 0, 0, nil, -1
		}
		n += m
	}
	reason, m := consumeVarintBytes(b[n:])
	if m < 0 {
		return false, 0, 0, nil, -1
	}
	return app, code, frameType, reason, n + m
}

// AppendConnectionClose appends a CONNECTION_CLOSE frame: type 0x1d without
// a Frame Type field if app, else type 0x1c carrying frameType.
func AppendConnectionClose(b []byte, app bool, code, frameType uint64, reason []byte) []byte {
	if app {
		b = AppendVarint(append(b, FrameConnectionCloseApp), code)
	} else {
		b = AppendVarint(append(b, FrameConnectionCloseTransport), code)
		b = AppendVarint(b, frameType)
	}
	return appendVarintBytes(b, reason)
}

// ConsumeHandshakeDone parses a HANDSHAKE_DONE frame (RFC 9000 §19.20).
func ConsumeHandshakeDone(b []byte) (n int) {
	if len(b) == 0 || b[0] != FrameHandshakeDone {
		return -1
	}
	return 1
}

// AppendHandshakeDone appends a HANDSHAKE_DONE frame.
func AppendHandshakeDone(b []byte) []byte { return append(b, FrameHandshakeDone) }

// ConsumeDatagram parses a DATAGRAM frame of type 0x30 (data to the end of
// b) or 0x31 (with a Length field) (RFC 9221 §4). data aliases b.
func ConsumeDatagram(b []byte) (data []byte, n int) {
	if len(b) == 0 || b[0]&^1 != FrameDatagram {
		return nil, -1
	}
	if b[0] == FrameDatagram {
		return b[1:], len(b)
	}
	data, n = consumeVarintBytes(b[1:])
	if n < 0 {
		return nil, -1
	}
	return data, 1 + n
}

// AppendDatagram appends a DATAGRAM frame with the data. Without a Length
// field (withLength=false, type 0x30) the frame must be the packet's last.
func AppendDatagram(b []byte, data []byte, withLength bool) []byte {
	if withLength {
		return appendVarintBytes(append(b, FrameDatagramLen), data)
	}
	return append(append(b, FrameDatagram), data...)
}
