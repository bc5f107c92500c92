// Command filetransfer serves files over QUIC with package quicnet:
// "filetransfer serve ADDR DIR" writes its certificate to cert.pem, and
// "filetransfer get ADDR NAME >OUTPUT" (trusting only cert.pem) downloads
// NAME and prints its size, SHA-256 and the transfer rate to stderr.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/hquic/quic/quicnet"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 4 && os.Args[1] == "serve":
		err = serve(os.Args[2], os.Args[3])
	case len(os.Args) == 4 && os.Args[1] == "get":
		err = get(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("usage: filetransfer serve ADDR DIR | get ADDR NAME >OUTPUT")
	}
	if err != nil {
		log.Fatal(err)
	}
}

// serve answers every stream of every connection with the file it names.
func serve(addr, dir string) error {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"}, NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	l, err := quicnet.Listen(addr, &tls.Config{NextProtos: []string{"file"}, Certificates: []tls.Certificate{cert}}, nil)
	if err == nil {
		err = os.WriteFile("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	}
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept(context.Background())
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			for {
				s, err := c.AcceptStream(context.Background())
				if err != nil {
					return
				}
				go sendFile(s, dir)
			}
		}()
	}
}

func sendFile(s *quicnet.Stream, dir string) {
	defer s.Close()
	name, err := io.ReadAll(io.LimitReader(s, 4096))
	if err != nil {
		return
	}
	f, err := os.Open(filepath.Join(dir, filepath.Base(string(name))))
	if err != nil {
		s.CancelWrite(1) // the client's Read fails with a *quicnet.StreamError
		return
	}
	defer f.Close()
	io.Copy(s, f)
}

func get(addr, name string) error {
	roots := x509.NewCertPool()
	if pemBytes, err := os.ReadFile("cert.pem"); err != nil || !roots.AppendCertsFromPEM(pemBytes) {
		return fmt.Errorf("no certificate in cert.pem: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := quicnet.Dial(ctx, addr, &tls.Config{NextProtos: []string{"file"}, RootCAs: roots}, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.OpenStream(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	io.WriteString(s, name)
	s.CloseWrite()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(os.Stdout, h), s)
	if err != nil {
		return err
	}
	mbps := float64(n) * 8 / time.Since(start).Seconds() / 1e6
	_, err = fmt.Fprintf(os.Stderr, "%s: %d bytes, sha256 %x, %.0f Mbit/s\n", name, n, h.Sum(nil), mbps)
	return err
}
