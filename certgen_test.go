package quic

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// testPKI is a set of certificates made for the validation tests: two
// unrelated CAs, an intermediate, and leaves that fail one check each.
type testPKI struct {
	ca, otherCA, inter, badInter *testCA

	good       tls.Certificate // localhost/127.0.0.1, server and client use, from ca
	viaInter   tls.Certificate // like good, issued by inter (chain: leaf, inter)
	wrongCA    tls.Certificate // like good, from otherCA
	expired    tls.Certificate // from ca, expired in 2001
	otherName  tls.Certificate // from ca, for other.example only
	serverOnly tls.Certificate // from ca, server authentication only
	revoked    tls.Certificate // from ca, listed in caCRL
	interLeaf  tls.Certificate // from badInter, whose own certificate caCRL revokes

	caCRL       *x509.RevocationList // ca's CRL: revokes revoked and badInter
	staleCRL    *x509.RevocationList // ca's CRL, past its next update, empty
	interCRL    *x509.RevocationList // inter's CRL, empty
	badInterCRL *x509.RevocationList // badInter's CRL, empty
	emptyCACRL  *x509.RevocationList // ca's CRL, current, empty
}

// testCA is a certificate authority of the test PKI.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

// pool returns a pool holding only ca.
func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

var (
	notBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2120, 1, 1, 0, 0, 0, 0, time.UTC)
)

var pkiOnce = sync.OnceValue(func() *testPKI {
	p := &testPKI{}
	p.ca = newTestCA("hquic test root", nil, 1)
	p.otherCA = newTestCA("another root", nil, 2)
	p.inter = newTestCA("hquic test intermediate", p.ca, 3)
	p.badInter = newTestCA("revoked intermediate", p.ca, 4)
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	p.good = p.ca.leaf(10, "localhost", notBefore, notAfter, both)
	p.viaInter = p.inter.leaf(11, "localhost", notBefore, notAfter, both)
	p.wrongCA = p.otherCA.leaf(12, "localhost", notBefore, notAfter, both)
	p.expired = p.ca.leaf(13, "localhost", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), both)
	p.otherName = p.ca.leaf(14, "other.example", notBefore, notAfter, both)
	p.serverOnly = p.ca.leaf(15, "localhost", notBefore, notAfter, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	p.revoked = p.ca.leaf(16, "localhost", notBefore, notAfter, both)
	p.interLeaf = p.badInter.leaf(17, "localhost", notBefore, notAfter, both)
	p.caCRL = p.ca.crl(1, notAfter, 16, 4)
	p.staleCRL = p.ca.crl(2, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	p.interCRL = p.inter.crl(1, notAfter)
	p.badInterCRL = p.badInter.crl(1, notAfter)
	p.emptyCACRL = p.ca.crl(3, notAfter)
	return p
})

func newTestKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// newTestCA makes a CA certificate, self-signed or issued by parent.
func newTestCA(name string, parent *testCA, serial int64) *testCA {
	ca := &testCA{key: newTestKey()}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	issuer, key := tmpl, ca.key
	if parent != nil {
		issuer, key = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &ca.key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	ca.der = der
	ca.cert, _ = x509.ParseCertificate(der)
	return ca
}

// leaf issues a certificate for name (and 127.0.0.1 when name is
// localhost); a leaf of an intermediate carries the intermediate in its
// chain.
func (ca *testCA) leaf(serial int64, name string, from, until time.Time, usage []x509.ExtKeyUsage) tls.Certificate {
	key := newTestKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: from, NotAfter: until,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage,
	}
	if name == "localhost" {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	chain := [][]byte{der}
	if !ca.cert.Equal(ca.rootOf()) {
		chain = append(chain, ca.der)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
}

// rootOf reports ca's certificate when it is self-signed, nil otherwise.
func (ca *testCA) rootOf() *x509.Certificate {
	if ca.cert.CheckSignatureFrom(ca.cert) == nil {
		return ca.cert
	}
	return nil
}

// crl issues a CRL revoking the given serial numbers.
func (ca *testCA) crl(number int64, next time.Time, revoked ...int64) *x509.RevocationList {
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: next.AddDate(-1, 0, 0), NextUpdate: next}
	for _, s := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: notBefore})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		panic(err)
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		panic(err)
	}
	return l
}

// loadPKI loads a credential of cert with flags.
func loadPKI(t *testing.T, flags CredentialFlags, cert *tls.Certificate, roots *x509.CertPool, crls ...*x509.RevocationList) *Configuration {
	t.Helper()
	cc := &CredentialConfig{Flags: flags, RootCAs: roots, CRLs: crls}
	if cert != nil {
		cc.Type = CredentialTLSCertificate
		cc.Certificates = []tls.Certificate{*cert}
	}
	return loadConfig(t, cc)
}
