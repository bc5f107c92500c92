package quicnet

import (
	"io"
	"testing"
)

// BenchmarkStreamWriteRead moves 64 KiB per iteration through a stream
// over loopback UDP: Write on one end, io.ReadFull on the other.
func BenchmarkStreamWriteRead(b *testing.B) {
	client, server := loopbackPair(b)
	a, peer := openPair(b, client, server)
	buf := make([]byte, 64<<10)
	in := make([]byte, len(buf))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(peer, in); err != nil {
			b.Fatal(err)
		}
	}
}
