package quic

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic/internal/testutil"
)

func newTestConfiguration(t *testing.T, alpns []string, s *Settings) (*Registration, *Configuration) {
	t.Helper()
	_, r := newTestRegistration(t, nil)
	t.Cleanup(r.Close)
	c, err := r.NewConfiguration(alpns, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return r, c
}

func TestALPNValidation(t *testing.T) {
	_, r := newTestRegistration(t, nil)
	defer r.Close()
	long := strings.Repeat("a", 255)
	for _, c := range []struct {
		name  string
		alpns []string
		want  string // "" means valid
	}{
		{"nil list", nil, "at least one ALPN is required"},
		{"empty list", []string{}, "at least one ALPN is required"},
		{"one byte", []string{"h"}, ""},
		{"255 bytes", []string{long}, ""},
		{"empty entry", []string{"h3", ""}, "ALPN[1] \"\" is 0 bytes"},
		{"256 bytes", []string{"h3", long + "a"}, "ALPN[1] \"aaaaaaaaaaaaaaaa\" is 256 bytes"},
		{"encoded list too long", slices.Repeat([]string{long}, 256), "ALPN list exceeds 65535 encoded bytes at ALPN[255]"},
		{"encoded list at limit", append(slices.Repeat([]string{long}, 255), strings.Repeat("b", 254)), ""},
	} {
		cfg, err := r.NewConfiguration(c.alpns, nil)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else {
				cfg.Close()
			}
			continue
		}
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestALPNsCopied(t *testing.T) {
	alpns := []string{"h3", "hq-interop"}
	_, c := newTestConfiguration(t, alpns, nil)
	alpns[0] = "x"
	got := c.ALPNs()
	if !slices.Equal(got, []string{"h3", "hq-interop"}) {
		t.Fatalf("ALPNs = %v", got)
	}
	got[0] = "y"
	if c.ALPNs()[0] != "h3" {
		t.Fatal("ALPNs returned shared memory")
	}
}

func TestNewConfigurationRejectsInvalidSettings(t *testing.T) {
	_, r := newTestRegistration(t, nil)
	_, err := r.NewConfiguration([]string{"a"}, &Settings{InitialRTT: Some(time.Duration(0))})
	if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), "Registration.NewConfiguration") ||
		!strings.Contains(err.Error(), "Settings.InitialRTT") {
		t.Fatalf("err = %v", err)
	}
	r.Close() // the failed configuration was not registered, so this does not block
}

func TestConfigurationUsability(t *testing.T) {
	_, c := newTestConfiguration(t, []string{"a"}, nil)
	if c.isLoaded() || c.credentialFlags() != 0 {
		t.Fatal("loaded before LoadCredential")
	}
	if err := c.checkUsable("Connection.Start"); !errors.Is(err, ErrInvalidParameter) ||
		!strings.Contains(err.Error(), "no credentials") {
		t.Fatalf("checkUsable without credentials = %v", err)
	}
	if ctls(c, "localhost") != nil || stls(c) != nil {
		t.Fatal("TLS configs without credentials")
	}
	flags := CredentialClient | CredentialNoCertificateValidation
	if err := c.LoadCredential(&CredentialConfig{Flags: flags}); err != nil {
		t.Fatal(err)
	}
	if !c.isLoaded() || c.credentialFlags() != flags || c.checkUsable("Connection.Start") != nil {
		t.Fatal("not usable after LoadCredential")
	}
	c.Close()
	if err := c.checkUsable("Connection.Start"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("checkUsable after Close = %v", err)
	}
	if err := c.LoadCredential(&CredentialConfig{Flags: flags}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("LoadCredential after Close = %v", err)
	}
}

func TestLoadCredentialAsync(t *testing.T) {
	_, c := newTestConfiguration(t, []string{"a"}, nil)
	if err := c.LoadCredentialAsync(&CredentialConfig{}, nil); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("nil completion: %v", err)
	}
	if err := c.LoadCredentialAsync(nil, func(error) {}); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("nil config: %v", err)
	}
	done := make(chan error, 1)
	p := testutil.CertPaths()
	cc := &CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: p.Key}
	if err := c.LoadCredentialAsync(cc, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("async load: %v", err)
	}
	if !c.isLoaded() {
		t.Fatal("not loaded after the completion")
	}
	bad := &CredentialConfig{Type: CredentialCertificateFile, CertFile: "/nonexistent", KeyFile: p.Key}
	if err := c.LoadCredentialAsync(bad, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrNotFound) {
		t.Fatalf("async load of a missing file: %v", err)
	}
}

func TestSetTicketKeys(t *testing.T) {
	key := TicketKey{ID: [16]byte{1}, Material: make([]byte, 32)}
	_, c := newTestConfiguration(t, []string{"a"}, nil)
	if err := c.SetTicketKeys([]TicketKey{key}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("before credentials: %v", err)
	}
	p := testutil.CertPaths()
	if err := c.LoadCredential(&CredentialConfig{Type: CredentialCertificateFile, CertFile: p.Cert, KeyFile: p.Key}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		keys []TicketKey
		want string
	}{
		{nil, "0 keys"},
		{slices.Repeat([]TicketKey{key}, 17), "17 keys"},
		{[]TicketKey{key, {Material: make([]byte, 31)}}, "keys[1].Material is 31 bytes"},
		{[]TicketKey{{Material: make([]byte, 65)}}, "keys[0].Material is 65 bytes"},
	} {
		if err := c.SetTicketKeys(bad.keys); !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("err = %v, want one containing %q", err, bad.want)
		}
	}
	if err := c.SetTicketKeys(slices.Repeat([]TicketKey{key}, 16)); err != nil {
		t.Fatal(err)
	}
	_, client := newTestConfiguration(t, []string{"a"}, nil)
	if err := client.LoadCredential(&CredentialConfig{Flags: CredentialClient}); err != nil {
		t.Fatal(err)
	}
	if err := client.SetTicketKeys([]TicketKey{key}); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("client configuration: %v", err)
	}
}

func TestConfigurationVersionSettings(t *testing.T) {
	_, c := newTestConfiguration(t, []string{"a"}, nil)
	if err := c.SetVersionSettings(&VersionSettings{OfferedVersions: []uint32{0x12345678}}); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("unsupported version: %v", err)
	}
	if err := c.SetVersionSettings(&VersionSettings{FullyDeployedVersions: []uint32{Version2, Version1}}); err != nil {
		t.Fatal(err)
	}
	if v := c.VersionSettings(); !slices.Equal(v.FullyDeployedVersions, []uint32{Version2, Version1}) {
		t.Fatalf("VersionSettings = %+v", v)
	}
	if err := c.SetVersionSettings(nil); err != nil || c.VersionSettings() != nil {
		t.Fatal("nil did not clear")
	}
}
