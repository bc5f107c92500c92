package quic

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The no-silent-no-op audit: every field of Settings and GlobalSettings
// and every named bit of the flag sets has a row saying how hquic treats
// it, and the row is checked. A field or flag added without a row fails
// TestEverySettingHasARow or TestEveryFlagHasARow.

// treatment is how hquic treats a setting or a flag.
type treatment uint8

const (
	engine   treatment = iota + 1 // the connection engine reads it
	library                       // only the library-wide value is used, by the endpoint's defenses
	handle                        // the public package reads it when a connection starts (tracing)
	refused                       // setting it fails with ErrNotSupported
	works                         // a behaviour test shows it
	always                        // it names what hquic always does; accepted, documented
	rejected                      // the call that takes it fails (ErrNotSupported or ErrInvalidParameter)
)

// settingRows are the Settings fields that are not engine-read; every
// other field must change the engine's settings (checked below).
var settingRows = map[string]treatment{
	"TLSClientMaxSendBuffer": refused, "TLSServerMaxSendBuffer": refused,
	"EncryptionOffloadAllowed": refused, "ReliableResetEnabled": refused, "OneWayDelayEnabled": refused,
	"NetStatsEventEnabled": refused, "StreamMultiReceiveEnabled": refused, "XDPEnabled": refused, "QTIPEnabled": refused,
	"MaxWorkerQueueDelay": library, "MaxStatelessOperations": library,
	"MaxBindingStatelessOperations": library, "StatelessOperationExpiration": library,
	"Extensions.Tracer": handle, "Extensions.QlogDir": handle,
}

// sourceOf returns the non-test Go source of the package in dir.
func sourceOf(t *testing.T, dir string, skip ...string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var b strings.Builder
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasSuffix(base, "_test.go") || slicesContains(skip, base) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestEverySettingHasARow(t *testing.T) {
	connSrc := sourceOf(t, "internal/conn")
	rootSrc := sourceOf(t, ".", "settings.go", "settings_apply.go", "settings_validate.go", "settings_live.go")
	def := defaultSettings()
	base := engineSettings(&def)
	for name := range settingsFields(&def) {
		t.Run(name, func(t *testing.T) {
			alt := altValues[name]
			var patch Settings
			setField(&patch, name, alt)
			switch settingRows[name] {
			case refused:
				if err := patch.Validate(); !errors.Is(err, ErrNotSupported) {
					t.Fatalf("%s = %v: %v, want ErrNotSupported", name, alt, err)
				}
			case library, handle:
				field := name[strings.LastIndex(name, ".")+1:]
				if !regexp.MustCompile(`\.` + field + `\b`).MatchString(rootSrc) {
					t.Fatalf("%s: no library code reads it", name)
				}
			default:
				s := defaultSettings()
				if err := s.update("test", &patch, true); err != nil {
					t.Fatal(err)
				}
				es := engineSettings(&s)
				changed := diffFields(base, es)
				if len(changed) == 0 {
					t.Fatalf("%s = %v changes nothing the engine is given", name, alt)
				}
				for _, f := range changed {
					if !regexp.MustCompile(`\.` + f + `\b`).MatchString(connSrc) {
						t.Errorf("%s maps to conn.Settings.%s, which internal/conn never reads", name, f)
					}
				}
			}
		})
	}
}

// diffFields names the fields of two structs of one type that differ.
func diffFields(a, b any) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return out
}

// globalRows say how each GlobalSettings field is observed.
var globalRows = map[string]func(*Library) bool{
	"RetryMemoryLimit": func(l *Library) bool { // set to 0: always Retry
		g := l.GlobalSettings()
		limit, _ := retryLimit(&g)
		return limit == 0
	},
	"StatelessRetryEnabled": func(l *Library) bool {
		g := l.GlobalSettings()
		_, always := retryLimit(&g)
		return always
	},
	"LoadBalancingMode": func(l *Library) bool { return l.cidLen() == lbCIDLen },
	"FixedServerID":     func(l *Library) bool { return l.GlobalSettings().FixedServerID.Value == 7 },
}

func TestEveryGlobalSettingHasARow(t *testing.T) {
	typ := reflect.TypeOf(GlobalSettings{})
	patches := map[string]GlobalSettings{
		"RetryMemoryLimit":      {RetryMemoryLimit: Some[uint16](0)},
		"StatelessRetryEnabled": {StatelessRetryEnabled: Some(true)},
		"LoadBalancingMode":     {LoadBalancingMode: Some(LoadBalancingServerIDFixed)},
		"FixedServerID":         {LoadBalancingMode: Some(LoadBalancingServerIDFixed), FixedServerID: Some[uint32](7)},
	}
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		check, ok := globalRows[name]
		if !ok {
			t.Errorf("GlobalSettings.%s has no row", name)
			continue
		}
		l, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		p := patches[name]
		if check(l) {
			t.Errorf("%s: observed before it was set", name)
		}
		if err := l.SetGlobalSettings(&p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !check(l) {
			t.Errorf("%s: setting it changed nothing observable", name)
		}
		l.Close()
	}
}

// flagRow is a flag's treatment and its evidence: a test
// ("dir:TestName") for works, a reason for always, the failing call for
// rejected.
type flagRow struct {
	how    treatment
	test   string
	reason string
	call   func() error
}

func TestEveryFlagHasARow(t *testing.T) {
	rows := flagRows(t)
	kinds := []struct {
		typ  string
		name func(bit uint64) string
	}{
		{"ConnectionShutdownFlags", func(b uint64) string { return ConnectionShutdownFlags(b).String() }},
		{"StreamOpenFlags", func(b uint64) string { return StreamOpenFlags(b).String() }},
		{"StreamStartFlags", func(b uint64) string { return StreamStartFlags(b).String() }},
		{"StreamShutdownFlags", func(b uint64) string { return StreamShutdownFlags(b).String() }},
		{"SendFlags", func(b uint64) string { return SendFlags(b).String() }},
		{"ReceiveFlags", func(b uint64) string { return ReceiveFlags(b).String() }},
		{"CredentialFlags", func(b uint64) string { return CredentialFlags(b).String() }},
		{"SendResumptionFlags", func(b uint64) string { return SendResumptionFlags(b).String() }},
		{"AllowedCipherSuites", func(b uint64) string { return AllowedCipherSuites(b).String() }},
	}
	for _, k := range kinds {
		for bit := uint64(1); bit < 1<<32; bit <<= 1 {
			name := k.name(bit)
			if strings.HasPrefix(name, "0x") {
				continue // not a defined flag
			}
			key := k.typ + "." + name
			row, ok := rows[key]
			if !ok {
				t.Errorf("%s has no row", key)
				continue
			}
			checkFlagRow(t, key, row)
		}
	}
}

// testFuncs caches the test function names of each package directory.
var testFuncs = map[string]string{}

func checkFlagRow(t *testing.T, key string, row flagRow) {
	t.Helper()
	switch row.how {
	case works:
		dir, name, _ := strings.Cut(row.test, ":")
		src, ok := testFuncs[dir]
		if !ok {
			files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
			var b strings.Builder
			for _, f := range files {
				data, _ := os.ReadFile(f)
				b.Write(data)
			}
			src = b.String()
			testFuncs[dir] = src
		}
		if !strings.Contains(src, "func "+name+"(") {
			t.Errorf("%s: its test %s does not exist", key, row.test)
		}
	case always:
		if row.reason == "" {
			t.Errorf("%s: no reason", key)
		}
	case rejected:
		if err := row.call(); !errors.Is(err, ErrNotSupported) && !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%s: %v, want a refusal", key, err)
		}
	default:
		t.Errorf("%s: no treatment", key)
	}
}
