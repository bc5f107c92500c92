package quic

import (
	"strconv"
	"strings"
)

// MsQuic's flag sets and enumerations are defined beside the object each
// modifies (stream flags in stream.go, credential flags in credentials.go,
// TLS enums in tlsinfo.go, ...) with MsQuic's numeric values (msquic.h,
// msquic_posix.h), so values in logs and traces match MsQuic's. This file
// holds what their String methods share: flag sets print as "A|B", unknown
// bits and values in hex.

// flagName names one bit (or group of bits) of a flag set.
type flagName struct {
	bit  uint64
	name string
}

// formatFlags renders v as names joined by "|", consuming each named group
// greedily in table order; zero renders as zero.
func formatFlags(v uint64, zero string, names []flagName) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, f := range names {
		if v&f.bit == f.bit {
			parts = append(parts, f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(v, 16))
	}
	return strings.Join(parts, "|")
}

// enumString returns names[v] or a "Type(v)" fallback.
func enumString(typ string, v uint64, names map[uint64]string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return typ + "(" + strconv.FormatUint(v, 10) + ")"
}
