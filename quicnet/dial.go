package quicnet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/hquic/quic"
)

// Dial connects to the QUIC server at addr ("host:port") and returns the
// connection once its handshake completed. tlsConf must name the
// application protocols (NextProtos); the server's certificate is verified
// against RootCAs (nil: the system's roots) for ServerName (default: the
// host of addr) unless InsecureSkipVerify is set. Fields of tlsConf that
// QUIC cannot honour here are refused with an error naming them. conf may
// be nil.
//
// Dial gives up when ctx is done, or when the handshake fails: the error,
// a *net.OpError, wraps what happened (errors.As finds the
// *quic.TransportError, such as CRYPTO_ERROR(bad_certificate) for a
// certificate the client rejected or CRYPTO_ERROR(no_application_protocol)
// for no common ALPN; context errors when ctx ended first; a net.Error
// whose Timeout reports true, matching quic.ErrConnectionIdle, when the
// server never answered within Settings.HandshakeIdleTimeout, 10 s by
// default).
//
// Connections from Dial and Listen share one quic.Library and
// quic.Registration, opened on first use and closed once everything made
// from them is closed.
func Dial(ctx context.Context, addr string, tlsConf *tls.Config, conf *Config) (*Conn, error) {
	o, err := conf.resolve()
	if err != nil {
		return nil, dialErr(addr, netip.AddrPort{}, err)
	}
	if o.serverName != "" {
		return nil, dialErr(addr, netip.AddrPort{}, errors.New("quicnet: Config.ServerName is for DialConfiguration; set tls.Config.ServerName"))
	}
	cc, err := clientCredential(tlsConf)
	if err != nil {
		return nil, dialErr(addr, netip.AddrPort{}, err)
	}
	host, remote, err := resolveAddr(ctx, o.network, addr)
	if err != nil {
		return nil, dialErr(addr, netip.AddrPort{}, err)
	}
	name := tlsConf.ServerName
	if name == "" {
		name = host
	}
	own, err := newOwner(o.network, tlsConf.NextProtos, configurationSettings(), cc)
	if err != nil {
		return nil, dialErr(addr, remote, err)
	}
	return dial(ctx, own.reg.reg, own.cfg, addr, remote, name, o, own)
}

// DialConfiguration is Dial with the application's own Registration and
// Configuration, which must have client credentials loaded; it gives
// access to every setting and credential option of the library. The
// server name is Config.ServerName, or the host of addr. The
// configuration's settings apply (PeerBidiStreamCount is 0 unless set, so
// the server could open no stream), with Config.Settings over them.
func DialConfiguration(ctx context.Context, reg *quic.Registration, cfg *quic.Configuration, addr string, conf *Config) (*Conn, error) {
	o, err := conf.resolve()
	if err != nil {
		return nil, dialErr(addr, netip.AddrPort{}, err)
	}
	if reg == nil || cfg == nil {
		return nil, dialErr(addr, netip.AddrPort{}, errors.New("quicnet: DialConfiguration needs a Registration and a Configuration"))
	}
	if o.network != nil {
		return nil, dialErr(addr, netip.AddrPort{}, errors.New("quicnet: Config.Network is for Dial; DialConfiguration uses its Library's network"))
	}
	host, remote, err := resolveAddr(ctx, nil, addr)
	if err != nil {
		return nil, dialErr(addr, netip.AddrPort{}, err)
	}
	name := o.serverName
	if name == "" {
		name = host
	}
	return dial(ctx, reg, cfg, addr, remote, name, o, nil)
}

// dial starts a client connection and waits for its handshake.
func dial(ctx context.Context, reg *quic.Registration, cfg *quic.Configuration, addr string, remote netip.AddrPort, name string, o options, own *owner) (*Conn, error) {
	c := newConn(o, own, nil)
	qc, err := reg.NewConnection(c.handle)
	if err != nil {
		own.release()
		return nil, dialErr(addr, remote, err)
	}
	c.qc = qc
	err = o.applySettings(qc)
	if err == nil {
		err = qc.SetRemoteAddr(remote)
	}
	if err == nil {
		err = qc.Start(cfg, quic.AddressFamilyUnspec, name, remote.Port())
	}
	if err != nil {
		qc.Close()
		own.release()
		return nil, dialErr(addr, remote, err)
	}
	select {
	case <-c.up:
		return c, nil
	case <-c.done:
		err := c.connErr()
		if errors.Is(err, quic.ErrConnectionIdle) {
			// Nothing came back at all: say so, and how long was waited.
			err = &timeoutError{err: fmt.Errorf("quicnet: no answer from a QUIC server within the handshake idle timeout (%v): %w",
				qc.Settings().HandshakeIdleTimeout.Value, err)}
		}
		return nil, dialErr(addr, remote, err)
	case <-ctx.Done():
		c.fail(ctx.Err())
		qc.Shutdown(quic.ConnectionShutdownSilent, 0)
		return nil, dialErr(addr, remote, ctx.Err())
	}
}

// dialErr wraps a failed dial as net.Dial does.
func dialErr(addr string, remote netip.AddrPort, err error) error {
	var a net.Addr = stringAddr(addr)
	if remote.IsValid() {
		a = udpAddr(remote)
	}
	return &net.OpError{Op: "dial", Net: "quic", Addr: a, Err: err}
}

// stringAddr is an address that did not resolve, as given.
type stringAddr string

func (a stringAddr) Network() string { return "udp" }
func (a stringAddr) String() string  { return string(a) }

// resolveAddr splits "host:port" and resolves host, honouring ctx, through
// network n when it resolves names: an IP literal needs no lookup; of a
// name's addresses the first IPv4 one is taken, else the first.
func resolveAddr(ctx context.Context, n quic.PacketNetwork, addr string) (string, netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return "", netip.AddrPort{}, fmt.Errorf("quicnet: invalid port %q", portStr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return host, netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
	}
	var r resolver = net.DefaultResolver
	if nr, ok := n.(resolver); ok {
		r = nr
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	ip := ips[0]
	for _, a := range ips {
		if a.Unmap().Is4() {
			ip = a
			break
		}
	}
	return host, netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}

// resolver is a name lookup: net.Resolver's, or a network's (see
// quic.PacketNetwork).
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}
