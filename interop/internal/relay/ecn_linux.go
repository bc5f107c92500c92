package relay

import (
	"encoding/binary"
	"syscall"
	"unsafe"
)

// enableECN asks the kernel for each datagram's TOS / traffic class byte.
func enableECN(u *udpConn) {
	rc, err := u.c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if u.v6 {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVTCLASS, 1)
		} else {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVTOS, 1)
		}
	})
}

// parseECN returns the ECN bits of a received TOS / traffic class
// control message, or 0.
func parseECN(oob []byte) uint8 {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_TOS && len(m.Data) >= 1:
			return m.Data[0] & 3
		case m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_TCLASS && len(m.Data) >= 4:
			return uint8(binary.NativeEndian.Uint32(m.Data)) & 3
		}
	}
	return 0
}

// ecnOOB is the control message that sends a datagram with codepoint ecn,
// or nil for Not-ECT.
func ecnOOB(v6 bool, ecn uint8) []byte {
	if ecn == 0 {
		return nil
	}
	b := make([]byte, syscall.CmsgSpace(4))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	if v6 {
		h.Level, h.Type = syscall.IPPROTO_IPV6, syscall.IPV6_TCLASS
	} else {
		h.Level, h.Type = syscall.IPPROTO_IP, syscall.IP_TOS
	}
	h.SetLen(syscall.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[syscall.CmsgLen(0):], uint32(ecn))
	return b
}
