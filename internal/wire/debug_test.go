package wire

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func debugFrameSamples() []DebugFrame {
	return []DebugFrame{
		DebugPadding{N: 3},
		DebugPing{},
		DebugAck{Delay: 10, Ranges: []DebugAckRange{{90, 100}, {50, 60}, {0, 0}}},
		DebugAck{Delay: 0, Ranges: []DebugAckRange{{7, 7}}, ECN: &ECNCounts{1, 2, 3}},
		DebugResetStream{ID: 4, Code: 5, FinalSize: 6},
		DebugStopSending{ID: 8, Code: 9},
		DebugCrypto{Off: 100, Data: []byte("client hello")},
		DebugNewToken{Token: []byte("token")},
		DebugStream{ID: 0, Off: 0, Data: []byte("a")},
		DebugStream{ID: 4, Off: 1 << 30, Fin: true, Data: nil},
		DebugMaxData{Max: 1 << 50},
		DebugMaxStreamData{ID: 3, Max: 4},
		DebugMaxStreams{Bidi: true, Max: 10},
		DebugMaxStreams{Bidi: false, Max: 1 << 60},
		DebugDataBlocked{Limit: 5},
		DebugStreamDataBlocked{ID: 7, Limit: 8},
		DebugStreamsBlocked{Bidi: true, Limit: 1},
		DebugStreamsBlocked{Bidi: false, Limit: 2},
		DebugNewConnectionID{Seq: 3, RetirePriorTo: 1, CID: []byte{1, 2, 3, 4}, Token: [16]byte{9}},
		DebugRetireConnectionID{Seq: 2},
		DebugPathChallenge{Data: [8]byte{1, 2, 3}},
		DebugPathResponse{Data: [8]byte{4, 5, 6}},
		DebugConnectionClose{Code: uint64(FlowControlError), FrameType: FrameStream, Reason: "too much"},
		DebugConnectionClose{App: true, Code: 0x100, Reason: ""},
		DebugHandshakeDone{},
		DebugDatagram{Data: []byte("dgram")},
	}
}

func TestDebugFrameRoundTrip(t *testing.T) {
	samples := debugFrameSamples()
	var all []byte
	for _, f := range samples {
		b := f.Append(nil)
		got, err := ParseDebugFrames(b)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], f) {
			t.Errorf("%v: parsed %v, %v", f, got, err)
		}
		if f.String() == "" {
			t.Errorf("%#v has an empty String", f)
		}
		all = f.Append(all)
	}
	// Length-less forms must come last.
	tail := []DebugFrame{DebugStream{ID: 1, Off: 2, Data: []byte("rest"), NoLength: true}}
	for _, f := range tail {
		all = f.Append(all)
	}
	got, err := ParseDebugFrames(all)
	if err != nil || !reflect.DeepEqual(got, append(samples, tail...)) {
		t.Fatalf("whole payload parsed to %v, %v", got, err)
	}
	got, err = ParseDebugFrames(DebugDatagram{Data: []byte("x"), NoLength: true}.Append(nil))
	if err != nil || !reflect.DeepEqual(got, []DebugFrame{DebugDatagram{Data: []byte("x"), NoLength: true}}) {
		t.Fatalf("length-less DATAGRAM parsed to %v, %v", got, err)
	}
}

func TestDebugFrameStrings(t *testing.T) {
	for _, c := range []struct {
		f    DebugFrame
		want string
	}{
		{DebugPing{}, "PING"},
		{DebugStream{ID: 4, Off: 10, Fin: true, Data: []byte("ab"), NoLength: true}, "STREAM id=4 off=10 len=2 fin nolen"},
		{DebugMaxStreams{Bidi: false, Max: 3}, "MAX_STREAMS uni max=3"},
	} {
		if c.f.String() != c.want {
			t.Errorf("String() = %q, want %q", c.f.String(), c.want)
		}
	}
	ack := DebugAck{Delay: 1, Ranges: []DebugAckRange{{5, 9}, {0, 2}}, ECN: &ECNCounts{1, 2, 3}}
	if s := ack.String(); !strings.Contains(s, "5-9 0-2") || !strings.Contains(s, "ce=3") {
		t.Errorf("ACK String() = %q", s)
	}
	cc := DebugConnectionClose{Code: uint64(ProtocolViolation), FrameType: 6, Reason: "x"}
	if s := cc.String(); !strings.Contains(s, "PROTOCOL_VIOLATION") {
		t.Errorf("CONNECTION_CLOSE String() = %q", s)
	}
}

func TestParseDebugFramesErrors(t *testing.T) {
	for name, c := range map[string]struct {
		b         []byte
		code      ErrorCode
		frameType uint64
	}{
		"unknown type":          {[]byte{0x1f}, FrameEncodingError, 0x1f},
		"unknown 2-byte type":   {[]byte{0x40, 0x40}, FrameEncodingError, 0x40},
		"non-minimal type":      {[]byte{0x40, 0x06}, ProtocolViolation, 0},
		"truncated type":        {[]byte{0x01, 0x80, 0x00}, FrameEncodingError, 0},
		"truncated frame":       {[]byte{FrameMaxData, 0x80}, FrameEncodingError, FrameMaxData},
		"empty NEW_TOKEN":       {[]byte{FrameNewToken, 0}, FrameEncodingError, FrameNewToken},
		"bad frame after good":  {[]byte{FramePing, FrameStopSending, 1}, FrameEncodingError, FrameStopSending},
		"STREAM past 2^62":      {append(AppendStreamHeader(nil, 0, MaxVarint, 1, false, true), 0), FrameEncodingError, FrameStream | StreamBitOff | StreamBitLen},
		"MAX_STREAMS past 2^60": {AppendMaxStreams(nil, false, 1<<61), FrameEncodingError, FrameMaxStreamsUni},
	} {
		_, err := ParseDebugFrames(c.b)
		e, ok := err.(*Error)
		if !ok || e.Code != c.code || e.FrameType != c.frameType {
			t.Errorf("%s: error %v, want code %v frame type %#x", name, err, c.code, c.frameType)
		}
	}
	if f, err := ParseDebugFrames(nil); f != nil || err != nil {
		t.Errorf("empty payload: %v, %v", f, err)
	}
}

func FuzzFrames(f *testing.F) {
	for _, c := range frameCases() {
		f.Add(c.enc)
	}
	var all []byte
	for _, fr := range debugFrameSamples() {
		all = fr.Append(all)
	}
	f.Add(all)
	f.Add([]byte{0x40, 0x01})
	f.Add(append(AppendStreamHeader(nil, 0, 0, 0, false, false), 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The raw dispatch: every frame's n must be within the remaining bytes.
		for rest := b; len(rest) > 0; {
			typ, n := ConsumeFrameType(rest)
			if n < 0 {
				break
			}
			_, m, known := parseDebugFrame(typ, rest)
			if !known || m < 0 {
				break
			}
			if m == 0 || m > len(rest) {
				t.Fatalf("frame %#x consumed %d of %d bytes", typ, m, len(rest))
			}
			rest = rest[m:]
		}
		frames, err := ParseDebugFrames(b)
		if err != nil {
			if c := errCode(err); c != FrameEncodingError && c != ProtocolViolation {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		var canon []byte
		for _, fr := range frames {
			canon = fr.Append(canon)
		}
		if len(canon) > len(b) {
			t.Fatalf("canonical form %x is longer than the input %x", canon, b)
		}
		frames2, err := ParseDebugFrames(canon)
		if err != nil || !reflect.DeepEqual(frames, frames2) {
			t.Fatalf("canonical form %x of %x re-parses to %v, %v; want %v", canon, b, frames2, err, frames)
		}
		var canon2 []byte
		for _, fr := range frames2 {
			canon2 = fr.Append(canon2)
		}
		if !bytes.Equal(canon, canon2) {
			t.Fatalf("canonical form is not stable: %x then %x", canon, canon2)
		}
	})
}
