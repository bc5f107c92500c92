// Package quicnet is a blocking, net-style layer over hquic's callback
// API: Dial and Listen give a *Conn, whose streams are io.Reader,
// io.Writer and net.Conn, with deadlines, context.Context and Go errors,
// for programs that want what net, crypto/tls and quic-go offer rather
// than MsQuic's events.
//
//	c, err := quicnet.Dial(ctx, "example.com:443", &tls.Config{NextProtos: []string{"myproto"}}, nil)
//	...
//	s, err := c.OpenStream(ctx)
//	s.Write(request)
//	s.CloseWrite()
//	io.Copy(dst, s)
//
// # Execution
//
// quicnet starts no goroutine of its own. The library's event handlers
// only record what happened and wake the goroutine that waits for it;
// every blocking call blocks the caller's goroutine, never a connection's
// worker. Everything is released when closed: after the Conns and
// Listeners a program made are closed (and their closing periods passed),
// no goroutine of the library is left.
//
// # Memory and speed
//
// Memory is bounded by construction. A Stream's Write copies into a send
// buffer of at most Config.SendBuffer bytes and blocks while it is full;
// the library sends straight from that buffer. Received data stays in the
// library's receive buffer until Read copies it out, and only reading
// gives the peer credit to send more, so a slow reader holds at most the
// stream's flow-control window. io.Copy to or from a Stream uses ReadFrom
// and WriteTo, which skip io.Copy's own buffer.
//
// # Errors
//
// A stream direction the peer abandoned fails with a *StreamError; a
// passed deadline with os.ErrDeadlineExceeded (a net.Error whose Timeout
// reports true); a connection that ended with what ended it: a
// *quic.ApplicationError (closed by an application, Remote telling
// which), a *quic.TransportError (a protocol or TLS error, such as
// CRYPTO_ERROR(bad_certificate)), or a quic.Status such as
// quic.ErrConnectionIdle wrapped in a net.Error whose Timeout reports
// true. All work with errors.Is and errors.As. Calls taking a context
// return its error when it ends first.
//
// # Statistics
//
// Conn.Connection gives the underlying *quic.Connection for statistics and
// parameters. A connection's congestion window (Statistics
// SendCongestionWindow) is that of its own sending: on the side that only
// receives a transfer, it stays near its initial 10 packets, since
// acknowledgments alone do not grow it. Look at the sender's.
package quicnet
