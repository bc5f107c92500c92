// Package testutil holds helpers shared by tests of several packages: the
// test certificates of testdata/certs (written by ./gencerts) and their
// loaders, and a count of a synctest bubble's goroutines. The certificate
// files are located relative to this source file, so tests in any package
// directory find them.
//
// The certificates: a self-signed ECDSA P-256 CA (ca.pem), a leaf signed by
// it for "localhost", 127.0.0.1 and ::1, valid until 2126 and usable for
// both server and client authentication (cert.pem, key.pem), and a leaf
// for the same names that expired on 2001-01-01 (expired-cert.pem,
// expired-key.pem).
package testutil

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
)

// Paths are the absolute paths of the test certificate files.
type Paths struct {
	CA          string // CA certificate, PEM
	Cert        string // leaf certificate, PEM
	Key         string // leaf private key, PEM (PKCS#8)
	ExpiredCert string // expired leaf certificate, PEM
	ExpiredKey  string // expired leaf private key, PEM (PKCS#8)
}

// CertPaths returns the paths of the files in testdata/certs.
func CertPaths() Paths {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testutil: cannot locate source file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "certs")
	return Paths{
		CA:          filepath.Join(dir, "ca.pem"),
		Cert:        filepath.Join(dir, "cert.pem"),
		Key:         filepath.Join(dir, "key.pem"),
		ExpiredCert: filepath.Join(dir, "expired-cert.pem"),
		ExpiredKey:  filepath.Join(dir, "expired-key.pem"),
	}
}

// ServerCertificate returns the valid leaf certificate and key. It panics if
// the files are missing or broken, which only a damaged checkout causes.
func ServerCertificate() tls.Certificate {
	p := CertPaths()
	return mustLoadPair(p.Cert, p.Key)
}

// ExpiredCertificate returns the expired leaf certificate and key.
func ExpiredCertificate() tls.Certificate {
	p := CertPaths()
	return mustLoadPair(p.ExpiredCert, p.ExpiredKey)
}

// RootCAs returns a pool holding only the test CA.
func RootCAs() *x509.CertPool {
	pem, err := os.ReadFile(CertPaths().CA)
	if err != nil {
		panic("testutil: " + err.Error())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		panic("testutil: no certificate in " + CertPaths().CA)
	}
	return pool
}

func mustLoadPair(certFile, keyFile string) tls.Certificate {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		panic("testutil: " + err.Error())
	}
	return c
}
