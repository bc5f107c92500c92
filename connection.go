package quic

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/exec"
	"github.com/hquic/quic/internal/qlog"
)

// Locking. The handles keep their state under one mutex per connection,
// Connection.mu, which guards the connection's fields after it and every
// field of its streams marked "guarded by c.mu". Nothing else in the
// handle layer locks, apart from atomics (handlers, contexts, stream IDs)
// and the engine's own queues, which are taken under mu and never call
// back. mu is never held while a handler runs or while waiting for
// anything, so API calls made from handlers cannot deadlock.
//
// mu also orders the application's operations against the end of streams
// and of the connection: an operation checks the state and queues itself
// to the engine under mu, and the engine sets connClosing and a stream's
// final mark under mu before the final events, so every accepted send gets
// its SEND_COMPLETE and every later one is refused.

// Connection is a QUIC connection handle (MsQuic's HQUIC connection). A
// client connection is created with Registration.NewConnection and started
// with Start; a server connection arrives in a listener's
// NewConnectionEvent. Its events go to its ConnectionHandler.
//
// Lifecycle: the application shuts the connection down (Shutdown) or the
// transport or peer does; the last event is always
// *ConnectionShutdownCompleteEvent, after which the application calls
// Close. Closing earlier shuts the connection down silently first (MsQuic
// semantics). Methods are safe for concurrent use and may be called from
// handlers.
type Connection struct {
	lib    *Library
	reg    *Registration
	server bool // accepted by a listener; set at creation
	// eng is the engine connection, created with the handle (a client's
	// only queues operations until Start configures it) and never
	// replaced, so it is read without a lock.
	eng *conn.Conn

	handler atomic.Pointer[ConnectionHandler]
	context atomic.Pointer[any]
	trace   atomic.Pointer[qlog.Trace] // nil unless traced (tracing.go)

	// mu guards the fields below and the handle state of the connection's
	// streams (see Locking).
	mu        sync.Mutex
	state     connState
	task      *exec.Handle
	client    *endpoint.MultiHost // a client's own sockets
	binding   *sharedBinding      // a server connection's listener socket
	cidPrefix []byte
	settings  Settings
	// resolved are the settings the engine runs with, once resolvedSet
	// (Start, SetConfiguration); SetSettings changes them live
	// (settings_live.go).
	resolved    Settings
	resolvedSet bool
	startTime   time.Time // Statistics.TimingStart
	// Statistics.ResumptionAttempted and ResumptionSucceeded.
	resumeAttempted, resumeSucceeded bool
	fifo                             bool           // SetStreamSchedulingScheme(SchedulingFIFO)
	remote                           netip.AddrPort // SetRemoteAddr before Start
	local                            netip.AddrPort // SetLocalAddr before Start

	// Resumption (resumption.go).
	resumeTicket  []byte                // client: SetResumptionTicket's ticket
	resumeVersion uint32                // client: its QUIC version
	resumeLevel   ServerResumptionLevel // server: from its configuration

	// ev holds the reused event values, borrowed from connEventPool
	// while the engine runs (RunStarted to RunEnded), when all events are
	// delivered, so an idle connection holds none; owned by the worker.
	ev *connEventStructs
}

// connState is a Connection's lifecycle, as bits; guarded by mu.
type connState uint16

const (
	connStarted     connState = 1 << iota // client: Start was called (and has not failed)
	connLive                              // the engine is configured and scheduled
	connClosed                            // the application called Close
	connTerminated                        // the engine has finished
	connConfigured                        // server: SetConfiguration was called
	connAccepted                          // server: the listener's handler accepted it
	connInHandshake                       // server: counted in the library's handshake memory
	connTicketSent                        // server: SendResumptionTicket succeeded
	connClosing                           // the engine began its final events: new operations are refused
)

func (s connState) has(f connState) bool { return s&f != 0 }

// connEventPool lends event values to running connections.
var connEventPool = sync.Pool{New: func() any { return new(connEventStructs) }}

// connEventStructs holds one value of each event type so delivering an
// event allocates nothing.
type connEventStructs struct {
	connected        ConnectedEvent
	byTransport      ShutdownInitiatedByTransportEvent
	byPeer           ShutdownInitiatedByPeerEvent
	complete         ConnectionShutdownCompleteEvent
	localAddr        LocalAddressChangedEvent
	peerAddr         PeerAddressChangedEvent
	peerStream       PeerStreamStartedEvent
	streamsAvailable StreamsAvailableEvent
	needsStreams     PeerNeedsStreamsEvent
	dgramState       DatagramStateChangedEvent
	dgramRecv        DatagramReceivedEvent
	dgramSend        DatagramSendStateChangedEvent

	startComplete  StartCompleteEvent
	receive        ReceiveEvent
	sendComplete   SendCompleteEvent
	peerShutdown   PeerSendShutdownEvent
	peerAborted    PeerSendAbortedEvent
	peerRecvAbort  PeerReceiveAbortedEvent
	sendShutdown   SendShutdownCompleteEvent
	streamComplete StreamShutdownCompleteEvent
	idealBuffer    IdealSendBufferSizeEvent
	peerAccepted   PeerAcceptedEvent
	cancelOnLoss   CancelOnLossEvent
}

// NewConnection creates a client connection handle (ConnectionOpen). It
// sends nothing until Start. The handler must not be nil.
func (r *Registration) NewConnection(h ConnectionHandler) (*Connection, error) {
	const op = "Registration.NewConnection"
	if h == nil {
		return nil, opError(op, StatusInvalidParameter, "nil handler")
	}
	c := &Connection{lib: r.lib, reg: r, eng: conn.NewQueued()}
	c.handler.Store(&h)
	if err := r.addChild(op, c); err != nil {
		return nil, err
	}
	return c, nil
}

// SetHandler replaces the connection's handler. A server application must
// call it inside NewConnectionEvent to accept the connection.
func (c *Connection) SetHandler(h ConnectionHandler) {
	if h != nil {
		c.handler.Store(&h)
	}
}

// SetContext stores an application value with the connection.
func (c *Connection) SetContext(v any) { c.context.Store(&v) }

// Context returns the value stored with SetContext.
func (c *Connection) Context() any {
	if p := c.context.Load(); p != nil {
		return *p
	}
	return nil
}

// IsServer reports whether the connection was accepted by a listener.
func (c *Connection) IsServer() bool { return c.server }

// Start starts a client connection (ConnectionStart) to serverName:port
// using cfg, which must have client credentials loaded. serverName is used
// for TLS (SNI and certificate validation) and, unless SetRemoteAddr was
// called, resolved with family (AddressFamilyUnspec, ...IPv4 or ...IPv6);
// it may be an IP literal. Name resolution happens in this call, so avoid
// calling Start with a host name from an event handler.
//
// Errors: ErrInvalidState if already started, closed, or the registration
// is shut down; ErrInvalidParameter for a port of 0, an unknown family, a
// server name longer than MaxSNILength, a nil or unloaded configuration;
// ErrInvalidAddress when the name cannot be resolved; socket errors such as
// ErrAddressInUse for a local address set with SetLocalAddr. The outcome of
// the handshake arrives as events.
func (c *Connection) Start(cfg *Configuration, family AddressFamily, serverName string, port uint16) error {
	const op = "Connection.Start"
	if c.server {
		return opError(op, StatusInvalidParameter, "Start is for client connections")
	}
	switch {
	case cfg == nil:
		return opError(op, StatusInvalidParameter, "nil configuration")
	case port == 0 && !c.remoteSet():
		return opError(op, StatusInvalidParameter, "server port 0")
	case family != AddressFamilyUnspec && family != AddressFamilyIPv4 && family != AddressFamilyIPv6:
		return opError(op, StatusInvalidParameter, "unknown address family %d", family)
	case len(serverName) > MaxSNILength:
		return opError(op, StatusInvalidParameter, "server name longer than %d bytes", MaxSNILength)
	}
	if err := cfg.checkUsable(op); err != nil {
		return err
	}
	if cfg.credentialFlags()&CredentialClient == 0 {
		return opError(op, StatusInvalidParameter, "configuration has server credentials")
	}
	c.mu.Lock()
	if c.state.has(connStarted | connClosed) {
		c.mu.Unlock()
		return opError(op, StatusInvalidState, "connection already started or closed")
	}
	c.state |= connStarted
	remote, local := c.remote, c.local
	ticket, ticketVersion := c.resumeTicket, c.resumeVersion
	c.mu.Unlock()
	if err := c.reg.checkStart(op); err != nil {
		c.unstart()
		return err
	}
	if !remote.IsValid() {
		addr, err := resolve(c.lib.resolver(), serverName, family)
		if err != nil {
			c.unstart()
			return opErrorWrap(op, StatusInvalidAddress, err)
		}
		remote = netip.AddrPortFrom(addr, port)
	}
	b, err := c.lib.clientBinding(c.reg, remote, local)
	if err != nil {
		c.unstart()
		return opErrorWrap(op, statusFromSocketError(err), err)
	}
	s := c.connectionSettings(cfg)
	tlsName := serverName
	if tlsName == "" {
		tlsName = remote.Addr().String()
	}
	host := &endpoint.MultiHost{OnClosed: c.onTerminated}
	host.Add(b)
	cache := c.lib.tokenCache()
	first, offered := clientVersions(cfg, c.lib)
	if ticketVersion != 0 && slices.Contains(offered, ticketVersion) {
		first = ticketVersion // 0-RTT needs the ticket's version
	}
	tlsCfg, check := cfg.tlsConfigForClient(tlsName)
	ecfg := conn.Config{
		Side:         conn.Client,
		Version:      first,
		Versions:     offered,
		TLS:          tlsCfg,
		Settings:     engineSettings(&s),
		ResetKey:     c.lib.resetTokens().Token,
		CIDLen:       c.lib.cidLen(),
		Peer:         remote,
		Local:        b.LocalAddr(),
		InitialToken: cache.Get(tlsName),
		CIDPrefix:    c.cidPrefix,
		OnNewToken:   func(t []byte) { cache.Put(tlsName, t) },

		ResumptionTicket:  ticket,
		DecideCertificate: check.decision(c),
		OpenTrace:         c.lib.traceOpener(c, &s),
	}
	// The engine has never run, so this goroutine may configure it; what
	// the application queued before Start runs first, in order.
	eng := c.eng
	eng.InitClient(ecfg, host, (*connEvents)(c))
	host.Attach(eng)
	task := c.reg.pool.Register(eng, uint32(remote.Port()))
	c.mu.Lock()
	c.task, c.client = task, host
	c.state |= connLive
	c.resolved, c.resolvedSet = s, true
	c.startTime = time.Now()
	c.resumeAttempted = ticket != nil
	c.mu.Unlock()
	eng.SetScheduler(task)
	eng.Start()
	return nil
}

// unstart undoes the started mark after a failed Start.
func (c *Connection) unstart() {
	c.mu.Lock()
	c.state &^= connStarted
	c.mu.Unlock()
}

func (c *Connection) remoteSet() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote.IsValid()
}

// cidLen is the length of the connection IDs hquic issues without load
// balancing (lbCIDLen with it).
const cidLen = 8

// resolve finds an address for host in family with r; IP literals need no
// lookup.
func resolve(r resolver, host string, family AddressFamily) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), nil
	}
	network := "ip"
	switch family {
	case AddressFamilyIPv4:
		network = "ip4"
	case AddressFamilyIPv6:
		network = "ip6"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, network, host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, errors.New("no address for " + host)
	}
	return addrs[0].Unmap(), nil
}

// connectionSettings resolves the settings a connection runs with: fields
// set on the connection win, then the configuration's, then the library's
// (MsQuic's precedence).
func (c *Connection) connectionSettings(cfg *Configuration) Settings {
	c.mu.Lock()
	s := c.settings
	c.mu.Unlock()
	cs := cfg.Settings()
	s.inherit(&cs)
	return s
}

// SetConfiguration gives an accepted server connection its configuration
// (ConnectionSetConfiguration); the handshake proceeds once it is set. It
// may be called inside NewConnectionEvent or later, once. Errors:
// ErrInvalidParameter on a client connection or for an unusable
// configuration, ErrInvalidState if already set or closed.
func (c *Connection) SetConfiguration(cfg *Configuration) error {
	const op = "Connection.SetConfiguration"
	if !c.server {
		return opError(op, StatusInvalidParameter, "SetConfiguration is for server connections")
	}
	if cfg == nil {
		return opError(op, StatusInvalidParameter, "nil configuration")
	}
	if err := cfg.checkUsable(op); err != nil {
		return err
	}
	if cfg.credentialFlags()&CredentialClient != 0 {
		return opError(op, StatusInvalidParameter, "configuration has client credentials")
	}
	c.mu.Lock()
	if c.state.has(connConfigured | connClosed) {
		c.mu.Unlock()
		return opError(op, StatusInvalidState, "configuration already set or connection closed")
	}
	c.state |= connConfigured
	c.mu.Unlock()
	s := c.connectionSettings(cfg)
	tlsCfg, check := cfg.tlsConfigForServer()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resumeLevel = s.ServerResumptionLevel.Value
	c.resolved, c.resolvedSet = s, true
	// Queued under mu, so that a live SetSettings follows it.
	c.eng.SetConfiguration(&conn.ServerConfig{TLS: tlsCfg, Settings: engineSettings(&s), DecideCertificate: check.decision(c)})
	return nil
}

// Shutdown starts closing the connection (ConnectionShutdown): with
// ConnectionShutdownNone it sends CONNECTION_CLOSE carrying the
// application's code (at most MaxVarInt) and waits out the closing period;
// with ConnectionShutdownSilent it drops the connection without telling the
// peer. The application gets no shutdown-initiated event for its own
// shutdown; ConnectionShutdownCompleteEvent follows. Calling it again, or
// on a closed connection, does nothing. A client that was never started is
// shut down silently.
func (c *Connection) Shutdown(flags ConnectionShutdownFlags, code uint64) error {
	const op = "Connection.Shutdown"
	if code > MaxVarInt {
		return opError(op, StatusInvalidParameter, "error code above 2^62-1")
	}
	c.mu.Lock()
	closed := c.state.has(connClosed) && !c.state.has(connLive)
	c.mu.Unlock()
	if !closed {
		c.eng.Shutdown(flags&ConnectionShutdownSilent != 0, code)
	}
	return nil
}

// regShutdown implements regChild: RegistrationShutdown skips connections
// that were never started.
func (c *Connection) regShutdown(flags ConnectionShutdownFlags, code uint64) {
	c.mu.Lock()
	live := c.state.has(connLive)
	c.mu.Unlock()
	if live {
		c.eng.Shutdown(flags&ConnectionShutdownSilent != 0, code)
	}
}

// Close releases the handle (ConnectionClose). It does not block. A
// connection that has not completed its shutdown is shut down silently
// first; its ConnectionShutdownCompleteEvent still arrives, with
// AppCloseInProgress set, and nothing after it. Closing twice does nothing.
func (c *Connection) Close() {
	c.mu.Lock()
	if c.state.has(connClosed) {
		c.mu.Unlock()
		return
	}
	c.state |= connClosed
	st := c.state
	c.mu.Unlock()
	if !st.has(connLive) || st.has(connTerminated) {
		c.release()
		return
	}
	c.eng.CloseHandle()
}

// onTerminated runs on the worker when the engine has finished (after
// ConnectionShutdownCompleteEvent).
func (c *Connection) onTerminated() {
	c.leaveHandshake()
	c.mu.Lock()
	c.state |= connTerminated
	// A server connection no application accepted has no owner to close it.
	closed := c.state.has(connClosed) || c.server && !c.state.has(connAccepted)
	c.mu.Unlock()
	if closed {
		c.release()
	}
}

// release frees what the connection holds once it is both closed by the
// application and terminated: its worker registration, its own socket and
// its place in the registration.
func (c *Connection) release() {
	c.mu.Lock()
	task, ch, sb := c.task, c.client, c.binding
	c.task, c.client, c.binding = nil, nil, nil
	c.mu.Unlock()
	if task != nil {
		task.Unregister()
	}
	if ch != nil {
		endpoint.CloseAsync(ch.Bindings())
	}
	if sb != nil {
		sb.sh.ReleaseConn(c)
	}
	c.reg.removeChild(c)
}

// leaveHandshake stops counting a server connection in the library's
// handshake memory (when it connects or ends).
func (c *Connection) leaveHandshake() {
	c.mu.Lock()
	was := c.state.has(connInHandshake)
	c.state &^= connInHandshake
	c.mu.Unlock()
	if was {
		c.lib.defense.guard.Closed()
	}
}

// dispatch delivers a connection event to the handler.
func (c *Connection) dispatch(ev ConnectionEvent) error {
	h := c.handler.Load()
	if h == nil {
		return nil
	}
	return (*h)(c, ev)
}

// MaxLocalCIDPrefix is the longest prefix SetLocalCIDPrefix accepts: hquic
// issues 8-byte connection IDs (9 with a GlobalSettings.LoadBalancingMode)
// and keeps at least 4 random bytes.
const MaxLocalCIDPrefix = cidLen - 4

// SetLocalCIDPrefix fixes the first bytes of every connection ID this
// connection issues (the project spec's LOCAL_CID_PREFIX), so a load
// balancer in front of a server fleet can route packets by it. Call it on
// a server connection inside NewConnectionEvent before SetConfiguration
// (the handshake connection ID is then replaced before the client sees it)
// or on a client before Start. The prefix replaces the layout of
// GlobalSettings.LoadBalancingMode, which gives every server connection a
// QUIC-LB (draft-ietf-quic-load-balancers) plaintext prefix without this
// call; see LoadBalancingMode. Errors: ErrInvalidParameter for a
// prefix longer than MaxLocalCIDPrefix, ErrInvalidState once a client has
// started.
func (c *Connection) SetLocalCIDPrefix(prefix []byte) error {
	const op = "Connection.SetLocalCIDPrefix"
	if len(prefix) > MaxLocalCIDPrefix {
		return opError(op, StatusInvalidParameter, "prefix longer than %d bytes", MaxLocalCIDPrefix)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.server && c.state.has(connStarted) {
		return opError(op, StatusInvalidState, "client already started")
	}
	c.cidPrefix = append([]byte(nil), prefix...)
	if c.server {
		c.eng.SetCIDPrefix(prefix)
	}
	return nil
}

// ConnectionShutdownFlags modify ConnectionShutdown and RegistrationShutdown
// (QUIC_CONNECTION_SHUTDOWN_FLAGS).
type ConnectionShutdownFlags uint32

const (
	// ConnectionShutdownNone closes gracefully: CONNECTION_CLOSE is sent and
	// the closing period runs.
	ConnectionShutdownNone ConnectionShutdownFlags = 0x0000
	// ConnectionShutdownSilent drops the connection without telling the peer.
	ConnectionShutdownSilent ConnectionShutdownFlags = 0x0001
)

// String returns the flag names.
func (f ConnectionShutdownFlags) String() string {
	return formatFlags(uint64(f), "None", []flagName{{0x1, "Silent"}})
}

// AddressFamily selects the IP family for ConnectionStart
// (QUIC_ADDRESS_FAMILY, Linux values).
type AddressFamily uint16

const (
	// AddressFamilyUnspec lets the resolver pick (AF_UNSPEC).
	AddressFamilyUnspec AddressFamily = 0
	// AddressFamilyIPv4 is AF_INET.
	AddressFamilyIPv4 AddressFamily = 2
	// AddressFamilyIPv6 is AF_INET6 (Linux numbering).
	AddressFamilyIPv6 AddressFamily = 10
)

// String returns the family name.
func (f AddressFamily) String() string {
	return enumString("AddressFamily", uint64(f), map[uint64]string{0: "Unspec", 2: "IPv4", 10: "IPv6"})
}
