package wire

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func fullTransportParameters() TransportParameters {
	p := DefaultTransportParameters()
	p.OriginalDestinationCID, p.HasOriginalDestinationCID = []byte{1, 2, 3, 4, 5, 6, 7, 8}, true
	p.MaxIdleTimeout = 30 * time.Second
	p.StatelessResetToken, p.HasStatelessResetToken = [16]byte{0xaa, 15: 0xbb}, true
	p.MaxUDPPayloadSize = 1472
	p.InitialMaxData = 1 << 20
	p.InitialMaxStreamDataBidiLocal = 1 << 16
	p.InitialMaxStreamDataBidiRemote = 1 << 17
	p.InitialMaxStreamDataUni = 1 << 18
	p.InitialMaxStreamsBidi = 100
	p.InitialMaxStreamsUni = 1 << 60
	p.AckDelayExponent = 20
	p.MaxAckDelay = (1<<14 - 1) * time.Millisecond
	p.DisableActiveMigration = true
	p.PreferredAddress = PreferredAddress{
		IPv4:                netip.MustParseAddrPort("192.0.2.1:4433"),
		IPv6:                netip.MustParseAddrPort("[2001:db8::1]:4434"),
		CID:                 []byte{9, 9, 9},
		StatelessResetToken: [16]byte{1, 2, 3},
	}
	p.HasPreferredAddress = true
	p.ActiveConnectionIDLimit = 8
	p.InitialSourceCID, p.HasInitialSourceCID = []byte{0x11, 0x22}, true
	p.RetrySourceCID, p.HasRetrySourceCID = []byte{0x33}, true
	p.MaxDatagramFrameSize, p.HasMaxDatagramFrameSize = 1200, true
	p.GreaseQUICBit = true
	p.VersionInformation = VersionInformation{Chosen: Version1, Available: []uint32{Version2, Version1, 0x1a2a3a4a}}
	p.HasVersionInformation = true
	return p
}

func TestTransportParametersRoundTrip(t *testing.T) {
	for _, seed := range []uint64{0, 1, 0xdeadbeef, ^uint64(0)} {
		p := fullTransportParameters()
		p.GreaseSeed = seed
		b := p.Append(nil)
		got, err := ParseTransportParameters(b, true)
		if err != nil {
			t.Fatalf("seed %#x: %v", seed, err)
		}
		p.GreaseSeed = 0
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("seed %#x: round trip\n got %+v\nwant %+v", seed, got, p)
		}
	}
}

func TestTransportParametersDefaults(t *testing.T) {
	d := DefaultTransportParameters()
	if d.MaxUDPPayloadSize != 65527 || d.AckDelayExponent != 3 || d.MaxAckDelay != 25*time.Millisecond ||
		d.ActiveConnectionIDLimit != 2 || d.InitialMaxData != 0 || d.HasPreferredAddress {
		t.Fatalf("defaults %+v", d)
	}
	b := d.Append(nil)
	// Only the grease parameter is written for an all-default set.
	id, n := ConsumeVarint(b)
	if n < 0 || id%31 != 27 {
		t.Fatalf("default encoding %x does not start with a reserved id", b)
	}
	if v, m := consumeVarintBytes(b[n:]); m < 0 || n+m != len(b) || len(v) > 7 {
		t.Fatalf("default encoding %x is more than one short grease parameter", b)
	}
	got, err := ParseTransportParameters(b, false)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("parsed %+v, %v", got, err)
	}
	if got, err := ParseTransportParameters(nil, true); err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("empty extension parsed to %+v, %v", got, err)
	}
}

// TestGreaseParameterIDs: reserved ids are 31*N+27 (RFC 9000 §18.1) and
// vary with the seed.
func TestGreaseParameterIDs(t *testing.T) {
	ids := map[uint64]bool{}
	for seed := range uint64(64) {
		b := appendGreaseParam(nil, seed)
		id, n := ConsumeVarint(b)
		if id%31 != 27 {
			t.Fatalf("seed %d: id %d is not 31*N+27", seed, id)
		}
		if _, m := consumeVarintBytes(b[n:]); n+m != len(b) {
			t.Fatalf("seed %d: malformed %x", seed, b)
		}
		ids[id] = true
	}
	if len(ids) < 32 {
		t.Fatalf("only %d distinct ids over 64 seeds", len(ids))
	}
}

func TestTransportParametersUnknownSkipped(t *testing.T) {
	b := appendParamBytes(nil, 0x1234, []byte("whatever"))
	b = appendParamInt(b, tpInitialMaxData, 77)
	b = appendParamBytes(b, 0x1234, nil) // unknown duplicates are not tracked
	p, err := ParseTransportParameters(b, false)
	if err != nil || p.InitialMaxData != 77 {
		t.Fatalf("parsed %+v, %v", p, err)
	}
}

// TestTransportParameterValidation has one row per rule of RFC 9000 §7.4
// and §18.2, RFC 9221 §3, RFC 9287 §3 and RFC 9368 §4.
func TestTransportParameterValidation(t *testing.T) {
	full := fullTransportParameters()
	pa := full.PreferredAddress.appendParam(nil)
	paNoCID := (&PreferredAddress{}).appendParam(nil)
	pa21 := (&PreferredAddress{CID: make([]byte, 21)}).appendParam(nil)
	vi := func(versions ...uint32) []byte {
		var v []byte
		for _, x := range versions {
			v = append(v, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
		}
		return appendParamBytes(nil, tpVersionInformation, v)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		rule       string
		b          []byte
		fromServer bool
	}{
		{"§7.4 duplicate parameter", cat(appendParamInt(nil, tpInitialMaxData, 1), appendParamInt(nil, tpInitialMaxData, 1)), true},
		{"§7.4 duplicate empty parameter", cat(appendParamBytes(nil, tpGreaseQUICBit, nil), appendParamBytes(nil, tpGreaseQUICBit, nil)), false},
		{"§18.2 client sends original_destination_connection_id", appendParamBytes(nil, tpOriginalDestinationCID, []byte{1}), false},
		{"§18.2 client sends stateless_reset_token", appendParamBytes(nil, tpStatelessResetToken, make([]byte, 16)), false},
		{"§18.2 client sends preferred_address", pa, false},
		{"§18.2 client sends retry_source_connection_id", appendParamBytes(nil, tpRetrySourceCID, []byte{1}), false},
		{"§18.2 stateless_reset_token not 16 bytes", appendParamBytes(nil, tpStatelessResetToken, make([]byte, 15)), true},
		{"§18.2 max_udp_payload_size below 1200", appendParamInt(nil, tpMaxUDPPayloadSize, 1199), true},
		{"§18.2 ack_delay_exponent above 20", appendParamInt(nil, tpAckDelayExponent, 21), true},
		{"§18.2 max_ack_delay 2^14 or more", appendParamInt(nil, tpMaxAckDelay, 1<<14), true},
		{"§18.2 active_connection_id_limit below 2", appendParamInt(nil, tpActiveConnectionIDLimit, 1), true},
		{"§18.2 active_connection_id_limit zero", appendParamInt(nil, tpActiveConnectionIDLimit, 0), false},
		{"§18.2 initial_max_streams_bidi above 2^60", appendParamInt(nil, tpInitialMaxStreamsBidi, 1<<60+1), true},
		{"§18.2 initial_max_streams_uni above 2^60", appendParamInt(nil, tpInitialMaxStreamsUni, 1<<60+1), false},
		{"§18.2 preferred_address with zero-length CID", paNoCID, true},
		{"§18.2 preferred_address CID over 20 bytes", pa21, true},
		{"§18.2 preferred_address truncated", appendParamBytes(nil, tpPreferredAddress, pa[2:len(pa)-1]), true},
		{"§18.2 preferred_address from a zero-length-CID server", cat(pa, appendParamBytes(nil, tpInitialSourceCID, nil)), true},
		{"§18.2 disable_active_migration not empty", appendParamBytes(nil, tpDisableActiveMigration, []byte{0}), false},
		{"§18.2 original_destination_connection_id over 20 bytes", appendParamBytes(nil, tpOriginalDestinationCID, make([]byte, 21)), true},
		{"§18.2 initial_source_connection_id over 20 bytes", appendParamBytes(nil, tpInitialSourceCID, make([]byte, 21)), false},
		{"§18.2 retry_source_connection_id over 20 bytes", appendParamBytes(nil, tpRetrySourceCID, make([]byte, 21)), true},
		{"§18 integer value with trailing bytes", appendParamBytes(nil, tpInitialMaxData, []byte{1, 2}), true},
		{"§18 integer value truncated", appendParamBytes(nil, tpMaxIdleTimeout, []byte{0x40}), true},
		{"§18 integer value empty", appendParamBytes(nil, tpMaxDatagramFrameSize, nil), true},
		{"§18 value length past the end", append(AppendVarint(AppendVarint(nil, tpInitialMaxData), 4), 1, 2), true},
		{"§18 truncated parameter id", []byte{0x80, 0}, true},
		{"RFC 9287 grease_quic_bit not empty", appendParamBytes(nil, tpGreaseQUICBit, []byte{1}), true},
		{"RFC 9368 §4 version_information too short", appendParamBytes(nil, tpVersionInformation, []byte{0, 0, 1}), true},
		{"RFC 9368 §4 version_information empty", appendParamBytes(nil, tpVersionInformation, nil), true},
		{"RFC 9368 §4 version_information length not a multiple of 4", appendParamBytes(nil, tpVersionInformation, []byte{0, 0, 0, 1, 0, 0}), true},
		{"RFC 9368 §4 zero chosen version", vi(0, 1), true},
		{"RFC 9368 §4 zero available version", vi(1, 1, 0), true},
		{"RFC 9368 §4 client chosen version not available", vi(Version1, Version2), false},
	} {
		_, err := ParseTransportParameters(c.b, c.fromServer)
		if errCode(err) != TransportParameterError {
			t.Errorf("%s: error %v, want TRANSPORT_PARAMETER_ERROR", c.rule, err)
		}
	}
	// The boundary values of the same rules are accepted.
	for _, c := range []struct {
		name       string
		b          []byte
		fromServer bool
	}{
		{"max_udp_payload_size 1200", appendParamInt(nil, tpMaxUDPPayloadSize, 1200), true},
		{"ack_delay_exponent 20", appendParamInt(nil, tpAckDelayExponent, 20), true},
		{"max_ack_delay 2^14-1", appendParamInt(nil, tpMaxAckDelay, 1<<14-1), true},
		{"active_connection_id_limit 2", appendParamInt(nil, tpActiveConnectionIDLimit, 2), false},
		{"initial_max_streams 2^60", appendParamInt(nil, tpInitialMaxStreamsBidi, 1<<60), false},
		{"non-minimal integer encoding", appendParamBytes(nil, tpInitialMaxData, []byte{0x40, 1}), false},
		{"server version_information without its chosen version", vi(Version1, Version2), true},
		{"server version_information with no available versions", vi(Version1), true},
		{"preferred_address with 20-byte CID", (&PreferredAddress{CID: make([]byte, 20)}).appendParam(nil), true},
		{"zero-length connection IDs", cat(appendParamBytes(nil, tpInitialSourceCID, nil), appendParamBytes(nil, tpOriginalDestinationCID, nil)), true},
	} {
		if _, err := ParseTransportParameters(c.b, c.fromServer); err != nil {
			t.Errorf("%s rejected: %v", c.name, err)
		}
	}
}

func TestTransportParametersLargeIdleTimeoutSaturates(t *testing.T) {
	p, err := ParseTransportParameters(appendParamInt(nil, tpMaxIdleTimeout, MaxVarint), false)
	if err != nil || p.MaxIdleTimeout <= 0 || p.MaxIdleTimeout%time.Millisecond != 0 {
		t.Fatalf("MaxIdleTimeout %v, %v", p.MaxIdleTimeout, err)
	}
	p2, err := ParseTransportParameters(p.Append(nil), false)
	if err != nil || p2.MaxIdleTimeout != p.MaxIdleTimeout {
		t.Fatalf("saturated timeout does not round-trip: %v, %v", p2.MaxIdleTimeout, err)
	}
}

func TestPreferredAddressAbsentFamily(t *testing.T) {
	p := DefaultTransportParameters()
	p.PreferredAddress = PreferredAddress{IPv6: netip.MustParseAddrPort("[::1]:443"), CID: []byte{1}}
	p.HasPreferredAddress = true
	got, err := ParseTransportParameters(p.Append(nil), true)
	if err != nil {
		t.Fatal(err)
	}
	if got.PreferredAddress.IPv4.IsValid() || got.PreferredAddress.IPv6 != p.PreferredAddress.IPv6 {
		t.Fatalf("preferred address %+v", got.PreferredAddress)
	}
}

func FuzzTransportParams(f *testing.F) {
	full := fullTransportParameters()
	f.Add(full.Append(nil), true)
	f.Add(full.Append(nil), false)
	d := DefaultTransportParameters()
	f.Add(d.Append(nil), false)
	f.Add(appendParamInt(nil, tpMaxIdleTimeout, MaxVarint), false)
	f.Fuzz(func(t *testing.T, b []byte, fromServer bool) {
		p, err := ParseTransportParameters(b, fromServer)
		if err != nil {
			if errCode(err) != TransportParameterError {
				t.Fatalf("error %v is not a TRANSPORT_PARAMETER_ERROR", err)
			}
			return
		}
		enc := p.Append(nil)
		p2, err := ParseTransportParameters(enc, fromServer)
		if err != nil {
			t.Fatalf("re-encoding %x of accepted %x fails: %v", enc, b, err)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip differs\n got %+v\nwant %+v", p2, p)
		}
	})
}

func TestTransportParametersNegativeDurationsWrittenAsZero(t *testing.T) {
	p := DefaultTransportParameters()
	p.MaxAckDelay = -time.Second
	p.MaxIdleTimeout = -time.Second
	got, err := ParseTransportParameters(p.Append(nil), false)
	if err != nil || got.MaxAckDelay != 0 || got.MaxIdleTimeout != 0 {
		t.Fatalf("parsed %v, %v, %v", got.MaxAckDelay, got.MaxIdleTimeout, err)
	}
}
