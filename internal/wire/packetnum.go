package wire

// DecodePacketNumber reconstructs a full packet number from its truncated
// encoding of nbytes bytes (RFC 9000 §17.1, Appendix A.3). largest is the
// largest packet number successfully processed in the packet number space,
// or -1 if none has been.
func DecodePacketNumber(largest int64, truncated uint64, nbytes int) int64 {
	expected := largest + 1
	win := int64(1) << (8 * nbytes)
	hwin := win / 2
	mask := win - 1
	candidate := expected&^mask | int64(truncated)&mask
	switch {
	case candidate <= expected-hwin && candidate < 1<<62-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// PacketNumberLen returns the number of bytes (1 to 4) needed to encode pn
// so that a receiver that has seen largestAcked can decode it (RFC 9000
// §17.1, Appendix A.2): the encoding must represent more than twice the
// number of unacknowledged packet numbers. largestAcked is -1 if no packet
// of the space has been acknowledged.
func PacketNumberLen(pn, largestAcked int64) int {
	unacked := pn - largestAcked
	switch {
	case unacked <= 1<<7:
		return 1
	case unacked <= 1<<15:
		return 2
	case unacked <= 1<<23:
		return 3
	}
	return 4
}

// AppendPacketNumber appends the low n bytes (1 to 4) of pn, big-endian.
func AppendPacketNumber(b []byte, pn int64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(pn>>(8*i)))
	}
	return b
}
