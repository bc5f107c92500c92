package quic

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOpenGivesIndependentLibraries(t *testing.T) {
	a, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Open()
	if err := a.SetSettings(&Settings{IdleTimeout: Some(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if b.Settings().IdleTimeout.Value != 30*time.Second {
		t.Fatal("settings leaked between libraries")
	}
	if a.statelessResetKey() == b.statelessResetKey() {
		t.Fatal("two libraries share a stateless reset key")
	}
	if a.statelessResetKey() == [32]byte{} {
		t.Fatal("stateless reset key is not random")
	}
}

func TestLibraryInformation(t *testing.T) {
	l, _ := Open()
	if APIVersion != 2 {
		t.Fatalf("APIVersion = %d", APIVersion)
	}
	v := l.SupportedVersions()
	if !slices.Equal(v, []uint32{0x00000001, 0x6b3343cf}) {
		t.Fatalf("SupportedVersions = %#x", v)
	}
	v[0] = 99
	if l.SupportedVersions()[0] != Version1 {
		t.Fatal("SupportedVersions returned shared memory")
	}
	if l.Version() != [4]uint32{0, 1, 0, 0} {
		t.Fatalf("Version = %v", l.Version())
	}
	if l.TLSProvider() != TLSProviderGo {
		t.Fatalf("TLSProvider = %v", l.TLSProvider())
	}
}

func TestReadEnv(t *testing.T) {
	env := map[string]string{"HQUIC_DISABLE_GSO": "1", "HQUIC_DISABLE_GRO": "0", "HQUIC_DISABLE_ECN": "1"}
	got := readEnv(func(k string) string { return env[k] })
	if got != (envOptions{disableGSO: true, disableECN: true}) {
		t.Fatalf("readEnv = %+v", got)
	}
	if readEnv(func(string) string { return "" }) != (envOptions{}) {
		t.Fatal("empty environment enables something")
	}
}

func TestOpenReadsEnvironment(t *testing.T) {
	t.Setenv("HQUIC_DISABLE_GRO", "1")
	l, _ := Open()
	if !l.env.disableGRO || l.env.disableGSO {
		t.Fatalf("env = %+v", l.env)
	}
}

func TestLibraryCloseWithOpenRegistration(t *testing.T) {
	l, _ := Open()
	r, err := l.NewRegistration(&RegistrationConfig{AppName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	err = l.Close()
	if !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Close with an open registration = %v, want ErrInvalidState", err)
	}
	r.Close()
	if err := l.Close(); err != nil {
		t.Fatalf("Close after the registration closed = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := l.NewRegistration(nil); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("NewRegistration after Close = %v", err)
	}
}

func TestSetStatelessResetKey(t *testing.T) {
	l, _ := Open()
	var k [StatelessResetKeyLength]byte
	for i := range k {
		k[i] = byte(i)
	}
	if err := l.SetStatelessResetKey(k); err != nil {
		t.Fatal(err)
	}
	if l.statelessResetKey() != k {
		t.Fatal("key not stored")
	}
}

func TestVersionSettings(t *testing.T) {
	l, _ := Open()
	if l.VersionSettings() != nil {
		t.Fatal("version settings set by default")
	}
	for _, c := range []struct {
		v    VersionSettings
		want string
	}{
		{VersionSettings{AcceptableVersions: []uint32{Version1, VersionDraft29}}, "VersionSettings.AcceptableVersions[1]: version 0xff00001d"},
		{VersionSettings{OfferedVersions: []uint32{VersionMS1}}, "VersionSettings.OfferedVersions[0]"},
		{VersionSettings{FullyDeployedVersions: []uint32{Version2, 3}}, "VersionSettings.FullyDeployedVersions[1]"},
	} {
		err := l.SetVersionSettings(&c.v)
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want one containing %q", err, c.want)
		}
	}
	vs := VersionSettings{
		AcceptableVersions:    []uint32{Version2, Version1, 0x1a2a3a4a},
		OfferedVersions:       []uint32{Version2, Version1},
		FullyDeployedVersions: []uint32{Version1},
	}
	if err := l.SetVersionSettings(&vs); err != nil {
		t.Fatal(err)
	}
	vs.AcceptableVersions[0] = 7
	got := l.VersionSettings()
	if got.AcceptableVersions[0] != Version2 || !slices.Equal(got.FullyDeployedVersions, []uint32{Version1}) {
		t.Fatalf("stored %+v (must be a copy)", got)
	}
	if err := l.SetVersionSettings(&VersionSettings{}); err != nil {
		t.Fatalf("empty lists (defaults, extension on) rejected: %v", err)
	}
	if err := l.SetVersionSettings(nil); err != nil || l.VersionSettings() != nil {
		t.Fatalf("nil did not clear: %v", err)
	}
}

func TestReservedVersions(t *testing.T) {
	for v, want := range map[uint32]bool{0x0a0a0a0a: true, 0x1a2a3a4a: true, 0xfafafafa: true, 1: false, 0x0a0a0a0b: false} {
		if isReservedVersion(v) != want {
			t.Errorf("isReservedVersion(%#x) = %v", v, !want)
		}
	}
}
