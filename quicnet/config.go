package quicnet

import (
	"errors"

	"github.com/hquic/quic"
)

// Config tunes the connections of Dial, DialConfiguration, Listen and
// ListenConfiguration. A nil *Config means the zero Config, whose every
// field takes its documented default.
type Config struct {
	// Settings are transport settings set on every connection (they win
	// over the configuration's, see quic.Settings). Dial and Listen start
	// from these defaults, which Settings may change: PeerBidiStreamCount
	// and PeerUnidiStreamCount 100 (the peer may open 100 streams of each
	// kind at once). Every connection also gets SendBufferingEnabled
	// false unless Settings sets it: a Stream buffers its writes itself
	// (see SendBuffer), so the library's own copy would be a second one.
	// Datagrams are received only with DatagramReceiveEnabled.
	Settings *quic.Settings

	// SendBuffer is how many bytes a stream holds for its writes until
	// the peer acknowledges them; Write blocks while it is full. Memory is
	// taken in 64 KiB pieces as it is needed and given back as data is
	// acknowledged. The default, 4 MiB, keeps a loopback or LAN path
	// full; raise it for paths whose bandwidth-delay product is larger.
	// The IdealSendBufferSizeEvent of the library raises it, up to 64 MiB.
	SendBuffer int

	// AcceptBacklog bounds the connections a Listener holds for Accept:
	// while this many have completed their handshake and wait, new
	// connections are refused (the client sees CONNECTION_REFUSED).
	// Connections still in their handshake are bounded by the library's
	// defenses (GlobalSettings.RetryMemoryLimit). Default 64.
	AcceptBacklog int

	// DatagramQueue bounds the received datagrams held for
	// ReceiveDatagram (a full queue drops the newest, as a UDP socket
	// does) and the sent datagrams not yet on the wire (SendDatagram
	// blocks while they are this many). Default 128.
	DatagramQueue int

	// Network is the network Dial and Listen open their sockets on, for
	// example a netsim.Host in tests; nil means the operating system's
	// UDP. Names are resolved through it when it has a LookupNetIP method
	// (see quic.PacketNetwork). DialConfiguration and ListenConfiguration
	// use their Library's network and refuse this field.
	Network quic.PacketNetwork

	// ServerName is the name DialConfiguration verifies the server's
	// certificate against and sends as SNI; the default is the host of
	// the address. Dial takes it from tls.Config.ServerName instead.
	ServerName string
}

// Defaults and limits of Config.
const (
	defaultSendBuffer    = 4 << 20
	maxSendBuffer        = 64 << 20
	defaultAcceptBacklog = 64
	defaultDatagramQueue = 128
	defaultPeerStreams   = 100
)

// options is a Config with its defaults filled in.
type options struct {
	settings      *quic.Settings
	sendBuffer    int
	acceptBacklog int
	datagramQueue int
	serverName    string
	network       quic.PacketNetwork
}

// resolve checks c and fills in the defaults.
func (c *Config) resolve() (options, error) {
	o := options{sendBuffer: defaultSendBuffer, acceptBacklog: defaultAcceptBacklog, datagramQueue: defaultDatagramQueue}
	if c == nil {
		return o, nil
	}
	switch {
	case c.SendBuffer < 0 || c.SendBuffer > maxSendBuffer:
		return o, errors.New("quicnet: Config.SendBuffer must be between 0 (default) and 64 MiB")
	case c.AcceptBacklog < 0:
		return o, errors.New("quicnet: Config.AcceptBacklog must not be negative")
	case c.DatagramQueue < 0:
		return o, errors.New("quicnet: Config.DatagramQueue must not be negative")
	}
	if c.Settings != nil {
		if err := c.Settings.Validate(); err != nil {
			return o, err
		}
	}
	o.settings = c.Settings
	o.serverName = c.ServerName
	o.network = c.Network
	if c.SendBuffer > 0 {
		o.sendBuffer = c.SendBuffer
	}
	if c.AcceptBacklog > 0 {
		o.acceptBacklog = c.AcceptBacklog
	}
	if c.DatagramQueue > 0 {
		o.datagramQueue = c.DatagramQueue
	}
	return o, nil
}

// configurationSettings are the settings of the configurations Dial and
// Listen make.
func configurationSettings() *quic.Settings {
	return &quic.Settings{
		PeerBidiStreamCount:  quic.Some[uint16](defaultPeerStreams),
		PeerUnidiStreamCount: quic.Some[uint16](defaultPeerStreams),
	}
}

// applySettings sets the connection-level settings on qc before it starts
// (client) or gets its configuration (server).
func (o *options) applySettings(qc *quic.Connection) error {
	if err := qc.SetSettings(&quic.Settings{SendBufferingEnabled: quic.Some(false)}); err != nil {
		return err
	}
	return qc.SetSettings(o.settings)
}
