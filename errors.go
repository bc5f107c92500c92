package quic

import (
	"fmt"
	"strconv"
)

// Limits from msquic.h.
const (
	// MaxVarInt is the largest QUIC variable-length integer (2^62-1); every
	// application error code must be at most this (QUIC_UINT62_MAX).
	MaxVarInt = 1<<62 - 1
	// MaxALPNLength is the maximum length of one ALPN protocol ID in bytes.
	MaxALPNLength = 255
	// MaxSNILength is the maximum server name length in bytes.
	MaxSNILength = 65535
	// MaxResumptionAppDataLength is the maximum application data a server
	// may embed in a resumption ticket.
	MaxResumptionAppDataLength = 1000
	// StatelessResetKeyLength is the size of the stateless reset key.
	StatelessResetKeyLength = 32
	// MaxTicketKeyCount is the maximum number of session ticket keys.
	MaxTicketKeyCount = 16
)

// TransportErrorCode is a QUIC transport error code as carried in a
// CONNECTION_CLOSE frame of type 0x1c (RFC 9000, Section 20.1).
type TransportErrorCode uint64

// Transport error codes (RFC 9000, Section 20.1; RFC 9368, Section 10.2.1).
const (
	ErrCodeNoError              TransportErrorCode = 0x00
	ErrCodeInternal             TransportErrorCode = 0x01
	ErrCodeConnectionRefused    TransportErrorCode = 0x02
	ErrCodeFlowControl          TransportErrorCode = 0x03
	ErrCodeStreamLimit          TransportErrorCode = 0x04
	ErrCodeStreamState          TransportErrorCode = 0x05
	ErrCodeFinalSize            TransportErrorCode = 0x06
	ErrCodeFrameEncoding        TransportErrorCode = 0x07
	ErrCodeTransportParameter   TransportErrorCode = 0x08
	ErrCodeConnectionIDLimit    TransportErrorCode = 0x09
	ErrCodeProtocolViolation    TransportErrorCode = 0x0a
	ErrCodeInvalidToken         TransportErrorCode = 0x0b
	ErrCodeApplicationError     TransportErrorCode = 0x0c
	ErrCodeCryptoBufferExceeded TransportErrorCode = 0x0d
	ErrCodeKeyUpdate            TransportErrorCode = 0x0e
	ErrCodeAEADLimitReached     TransportErrorCode = 0x0f
	ErrCodeNoViablePath         TransportErrorCode = 0x10
	ErrCodeVersionNegotiation   TransportErrorCode = 0x11

	// TLS alerts as CRYPTO_ERROR codes that MsQuic names.
	ErrCodeCryptoHandshakeFailure      TransportErrorCode = 0x100 + 40
	ErrCodeCryptoUserCanceled          TransportErrorCode = 0x100 + 90
	ErrCodeCryptoNoApplicationProtocol TransportErrorCode = 0x100 + 120
)

// The CRYPTO_ERROR range, [0x0100, 0x0200) (RFC 9000, Section 20.1).
const (
	errCodeCryptoFirst TransportErrorCode = 0x100
	errCodeCryptoEnd   TransportErrorCode = 0x200
)

// CryptoError returns the CRYPTO_ERROR code carrying TLS alert alert,
// 0x0100 + alert (RFC 9001, Section 4.8).
func CryptoError(alert uint8) TransportErrorCode {
	return errCodeCryptoFirst + TransportErrorCode(alert)
}

// TLSAlert reports the TLS alert of a CRYPTO_ERROR code.
func (c TransportErrorCode) TLSAlert() (alert uint8, ok bool) {
	if c >= errCodeCryptoFirst && c < errCodeCryptoEnd {
		return uint8(c - errCodeCryptoFirst), true
	}
	return 0, false
}

// String returns the RFC name of the code, such as "FLOW_CONTROL_ERROR" or
// "CRYPTO_ERROR(bad_certificate)".
func (c TransportErrorCode) String() string {
	if int(c) < len(transportErrorNames) {
		return transportErrorNames[c]
	}
	if a, ok := c.TLSAlert(); ok {
		return "CRYPTO_ERROR(" + TLSAlertCode(a).String() + ")"
	}
	return fmt.Sprintf("TransportErrorCode(%#x)", uint64(c))
}

var transportErrorNames = [...]string{
	ErrCodeNoError:              "NO_ERROR",
	ErrCodeInternal:             "INTERNAL_ERROR",
	ErrCodeConnectionRefused:    "CONNECTION_REFUSED",
	ErrCodeFlowControl:          "FLOW_CONTROL_ERROR",
	ErrCodeStreamLimit:          "STREAM_LIMIT_ERROR",
	ErrCodeStreamState:          "STREAM_STATE_ERROR",
	ErrCodeFinalSize:            "FINAL_SIZE_ERROR",
	ErrCodeFrameEncoding:        "FRAME_ENCODING_ERROR",
	ErrCodeTransportParameter:   "TRANSPORT_PARAMETER_ERROR",
	ErrCodeConnectionIDLimit:    "CONNECTION_ID_LIMIT_ERROR",
	ErrCodeProtocolViolation:    "PROTOCOL_VIOLATION",
	ErrCodeInvalidToken:         "INVALID_TOKEN",
	ErrCodeApplicationError:     "APPLICATION_ERROR",
	ErrCodeCryptoBufferExceeded: "CRYPTO_BUFFER_EXCEEDED",
	ErrCodeKeyUpdate:            "KEY_UPDATE_ERROR",
	ErrCodeAEADLimitReached:     "AEAD_LIMIT_REACHED",
	ErrCodeNoViablePath:         "NO_VIABLE_PATH",
	ErrCodeVersionNegotiation:   "VERSION_NEGOTIATION_ERROR",
}

// StatusFromTransportError maps a transport error code received in (or sent
// with) a CONNECTION_CLOSE frame to the Status MsQuic reports for it
// (connection.c QuicErrorCodeToStatus):
//
//	NO_ERROR                         → StatusSuccess
//	CONNECTION_REFUSED               → StatusConnectionRefused
//	PROTOCOL_VIOLATION               → StatusProtocolError
//	APPLICATION_ERROR                → StatusUserCanceled
//	CRYPTO_ERROR(user_canceled)      → StatusUserCanceled
//	CRYPTO_ERROR(handshake_failure)  → StatusHandshakeFailure
//	CRYPTO_ERROR(no_application_protocol) → StatusALPNNegotiationFailure
//	VERSION_NEGOTIATION_ERROR        → StatusVersionNegotiationError
//	any other CRYPTO_ERROR(a)        → TLSAlertStatus(a)
//	anything else                    → StatusInternalError
//
// MsQuic's frame.h defines APPLICATION_ERROR as 0x0b, which RFC 9000 assigns
// to INVALID_TOKEN (APPLICATION_ERROR is 0x0c), and MsQuic peers send 0x0b
// when their application closes during the handshake. Both 0x0b and 0x0c
// therefore map to StatusUserCanceled, so a close from an MsQuic peer reads
// the same as under MsQuic. hquic itself sends the RFC value 0x0c.
func StatusFromTransportError(code TransportErrorCode) Status {
	switch code {
	case ErrCodeNoError:
		return StatusSuccess
	case ErrCodeConnectionRefused:
		return StatusConnectionRefused
	case ErrCodeProtocolViolation:
		return StatusProtocolError
	case ErrCodeApplicationError, ErrCodeInvalidToken, ErrCodeCryptoUserCanceled:
		return StatusUserCanceled
	case ErrCodeCryptoHandshakeFailure:
		return StatusHandshakeFailure
	case ErrCodeCryptoNoApplicationProtocol:
		return StatusALPNNegotiationFailure
	case ErrCodeVersionNegotiation:
		return StatusVersionNegotiationError
	}
	if a, ok := code.TLSAlert(); ok {
		return TLSAlertStatus(a)
	}
	return StatusInternalError
}

// TransportError is a connection closed with a QUIC transport error code
// (CONNECTION_CLOSE type 0x1c). Remote reports whether the peer sent it;
// FrameType is the type of the frame that triggered the error (0 if
// unknown).
type TransportError struct {
	Code      TransportErrorCode
	FrameType uint64
	Reason    string
	Remote    bool
}

// Error describes the error, e.g.
// "quic: peer closed the connection: FLOW_CONTROL_ERROR (frame 0x8): too much data".
func (e *TransportError) Error() string {
	s := "quic: closed the connection: "
	if e.Remote {
		s = "quic: peer closed the connection: "
	}
	s += e.Code.String()
	if e.FrameType != 0 {
		s += " (frame " + "0x" + strconv.FormatUint(e.FrameType, 16) + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is reports whether target matches e. A *TransportError target matches when
// its Code and Remote equal e's; its FrameType and Reason are ignored. A
// Status target matches when it is the failure status MsQuic reports for e's
// code (StatusFromTransportError), so
//
//	errors.Is(err, &quic.TransportError{Code: quic.ErrCodeFlowControl, Remote: true})
//	errors.Is(err, quic.ErrConnectionRefused)
//
// both work on a received CONNECTION_REFUSED close.
func (e *TransportError) Is(target error) bool {
	switch t := target.(type) {
	case *TransportError:
		return t.Code == e.Code && t.Remote == e.Remote
	case Status:
		s := StatusFromTransportError(e.Code)
		return s.Failed() && s == t
	}
	return false
}

// ApplicationError is a connection closed by an application with its own
// error code (CONNECTION_CLOSE type 0x1d), at most MaxVarInt. Remote reports
// whether the peer's application sent it.
type ApplicationError struct {
	Code   uint64
	Reason string
	Remote bool
}

// Error describes the error, e.g.
// "quic: peer application closed the connection: code 0x10: bye".
func (e *ApplicationError) Error() string {
	s := "quic: application closed the connection: code 0x"
	if e.Remote {
		s = "quic: peer application closed the connection: code 0x"
	}
	s += strconv.FormatUint(e.Code, 16)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is reports whether target is an *ApplicationError with the same Code and
// Remote; its Reason is ignored.
func (e *ApplicationError) Is(target error) bool {
	t, ok := target.(*ApplicationError)
	return ok && t.Code == e.Code && t.Remote == e.Remote
}
