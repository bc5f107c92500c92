package wire

import "encoding/binary"

// MaxVarint is the largest value a variable-length integer can hold
// (RFC 9000 §16).
const MaxVarint = 1<<62 - 1

// ConsumeVarint decodes a variable-length integer (RFC 9000 §16) from the
// start of b. It returns the value and the number of bytes read, or n < 0
// if b is truncated. Non-minimal encodings are accepted, as RFC 9000 §16
// allows; ConsumeFrameType rejects them where minimality is required.
func ConsumeVarint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, -1
	}
	switch b[0] >> 6 {
	case 0:
		return uint64(b[0]), 1
	case 1:
		if len(b) < 2 {
			return 0, -1
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), 2
	case 2:
		if len(b) < 4 {
			return 0, -1
		}
		return uint64(binary.BigEndian.Uint32(b) & 0x3fffffff), 4
	default:
		if len(b) < 8 {
			return 0, -1
		}
		return binary.BigEndian.Uint64(b) & MaxVarint, 8
	}
}

// SizeVarint returns the number of bytes of the shortest encoding of v.
// v must not exceed MaxVarint.
func SizeVarint(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	default:
		return 8
	}
}

// AppendVarint appends the shortest encoding of v (RFC 9000 §16) to b.
// It panics if v exceeds MaxVarint, which is a programming error.
func AppendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, 0x80<<24|uint32(v))
	case v <= MaxVarint:
		return binary.BigEndian.AppendUint64(b, 0xc0<<56|v)
	}
	panic("wire: varint value out of range")
}

// AppendVarintLen appends v encoded in exactly n bytes (1, 2, 4 or 8), for
// length fields reserved before their value is known. It panics if n is not
// a valid encoding length or v does not fit in it.
func AppendVarintLen(b []byte, v uint64, n int) []byte {
	switch {
	case n == 1 && v < 1<<6:
		return append(b, byte(v))
	case n == 2 && v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case n == 4 && v < 1<<30:
		return binary.BigEndian.AppendUint32(b, 0x80<<24|uint32(v))
	case n == 8 && v <= MaxVarint:
		return binary.BigEndian.AppendUint64(b, 0xc0<<56|v)
	}
	panic("wire: varint does not fit the requested length")
}

// PutVarint2 writes v as a 2-byte varint into b[0:2], typically to patch the
// Length field reserved by AppendLongHeader. It panics if v >= 16384.
func PutVarint2(b []byte, v uint64) {
	if v >= 1<<14 {
		panic("wire: value does not fit a 2-byte varint")
	}
	b[0] = 0x40 | byte(v>>8)
	b[1] = byte(v)
}

// consumeVarintBytes decodes a varint length followed by that many bytes.
func consumeVarintBytes(b []byte) (data []byte, n int) {
	l, n := ConsumeVarint(b)
	if n < 0 || l > uint64(len(b)-n) {
		return nil, -1
	}
	return b[n : n+int(l)], n + int(l)
}

// appendVarintBytes appends len(data) as a varint followed by data.
func appendVarintBytes(b, data []byte) []byte {
	b = AppendVarint(b, uint64(len(data)))
	return append(b, data...)
}
