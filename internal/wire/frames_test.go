package wire

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

type frameCase struct {
	name    string
	enc     []byte
	consume func(b []byte) ([]any, int)
	want    []any
	minLen  int // truncations shorter than this must fail; 0 means len(enc)
}

func frameCases() []frameCase {
	data := []byte("hello, world")
	token := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	cid := []byte{0xc1, 0xc2, 0xc3, 0xc4}
	pd := [8]byte{8, 7, 6, 5, 4, 3, 2, 1}
	big := uint64(MaxVarint)
	return []frameCase{
		{
			name:    "PING",
			enc:     AppendPing(nil),
			consume: func(b []byte) ([]any, int) { return nil, ConsumePing(b) },
		},
		{
			name:    "PADDING",
			enc:     AppendPadding(nil, 7),
			consume: func(b []byte) ([]any, int) { return nil, ConsumePadding(b) },
			minLen:  1,
		},
		{
			name: "RESET_STREAM",
			enc:  AppendResetStream(nil, 4, 0x1234, big),
			consume: func(b []byte) ([]any, int) {
				id, code, fs, n := ConsumeResetStream(b)
				return []any{id, code, fs}, n
			},
			want: []any{uint64(4), uint64(0x1234), big},
		},
		{
			name: "STOP_SENDING",
			enc:  AppendStopSending(nil, 9, 77),
			consume: func(b []byte) ([]any, int) {
				id, code, n := ConsumeStopSending(b)
				return []any{id, code}, n
			},
			want: []any{uint64(9), uint64(77)},
		},
		{
			name: "CRYPTO",
			enc:  append(AppendCryptoHeader(nil, 1000, len(data)), data...),
			consume: func(b []byte) ([]any, int) {
				off, d, n := ConsumeCrypto(b)
				return []any{off, d}, n
			},
			want: []any{uint64(1000), data},
		},
		{
			name: "NEW_TOKEN",
			enc:  AppendNewToken(nil, data),
			consume: func(b []byte) ([]any, int) {
				tok, n := ConsumeNewToken(b)
				return []any{tok}, n
			},
			want: []any{data},
		},
		{
			name: "STREAM with offset, length and fin",
			enc:  append(AppendStreamHeader(nil, 8, 300, len(data), true, true), data...),
			consume: func(b []byte) ([]any, int) {
				id, off, fin, d, n := ConsumeStream(b)
				return []any{id, off, fin, d}, n
			},
			want: []any{uint64(8), uint64(300), true, data},
		},
		{
			name: "STREAM without offset or length",
			enc:  append(AppendStreamHeader(nil, 1<<20, 0, len(data), false, false), data...),
			consume: func(b []byte) ([]any, int) {
				id, off, fin, d, n := ConsumeStream(b)
				return []any{id, off, fin, d}, n
			},
			want:   []any{uint64(1 << 20), uint64(0), false, data},
			minLen: 1 + 4,
		},
		{
			name: "MAX_DATA",
			enc:  AppendMaxData(nil, 1<<40),
			consume: func(b []byte) ([]any, int) {
				v, n := ConsumeMaxData(b)
				return []any{v}, n
			},
			want: []any{uint64(1 << 40)},
		},
		{
			name: "MAX_STREAM_DATA",
			enc:  AppendMaxStreamData(nil, 3, 65536),
			consume: func(b []byte) ([]any, int) {
				id, v, n := ConsumeMaxStreamData(b)
				return []any{id, v}, n
			},
			want: []any{uint64(3), uint64(65536)},
		},
		{
			name: "MAX_STREAMS bidi",
			enc:  AppendMaxStreams(nil, true, 1<<60),
			consume: func(b []byte) ([]any, int) {
				bidi, v, n := ConsumeMaxStreams(b)
				return []any{bidi, v}, n
			},
			want: []any{true, uint64(1 << 60)},
		},
		{
			name: "MAX_STREAMS uni",
			enc:  AppendMaxStreams(nil, false, 100),
			consume: func(b []byte) ([]any, int) {
				bidi, v, n := ConsumeMaxStreams(b)
				return []any{bidi, v}, n
			},
			want: []any{false, uint64(100)},
		},
		{
			name: "DATA_BLOCKED",
			enc:  AppendDataBlocked(nil, 5000),
			consume: func(b []byte) ([]any, int) {
				v, n := ConsumeDataBlocked(b)
				return []any{v}, n
			},
			want: []any{uint64(5000)},
		},
		{
			name: "STREAM_DATA_BLOCKED",
			enc:  AppendStreamDataBlocked(nil, 12, 5000),
			consume: func(b []byte) ([]any, int) {
				id, v, n := ConsumeStreamDataBlocked(b)
				return []any{id, v}, n
			},
			want: []any{uint64(12), uint64(5000)},
		},
		{
			name: "STREAMS_BLOCKED bidi",
			enc:  AppendStreamsBlocked(nil, true, 7),
			consume: func(b []byte) ([]any, int) {
				bidi, v, n := ConsumeStreamsBlocked(b)
				return []any{bidi, v}, n
			},
			want: []any{true, uint64(7)},
		},
		{
			name: "STREAMS_BLOCKED uni",
			enc:  AppendStreamsBlocked(nil, false, 1<<60),
			consume: func(b []byte) ([]any, int) {
				bidi, v, n := ConsumeStreamsBlocked(b)
				return []any{bidi, v}, n
			},
			want: []any{false, uint64(1 << 60)},
		},
		{
			name: "NEW_CONNECTION_ID",
			enc:  AppendNewConnectionID(nil, 5, 2, cid, token),
			consume: func(b []byte) ([]any, int) {
				seq, rpt, c, tok, n := ConsumeNewConnectionID(b)
				return []any{seq, rpt, c, tok}, n
			},
			want: []any{uint64(5), uint64(2), cid, token},
		},
		{
			name: "RETIRE_CONNECTION_ID",
			enc:  AppendRetireConnectionID(nil, 3),
			consume: func(b []byte) ([]any, int) {
				seq, n := ConsumeRetireConnectionID(b)
				return []any{seq}, n
			},
			want: []any{uint64(3)},
		},
		{
			name: "PATH_CHALLENGE",
			enc:  AppendPathChallenge(nil, pd),
			consume: func(b []byte) ([]any, int) {
				d, n := ConsumePathChallenge(b)
				return []any{d}, n
			},
			want: []any{pd},
		},
		{
			name: "PATH_RESPONSE",
			enc:  AppendPathResponse(nil, pd),
			consume: func(b []byte) ([]any, int) {
				d, n := ConsumePathResponse(b)
				return []any{d}, n
			},
			want: []any{pd},
		},
		{
			name: "CONNECTION_CLOSE transport",
			enc:  AppendConnectionClose(nil, false, uint64(ProtocolViolation), FrameStream|StreamBitFin, []byte("bad")),
			consume: func(b []byte) ([]any, int) {
				app, code, ft, r, n := ConsumeConnectionClose(b)
				return []any{app, code, ft, r}, n
			},
			want: []any{false, uint64(ProtocolViolation), uint64(FrameStream | StreamBitFin), []byte("bad")},
		},
		{
			name: "CONNECTION_CLOSE application",
			enc:  AppendConnectionClose(nil, true, 42, 0, []byte("bye")),
			consume: func(b []byte) ([]any, int) {
				app, code, ft, r, n := ConsumeConnectionClose(b)
				return []any{app, code, ft, r}, n
			},
			want: []any{true, uint64(42), uint64(0), []byte("bye")},
		},
		{
			name:    "HANDSHAKE_DONE",
			enc:     AppendHandshakeDone(nil),
			consume: func(b []byte) ([]any, int) { return nil, ConsumeHandshakeDone(b) },
		},
		{
			name: "DATAGRAM with length",
			enc:  AppendDatagram(nil, data, true),
			consume: func(b []byte) ([]any, int) {
				d, n := ConsumeDatagram(b)
				return []any{d}, n
			},
			want: []any{data},
		},
		{
			name: "DATAGRAM without length",
			enc:  AppendDatagram(nil, data, false),
			consume: func(b []byte) ([]any, int) {
				d, n := ConsumeDatagram(b)
				return []any{d}, n
			},
			want:   []any{data},
			minLen: 1,
		},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, c := range frameCases() {
		got, n := c.consume(c.enc)
		if n != len(c.enc) {
			t.Errorf("%s: consumed %d of %d bytes (%x)", c.name, n, len(c.enc), c.enc)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		// Trailing bytes are not part of the frame (except for the
		// length-less forms, which extend to the end).
		if c.minLen == 0 {
			if _, n := c.consume(append(c.enc[:len(c.enc):len(c.enc)], 0xff)); n != len(c.enc) {
				t.Errorf("%s: with a trailing byte consumed %d, want %d", c.name, n, len(c.enc))
			}
		}
	}
}

func TestFrameTruncatedAtEveryByte(t *testing.T) {
	for _, c := range frameCases() {
		min := c.minLen
		if min == 0 {
			min = len(c.enc)
		}
		for i := range min {
			if _, n := c.consume(c.enc[:i]); n >= 0 {
				t.Errorf("%s: truncated to %d bytes, consumed %d", c.name, i, n)
			}
		}
	}
}

func TestFrameWrongTypeRejected(t *testing.T) {
	cases := frameCases()
	for _, c := range cases {
		for _, other := range cases {
			if strings.Fields(other.name)[0] == strings.Fields(c.name)[0] {
				continue // same frame family, same parser
			}
			if _, n := c.consume(other.enc); n >= 0 {
				t.Errorf("%s consumed a %s frame", c.name, other.name)
			}
		}
	}
}

func TestFrameSizes(t *testing.T) {
	for _, c := range []struct {
		id, off    uint64
		length     int
		withLength bool
	}{{0, 0, 0, false}, {4, 0, 100, true}, {1 << 40, 1 << 30, 16000, true}, {63, 64, 1, false}} {
		b := AppendStreamHeader(nil, c.id, c.off, c.length, true, c.withLength)
		if len(b) != SizeStreamHeader(c.id, c.off, c.length, c.withLength) {
			t.Errorf("SizeStreamHeader%+v = %d, header is %d bytes", c, SizeStreamHeader(c.id, c.off, c.length, c.withLength), len(b))
		}
		if c.off == 0 && b[0]&StreamBitOff != 0 {
			t.Errorf("offset field written for offset 0")
		}
		b = AppendCryptoHeader(nil, c.off, c.length)
		if len(b) != SizeCryptoHeader(c.off, c.length) {
			t.Errorf("SizeCryptoHeader(%d, %d) = %d, header is %d bytes", c.off, c.length, SizeCryptoHeader(c.off, c.length), len(b))
		}
	}
}

// RFC 9000 §19.8: offset + length beyond 2^62-1 MUST be FRAME_ENCODING_ERROR
// (or FLOW_CONTROL_ERROR).
func TestStreamOffsetPlusLengthOver2to62Rejected(t *testing.T) {
	ok := append(AppendStreamHeader(nil, 0, MaxVarint-3, 3, false, true), 1, 2, 3)
	if _, _, _, _, n := ConsumeStream(ok); n != len(ok) {
		t.Fatalf("frame ending exactly at 2^62-1 rejected")
	}
	bad := append(AppendStreamHeader(nil, 0, MaxVarint-2, 3, false, true), 1, 2, 3)
	if _, _, _, _, n := ConsumeStream(bad); n >= 0 {
		t.Fatal("frame ending past 2^62-1 accepted")
	}
	bad = append(AppendStreamHeader(nil, 0, MaxVarint, 0, false, false), 1)
	if _, _, _, _, n := ConsumeStream(bad); n >= 0 {
		t.Fatal("length-less frame ending past 2^62-1 accepted")
	}
}

// RFC 9000 §19.6: the same limit applies to CRYPTO frames.
func TestCryptoOffsetPlusLengthOver2to62Rejected(t *testing.T) {
	bad := append(AppendCryptoHeader(nil, MaxVarint, 1), 1)
	if _, _, n := ConsumeCrypto(bad); n >= 0 {
		t.Fatal("CRYPTO frame ending past 2^62-1 accepted")
	}
}

// RFC 9000 §19.11 and §19.14: stream counts above 2^60 are
// FRAME_ENCODING_ERROR.
func TestStreamCountsOver2to60Rejected(t *testing.T) {
	for _, bidi := range []bool{true, false} {
		if _, _, n := ConsumeMaxStreams(AppendMaxStreams(nil, bidi, 1<<60+1)); n >= 0 {
			t.Errorf("MAX_STREAMS bidi=%v above 2^60 accepted", bidi)
		}
		if _, _, n := ConsumeStreamsBlocked(AppendStreamsBlocked(nil, bidi, 1<<60+1)); n >= 0 {
			t.Errorf("STREAMS_BLOCKED bidi=%v above 2^60 accepted", bidi)
		}
	}
}

// RFC 9000 §19.15: a connection ID length of 0 or above 20, or Retire Prior
// To above Sequence Number, is FRAME_ENCODING_ERROR.
func TestNewConnectionIDRules(t *testing.T) {
	var tok [16]byte
	for name, b := range map[string][]byte{
		"zero-length CID":           AppendNewConnectionID(nil, 1, 0, nil, tok),
		"21-byte CID":               AppendNewConnectionID(nil, 1, 0, make([]byte, 21), tok),
		"retire_prior_to above seq": AppendNewConnectionID(nil, 1, 2, []byte{1}, tok),
	} {
		if _, _, _, _, n := ConsumeNewConnectionID(b); n >= 0 {
			t.Errorf("%s accepted", name)
		}
	}
	b := AppendNewConnectionID(nil, 2, 2, make([]byte, 20), tok)
	if _, _, _, _, n := ConsumeNewConnectionID(b); n != len(b) {
		t.Error("20-byte CID with retire_prior_to == seq rejected")
	}
}

// RFC 9000 §19.7: an empty NEW_TOKEN is FRAME_ENCODING_ERROR.
func TestNewTokenEmptyRejected(t *testing.T) {
	if _, n := ConsumeNewToken(AppendNewToken(nil, nil)); n >= 0 {
		t.Fatal("empty NEW_TOKEN accepted")
	}
}

// A Reason Phrase Length past the end of the frame is FRAME_ENCODING_ERROR.
func TestConnectionCloseReasonPastEndRejected(t *testing.T) {
	b := AppendConnectionClose(nil, false, 1, 0, []byte("abc"))
	if _, _, _, _, n := ConsumeConnectionClose(b[:len(b)-1]); n >= 0 {
		t.Fatal("reason past the end accepted")
	}
	b = AppendConnectionClose(nil, true, 1, 0, nil)
	b[len(b)-1] = 0x3f
	if _, _, _, _, n := ConsumeConnectionClose(b); n >= 0 {
		t.Fatal("application close with reason past the end accepted")
	}
}

// RFC 9000 §12.4: frame types MUST use the shortest encoding; a longer one
// may be treated as PROTOCOL_VIOLATION.
func TestFrameTypeNotMinimalRejected(t *testing.T) {
	if typ, n := ConsumeFrameType([]byte{0x01}); typ != FramePing || n != 1 {
		t.Fatalf("ConsumeFrameType(01) = %d, %d", typ, n)
	}
	if _, n := ConsumeFrameType([]byte{0x40, 0x01}); n >= 0 {
		t.Fatal("2-byte encoding of PING accepted")
	}
	if _, n := ConsumeFrameType([]byte{0x40}); n >= 0 {
		t.Fatal("truncated frame type accepted")
	}
	if typ, n := ConsumeFrameType([]byte{0x40, 0x40}); typ != 0x40 || n != 2 {
		t.Fatalf("ConsumeFrameType(4040) = %d, %d", typ, n)
	}
	if _, err := ParseDebugFrames([]byte{0x40, 0x01}); errCode(err) != ProtocolViolation {
		t.Fatalf("ParseDebugFrames(4001) error %v, want PROTOCOL_VIOLATION", err)
	}
	if n := ConsumePing([]byte{0x40, 0x01}); n >= 0 {
		t.Fatal("ConsumePing accepted a non-minimal type")
	}
}

func TestFrameAllowedTable(t *testing.T) {
	// The "Pkts" column of RFC 9000 §12.4 Table 3 (I=Initial, H=Handshake,
	// 0=0-RTT, 1=1-RTT), with RETIRE_CONNECTION_ID kept out of 0-RTT as
	// §17.2.3 requires, and DATAGRAM per RFC 9221 §4.
	table := map[uint64]string{
		FramePadding: "IH01", FramePing: "IH01", FrameAck: "IH1", FrameAckECN: "IH1",
		FrameResetStream: "01", FrameStopSending: "01", FrameCrypto: "IH1", FrameNewToken: "1",
		FrameMaxData: "01", FrameMaxStreamData: "01", FrameMaxStreamsBidi: "01", FrameMaxStreamsUni: "01",
		FrameDataBlocked: "01", FrameStreamDataBlocked: "01", FrameStreamsBlockedBidi: "01",
		FrameStreamsBlockedUni: "01", FrameNewConnectionID: "01", FrameRetireConnectionID: "1",
		FramePathChallenge: "01", FramePathResponse: "1", FrameConnectionCloseTransport: "IH01",
		FrameConnectionCloseApp: "01", FrameHandshakeDone: "1", FrameDatagram: "01", FrameDatagramLen: "01",
		0x1f: "", 0x20: "", 0x2f: "", 0x32: "", 0x4000: "",
	}
	for typ := uint64(FrameStream); typ <= FrameStream|7; typ++ {
		table[typ] = "01"
	}
	letters := map[PacketType]string{PacketInitial: "I", PacketHandshake: "H", Packet0RTT: "0", Packet1RTT: "1"}
	for typ, allowed := range table {
		for pt := PacketInitial; pt <= PacketVersionNegotiation; pt++ {
			want := letters[pt] != "" && bytes.Contains([]byte(allowed), []byte(letters[pt]))
			if got := FrameAllowed(typ, pt); got != want {
				t.Errorf("FrameAllowed(%#x, %v) = %v, want %v", typ, pt, got, want)
			}
		}
	}
}

func TestAckElicitingAndProbing(t *testing.T) {
	for typ := uint64(0); typ <= FrameDatagramLen; typ++ {
		wantAE := typ != FrameAck && typ != FrameAckECN && typ != FramePadding &&
			typ != FrameConnectionCloseTransport && typ != FrameConnectionCloseApp
		if IsAckEliciting(typ) != wantAE {
			t.Errorf("IsAckEliciting(%#x) = %v", typ, !wantAE)
		}
		wantP := typ == FramePathChallenge || typ == FramePathResponse || typ == FrameNewConnectionID || typ == FramePadding
		if IsProbing(typ) != wantP {
			t.Errorf("IsProbing(%#x) = %v", typ, !wantP)
		}
	}
}

func errCode(err error) ErrorCode {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return ^ErrorCode(0)
}

func TestErrorCodes(t *testing.T) {
	for c, want := range map[ErrorCode]string{
		NoError: "NO_ERROR", ProtocolViolation: "PROTOCOL_VIOLATION", NoViablePath: "NO_VIABLE_PATH",
		VersionNegotiationError: "VERSION_NEGOTIATION_ERROR", CryptoError(42): "CRYPTO_ERROR(0x12a)",
		0x12: "0x12", 0x200: "0x200",
	} {
		if c.String() != want {
			t.Errorf("%#x.String() = %q, want %q", uint64(c), c.String(), want)
		}
	}
	if CryptoError(0x50) != 0x150 || !CryptoError(0).IsCrypto() || !CryptoError(255).IsCrypto() || ErrorCode(0x200).IsCrypto() || InternalError.IsCrypto() {
		t.Error("crypto error range wrong")
	}
	if VersionNegotiationError != 0x11 || NoViablePath != 0x10 || AEADLimitReached != 0xf {
		t.Error("error code values wrong")
	}
	err := error(&Error{Code: FrameEncodingError, FrameType: 0x08, Reason: "bad"})
	if got := err.Error(); got != "quic: FRAME_ENCODING_ERROR (frame type 0x8): bad" {
		t.Errorf("Error() = %q", got)
	}
}
