package stream

import (
	"math/bits"
	"sync"
)

// A chunk is a power-of-two sized byte buffer from a size-class pool. Chunks
// back receive buffers and buffered send data. Pools hold *chunk so that
// returning one never allocates.
type chunk struct {
	b []byte
}

const (
	minChunkShift = 12 // 4 KiB, MsQuic's minimum StreamRecvBufferDefault
	maxChunkShift = 27 // 128 MiB; larger buffers are not pooled
)

var chunkPools [maxChunkShift - minChunkShift + 1]sync.Pool

// chunkSize returns the size of the class that holds n bytes.
func chunkSize(n int) int {
	if n <= 1<<minChunkShift {
		return 1 << minChunkShift
	}
	return 1 << bits.Len(uint(n-1))
}

// getChunk returns a chunk of at least n bytes (its size is chunkSize(n)).
// Its contents are unspecified.
func getChunk(n int) *chunk {
	size := chunkSize(n)
	shift := bits.TrailingZeros(uint(size))
	if shift <= maxChunkShift {
		if c, ok := chunkPools[shift-minChunkShift].Get().(*chunk); ok {
			return c
		}
	}
	return &chunk{b: make([]byte, size)}
}

// putChunk returns c to its pool. The caller must hold the only reference to
// its memory: no slice of it may still be in use anywhere.
func putChunk(c *chunk) {
	if c == nil {
		return
	}
	shift := bits.TrailingZeros(uint(len(c.b)))
	if len(c.b) != 1<<shift || shift > maxChunkShift || shift < minChunkShift {
		return
	}
	chunkPools[shift-minChunkShift].Put(c)
}
