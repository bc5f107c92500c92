package quic

import (
	"errors"
	"fmt"
	"testing"
)

func TestLimitConstants(t *testing.T) {
	if MaxVarInt != 4611686018427387903 || MaxALPNLength != 255 || MaxSNILength != 65535 ||
		MaxResumptionAppDataLength != 1000 || StatelessResetKeyLength != 32 || MaxTicketKeyCount != 16 {
		t.Fatal("limit constants differ from msquic.h")
	}
}

func TestTransportErrorCodeValues(t *testing.T) {
	// RFC 9000, Section 20.1; RFC 9368, Section 10.2.1.
	want := []TransportErrorCode{
		ErrCodeNoError, ErrCodeInternal, ErrCodeConnectionRefused, ErrCodeFlowControl,
		ErrCodeStreamLimit, ErrCodeStreamState, ErrCodeFinalSize, ErrCodeFrameEncoding,
		ErrCodeTransportParameter, ErrCodeConnectionIDLimit, ErrCodeProtocolViolation,
		ErrCodeInvalidToken, ErrCodeApplicationError, ErrCodeCryptoBufferExceeded,
		ErrCodeKeyUpdate, ErrCodeAEADLimitReached, ErrCodeNoViablePath, ErrCodeVersionNegotiation,
	}
	for i, c := range want {
		if uint64(c) != uint64(i) {
			t.Errorf("%v = %#x, want %#x", c, uint64(c), i)
		}
	}
	if CryptoError(42) != 0x12a || ErrCodeCryptoHandshakeFailure != 0x128 ||
		ErrCodeCryptoUserCanceled != 0x15a || ErrCodeCryptoNoApplicationProtocol != 0x178 {
		t.Error("crypto error codes wrong")
	}
	if a, ok := CryptoError(120).TLSAlert(); !ok || a != 120 {
		t.Errorf("TLSAlert = %d, %v", a, ok)
	}
	if _, ok := ErrCodeFlowControl.TLSAlert(); ok {
		t.Error("FLOW_CONTROL_ERROR reports a TLS alert")
	}
}

func TestTransportErrorCodeString(t *testing.T) {
	for c, want := range map[TransportErrorCode]string{
		ErrCodeNoError:            "NO_ERROR",
		ErrCodeFlowControl:        "FLOW_CONTROL_ERROR",
		ErrCodeApplicationError:   "APPLICATION_ERROR",
		ErrCodeInvalidToken:       "INVALID_TOKEN",
		ErrCodeVersionNegotiation: "VERSION_NEGOTIATION_ERROR",
		CryptoError(42):           "CRYPTO_ERROR(bad_certificate(42))",
		0x4242:                    "TransportErrorCode(0x4242)",
	} {
		if got := c.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint64(c), got, want)
		}
	}
}

// TestStatusFromTransportError is the table of MsQuic's
// QuicErrorCodeToStatus (reference §6.3).
func TestStatusFromTransportError(t *testing.T) {
	for _, c := range []struct {
		code TransportErrorCode
		want Status
	}{
		{ErrCodeNoError, StatusSuccess},
		{ErrCodeConnectionRefused, StatusConnectionRefused},
		{ErrCodeProtocolViolation, StatusProtocolError},
		{ErrCodeApplicationError, StatusUserCanceled},
		{0x0b, StatusUserCanceled}, // MsQuic's APPLICATION_ERROR value
		{ErrCodeCryptoUserCanceled, StatusUserCanceled},
		{ErrCodeCryptoHandshakeFailure, StatusHandshakeFailure},
		{ErrCodeCryptoNoApplicationProtocol, StatusALPNNegotiationFailure},
		{ErrCodeVersionNegotiation, StatusVersionNegotiationError},
		{CryptoError(42), 200000298},
		{CryptoError(0), 200000256},
		{CryptoError(255), 200000511},
		{ErrCodeInternal, StatusInternalError},
		{ErrCodeFlowControl, StatusInternalError},
		{ErrCodeFrameEncoding, StatusInternalError},
		{ErrCodeAEADLimitReached, StatusInternalError},
		{0x200, StatusInternalError},
		{MaxVarInt, StatusInternalError},
	} {
		if got := StatusFromTransportError(c.code); got != c.want {
			t.Errorf("StatusFromTransportError(%v) = %v, want %v", c.code, got, c.want)
		}
	}
}

func TestTransportErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &TransportError{Code: ErrCodeFlowControl, FrameType: 0x8, Reason: "too much", Remote: true})
	if !errors.Is(err, &TransportError{Code: ErrCodeFlowControl, Remote: true}) {
		t.Error("same code and direction should match (frame and reason ignored)")
	}
	if errors.Is(err, &TransportError{Code: ErrCodeFlowControl}) {
		t.Error("a local target matched a remote error")
	}
	if errors.Is(err, &TransportError{Code: ErrCodeStreamState, Remote: true}) {
		t.Error("a different code matched")
	}
	if !errors.Is(err, ErrInternalError) {
		t.Error("FLOW_CONTROL_ERROR should match its MsQuic status INTERNAL_ERROR")
	}
	refused := &TransportError{Code: ErrCodeConnectionRefused, Remote: true}
	if !errors.Is(refused, ErrConnectionRefused) || errors.Is(refused, ErrAborted) {
		t.Error("CONNECTION_REFUSED should match ErrConnectionRefused only")
	}
	if errors.Is(&TransportError{Code: ErrCodeNoError}, StatusSuccess) {
		t.Error("a NO_ERROR close matched StatusSuccess")
	}
	var te *TransportError
	if !errors.As(err, &te) || te.Reason != "too much" {
		t.Error("errors.As failed")
	}
}

func TestTransportErrorMessage(t *testing.T) {
	for _, c := range []struct {
		err  *TransportError
		want string
	}{
		{&TransportError{Code: ErrCodeFlowControl, FrameType: 0x8, Reason: "too much", Remote: true},
			"quic: peer closed the connection: FLOW_CONTROL_ERROR (frame 0x8): too much"},
		{&TransportError{Code: ErrCodeProtocolViolation},
			"quic: closed the connection: PROTOCOL_VIOLATION"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func TestApplicationError(t *testing.T) {
	err := fmt.Errorf("w: %w", &ApplicationError{Code: 0x10, Reason: "bye", Remote: true})
	if !errors.Is(err, &ApplicationError{Code: 0x10, Remote: true}) {
		t.Error("same code and direction should match")
	}
	if errors.Is(err, &ApplicationError{Code: 0x11, Remote: true}) || errors.Is(err, &ApplicationError{Code: 0x10}) {
		t.Error("different code or direction matched")
	}
	if errors.Is(err, &TransportError{Code: 0x10, Remote: true}) {
		t.Error("an application error matched a transport error")
	}
	if got := (&ApplicationError{Code: 0x10, Reason: "bye", Remote: true}).Error(); got != "quic: peer application closed the connection: code 0x10: bye" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&ApplicationError{Code: 7}).Error(); got != "quic: application closed the connection: code 0x7" {
		t.Errorf("Error() = %q", got)
	}
}
