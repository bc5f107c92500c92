package netsim_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/netip"
	"sync"
	"time"

	quic "github.com/hquic/quic"
	"github.com/hquic/quic/netsim"
)

// This example runs an echo server and 100 clients over a link with 50 ms
// of delay each way that loses 1% of the datagrams. Run as it is, it takes
// real time, about what the handshakes and their retransmissions need. In
// a test, the same code inside testing/synctest.Test takes virtual time:
//
//	func TestHundredClients(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			if n, err := echoOverLossyLink(100); n != 100 {
//				t.Fatal(n, err)
//			}
//		})
//	}
//
// and finishes as soon as the CPU has done the work, whatever the delays
// and timeouts, on any machine. That is how this package's tests run it
// (TestExampleInVirtualTime, which checks all 100 echoes); go test only
// compiles the example itself, which in real time waits seconds for the
// link's delays and retransmission timers, and longer on a busy machine.
func Example() {
	n, err := echoOverLossyLink(100)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(n, "clients got their echo")
}

// echoOverLossyLink starts an echo server on 10.0.0.1, connects clients
// from 10.0.0.2, has each echo one message, and returns how many got it
// back.
func echoOverLossyLink(clients int) (int, error) {
	network := netsim.New(netsim.Config{Seed: 1})
	serverAddr, clientAddr := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	link := netsim.Link{Latency: 50 * time.Millisecond, Loss: 0.01}
	network.SetLink(serverAddr, clientAddr, link)
	network.SetLink(clientAddr, serverAddr, link)
	network.SetName("echo.test", serverAddr)

	cert, roots, err := selfSigned("echo.test")
	if err != nil {
		return 0, err
	}
	server, err := openOn(network.Host(serverAddr))
	if err != nil {
		return 0, err
	}
	defer server.close()
	srvCfg, err := server.reg.NewConfiguration([]string{"echo"}, &quic.Settings{PeerBidiStreamCount: quic.Some[uint16](1)})
	if err != nil {
		return 0, err
	}
	defer srvCfg.Close()
	if err := srvCfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialTLSCertificate, Certificates: []tls.Certificate{cert}}); err != nil {
		return 0, err
	}
	listener, err := server.reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			ev.Connection.SetHandler(echoConnection)
			return ev.Connection.SetConfiguration(srvCfg)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	if err := listener.Start([]string{"echo"}, netip.AddrPortFrom(serverAddr, 4433)); err != nil {
		return 0, err
	}

	client, err := openOn(network.Host(clientAddr))
	if err != nil {
		return 0, err
	}
	defer client.close()
	cliCfg, err := client.reg.NewConfiguration([]string{"echo"}, nil)
	if err != nil {
		return 0, err
	}
	defer cliCfg.Close()
	if err := cliCfg.LoadCredential(&quic.CredentialConfig{Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: roots}); err != nil {
		return 0, err
	}
	var mu sync.Mutex
	echoed := 0
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		if err := echoOnce(cliCfg, client.reg, "hello", func(ok bool) {
			mu.Lock()
			if ok {
				echoed++
			}
			mu.Unlock()
			wg.Done()
		}); err != nil {
			return 0, err
		}
	}
	wg.Wait()
	// A server connection whose client's CONNECTION_CLOSE was lost would
	// otherwise retransmit its last packets until its disconnect timeout.
	server.reg.Shutdown(quic.ConnectionShutdownSilent, 0)
	return echoed, nil
}

// echoOnce connects, sends msg on a stream, and calls done with whether
// the echo matched once the connection has shut down.
func echoOnce(cfg *quic.Configuration, reg *quic.Registration, msg string, done func(ok bool)) error {
	var got []byte
	c, err := reg.NewConnection(func(c *quic.Connection, ev quic.ConnectionEvent) error {
		if _, ok := ev.(*quic.ConnectionShutdownCompleteEvent); ok {
			c.Close()
			done(string(got) == msg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s, err := c.NewStream(quic.StreamOpenNone, func(s *quic.Stream, ev quic.StreamEvent) error {
		switch ev := ev.(type) {
		case *quic.ReceiveEvent:
			for _, b := range ev.Buffers {
				got = append(got, b...)
			}
		case *quic.StreamShutdownCompleteEvent:
			s.Close()
			c.Shutdown(quic.ConnectionShutdownNone, 0)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := c.Start(cfg, quic.AddressFamilyIPv4, "echo.test", 4433); err != nil {
		return err
	}
	return s.Send([][]byte{[]byte(msg)}, quic.SendStart|quic.SendFIN, nil)
}

// echoConnection echoes every stream the peer opens.
func echoConnection(c *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.PeerStreamStartedEvent:
		ev.Stream.SetHandler(func(s *quic.Stream, ev quic.StreamEvent) error {
			switch ev := ev.(type) {
			case *quic.ReceiveEvent:
				var data []byte
				for _, b := range ev.Buffers {
					data = append(data, b...)
				}
				flags := quic.SendNone
				if ev.Flags&quic.ReceiveFIN != 0 {
					flags = quic.SendFIN
				}
				if len(data) > 0 || flags != quic.SendNone {
					s.Send([][]byte{data}, flags, nil)
				}
			case *quic.StreamShutdownCompleteEvent:
				s.Close()
			}
			return nil
		})
	case *quic.ConnectionShutdownCompleteEvent:
		c.Close()
	}
	return nil
}

// library is a Library on a simulated host with one registration.
type library struct {
	lib *quic.Library
	reg *quic.Registration
}

func openOn(host *netsim.Host) (*library, error) {
	lib, err := quic.Open()
	if err != nil {
		return nil, err
	}
	if err := lib.SetPacketNetwork(host); err != nil {
		return nil, err
	}
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "example"})
	if err != nil {
		return nil, err
	}
	return &library{lib: lib, reg: reg}, nil
}

// close waits for the registration's connections, then closes the
// library; deferred, it runs after the listener and configurations close.
func (l *library) close() {
	l.reg.Close()
	l.lib.Close()
}

// selfSigned makes a certificate for name valid from an hour ago, whatever
// the clock (a synctest bubble's starts in 2000), and a pool that trusts it.
func selfSigned(name string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
