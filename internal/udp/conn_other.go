//go:build !linux

package udp

import (
	"errors"
	"syscall"
)

// msgTrunc is the receive flag of a datagram cut short by a small buffer
// (MSG_TRUNC on darwin and the BSDs; Windows reports an error instead).
const msgTrunc = 0x10

// sysConn has no state outside Linux: every platform uses the
// one-datagram-at-a-time path.
type sysConn struct{}

// wsaEMSGSIZE is the Windows error for a datagram larger than the buffer.
const wsaEMSGSIZE = syscall.Errno(10040)

// isTruncErr reports whether a read error means the datagram did not fit.
func isTruncErr(err error) bool { return errors.Is(err, wsaEMSGSIZE) }

func (c *conn) batched() bool { return false }

// ReadBatch implements Conn.
func (c *conn) ReadBatch(msgs []Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.readSingle(msgs)
}

// WriteBatch implements Conn.
func (c *conn) WriteBatch(msgs []Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeSingle(msgs)
}

// setup asks for the socket buffers and packet information. GSO and GRO are
// Linux features; ECN goes through IPv6 traffic-class control messages only,
// as golang.org/x/net/ipv4 has no TOS control message.
func (c *conn) setup(opts Options) error {
	c.v6 = c.local.Addr().Is6()
	if c.uc.SetReadBuffer(opts.RecvBuffer) == nil {
		c.rbuf = opts.RecvBuffer
	} else {
		c.refused.RecvBuffer = true
	}
	if c.uc.SetWriteBuffer(opts.SendBuffer) == nil {
		c.sbuf = opts.SendBuffer
	} else {
		c.refused.SendBuffer = true
	}
	c.setupControl(opts)
	return nil
}
