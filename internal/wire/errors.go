package wire

import (
	"fmt"
	"strconv"
)

// ErrorCode is a QUIC transport error code (RFC 9000 §20.1). It is a bare
// code, not an error, so that a received code cannot be returned as a local
// error by accident; wrap it in an *Error to report it.
type ErrorCode uint64

// Transport error codes (RFC 9000 §20.1, RFC 9368 §10.2).
const (
	NoError                 ErrorCode = 0x0
	InternalError           ErrorCode = 0x1
	ConnectionRefused       ErrorCode = 0x2
	FlowControlError        ErrorCode = 0x3
	StreamLimitError        ErrorCode = 0x4
	StreamStateError        ErrorCode = 0x5
	FinalSizeError          ErrorCode = 0x6
	FrameEncodingError      ErrorCode = 0x7
	TransportParameterError ErrorCode = 0x8
	ConnectionIDLimitError  ErrorCode = 0x9
	ProtocolViolation       ErrorCode = 0xa
	InvalidToken            ErrorCode = 0xb
	ApplicationError        ErrorCode = 0xc
	CryptoBufferExceeded    ErrorCode = 0xd
	KeyUpdateError          ErrorCode = 0xe
	AEADLimitReached        ErrorCode = 0xf
	NoViablePath            ErrorCode = 0x10
	VersionNegotiationError ErrorCode = 0x11
)

// cryptoErrorBase is the first code of the CRYPTO_ERROR range 0x0100-0x01ff.
const cryptoErrorBase = 0x100

// CryptoError returns the transport error code carrying a TLS alert
// (RFC 9000 §20.1, RFC 9001 §4.8).
func CryptoError(alert uint8) ErrorCode { return cryptoErrorBase | ErrorCode(alert) }

// IsCrypto reports whether c is in the CRYPTO_ERROR range 0x0100-0x01ff.
func (c ErrorCode) IsCrypto() bool { return c&^0xff == cryptoErrorBase }

var errorCodeNames = [...]string{
	NoError:                 "NO_ERROR",
	InternalError:           "INTERNAL_ERROR",
	ConnectionRefused:       "CONNECTION_REFUSED",
	FlowControlError:        "FLOW_CONTROL_ERROR",
	StreamLimitError:        "STREAM_LIMIT_ERROR",
	StreamStateError:        "STREAM_STATE_ERROR",
	FinalSizeError:          "FINAL_SIZE_ERROR",
	FrameEncodingError:      "FRAME_ENCODING_ERROR",
	TransportParameterError: "TRANSPORT_PARAMETER_ERROR",
	ConnectionIDLimitError:  "CONNECTION_ID_LIMIT_ERROR",
	ProtocolViolation:       "PROTOCOL_VIOLATION",
	InvalidToken:            "INVALID_TOKEN",
	ApplicationError:        "APPLICATION_ERROR",
	CryptoBufferExceeded:    "CRYPTO_BUFFER_EXCEEDED",
	KeyUpdateError:          "KEY_UPDATE_ERROR",
	AEADLimitReached:        "AEAD_LIMIT_REACHED",
	NoViablePath:            "NO_VIABLE_PATH",
	VersionNegotiationError: "VERSION_NEGOTIATION_ERROR",
}

// String returns the RFC name of c, "CRYPTO_ERROR(0x1nn)" for TLS alerts,
// or the code in hexadecimal if it is unknown.
func (c ErrorCode) String() string {
	if c < ErrorCode(len(errorCodeNames)) {
		return errorCodeNames[c]
	}
	if c.IsCrypto() {
		return "CRYPTO_ERROR(0x" + strconv.FormatUint(uint64(c), 16) + ")"
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

// Error is a transport error detected locally: the code to send in a
// CONNECTION_CLOSE frame of type 0x1c, the type of the frame that caused it
// (zero if none), and a reason phrase for the peer and for logs.
type Error struct {
	Code      ErrorCode
	FrameType uint64
	Reason    string
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := "quic: " + e.Code.String()
	if e.FrameType != 0 {
		s += fmt.Sprintf(" (frame type 0x%x)", e.FrameType)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}
