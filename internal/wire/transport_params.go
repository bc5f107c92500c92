package wire

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Transport parameter identifiers (RFC 9000 §18.2, RFC 9221 §3, RFC 9368 §3,
// RFC 9287 §3).
const (
	tpOriginalDestinationCID  = 0x00
	tpMaxIdleTimeout          = 0x01
	tpStatelessResetToken     = 0x02
	tpMaxUDPPayloadSize       = 0x03
	tpInitialMaxData          = 0x04
	tpInitialMaxStreamDataBL  = 0x05
	tpInitialMaxStreamDataBR  = 0x06
	tpInitialMaxStreamDataUni = 0x07
	tpInitialMaxStreamsBidi   = 0x08
	tpInitialMaxStreamsUni    = 0x09
	tpAckDelayExponent        = 0x0a
	tpMaxAckDelay             = 0x0b
	tpDisableActiveMigration  = 0x0c
	tpPreferredAddress        = 0x0d
	tpActiveConnectionIDLimit = 0x0e
	tpInitialSourceCID        = 0x0f
	tpRetrySourceCID          = 0x10
	tpVersionInformation      = 0x11
	tpMaxDatagramFrameSize    = 0x20
	tpGreaseQUICBit           = 0x2ab2
)

// Defaults and limits of transport parameters (RFC 9000 §18.2).
const (
	defaultMaxUDPPayloadSize       = 65527
	minMaxUDPPayloadSize           = 1200
	defaultAckDelayExponent        = 3
	maxAckDelayExponent            = 20
	defaultMaxAckDelay             = 25 * time.Millisecond
	maxMaxAckDelayMs               = 1 << 14
	defaultActiveConnectionIDLimit = 2
	statelessResetTokenLen         = 16
)

// TransportParameters are the QUIC transport parameters (RFC 9000 §18.2)
// plus those of RFC 9221 (max_datagram_frame_size), RFC 9287
// (grease_quic_bit) and RFC 9368 (version_information). Start from
// DefaultTransportParameters. Durations are carried in whole milliseconds
// on the wire.
type TransportParameters struct {
	OriginalDestinationCID    []byte
	HasOriginalDestinationCID bool
	// MaxIdleTimeout is zero when idle timeout is disabled. Received values
	// too large for a time.Duration saturate at the largest whole number of
	// milliseconds it holds.
	MaxIdleTimeout                 time.Duration
	StatelessResetToken            [16]byte
	HasStatelessResetToken         bool
	MaxUDPPayloadSize              uint64 // zero is written as the default
	InitialMaxData                 uint64
	InitialMaxStreamDataBidiLocal  uint64
	InitialMaxStreamDataBidiRemote uint64
	InitialMaxStreamDataUni        uint64
	InitialMaxStreamsBidi          uint64
	InitialMaxStreamsUni           uint64
	AckDelayExponent               uint8
	MaxAckDelay                    time.Duration
	DisableActiveMigration         bool
	PreferredAddress               PreferredAddress
	HasPreferredAddress            bool
	ActiveConnectionIDLimit        uint64 // zero is written as the default
	InitialSourceCID               []byte
	HasInitialSourceCID            bool
	RetrySourceCID                 []byte
	HasRetrySourceCID              bool
	MaxDatagramFrameSize           uint64
	HasMaxDatagramFrameSize        bool
	GreaseQUICBit                  bool
	VersionInformation             VersionInformation
	HasVersionInformation          bool

	// GreaseSeed selects the reserved parameter that Append emits to
	// exercise the peer's tolerance of unknown parameters (RFC 9000 §18.1):
	// its id 31*N+27 and a value of up to 7 bytes are derived from the
	// seed. Callers should set it from a random source per connection. It
	// is not sent as such and is zero after parsing.
	GreaseSeed uint64
}

// PreferredAddress is the value of the preferred_address transport
// parameter (RFC 9000 §18.2). An address family the server does not offer is
// the zero netip.AddrPort, which is sent as the all-zero address and port.
type PreferredAddress struct {
	IPv4                netip.AddrPort
	IPv6                netip.AddrPort
	CID                 []byte
	StatelessResetToken [16]byte
}

// VersionInformation is the value of the version_information transport
// parameter (RFC 9368 §3).
type VersionInformation struct {
	Chosen    uint32
	Available []uint32
}

// DefaultTransportParameters returns the values that apply when a parameter
// is absent (RFC 9000 §18.2): max_udp_payload_size 65527,
// ack_delay_exponent 3, max_ack_delay 25 ms, active_connection_id_limit 2,
// and zero or absent for everything else.
func DefaultTransportParameters() TransportParameters {
	return TransportParameters{
		MaxUDPPayloadSize:       defaultMaxUDPPayloadSize,
		AckDelayExponent:        defaultAckDelayExponent,
		MaxAckDelay:             defaultMaxAckDelay,
		ActiveConnectionIDLimit: defaultActiveConnectionIDLimit,
	}
}

// Append appends the encoded parameters (RFC 9000 §18). Parameters equal to
// their default are omitted, as are absent optional ones; one reserved
// parameter derived from GreaseSeed is always included (RFC 9000 §18.1).
// Validity is the caller's responsibility: Append encodes what it is given.
func (p *TransportParameters) Append(b []byte) []byte {
	if p.HasOriginalDestinationCID {
		b = appendParamBytes(b, tpOriginalDestinationCID, p.OriginalDestinationCID)
	}
	if p.MaxIdleTimeout > 0 {
		b = appendParamInt(b, tpMaxIdleTimeout, durationMs(p.MaxIdleTimeout))
	}
	if p.HasStatelessResetToken {
		b = appendParamBytes(b, tpStatelessResetToken, p.StatelessResetToken[:])
	}
	if p.MaxUDPPayloadSize != 0 && p.MaxUDPPayloadSize != defaultMaxUDPPayloadSize {
		b = appendParamInt(b, tpMaxUDPPayloadSize, p.MaxUDPPayloadSize)
	}
	for _, f := range [...]struct {
		id uint64
		v  uint64
	}{
		{tpInitialMaxData, p.InitialMaxData},
		{tpInitialMaxStreamDataBL, p.InitialMaxStreamDataBidiLocal},
		{tpInitialMaxStreamDataBR, p.InitialMaxStreamDataBidiRemote},
		{tpInitialMaxStreamDataUni, p.InitialMaxStreamDataUni},
		{tpInitialMaxStreamsBidi, p.InitialMaxStreamsBidi},
		{tpInitialMaxStreamsUni, p.InitialMaxStreamsUni},
	} {
		if f.v != 0 {
			b = appendParamInt(b, f.id, f.v)
		}
	}
	if p.AckDelayExponent != defaultAckDelayExponent {
		b = appendParamInt(b, tpAckDelayExponent, uint64(p.AckDelayExponent))
	}
	if p.MaxAckDelay != defaultMaxAckDelay {
		b = appendParamInt(b, tpMaxAckDelay, durationMs(p.MaxAckDelay))
	}
	if p.DisableActiveMigration {
		b = appendParamBytes(b, tpDisableActiveMigration, nil)
	}
	if p.HasPreferredAddress {
		b = p.PreferredAddress.appendParam(b)
	}
	if p.ActiveConnectionIDLimit != 0 && p.ActiveConnectionIDLimit != defaultActiveConnectionIDLimit {
		b = appendParamInt(b, tpActiveConnectionIDLimit, p.ActiveConnectionIDLimit)
	}
	if p.HasInitialSourceCID {
		b = appendParamBytes(b, tpInitialSourceCID, p.InitialSourceCID)
	}
	if p.HasRetrySourceCID {
		b = appendParamBytes(b, tpRetrySourceCID, p.RetrySourceCID)
	}
	if p.HasVersionInformation {
		vi := &p.VersionInformation
		b = AppendVarint(b, tpVersionInformation)
		b = AppendVarint(b, uint64(4+4*len(vi.Available)))
		b = binary.BigEndian.AppendUint32(b, vi.Chosen)
		for _, v := range vi.Available {
			b = binary.BigEndian.AppendUint32(b, v)
		}
	}
	if p.HasMaxDatagramFrameSize {
		b = appendParamInt(b, tpMaxDatagramFrameSize, p.MaxDatagramFrameSize)
	}
	if p.GreaseQUICBit {
		b = appendParamBytes(b, tpGreaseQUICBit, nil)
	}
	return appendGreaseParam(b, p.GreaseSeed)
}

// appendGreaseParam appends a reserved transport parameter with id 31*N+27
// (RFC 9000 §18.1) and a short value, both derived from seed.
func appendGreaseParam(b []byte, seed uint64) []byte {
	x := seed * 0x9e3779b97f4a7c15 // spread the seed's bits
	x ^= x >> 29
	n := x >> 44 // 20 bits: ids up to 31*2^20+27, a 4-byte varint
	b = AppendVarint(b, 31*n+27)
	l := int(x>>40) & 7
	b = AppendVarint(b, uint64(l))
	for i := range l {
		b = append(b, byte(x>>(8*i)))
	}
	return b
}

// appendParamInt appends a parameter whose value is one varint.
func appendParamInt(b []byte, id, v uint64) []byte {
	b = AppendVarint(b, id)
	b = AppendVarint(b, uint64(SizeVarint(v)))
	return AppendVarint(b, v)
}

// appendParamBytes appends a parameter with an opaque value.
func appendParamBytes(b []byte, id uint64, v []byte) []byte {
	b = AppendVarint(b, id)
	return appendVarintBytes(b, v)
}

// durationMs converts d to whole milliseconds, clamping negatives to zero.
func durationMs(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d / time.Millisecond)
}

// preferredAddressFixedLen is the length of a preferred_address value
// without its connection ID: IPv4 address and port, IPv6 address and port,
// CID length, stateless reset token (RFC 9000 §18.2).
const preferredAddressFixedLen = 4 + 2 + 16 + 2 + 1 + 16

// appendParam appends the preferred_address parameter.
func (pa *PreferredAddress) appendParam(b []byte) []byte {
	b = AppendVarint(b, tpPreferredAddress)
	b = AppendVarint(b, uint64(preferredAddressFixedLen+len(pa.CID)))
	var v4 [4]byte
	var port4 uint16
	if a := pa.IPv4.Addr().Unmap(); a.Is4() {
		v4, port4 = a.As4(), pa.IPv4.Port()
	}
	b = append(b, v4[:]...)
	b = binary.BigEndian.AppendUint16(b, port4)
	var v6 [16]byte
	var port6 uint16
	if a := pa.IPv6.Addr(); a.IsValid() {
		v6, port6 = a.As16(), pa.IPv6.Port()
	}
	b = append(b, v6[:]...)
	b = binary.BigEndian.AppendUint16(b, port6)
	b = append(b, byte(len(pa.CID)))
	b = append(b, pa.CID...)
	return append(b, pa.StatelessResetToken[:]...)
}
