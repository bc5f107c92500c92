package wire

import (
	"testing"

	"github.com/hquic/quic/internal/rangeset"
)

func ackSet(n int) *rangeset.Set[int64] {
	var s rangeset.Set[int64]
	for i := int64(0); i < int64(n); i++ {
		s.Add(i*10, i*10+7)
	}
	return &s
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	stream := append(AppendStreamHeader(nil, 4, 1<<20, 1200, false, true), make([]byte, 1200)...)
	ack := AppendAck(nil, ackSet(100), 10, &ECNCounts{1, 2, 3}, 1500)
	initial := buildLong(PacketInitial, Version1, make([]byte, 8), make([]byte, 8), []byte("token"), 0, 4, make([]byte, 1200))
	short := append(AppendShortHeader(nil, make([]byte, 8), 2, false, false), make([]byte, 100)...)
	set := ackSet(100)
	buf := make([]byte, 0, 2048)
	var sink int64
	for name, f := range map[string]func(){
		"ConsumeStream": func() {
			_, _, _, d, n := ConsumeStream(stream)
			sink += int64(len(d) + n)
		},
		"ConsumeAck+Iter": func() {
			a, _ := ConsumeAck(ack)
			it := a.Iter()
			for s, l, ok := it.Next(); ok; s, l, ok = it.Next() {
				sink += l - s
			}
		},
		"AppendAck": func() {
			buf = AppendAck(buf[:0], set, 10, &ECNCounts{1, 2, 3}, 1200)
		},
		"ParseDCID": func() {
			d, _ := ParseDCID(short, 8)
			d2, _ := ParseDCID(initial, 8)
			sink += int64(len(d) + len(d2))
		},
		"ParseLongHeader": func() {
			h, _ := ParseLongHeader(initial)
			sink += int64(h.Len)
		},
		"AppendStreamHeader": func() {
			buf = AppendStreamHeader(buf[:0], 4, 1<<20, 1200, true, true)
		},
		"ConsumeFrameType+control frames": func() {
			b := AppendMaxStreamData(buf[:0], 4, 1<<20)
			_, n := ConsumeFrameType(b)
			_, v, m := ConsumeMaxStreamData(b)
			sink += int64(v) + int64(n+m)
		},
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s allocates %v times per run", name, a)
		}
	}
	_ = sink
}

func BenchmarkConsumeStream(b *testing.B) {
	frame := append(AppendStreamHeader(nil, 4, 1<<20, 1200, false, true), make([]byte, 1200)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, _, _, _, n := ConsumeStream(frame); n < 0 {
			b.Fatal("parse failed")
		}
	}
}

// BenchmarkParseFrames walks a typical 1-RTT payload: ACK, MAX_DATA,
// MAX_STREAM_DATA and two STREAM frames.
func BenchmarkParseFrames(b *testing.B) {
	p := AppendAck(nil, ackSet(4), 25, nil, 100)
	p = AppendMaxData(p, 1<<30)
	p = AppendMaxStreamData(p, 4, 1<<20)
	p = append(AppendStreamHeader(p, 4, 1000, 500, false, true), make([]byte, 500)...)
	p = append(AppendStreamHeader(p, 8, 0, 600, true, false), make([]byte, 600)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		for rest := p; len(rest) > 0; {
			typ, n := ConsumeFrameType(rest)
			switch {
			case typ == FrameAck:
				a, m := ConsumeAck(rest)
				it := a.Iter()
				for _, _, ok := it.Next(); ok; _, _, ok = it.Next() {
				}
				n = m
			case typ == FrameMaxData:
				_, n = ConsumeMaxData(rest)
			case typ == FrameMaxStreamData:
				_, _, n = ConsumeMaxStreamData(rest)
			case typ&^7 == FrameStream:
				_, _, _, _, n = ConsumeStream(rest)
			}
			if n < 0 {
				b.Fatal("parse failed")
			}
			rest = rest[n:]
		}
	}
}

func BenchmarkConsumeAck100Ranges(b *testing.B) {
	frame := AppendAck(nil, ackSet(100), 10, nil, 1500)
	b.ReportAllocs()
	for b.Loop() {
		a, n := ConsumeAck(frame)
		if n < 0 {
			b.Fatal("parse failed")
		}
		it := a.Iter()
		for _, _, ok := it.Next(); ok; _, _, ok = it.Next() {
		}
	}
}

func BenchmarkAppendAck100Ranges(b *testing.B) {
	set := ackSet(100)
	buf := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendAck(buf[:0], set, 10, nil, 1200)
	}
}

func BenchmarkParseLongHeader(b *testing.B) {
	p := buildLong(PacketInitial, Version1, make([]byte, 8), make([]byte, 8), nil, 0, 4, make([]byte, 1200))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseLongHeader(p); !ok {
			b.Fatal("parse failed")
		}
	}
}

func BenchmarkParseDCID(b *testing.B) {
	p := append(AppendShortHeader(nil, make([]byte, 8), 2, false, false), make([]byte, 100)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseDCID(p, 8); !ok {
			b.Fatal("parse failed")
		}
	}
}

func BenchmarkVarint(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = AppendVarint(buf[:0], uint64(i)*0x9e3779b97f4a7c15&MaxVarint)
		if _, n := ConsumeVarint(buf); n < 0 {
			b.Fatal("parse failed")
		}
	}
}
