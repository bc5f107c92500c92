package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// writeCerts writes a certificate directory as the runner's certs.sh
// does: ca.pem (the root), cert.pem (the leaf for localhost, 127.0.0.1 and
// ::1, then chainLen-1 intermediates) and priv.key (the leaf's key).
// Chains longer than one use RSA-2048 certificates so that the server's
// first flight is large, as the amplification test needs.
func writeCerts(dir string, chainLen int) error {
	newKey := func() (crypto.Signer, error) {
		if chainLen > 1 {
			return rsa.GenerateKey(rand.Reader, 2048)
		}
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	now := time.Now()
	tmpl := func(cn string, ca bool) *x509.Certificate {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		t := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: cn},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(24 * time.Hour),
			BasicConstraintsValid: true,
			IsCA:                  ca,
		}
		if ca {
			t.KeyUsage = x509.KeyUsageCertSign
		} else {
			t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
			t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			t.DNSNames = []string{"localhost", "server", "server4", "server6"}
			t.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
		}
		return t
	}
	rootKey, err := newKey()
	if err != nil {
		return err
	}
	rootTmpl := tmpl("hquic lab root", true)
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return err
	}
	parent, parentKey := rootTmpl, rootKey
	var chain [][]byte // intermediates, top-down
	for i := 1; i < chainLen; i++ {
		k, err := newKey()
		if err != nil {
			return err
		}
		t := tmpl(fmt.Sprintf("hquic lab intermediate %d", i), true)
		der, err := x509.CreateCertificate(rand.Reader, t, parent, k.Public(), parentKey)
		if err != nil {
			return err
		}
		chain = append(chain, der)
		parent, parentKey = t, k
	}
	leafKey, err := newKey()
	if err != nil {
		return err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, tmpl("localhost", false), parent, leafKey.Public(), parentKey)
	if err != nil {
		return err
	}
	var certPEM []byte
	certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})...)
	for i := len(chain) - 1; i >= 0; i-- {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[i]})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.pem":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}),
		"cert.pem": certPEM,
		"priv.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
