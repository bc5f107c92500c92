package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/hquic/quic"
	"github.com/hquic/quic/interop/internal/runner"
)

// serve runs the HTTP/0.9 server until SIGINT or SIGTERM.
func serve(env *runner.Env) error {
	keyLog, err := env.KeyLog()
	if err != nil {
		return err
	}
	if keyLog != nil {
		defer keyLog.Close()
	}
	ua, err := net.ResolveUDPAddr("udp", env.Listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	addr := ua.AddrPort()
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if !addr.Addr().IsValid() || ua.IP == nil {
		addr = netip.AddrPortFrom(netip.IPv6Unspecified(), addr.Port())
	}
	lib, reg, err := openLibrary(env)
	if err != nil {
		return err
	}
	defer lib.Close()
	defer reg.Close()
	cfg, err := configuration(reg, env, keyLog)
	if err != nil {
		return err
	}
	defer cfg.Close()
	l, err := reg.NewListener(func(l *quic.Listener, ev quic.ListenerEvent) error {
		if ev, ok := ev.(*quic.NewConnectionEvent); ok {
			ev.Connection.SetHandler(func(c *quic.Connection, ev quic.ConnectionEvent) error {
				return serverConnection(env, c, ev)
			})
			return ev.Connection.SetConfiguration(cfg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer l.Close()
	if env.TestCase == runner.CaseConnectionMigration {
		pref, err := preferredAddress(addr)
		if err != nil {
			return err
		}
		if err := l.SetPreferredAddress(pref); err != nil {
			return err
		}
		fmt.Printf("preferred address %v\n", pref)
	}
	if err := l.Start(serverALPNs, addr); err != nil {
		return err
	}
	bound, _ := l.LocalAddr()
	fmt.Printf("listening on %v\n", bound)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	reg.Shutdown(quic.ConnectionShutdownNone, 0)
	return nil
}

// serverALPNs are the protocols the server speaks: HTTP/0.9 and siduck
// (draft-pardue-quic-siduck), the datagram echo MsQuic's feature checker
// uses for its datagram test.
var serverALPNs = []string{runner.ALPN, "siduck", "siduck-00"}

// Siduck's messages and its error code for anything but a quack.
var (
	quack    = []byte("quack")
	quackAck = "quack-ack"
)

const codeOnlyQuacksEcho = 0x101

func serverConnection(env *runner.Env, c *quic.Connection, ev quic.ConnectionEvent) error {
	switch ev := ev.(type) {
	case *quic.ConnectedEvent:
		// A client may resume with it on a later connection, in any test
		// case (the runner's resumption and zerortt, MsQuic's R and Z).
		if err := c.SendResumptionTicket(quic.SendResumptionFinal, nil); err != nil {
			fmt.Fprintln(os.Stderr, "endpoint: SendResumptionTicket:", err)
		}
	case *quic.DatagramReceivedEvent:
		if !bytes.Equal(ev.Data, quack) {
			c.Shutdown(quic.ConnectionShutdownNone, codeOnlyQuacksEcho)
			return nil
		}
		if err := c.SendDatagram([][]byte{[]byte(quackAck)}, quic.SendNone, nil); err != nil {
			fmt.Fprintln(os.Stderr, "endpoint: SendDatagram:", err)
		}
	case *quic.PeerStreamStartedEvent:
		r := &request{env: env}
		ev.Stream.SetHandler(r.handle)
	case *quic.ConnectionShutdownCompleteEvent:
		if !ev.AppCloseInProgress {
			c.Close()
		}
	}
	return nil
}

// request is one HTTP/0.9 request stream on the server.
type request struct {
	env *runner.Env
	buf []byte
}

// Stream error codes the server resets with.
const (
	codeBadRequest = 0x10
	codeNotFound   = 0x11
)

func (r *request) handle(s *quic.Stream, ev quic.StreamEvent) error {
	switch ev := ev.(type) {
	case *quic.ReceiveEvent:
		for _, b := range ev.Buffers {
			r.buf = append(r.buf, b...)
		}
		if len(r.buf) > runner.MaxRequest {
			s.Shutdown(quic.StreamShutdownAbort, codeBadRequest)
			return nil
		}
		if ev.Flags&quic.ReceiveFIN != 0 {
			// Reading the file may block: not on the connection's worker.
			go r.respond(s)
		}
	case *quic.PeerSendAbortedEvent:
		s.Shutdown(quic.StreamShutdownAbort, ev.ErrorCode)
	case *quic.StreamShutdownCompleteEvent:
		if !ev.AppCloseInProgress {
			s.Close()
		}
	}
	return nil
}

func (r *request) respond(s *quic.Stream) {
	name, err := runner.ParseRequest(r.env.WWW, r.buf)
	if err != nil {
		s.Shutdown(quic.StreamShutdownAbort, codeBadRequest)
		return
	}
	f, err := runner.Open(name)
	if err != nil {
		s.Shutdown(quic.StreamShutdownAbort, codeNotFound)
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		s.Shutdown(quic.StreamShutdownAbort, codeNotFound)
		return
	}
	if err := s.Send([][]byte{data}, quic.SendFIN, nil); err != nil {
		s.Shutdown(quic.StreamShutdownAbort, codeNotFound)
	}
}

// preferredAddress is the address a connectionmigration server offers:
// the listening address's next port, on the host's first global IPv4
// address when it listens on all of them.
func preferredAddress(listen netip.AddrPort) (netip.AddrPort, error) {
	a := listen.Addr()
	if a.IsUnspecified() {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return netip.AddrPort{}, err
		}
		for _, ia := range addrs {
			if n, ok := ia.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && ip.IsGlobalUnicast() {
					a = ip.Unmap()
					break
				}
			}
		}
		if a.IsUnspecified() {
			return netip.AddrPort{}, fmt.Errorf("no address to offer as preferred address")
		}
	}
	return netip.AddrPortFrom(a, listen.Port()+1), nil
}
