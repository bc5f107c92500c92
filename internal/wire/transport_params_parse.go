package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// paramBit returns a bit identifying a known parameter id for duplicate
// detection, or zero for unknown ids.
func paramBit(id uint64) uint32 {
	switch {
	case id <= tpVersionInformation:
		return 1 << id
	case id == tpMaxDatagramFrameSize:
		return 1 << 18
	case id == tpGreaseQUICBit:
		return 1 << 19
	}
	return 0
}

// tpError returns a TRANSPORT_PARAMETER_ERROR.
func tpError(format string, args ...any) error {
	return &Error{Code: TransportParameterError, Reason: fmt.Sprintf(format, args...)}
}

// maxDurationMs is the largest whole number of milliseconds a
// time.Duration holds.
const maxDurationMs = math.MaxInt64 / int64(time.Millisecond)

// msDuration converts a millisecond count to a Duration, saturating.
func msDuration(ms uint64) time.Duration {
	return time.Duration(min(ms, uint64(maxDurationMs))) * time.Millisecond
}

// ParseTransportParameters decodes a transport parameters extension
// (RFC 9000 §18) sent by the server if fromServer, else by the client.
// Absent parameters take their defaults; unknown ones are skipped
// (RFC 9000 §18.1). Byte fields are copied. Every violation of RFC 9000
// §7.4 and §18.2, RFC 9221 §3, RFC 9287 §3 and RFC 9368 §4 detectable from
// the encoding alone returns an *Error with code TRANSPORT_PARAMETER_ERROR.
// Checks that need the connection's state (that the CIDs match the packet
// headers, RFC 9000 §7.3; the version checks of RFC 9368 §4) are the
// caller's.
func ParseTransportParameters(b []byte, fromServer bool) (TransportParameters, error) {
	p := DefaultTransportParameters()
	var seen uint32
	for len(b) > 0 {
		id, n := ConsumeVarint(b)
		if n < 0 {
			return TransportParameters{}, tpError("truncated transport parameter id")
		}
		val, m := consumeVarintBytes(b[n:])
		if m < 0 {
			return TransportParameters{}, tpError("transport parameter 0x%x: truncated value", id)
		}
		b = b[n+m:]
		bit := paramBit(id)
		if seen&bit != 0 {
			// An endpoint SHOULD treat duplicates as TRANSPORT_PARAMETER_ERROR
			// (RFC 9000 §7.4).
			return TransportParameters{}, tpError("duplicate transport parameter 0x%x", id)
		}
		seen |= bit
		if err := p.parseParam(id, val, fromServer); err != nil {
			return TransportParameters{}, err
		}
	}
	// A server that chooses a zero-length connection ID MUST NOT provide a
	// preferred address (RFC 9000 §18.2).
	if p.HasPreferredAddress && p.HasInitialSourceCID && len(p.InitialSourceCID) == 0 {
		return TransportParameters{}, tpError("preferred_address with a zero-length connection ID")
	}
	return p, nil
}

// parseParam decodes one parameter into p.
func (p *TransportParameters) parseParam(id uint64, val []byte, fromServer bool) error {
	switch id {
	case tpOriginalDestinationCID, tpStatelessResetToken, tpPreferredAddress, tpRetrySourceCID:
		// A client MUST NOT send server-only parameters; a server MUST treat
		// receipt of them as TRANSPORT_PARAMETER_ERROR (RFC 9000 §18.2).
		if !fromServer {
			return tpError("server-only transport parameter 0x%x sent by a client", id)
		}
	}
	switch id {
	case tpOriginalDestinationCID:
		cid, err := parseCIDParam(id, val)
		if err != nil {
			return err
		}
		p.OriginalDestinationCID, p.HasOriginalDestinationCID = cid, true
		return nil
	case tpInitialSourceCID:
		cid, err := parseCIDParam(id, val)
		if err != nil {
			return err
		}
		p.InitialSourceCID, p.HasInitialSourceCID = cid, true
		return nil
	case tpRetrySourceCID:
		cid, err := parseCIDParam(id, val)
		if err != nil {
			return err
		}
		p.RetrySourceCID, p.HasRetrySourceCID = cid, true
		return nil
	case tpStatelessResetToken:
		if len(val) != statelessResetTokenLen {
			return tpError("stateless_reset_token of %d bytes", len(val))
		}
		copy(p.StatelessResetToken[:], val)
		p.HasStatelessResetToken = true
		return nil
	case tpDisableActiveMigration, tpGreaseQUICBit:
		if len(val) != 0 {
			return tpError("transport parameter 0x%x must be empty", id)
		}
		if id == tpGreaseQUICBit {
			p.GreaseQUICBit = true
		} else {
			p.DisableActiveMigration = true
		}
		return nil
	case tpPreferredAddress:
		return p.parsePreferredAddress(val)
	case tpVersionInformation:
		return p.parseVersionInformation(val, fromServer)
	}
	if paramBit(id) == 0 {
		return nil // unknown parameters are ignored (RFC 9000 §18.1)
	}
	v, n := ConsumeVarint(val)
	if n < 0 || n != len(val) {
		return tpError("transport parameter 0x%x: malformed integer", id)
	}
	return p.setIntParam(id, v)
}

// setIntParam stores an integer-valued parameter, enforcing its limits.
func (p *TransportParameters) setIntParam(id, v uint64) error {
	switch id {
	case tpMaxIdleTimeout:
		p.MaxIdleTimeout = msDuration(v)
	case tpMaxUDPPayloadSize:
		// Values below 1200 are invalid (RFC 9000 §18.2).
		if v < minMaxUDPPayloadSize {
			return tpError("max_udp_payload_size %d below 1200", v)
		}
		p.MaxUDPPayloadSize = v
	case tpInitialMaxData:
		p.InitialMaxData = v
	case tpInitialMaxStreamDataBL:
		p.InitialMaxStreamDataBidiLocal = v
	case tpInitialMaxStreamDataBR:
		p.InitialMaxStreamDataBidiRemote = v
	case tpInitialMaxStreamDataUni:
		p.InitialMaxStreamDataUni = v
	case tpInitialMaxStreamsBidi, tpInitialMaxStreamsUni:
		// A value above 2^60 MUST be treated as TRANSPORT_PARAMETER_ERROR
		// (RFC 9000 §4.6, §18.2).
		if v > maxStreams {
			return tpError("initial_max_streams 0x%x above 2^60", v)
		}
		if id == tpInitialMaxStreamsBidi {
			p.InitialMaxStreamsBidi = v
		} else {
			p.InitialMaxStreamsUni = v
		}
	case tpAckDelayExponent:
		// Values above 20 are invalid (RFC 9000 §18.2).
		if v > maxAckDelayExponent {
			return tpError("ack_delay_exponent %d above 20", v)
		}
		p.AckDelayExponent = uint8(v)
	case tpMaxAckDelay:
		// Values of 2^14 or greater are invalid (RFC 9000 §18.2).
		if v >= maxMaxAckDelayMs {
			return tpError("max_ack_delay %d ms not below 2^14", v)
		}
		p.MaxAckDelay = time.Duration(v) * time.Millisecond
	case tpActiveConnectionIDLimit:
		// A value below 2 MUST be treated as TRANSPORT_PARAMETER_ERROR
		// (RFC 9000 §18.2).
		if v < 2 {
			return tpError("active_connection_id_limit %d below 2", v)
		}
		p.ActiveConnectionIDLimit = v
	case tpMaxDatagramFrameSize:
		p.MaxDatagramFrameSize, p.HasMaxDatagramFrameSize = v, true
	}
	return nil
}

// parseCIDParam copies a connection ID parameter of at most 20 bytes
// (RFC 9000 §17.2).
func parseCIDParam(id uint64, val []byte) ([]byte, error) {
	if len(val) > MaxCIDLen {
		return nil, tpError("transport parameter 0x%x: connection ID of %d bytes", id, len(val))
	}
	return append([]byte(nil), val...), nil
}

// parsePreferredAddress decodes preferred_address (RFC 9000 §18.2).
func (p *TransportParameters) parsePreferredAddress(val []byte) error {
	if len(val) < preferredAddressFixedLen {
		return tpError("preferred_address of %d bytes", len(val))
	}
	cidLen := int(val[24])
	if len(val) != preferredAddressFixedLen+cidLen {
		return tpError("preferred_address length does not match its connection ID")
	}
	// A server MUST NOT include a zero-length connection ID in this
	// parameter; a client MUST treat that as TRANSPORT_PARAMETER_ERROR
	// (RFC 9000 §18.2).
	if cidLen == 0 || cidLen > MaxCIDLen {
		return tpError("preferred_address connection ID of %d bytes", cidLen)
	}
	pa := &p.PreferredAddress
	if a, port := [4]byte(val[0:4]), binary.BigEndian.Uint16(val[4:6]); a != [4]byte{} || port != 0 {
		pa.IPv4 = netip.AddrPortFrom(netip.AddrFrom4(a), port)
	}
	if a, port := [16]byte(val[6:22]), binary.BigEndian.Uint16(val[22:24]); a != [16]byte{} || port != 0 {
		pa.IPv6 = netip.AddrPortFrom(netip.AddrFrom16(a), port)
	}
	pa.CID = append([]byte(nil), val[25:25+cidLen]...)
	copy(pa.StatelessResetToken[:], val[25+cidLen:])
	p.HasPreferredAddress = true
	return nil
}

// parseVersionInformation decodes version_information (RFC 9368 §3) and
// applies the parsing-failure rules of RFC 9368 §4.
func (p *TransportParameters) parseVersionInformation(val []byte, fromServer bool) error {
	// Too short or a length not divisible by four is a parsing failure,
	// TRANSPORT_PARAMETER_ERROR in QUIC version 1 (RFC 9368 §4).
	if len(val) < 4 || len(val)%4 != 0 {
		return tpError("version_information of %d bytes", len(val))
	}
	vi := VersionInformation{Chosen: binary.BigEndian.Uint32(val)}
	// A zero Chosen Version or Available Version is a parsing failure
	// (RFC 9368 §4).
	if vi.Chosen == 0 {
		return tpError("version_information with a zero chosen version")
	}
	if n := len(val)/4 - 1; n > 0 {
		vi.Available = make([]uint32, n)
		for i := range vi.Available {
			v := binary.BigEndian.Uint32(val[4+4*i:])
			if v == 0 {
				return tpError("version_information with a zero available version")
			}
			vi.Available[i] = v
		}
	}
	// A server receiving a Chosen Version not included in Available
	// Versions MUST treat it as a parsing failure (RFC 9368 §4).
	if !fromServer && !VersionListContains(val[4:], vi.Chosen) {
		return tpError("client version_information: chosen version not among available versions")
	}
	p.VersionInformation, p.HasVersionInformation = vi, true
	return nil
}
