package quicnet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"time"

	"github.com/hquic/quic"
	"github.com/hquic/quic/quicnet"
)

// A server that answers each stream with its request in upper case, and a
// client that sends one request: blocking calls, io.Reader and io.Writer.
func Example() {
	cert, roots := certificate()
	l, err := quicnet.Listen("127.0.0.1:0", &tls.Config{NextProtos: []string{"upper"}, Certificates: []tls.Certificate{cert}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept(context.Background())
			if err != nil {
				return // the listener was closed
			}
			go func() {
				defer c.Close()
				for {
					s, err := c.AcceptStream(context.Background())
					if err != nil {
						return // the client closed the connection
					}
					req, _ := io.ReadAll(s)
					s.Write([]byte(strings.ToUpper(string(req))))
					s.Close()
				}
			}()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := quicnet.Dial(ctx, l.Addr().String(), &tls.Config{NextProtos: []string{"upper"}, RootCAs: roots, ServerName: "localhost"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	s, err := c.OpenStream(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	io.WriteString(s, "hello, quic")
	s.CloseWrite() // the server reads io.EOF after the request
	resp, err := io.ReadAll(s)
	fmt.Printf("%s %v\n", resp, err)
	// Output: HELLO, QUIC <nil>
}

// Deadlines work as on a net.Conn: a Read past its deadline fails with
// os.ErrDeadlineExceeded, a net.Error whose Timeout reports true, and the
// stream stays usable.
func ExampleStream_SetReadDeadline() {
	client, server, stop := pair(nil)
	defer stop()
	s, _ := client.OpenStream(context.Background())
	s.Write([]byte("?")) // the server learns of the stream with its first byte
	peer, _ := server.AcceptStream(context.Background())

	peer.SetReadDeadline(time.Now().Add(-time.Second)) // already passed
	_, err := peer.Read(make([]byte, 1))
	var ne net.Error
	fmt.Println(errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout())

	peer.SetReadDeadline(time.Time{}) // no deadline
	b := make([]byte, 1)
	n, err := peer.Read(b)
	fmt.Println(string(b[:n]), err)
	// Output:
	// true true
	// ? <nil>
}

// Datagrams need Settings.DatagramReceiveEnabled on the receiving side.
func ExampleConn_SendDatagram() {
	client, server, stop := pair(&quicnet.Config{Settings: &quic.Settings{DatagramReceiveEnabled: quic.Some(true)}})
	defer stop()
	if err := client.SendDatagram([]byte("unreliable, unordered")); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := server.ReceiveDatagram(ctx)
	fmt.Printf("%s %v\n", b, err)
	// Output: unreliable, unordered <nil>
}

// A stream the peer resets reads as a *quicnet.StreamError with the
// peer's code; a connection it closes as a *quic.ApplicationError.
func ExampleStreamError() {
	client, server, stop := pair(nil)
	defer stop()
	s, _ := client.OpenStream(context.Background())
	s.Write([]byte("?"))
	peer, _ := server.AcceptStream(context.Background())
	peer.CancelWrite(7)

	_, err := io.ReadAll(s)
	var se *quicnet.StreamError
	fmt.Println(errors.As(err, &se), se.Code, se.Remote)

	server.CloseWithError(42)
	_, err = client.AcceptStream(context.Background())
	var ae *quic.ApplicationError
	fmt.Println(errors.As(err, &ae), ae.Code, ae.Remote)
	// Output:
	// true 7 true
	// true 42 true
}

// pair returns a connected client and server on 127.0.0.1 with conf, and
// a function that closes everything.
func pair(conf *quicnet.Config) (client, server *quicnet.Conn, stop func()) {
	cert, roots := certificate()
	l, err := quicnet.Listen("127.0.0.1:0", &tls.Config{NextProtos: []string{"example"}, Certificates: []tls.Certificate{cert}}, conf)
	if err != nil {
		panic(err)
	}
	accepted := make(chan *quicnet.Conn, 1)
	go func() {
		c, _ := l.Accept(context.Background())
		accepted <- c
	}()
	client, err = quicnet.Dial(context.Background(), l.Addr().String(), &tls.Config{NextProtos: []string{"example"}, RootCAs: roots}, conf)
	if err != nil {
		panic(err)
	}
	server = <-accepted
	return client, server, func() {
		client.Close()
		server.Close()
		l.Close()
	}
}

// certificate makes a self-signed certificate for localhost and 127.0.0.1
// and a pool that trusts it.
func certificate() (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
