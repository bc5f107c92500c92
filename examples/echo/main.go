// Command echo is hquic's example application: an echo server and client
// over QUIC, written only against package quic.
//
// Protocol (ALPN "echo" by default): on each client-initiated bidirectional
// stream the server sends back every byte it receives, then ends its side
// after the client ends its own.
//
// Usage:
//
//	echo                      run a server and a client in one process on 127.0.0.1
//	echo server -listen ADDR [-cert F -key F] [-alpn A] [-qlog DIR]
//	echo client -server ADDR [-insecure] [-alpn A] [-streams N] [-qlog DIR] [-keylog F] [MESSAGE]
//
// -qlog DIR writes a qlog file of every connection into DIR, named
// <ODCID>_<client|server>.sqlog (Settings.Extensions.QlogDir; the default
// is the QLOGDIR environment variable, which the library reads itself).
// -keylog F appends the client's TLS secrets to F in the NSS key log format
// (default: the file SSLKEYLOGFILE names, if set), so that a capture of
// the connection can be decrypted, for instance with
// tshark -o tls.keylog_file:F.
//
// The server makes a self-signed ECDSA certificate when none is given and
// prints "listening on ADDR" once ready. The client sends MESSAGE (or
// standard input) on each of N streams, prints each echo, and exits with
// status 0 only if every echo matched.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/hquic/quic"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(runDemo())
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "client":
		os.Exit(runClient(os.Args[2:]))
	default:
		fmt.Fprintln(os.Stderr, "usage: echo [server -listen ADDR [-cert F -key F] [-alpn A] [-qlog DIR] | client -server ADDR [-insecure] [-alpn A] [-streams N] [-qlog DIR] [-keylog F] [MESSAGE]]")
		os.Exit(2)
	}
}

// runDemo starts a server and a client in one process over 127.0.0.1.
func runDemo() int {
	lib, reg, err := open("")
	if err != nil {
		return fail(err)
	}
	defer lib.Close()
	defer reg.Close()
	cred, roots, err := selfSigned()
	if err != nil {
		return fail(err)
	}
	srv, err := startServer(reg, netip.MustParseAddrPort("127.0.0.1:0"), cred, "echo")
	if err != nil {
		return fail(err)
	}
	defer srv.close()
	fmt.Printf("server listening on %v\n", srv.addr)
	msg := []byte("Hello from hquic!")
	res, err := echo(reg, srv.addr, "localhost", "echo", &quic.CredentialConfig{
		Type: quic.CredentialNone, Flags: quic.CredentialClient, RootCAs: roots,
	}, [][]byte{msg})
	if err != nil {
		return fail(err)
	}
	fmt.Printf("sent:     %q\n", msg)
	fmt.Printf("received: %q\n", res.echoes[0])
	fmt.Printf("rtt: %v, bytes sent: %d (%d packets), bytes received: %d\n",
		res.stats.RTT, res.stats.SendTotalBytes, res.stats.SendTotalPackets, res.stats.RecvTotalBytes)
	if string(res.echoes[0]) != string(msg) {
		fmt.Println("echo mismatch")
		return 1
	}
	return 0
}

func runServer(args []string) int {
	fs := flag.NewFlagSet("echo server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:4433", "address to listen on")
	certFile := fs.String("cert", "", "PEM certificate chain (default: a self-signed certificate)")
	keyFile := fs.String("key", "", "PEM private key")
	alpn := fs.String("alpn", "echo", "ALPN protocol ID")
	qlogDir := fs.String("qlog", "", "directory to write a qlog file of every connection into (default $QLOGDIR)")
	fs.Parse(args)
	addr, err := netip.ParseAddrPort(*listen)
	if err != nil {
		return fail(fmt.Errorf("-listen: %w", err))
	}
	lib, reg, err := open(*qlogDir)
	if err != nil {
		return fail(err)
	}
	defer lib.Close()
	defer reg.Close()
	var cred *quic.CredentialConfig
	switch {
	case *certFile != "" && *keyFile != "":
		cred = &quic.CredentialConfig{Type: quic.CredentialCertificateFile, CertFile: *certFile, KeyFile: *keyFile}
	case *certFile != "" || *keyFile != "":
		return fail(fmt.Errorf("-cert and -key go together"))
	default:
		if cred, _, err = selfSigned(); err != nil {
			return fail(err)
		}
	}
	srv, err := startServer(reg, addr, cred, *alpn)
	if err != nil {
		return fail(err)
	}
	defer srv.close()
	fmt.Printf("listening on %v\n", srv.addr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return 0
}

func runClient(args []string) int {
	fs := flag.NewFlagSet("echo client", flag.ExitOnError)
	server := fs.String("server", "127.0.0.1:4433", "server address (host:port)")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate")
	alpn := fs.String("alpn", "echo", "ALPN protocol ID")
	streams := fs.Int("streams", 1, "number of streams, each echoing the message")
	qlogDir := fs.String("qlog", "", "directory to write a qlog file of every connection into (default $QLOGDIR)")
	keyLogFile := fs.String("keylog", os.Getenv("SSLKEYLOGFILE"), "file to append the TLS secrets to, NSS key log format (default $SSLKEYLOGFILE)")
	fs.Parse(args)
	host, addr, err := resolveServer(*server)
	if err != nil {
		return fail(err)
	}
	var msg []byte
	if fs.NArg() > 0 {
		msg = []byte(fs.Arg(0))
	} else if msg, err = io.ReadAll(os.Stdin); err != nil {
		return fail(err)
	}
	if *streams < 1 {
		return fail(fmt.Errorf("-streams must be at least 1"))
	}
	var keyLog *quic.KeyLog // closed after the registration
	if *keyLogFile != "" {
		if keyLog, err = quic.OpenKeyLog(*keyLogFile); err != nil {
			return fail(fmt.Errorf("-keylog: %w", err))
		}
		defer keyLog.Close()
	}
	lib, reg, err := open(*qlogDir)
	if err != nil {
		return fail(err)
	}
	defer lib.Close()
	defer reg.Close()
	cred := &quic.CredentialConfig{Type: quic.CredentialNone, Flags: quic.CredentialClient}
	if keyLog != nil {
		cred.KeyLogWriter = keyLog
	}
	if *insecure {
		cred.Flags |= quic.CredentialNoCertificateValidation
	}
	msgs := make([][]byte, *streams)
	for i := range msgs {
		msgs[i] = msg
	}
	res, err := echo(reg, addr, host, *alpn, cred, msgs)
	if err != nil {
		return fail(err)
	}
	ok := true
	for i, e := range res.echoes {
		fmt.Printf("%s\n", e)
		if string(e) != string(msg) {
			fmt.Fprintf(os.Stderr, "stream %d: echo mismatch (%d bytes, want %d)\n", i, len(e), len(msg))
			ok = false
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// open opens the library and a registration; a qlogDir makes every
// connection write a qlog file into it.
func open(qlogDir string) (*quic.Library, *quic.Registration, error) {
	lib, err := quic.Open()
	if err != nil {
		return nil, nil, err
	}
	if qlogDir != "" {
		if err := lib.SetSettings(&quic.Settings{Extensions: quic.ExtensionSettings{QlogDir: quic.Some(qlogDir)}}); err != nil {
			lib.Close()
			return nil, nil, err
		}
	}
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "echo"})
	if err != nil {
		lib.Close()
		return nil, nil, err
	}
	return lib, reg, nil
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "echo:", err)
	return 1
}
