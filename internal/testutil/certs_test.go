package testutil

import (
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCertificatesChainToCA(t *testing.T) {
	roots := RootCAs()
	leaf := ServerCertificate().Leaf
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("leaf does not verify for %s: %v", name, err)
		}
	}
	if leaf.NotAfter.Before(time.Now().AddDate(50, 0, 0)) {
		t.Errorf("leaf expires %v; expected a long-lived certificate", leaf.NotAfter)
	}
	if !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("leaf IPs %v", leaf.IPAddresses)
	}
}

func TestExpiredCertificateIsExpired(t *testing.T) {
	leaf := ExpiredCertificate().Leaf
	_, err := leaf.Verify(x509.VerifyOptions{Roots: RootCAs(), DNSName: "localhost"})
	var invalid x509.CertificateInvalidError
	if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Fatalf("Verify of expired leaf = %v, want an Expired error", err)
	}
}

func TestPathsExist(t *testing.T) {
	p := CertPaths()
	for _, f := range []string{p.CA, p.Cert, p.Key, p.ExpiredCert, p.ExpiredKey} {
		if !filepath.IsAbs(f) {
			t.Errorf("%s is not absolute", f)
		}
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}
