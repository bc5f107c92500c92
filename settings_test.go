package quic

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// msquicDefaults is the default table of reference §4.2 (quicdef.h), by Go
// field name.
var msquicDefaults = map[string]any{
	"MaxBytesPerKey":                      uint64(274877906944),
	"HandshakeIdleTimeout":                10 * time.Second,
	"IdleTimeout":                         30 * time.Second,
	"MTUDiscoverySearchCompleteTimeout":   600 * time.Second,
	"TLSClientMaxSendBuffer":              uint32(4096),
	"TLSServerMaxSendBuffer":              uint32(8192),
	"StreamRecvWindowDefault":             uint32(65536),
	"StreamRecvBufferDefault":             uint32(4096),
	"ConnFlowControlWindow":               uint32(16777216),
	"MaxWorkerQueueDelay":                 250 * time.Millisecond,
	"MaxStatelessOperations":              uint32(1024),
	"InitialWindowPackets":                uint32(10),
	"SendIdleTimeout":                     time.Second,
	"InitialRTT":                          333 * time.Millisecond,
	"MaxAckDelay":                         25 * time.Millisecond,
	"DisconnectTimeout":                   16 * time.Second,
	"KeepAliveInterval":                   time.Duration(0),
	"CongestionControlAlgorithm":          CongestionControlCubic,
	"PeerBidiStreamCount":                 uint16(0),
	"PeerUnidiStreamCount":                uint16(0),
	"MaxBindingStatelessOperations":       uint16(2048),
	"StatelessOperationExpiration":        100 * time.Millisecond,
	"MinimumMTU":                          uint16(1288),
	"MaximumMTU":                          uint16(1500),
	"SendBufferingEnabled":                true,
	"PacingEnabled":                       true,
	"MigrationEnabled":                    true,
	"DatagramReceiveEnabled":              false,
	"ServerResumptionLevel":               ServerNoResume,
	"GreaseQUICBitEnabled":                false,
	"ECNEnabled":                          false,
	"MaxOperationsPerDrain":               uint8(16),
	"MTUDiscoveryMissingProbeCount":       uint8(3),
	"DestCIDUpdateIdleTimeout":            20 * time.Second,
	"HyStartEnabled":                      false,
	"StreamRecvWindowBidiLocalDefault":    uint32(65536),
	"StreamRecvWindowBidiRemoteDefault":   uint32(65536),
	"StreamRecvWindowUnidiDefault":        uint32(65536),
	"EncryptionOffloadAllowed":            false,
	"ReliableResetEnabled":                false,
	"OneWayDelayEnabled":                  false,
	"NetStatsEventEnabled":                false,
	"StreamMultiReceiveEnabled":           false,
	"XDPEnabled":                          false,
	"QTIPEnabled":                         false,
	"Extensions.MaxPacketRetryCount":      uint32(0),
	"Extensions.LossDetectionGracePeriod": time.Duration(0),
	"Extensions.QlogDir":                  "",
	"Extensions.Tracer":                   nil,
}

// altValues are valid non-default values for every field, used to check
// that apply and inherit handle each one.
var altValues = map[string]any{
	"MaxBytesPerKey":                      uint64(1 << 30),
	"HandshakeIdleTimeout":                3 * time.Second,
	"IdleTimeout":                         time.Duration(0),
	"MTUDiscoverySearchCompleteTimeout":   5 * time.Second,
	"TLSClientMaxSendBuffer":              uint32(1000),
	"TLSServerMaxSendBuffer":              uint32(2000),
	"StreamRecvWindowDefault":             uint32(1 << 20),
	"StreamRecvBufferDefault":             uint32(8192),
	"ConnFlowControlWindow":               uint32(1 << 22),
	"MaxWorkerQueueDelay":                 time.Millisecond,
	"MaxStatelessOperations":              uint32(7),
	"InitialWindowPackets":                uint32(32),
	"SendIdleTimeout":                     2 * time.Second,
	"InitialRTT":                          50 * time.Millisecond,
	"MaxAckDelay":                         5 * time.Millisecond,
	"DisconnectTimeout":                   time.Second,
	"KeepAliveInterval":                   time.Second,
	"CongestionControlAlgorithm":          CongestionControlBBR,
	"PeerBidiStreamCount":                 uint16(100),
	"PeerUnidiStreamCount":                uint16(3),
	"MaxBindingStatelessOperations":       uint16(5),
	"StatelessOperationExpiration":        time.Millisecond,
	"MinimumMTU":                          uint16(1300),
	"MaximumMTU":                          uint16(1400),
	"SendBufferingEnabled":                false,
	"PacingEnabled":                       false,
	"MigrationEnabled":                    false,
	"DatagramReceiveEnabled":              true,
	"ServerResumptionLevel":               ServerResumeAndZeroRTT,
	"GreaseQUICBitEnabled":                true,
	"ECNEnabled":                          true,
	"MaxOperationsPerDrain":               uint8(1),
	"MTUDiscoveryMissingProbeCount":       uint8(9),
	"DestCIDUpdateIdleTimeout":            time.Duration(0),
	"HyStartEnabled":                      true,
	"StreamRecvWindowBidiLocalDefault":    uint32(1024),
	"StreamRecvWindowBidiRemoteDefault":   uint32(2048),
	"StreamRecvWindowUnidiDefault":        uint32(4096),
	"EncryptionOffloadAllowed":            true,
	"ReliableResetEnabled":                true,
	"OneWayDelayEnabled":                  true,
	"NetStatsEventEnabled":                true,
	"StreamMultiReceiveEnabled":           true,
	"XDPEnabled":                          true,
	"QTIPEnabled":                         true,
	"Extensions.MaxPacketRetryCount":      uint32(4),
	"Extensions.LossDetectionGracePeriod": 200 * time.Millisecond,
	"Extensions.QlogDir":                  "/var/log/qlog",
	"Extensions.Tracer":                   NewSlogTracer(slog.Default()),
}

// refusedSettings are the fields whose altValues hquic refuses with
// ErrNotSupported.
var refusedSettings = map[string]bool{
	"TLSClientMaxSendBuffer": true, "TLSServerMaxSendBuffer": true,
	"EncryptionOffloadAllowed": true, "ReliableResetEnabled": true, "OneWayDelayEnabled": true,
	"NetStatsEventEnabled": true, "StreamMultiReceiveEnabled": true, "XDPEnabled": true, "QTIPEnabled": true,
}

// settingsFields returns every Optional field of s (including Extensions)
// by name.
func settingsFields(s *Settings) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			f, sf := v.Field(i), v.Type().Field(i)
			if _, ok := sf.Type.FieldByName("Set"); ok {
				out[prefix+sf.Name] = f
			} else {
				walk(prefix+sf.Name+".", f)
			}
		}
	}
	walk("", reflect.ValueOf(s).Elem())
	return out
}

// setField sets the named Optional field of s to Some(v).
func setField(s *Settings, name string, v any) {
	f := settingsFields(s)[name]
	f.FieldByName("Value").Set(reflect.ValueOf(v))
	f.FieldByName("Set").SetBool(true)
}

func TestEveryFieldHasADefault(t *testing.T) {
	s := defaultSettings()
	fields := settingsFields(&s)
	if len(fields) != len(msquicDefaults) || len(fields) != len(altValues) {
		t.Fatalf("Settings has %d fields, default table %d, alternative table %d", len(fields), len(msquicDefaults), len(altValues))
	}
	for name, f := range fields {
		want, ok := msquicDefaults[name]
		if !ok {
			t.Errorf("field %s missing from the default table", name)
			continue
		}
		if got := f.FieldByName("Value").Interface(); got != want {
			t.Errorf("default %s = %v, want %v", name, got, want)
		}
		if f.FieldByName("Set").Bool() {
			t.Errorf("default %s is marked Set", name)
		}
	}
}

func TestLibraryStartsWithDefaults(t *testing.T) {
	l, _ := Open()
	if got := l.Settings(); got != defaultSettings() {
		t.Fatalf("Library.Settings() differs from the defaults: %+v", got)
	}
	if l.GlobalSettings() != (GlobalSettings{RetryMemoryLimit: Optional[uint16]{Value: 65}}) {
		t.Fatalf("GlobalSettings() = %+v", l.GlobalSettings())
	}
}

// TestApplyAndInheritCoverEveryField sets each field alone and checks that
// apply copies it (and nothing else) and that inherit fills it in.
func TestApplyAndInheritCoverEveryField(t *testing.T) {
	for name, v := range altValues {
		var patch Settings
		setField(&patch, name, v)
		s := defaultSettings()
		err := s.update("test", &patch, true)
		if refusedSettings[name] {
			if !errors.Is(err, ErrNotSupported) {
				t.Errorf("%s = %v: %v, want ErrNotSupported", name, v, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for other, f := range settingsFields(&s) {
			set := f.FieldByName("Set").Bool()
			val := f.FieldByName("Value").Interface()
			switch {
			case other == name:
				if !set || val != v {
					t.Errorf("apply %s: got %v (set %v), want %v", name, val, set, v)
				}
			case name == "StreamRecvWindowDefault" && strings.HasPrefix(other, "StreamRecvWindow"):
				if set || val != v {
					t.Errorf("apply %s: %s = %v (set %v), want inherited %v", name, other, val, set, v)
				}
			case name == "MaximumMTU" && other == "MinimumMTU":
				if set || val != uint16(minMTU) {
					t.Errorf("apply MaximumMTU alone: MinimumMTU = %v (set %v), want the floor %d", val, set, minMTU)
				}
			case set || val != msquicDefaults[other]:
				t.Errorf("apply %s changed %s to %v (set %v)", name, other, val, set)
			}
		}
		var child Settings
		child.inherit(&s)
		f := settingsFields(&child)[name]
		if f.FieldByName("Set").Bool() || f.FieldByName("Value").Interface() != v {
			t.Errorf("inherit %s: got %v (set %v), want value %v unset", name, f.FieldByName("Value"), f.FieldByName("Set"), v)
		}
	}
}

func TestPatchSemantics(t *testing.T) {
	s := defaultSettings()
	if err := s.update("t", &Settings{IdleTimeout: Some(time.Duration(0))}, true); err != nil {
		t.Fatal(err)
	}
	if !s.IdleTimeout.Set || s.IdleTimeout.Value != 0 {
		t.Fatalf("IdleTimeout = %+v: a set zero must disable, not be ignored", s.IdleTimeout)
	}
	// An unset field in a later patch leaves the earlier value alone.
	if err := s.update("t", &Settings{KeepAliveInterval: Some(time.Second)}, true); err != nil {
		t.Fatal(err)
	}
	if !s.IdleTimeout.Set || s.IdleTimeout.Value != 0 || s.KeepAliveInterval.Value != time.Second {
		t.Fatalf("second patch disturbed the first: %+v %+v", s.IdleTimeout, s.KeepAliveInterval)
	}
	// A later patch replaces a field set before.
	if err := s.update("t", &Settings{IdleTimeout: Some(time.Minute), MaxAckDelay: Some(time.Millisecond)}, true); err != nil {
		t.Fatal(err)
	}
	if s.IdleTimeout.Value != time.Minute || s.MaxAckDelay.Value != time.Millisecond || !s.MaxAckDelay.Set {
		t.Fatalf("second patch: IdleTimeout %v MaxAckDelay %+v", s.IdleTimeout.Value, s.MaxAckDelay)
	}
	// nil and empty patches change nothing.
	before := s
	if err := s.update("t", nil, true); err != nil || s != before {
		t.Fatal("nil patch changed settings")
	}
	if err := s.update("t", &Settings{}, true); err != nil || s != before {
		t.Fatal("empty patch changed settings")
	}
	// A failed update leaves the settings untouched.
	if err := s.update("t", &Settings{KeepAliveInterval: Some(time.Hour), InitialRTT: Some(time.Duration(0))}, true); err == nil {
		t.Fatal("invalid patch accepted")
	}
	if s != before {
		t.Fatal("a rejected patch was partly applied")
	}
}

func TestDurationsTruncateToMsQuicUnits(t *testing.T) {
	s := defaultSettings()
	patch := Settings{
		IdleTimeout:                       Some(1500 * time.Microsecond),
		MTUDiscoverySearchCompleteTimeout: Some(1500 * time.Nanosecond),
		MaxAckDelay:                       Some(16383*time.Millisecond + 999*time.Microsecond),
	}
	if err := s.update("t", &patch, true); err != nil {
		t.Fatal(err)
	}
	if s.IdleTimeout.Value != time.Millisecond || s.MTUDiscoverySearchCompleteTimeout.Value != time.Microsecond ||
		s.MaxAckDelay.Value != 16383*time.Millisecond {
		t.Fatalf("not truncated: %v %v %v", s.IdleTimeout.Value, s.MTUDiscoverySearchCompleteTimeout.Value, s.MaxAckDelay.Value)
	}
}

// TestValidationRules checks every settings.c rule; each error is
// ErrInvalidParameter and names the field.
func TestValidationRules(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name  string
		patch Settings
		field string // "" means valid
	}{
		{"MaxBytesPerKey at limit", Settings{MaxBytesPerKey: Some(uint64(1 << 38))}, ""},
		{"MaxBytesPerKey above limit", Settings{MaxBytesPerKey: Some(uint64(1<<38 + 1))}, "MaxBytesPerKey"},
		{"InitialRTT zero", Settings{InitialRTT: Some(time.Duration(0))}, "InitialRTT"},
		{"InitialRTT below 1ms", Settings{InitialRTT: Some(500 * time.Microsecond)}, "InitialRTT"},
		{"InitialRTT 1ms", Settings{InitialRTT: Some(ms)}, ""},
		{"MaxAckDelay 16383ms", Settings{MaxAckDelay: Some(16383 * ms)}, ""},
		{"MaxAckDelay 16384ms", Settings{MaxAckDelay: Some(16384 * ms)}, "MaxAckDelay"},
		{"MaxAckDelay zero", Settings{MaxAckDelay: Some(time.Duration(0))}, ""},
		{"DisconnectTimeout zero", Settings{DisconnectTimeout: Some(time.Duration(0))}, "DisconnectTimeout"},
		{"DisconnectTimeout 1ms", Settings{DisconnectTimeout: Some(ms)}, ""},
		{"DisconnectTimeout 600s", Settings{DisconnectTimeout: Some(600 * time.Second)}, ""},
		{"DisconnectTimeout 600001ms", Settings{DisconnectTimeout: Some(600001 * ms)}, "DisconnectTimeout"},
		{"IdleTimeout zero", Settings{IdleTimeout: Some(time.Duration(0))}, ""},
		{"IdleTimeout huge", Settings{IdleTimeout: Some(time.Duration(1<<63 - 1))}, ""},
		{"HandshakeIdleTimeout zero", Settings{HandshakeIdleTimeout: Some(time.Duration(0))}, ""},
		{"StreamRecvWindowDefault zero", Settings{StreamRecvWindowDefault: Some(uint32(0))}, "StreamRecvWindowDefault"},
		{"StreamRecvWindowDefault 3000", Settings{StreamRecvWindowDefault: Some(uint32(3000))}, "StreamRecvWindowDefault"},
		{"StreamRecvWindowDefault 1", Settings{StreamRecvWindowDefault: Some(uint32(1))}, ""},
		{"StreamRecvWindowBidiLocalDefault", Settings{StreamRecvWindowBidiLocalDefault: Some(uint32(6))}, "StreamRecvWindowBidiLocalDefault"},
		{"StreamRecvWindowBidiRemoteDefault", Settings{StreamRecvWindowBidiRemoteDefault: Some(uint32(0))}, "StreamRecvWindowBidiRemoteDefault"},
		{"StreamRecvWindowUnidiDefault", Settings{StreamRecvWindowUnidiDefault: Some(uint32(1<<31 + 1))}, "StreamRecvWindowUnidiDefault"},
		{"StreamRecvWindowUnidiDefault 2^31", Settings{StreamRecvWindowUnidiDefault: Some(uint32(1 << 31))}, ""},
		{"StreamRecvBufferDefault 4095", Settings{StreamRecvBufferDefault: Some(uint32(4095))}, "StreamRecvBufferDefault"},
		{"StreamRecvBufferDefault 4096", Settings{StreamRecvBufferDefault: Some(uint32(4096))}, ""},
		{"StreamRecvBufferDefault 5000", Settings{StreamRecvBufferDefault: Some(uint32(5000))}, ""},
		{"MaxOperationsPerDrain zero", Settings{MaxOperationsPerDrain: Some(uint8(0))}, "MaxOperationsPerDrain"},
		{"ServerResumptionLevel 2", Settings{ServerResumptionLevel: Some(ServerResumeAndZeroRTT)}, ""},
		{"ServerResumptionLevel 3", Settings{ServerResumptionLevel: Some(ServerResumptionLevel(3))}, "ServerResumptionLevel"},
		{"StatelessOperationExpiration 65535ms", Settings{StatelessOperationExpiration: Some(65535 * ms)}, ""},
		{"StatelessOperationExpiration 65536ms", Settings{StatelessOperationExpiration: Some(65536 * ms)}, "StatelessOperationExpiration"},
		{"SendIdleTimeout uint32 overflow", Settings{SendIdleTimeout: Some((1 << 32) * ms)}, "SendIdleTimeout"},
		{"KeepAliveInterval uint32 overflow", Settings{KeepAliveInterval: Some((1 << 32) * ms)}, "KeepAliveInterval"},
		{"DestCIDUpdateIdleTimeout uint32 overflow", Settings{DestCIDUpdateIdleTimeout: Some((1 << 32) * ms)}, "DestCIDUpdateIdleTimeout"},
		{"MaxWorkerQueueDelay uint32 overflow", Settings{MaxWorkerQueueDelay: Some((1 << 32) * time.Microsecond)}, "MaxWorkerQueueDelay"},
		{"MaxWorkerQueueDelay max", Settings{MaxWorkerQueueDelay: Some((1<<32 - 1) * time.Microsecond)}, ""},
		{"LossDetectionGracePeriod overflow", Settings{Extensions: ExtensionSettings{LossDetectionGracePeriod: Some((1 << 32) * ms)}}, "Extensions.LossDetectionGracePeriod"},
		{"MTU min above max", Settings{MinimumMTU: Some(uint16(1400)), MaximumMTU: Some(uint16(1300))}, "MinimumMTU"},
		{"MTU clamped low", Settings{MinimumMTU: Some(uint16(100)), MaximumMTU: Some(uint16(200))}, ""},
		{"MTU clamped high", Settings{MinimumMTU: Some(uint16(9000))}, ""},
		{"CongestionControlAlgorithm unknown", Settings{CongestionControlAlgorithm: Some(CongestionControlAlgorithm(77))}, "CongestionControlAlgorithm"},
		{"CongestionControlAlgorithm 2", Settings{CongestionControlAlgorithm: Some(CongestionControlAlgorithm(2))}, "CongestionControlAlgorithm"},
		{"CongestionControlAlgorithm Cubic", Settings{CongestionControlAlgorithm: Some(CongestionControlCubic)}, ""},
		{"CongestionControlAlgorithm BBR", Settings{CongestionControlAlgorithm: Some(CongestionControlBBR)}, ""},
		{"CongestionControlAlgorithm NewReno", Settings{CongestionControlAlgorithm: Some(CongestionControlNewReno)}, ""},
	} {
		err := c.patch.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%s: err = %v, want ErrInvalidParameter", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "Settings."+c.field+" ") {
			t.Errorf("%s: error %q does not name Settings.%s", c.name, err, c.field)
		}
	}
}

func TestNegativeDurationsInvalid(t *testing.T) {
	for name, v := range altValues {
		if _, ok := v.(time.Duration); !ok {
			continue
		}
		var s Settings
		setField(&s, name, -time.Millisecond)
		err := s.Validate()
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), "Settings."+name+" must not be negative") {
			t.Errorf("%s = -1ms: err = %v", name, err)
		}
	}
}

func TestValidateNilAndErrorShape(t *testing.T) {
	var s *Settings
	if err := s.Validate(); err != nil {
		t.Fatalf("nil Settings: %v", err)
	}
	err := (&Settings{InitialRTT: Some(time.Duration(0))}).Validate()
	want := "quic: Settings.Validate: invalid parameter: Settings.InitialRTT must be at least 1ms, got 0s"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
}

func TestMTUClamping(t *testing.T) {
	s := defaultSettings()
	if err := s.update("t", &Settings{MinimumMTU: Some(uint16(100)), MaximumMTU: Some(uint16(9000))}, true); err != nil {
		t.Fatal(err)
	}
	if s.MinimumMTU.Value != 1248 || s.MaximumMTU.Value != 1500 {
		t.Fatalf("clamped to %d..%d, want 1248..1500", s.MinimumMTU.Value, s.MaximumMTU.Value)
	}
}

func TestMTUApplyCombinesWithDestination(t *testing.T) {
	s := defaultSettings()
	if err := s.update("t", &Settings{MaximumMTU: Some(uint16(1280))}, true); err != nil {
		t.Fatalf("MaximumMTU 1280 alone must be accepted (unset minimum is the 1248 floor): %v", err)
	}
	if s.MinimumMTU.Value != 1248 || s.MaximumMTU.Value != 1280 {
		t.Fatalf("MTU %d..%d, want 1248..1280", s.MinimumMTU.Value, s.MaximumMTU.Value)
	}
	err := s.update("t", &Settings{MinimumMTU: Some(uint16(1400))}, true)
	if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), "MinimumMTU (1400) must not exceed Settings.MaximumMTU (1280)") {
		t.Fatalf("minimum above the set maximum: %v", err)
	}
}

func TestMTUAndECNLockedAfterStart(t *testing.T) {
	for _, p := range []Settings{
		{MinimumMTU: Some(uint16(1300))},
		{MaximumMTU: Some(uint16(1400))},
		{ECNEnabled: Some(true)},
	} {
		s := defaultSettings()
		err := s.update("Connection.SetSettings", &p, false)
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), "cannot change after the connection started") {
			t.Errorf("patch %+v after start: %v", p, err)
		}
	}
	s := defaultSettings()
	if err := s.update("t", &Settings{KeepAliveInterval: Some(time.Second)}, false); err != nil {
		t.Fatalf("live field rejected after start: %v", err)
	}
}

func TestInheritMTURules(t *testing.T) {
	base := defaultSettings()
	base.MinimumMTU.Value, base.MaximumMTU.Value = 1300, 1450
	for _, c := range []struct {
		name           string
		dst            Settings
		wantLo, wantHi uint16
	}{
		{"neither set", Settings{}, 1300, 1450},
		{"min set below base max", Settings{MinimumMTU: Some(uint16(1400))}, 1400, 1450},
		{"min set above base max", Settings{MinimumMTU: Some(uint16(1460)), MaximumMTU: Optional[uint16]{Value: 1500}}, 1460, 1500},
		{"max set above base min", Settings{MaximumMTU: Some(uint16(1350))}, 1300, 1350},
		{"max set below base min", Settings{MaximumMTU: Some(uint16(1280)), MinimumMTU: Optional[uint16]{Value: 1248}}, 1248, 1280},
	} {
		d := c.dst
		d.inherit(&base)
		if d.MinimumMTU.Value != c.wantLo || d.MaximumMTU.Value != c.wantHi {
			t.Errorf("%s: %d..%d, want %d..%d", c.name, d.MinimumMTU.Value, d.MaximumMTU.Value, c.wantLo, c.wantHi)
		}
	}
}

// StreamRecvWindowDefault sets the three per-type windows at its level
// without marking them set.
func TestStreamRecvWindowDefaultSetsIndividualWindows(t *testing.T) {
	var s Settings
	if err := s.update("t", &Settings{StreamRecvWindowDefault: Some(uint32(1024))}, true); err != nil {
		t.Fatal(err)
	}
	for _, w := range []Optional[uint32]{s.StreamRecvWindowBidiLocalDefault, s.StreamRecvWindowBidiRemoteDefault, s.StreamRecvWindowUnidiDefault} {
		if w.Value != 1024 || w.Set {
			t.Fatalf("per-type window %+v, want 1024 not explicitly set", w)
		}
	}
}

// A later StreamRecvWindowDefault replaces per-type windows set before, as
// QuicSettingApply with OverWrite (every SetParam) does.
func TestStreamRecvWindowDefaultReplacesWindowsSetBefore(t *testing.T) {
	s := Settings{
		StreamRecvWindowBidiLocalDefault:  Some(uint32(2048)),
		StreamRecvWindowBidiRemoteDefault: Some(uint32(2048)),
		StreamRecvWindowUnidiDefault:      Some(uint32(2048)),
	}
	if err := s.update("t", &Settings{StreamRecvWindowDefault: Some(uint32(512))}, true); err != nil {
		t.Fatal(err)
	}
	if s.StreamRecvWindowBidiLocalDefault.Value != 512 || s.StreamRecvWindowUnidiDefault.Value != 512 {
		t.Fatalf("overwrite kept old windows: %+v", s)
	}
}

func TestStreamRecvWindowDefaultOverriddenByIndividualWindows(t *testing.T) {
	var s Settings
	patch := Settings{
		StreamRecvWindowDefault:           Some(uint32(1024)),
		StreamRecvWindowBidiLocalDefault:  Some(uint32(2048)),
		StreamRecvWindowBidiRemoteDefault: Some(uint32(4096)),
		StreamRecvWindowUnidiDefault:      Some(uint32(8192)),
	}
	if err := s.update("t", &patch, true); err != nil {
		t.Fatal(err)
	}
	if s.StreamRecvWindowDefault.Value != 1024 || s.StreamRecvWindowBidiLocalDefault.Value != 2048 ||
		s.StreamRecvWindowBidiRemoteDefault.Value != 4096 || s.StreamRecvWindowUnidiDefault.Value != 8192 {
		t.Fatalf("got %+v", s)
	}
}

func TestValuesOnlyClearsSet(t *testing.T) {
	s := defaultSettings()
	if err := s.update("t", &Settings{IdleTimeout: Some(time.Second), MinimumMTU: Some(uint16(1400))}, true); err != nil {
		t.Fatal(err)
	}
	v := s.valuesOnly()
	if v.IdleTimeout != (Optional[time.Duration]{Value: time.Second}) || v.MinimumMTU != (Optional[uint16]{Value: 1400}) {
		t.Fatalf("valuesOnly = %+v %+v", v.IdleTimeout, v.MinimumMTU)
	}
	for name, f := range settingsFields(&v) {
		if f.FieldByName("Set").Bool() {
			t.Errorf("%s still Set", name)
		}
	}
}

// TestPrecedenceChain follows reference §4.4: library defaults ← library
// SetSettings ← configuration ← connection fields win over the
// configuration's.
func TestPrecedenceChain(t *testing.T) {
	l, _ := Open()
	r, err := l.NewRegistration(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	if err := l.SetSettings(&Settings{IdleTimeout: Some(5 * time.Second), PeerBidiStreamCount: Some(uint16(4))}); err != nil {
		t.Fatal(err)
	}
	if got := l.Settings(); !got.IdleTimeout.Set || got.IdleTimeout.Value != 5*time.Second || got.KeepAliveInterval.Set {
		t.Fatalf("library settings %+v / %+v", got.IdleTimeout, got.KeepAliveInterval)
	}
	plain, err := r.NewConfiguration([]string{"a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if s := plain.Settings(); s.IdleTimeout != (Optional[time.Duration]{Value: 5 * time.Second}) {
		t.Fatalf("configuration without settings: IdleTimeout %+v, want the library's 5s, not Set", s.IdleTimeout)
	}
	cfg, err := r.NewConfiguration([]string{"a"}, &Settings{
		IdleTimeout: Some(7 * time.Second),
		MaxAckDelay: Some(10 * time.Millisecond),
		MinimumMTU:  Some(uint16(1300)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	if s := cfg.Settings(); s.IdleTimeout != Some(7*time.Second) || s.PeerBidiStreamCount != (Optional[uint16]{Value: 4}) {
		t.Fatalf("configuration: IdleTimeout %+v PeerBidiStreamCount %+v", s.IdleTimeout, s.PeerBidiStreamCount)
	}

	// A connection starts from the library's values...
	conn := l.connectionSettings()
	if conn.IdleTimeout != (Optional[time.Duration]{Value: 5 * time.Second}) {
		t.Fatalf("connection starts with %+v", conn.IdleTimeout)
	}
	// ...the application sets a field on it...
	if err := conn.update("Connection.SetSettings", &Settings{IdleTimeout: Some(3 * time.Second)}, true); err != nil {
		t.Fatal(err)
	}
	// ...later library changes reach configurations (for fields they did
	// not set) but not existing connections...
	if err := l.SetSettings(&Settings{IdleTimeout: Some(9 * time.Second), KeepAliveInterval: Some(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if s := cfg.Settings(); s.IdleTimeout.Value != 7*time.Second || s.KeepAliveInterval != (Optional[time.Duration]{Value: time.Second}) {
		t.Fatalf("after library change, configuration has IdleTimeout %v KeepAlive %+v", s.IdleTimeout.Value, s.KeepAliveInterval)
	}
	if s := plain.Settings(); s.IdleTimeout.Value != 9*time.Second {
		t.Fatalf("configuration without own IdleTimeout did not follow the library: %v", s.IdleTimeout.Value)
	}
	if conn.KeepAliveInterval.Value != 0 {
		t.Fatal("library change reached an existing connection")
	}
	// ...and attaching the configuration (Connection.connectionSettings)
	// fills only what the connection did not set.
	cs := cfg.Settings()
	conn.inherit(&cs)
	if conn.IdleTimeout.Value != 3*time.Second {
		t.Errorf("connection field lost to the configuration: %v", conn.IdleTimeout.Value)
	}
	if conn.MaxAckDelay.Value != 10*time.Millisecond || conn.MinimumMTU.Value != 1300 {
		t.Errorf("configuration fields not applied: MaxAckDelay %v MinimumMTU %d", conn.MaxAckDelay.Value, conn.MinimumMTU.Value)
	}
	if conn.PeerBidiStreamCount.Value != 4 || conn.KeepAliveInterval.Value != time.Second {
		t.Errorf("fields set nowhere must come from the configuration, which follows the library: %d %v",
			conn.PeerBidiStreamCount.Value, conn.KeepAliveInterval.Value)
	}
}

func TestConfigurationSetSettings(t *testing.T) {
	l, _ := Open()
	r, _ := l.NewRegistration(nil)
	defer r.Close()
	cfg, err := r.NewConfiguration([]string{"a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	if err := cfg.SetSettings(&Settings{PeerUnidiStreamCount: Some(uint16(3))}); err != nil {
		t.Fatal(err)
	}
	if s := cfg.Settings(); s.PeerUnidiStreamCount != Some(uint16(3)) {
		t.Fatalf("PeerUnidiStreamCount %+v", s.PeerUnidiStreamCount)
	}
	err = cfg.SetSettings(&Settings{DisconnectTimeout: Some(time.Hour)})
	if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), "Configuration.SetSettings") ||
		!strings.Contains(err.Error(), "Settings.DisconnectTimeout") {
		t.Fatalf("err = %v", err)
	}
}

func TestLibrarySetSettingsValidates(t *testing.T) {
	l, _ := Open()
	err := l.SetSettings(&Settings{StreamRecvBufferDefault: Some(uint32(10))})
	if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), "Library.SetSettings") {
		t.Fatalf("err = %v", err)
	}
	if l.Settings() != defaultSettings() {
		t.Fatal("rejected settings were applied")
	}
	if err := l.SetSettings(nil); err != nil {
		t.Fatal(err)
	}
}

func TestGlobalSettings(t *testing.T) {
	l, _ := Open()
	if err := l.SetGlobalSettings(&GlobalSettings{LoadBalancingMode: Some(LoadBalancingMode(3))}); !errors.Is(err, ErrInvalidParameter) ||
		!strings.Contains(err.Error(), "GlobalSettings.LoadBalancingMode") {
		t.Fatalf("mode 3: %v", err)
	}
	g := GlobalSettings{
		RetryMemoryLimit:      Some(uint16(0)),
		LoadBalancingMode:     Some(LoadBalancingServerIDFixed),
		FixedServerID:         Some(uint32(0xdeadbeef)),
		StatelessRetryEnabled: Some(true),
	}
	if err := l.SetGlobalSettings(&g); err != nil {
		t.Fatal(err)
	}
	if got := l.GlobalSettings(); got != g {
		t.Fatalf("GlobalSettings() = %+v", got)
	}
	if err := l.SetGlobalSettings(nil); err != nil {
		t.Fatal(err)
	}
	// Once a registration exists, the load-balancing identity is fixed.
	r, _ := l.NewRegistration(nil)
	defer r.Close()
	if err := l.SetGlobalSettings(&GlobalSettings{LoadBalancingMode: Some(LoadBalancingDisabled)}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("changing LoadBalancingMode in use: %v", err)
	}
	if err := l.SetGlobalSettings(&GlobalSettings{FixedServerID: Some(uint32(1))}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("changing FixedServerID in use: %v", err)
	}
	if err := l.SetGlobalSettings(&GlobalSettings{LoadBalancingMode: Some(LoadBalancingServerIDFixed), RetryMemoryLimit: Some(uint16(100))}); err != nil {
		t.Fatalf("same mode and a new retry limit in use: %v", err)
	}
	if l.GlobalSettings().RetryMemoryLimit.Value != 100 {
		t.Fatal("RetryMemoryLimit not updated")
	}
}

func TestStatelessRetryConfig(t *testing.T) {
	l, _ := Open()
	if l.statelessRetryConfig() != nil {
		t.Fatal("a retry config is set by default")
	}
	for _, c := range []struct {
		cfg  *StatelessRetryConfig
		want string
	}{
		{nil, "config is nil"},
		{&StatelessRetryConfig{Algorithm: 5, Rotation: time.Second, Secret: make([]byte, 32)}, "Algorithm 5 is unknown"},
		{&StatelessRetryConfig{Algorithm: AEADAES256GCM, Rotation: time.Second, Secret: make([]byte, 16)}, "Secret must be 32 bytes"},
		{&StatelessRetryConfig{Algorithm: AEADAES128GCM, Rotation: time.Second, Secret: make([]byte, 32)}, "Secret must be 16 bytes"},
		{&StatelessRetryConfig{Algorithm: AEADAES128GCM, Rotation: 0, Secret: make([]byte, 16)}, "Rotation must be at least 1ms"},
		{&StatelessRetryConfig{Algorithm: AEADAES128GCM, Rotation: (1 << 32) * time.Millisecond, Secret: make([]byte, 16)}, "Rotation must be at most"},
	} {
		err := l.SetStatelessRetryConfig(c.cfg)
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want one containing %q", err, c.want)
		}
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	if err := l.SetStatelessRetryConfig(&StatelessRetryConfig{Algorithm: AEADAES256GCM, Rotation: 30 * time.Second, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	secret[0] = 'X'
	got := l.statelessRetryConfig()
	if got == nil || got.Secret[0] != '0' || got.Rotation != 30*time.Second || got.Algorithm != AEADAES256GCM {
		t.Fatalf("stored config %+v (secret must be copied)", got)
	}
	got.Secret[1] = 'Y'
	if l.statelessRetryConfig().Secret[1] != '1' {
		t.Fatal("statelessRetryConfig returned shared memory")
	}
}
