package quic

import (
	"errors"
	"io/fs"
	"testing"
)

func TestStatusValuesMatchMsQuicLinux(t *testing.T) {
	for _, c := range []struct {
		s    Status
		want uint32
	}{
		{StatusSuccess, 0},
		{StatusPending, 0xFFFFFFFE},
		{StatusContinue, 0xFFFFFFFF},
		{StatusOutOfMemory, 12},
		{StatusInvalidParameter, 22},
		{StatusInvalidState, 1},
		{StatusNotSupported, 95},
		{StatusNotFound, 2},
		{StatusFileNotFound, 2},
		{StatusBufferTooSmall, 75},
		{StatusHandshakeFailure, 103},
		{StatusAborted, 125},
		{StatusAddressInUse, 98},
		{StatusInvalidAddress, 97},
		{StatusConnectionTimeout, 110},
		{StatusConnectionIdle, 62},
		{StatusInternalError, 5},
		{StatusConnectionRefused, 111},
		{StatusProtocolError, 71},
		{StatusVersionNegotiationError, 93},
		{StatusUnreachable, 113},
		{StatusTLSError, 126},
		{StatusUserCanceled, 130},
		{StatusALPNNegotiationFailure, 92},
		{StatusStreamLimitReached, 86},
		{StatusALPNInUse, 91},
		{StatusAddressNotAvailable, 99},
		{StatusCloseNotify, 200000256},
		{StatusBadCertificate, 200000298},
		{StatusUnsupportedCertificate, 200000299},
		{StatusRevokedCertificate, 200000300},
		{StatusExpiredCertificate, 200000301},
		{StatusUnknownCertificate, 200000302},
		{StatusRequiredCertificate, 200000372},
		{StatusCertExpired, 200000513},
		{StatusCertUntrustedRoot, 200000514},
		{StatusCertNoCertificate, 200000515},
	} {
		if uint32(c.s) != c.want {
			t.Errorf("%v = %d, want %d", c.s, uint32(c.s), c.want)
		}
	}
}

func TestTLSAlertStatus(t *testing.T) {
	for _, c := range []struct {
		alert uint8
		want  Status
	}{
		{0, 200000256},
		{42, 200000298},
		{45, StatusExpiredCertificate},
		{116, StatusRequiredCertificate},
		{255, 200000511},
	} {
		got := TLSAlertStatus(c.alert)
		if got != c.want {
			t.Errorf("TLSAlertStatus(%d) = %d, want %d", c.alert, got, c.want)
		}
		if a, ok := got.TLSAlert(); !ok || a != c.alert {
			t.Errorf("%v.TLSAlert() = %d, %v", got, a, ok)
		}
	}
	if _, ok := StatusInvalidParameter.TLSAlert(); ok {
		t.Error("INVALID_PARAMETER reports a TLS alert")
	}
	if _, ok := StatusCertExpired.TLSAlert(); ok {
		t.Error("CERT_EXPIRED reports a TLS alert")
	}
}

func TestSucceededAndFailed(t *testing.T) {
	for _, s := range []Status{StatusSuccess, StatusPending, StatusContinue} {
		if !s.Succeeded() || s.Failed() {
			t.Errorf("%v: Succeeded=%v Failed=%v, want a success", s, s.Succeeded(), s.Failed())
		}
	}
	for _, s := range []Status{StatusInvalidState, StatusInvalidParameter, StatusBadCertificate, StatusCertNoCertificate} {
		if s.Succeeded() || !s.Failed() {
			t.Errorf("%v: Succeeded=%v Failed=%v, want a failure", s, s.Succeeded(), s.Failed())
		}
	}
	if Pending != error(StatusPending) || Continue != error(StatusContinue) {
		t.Error("Pending/Continue are not the PENDING/CONTINUE statuses")
	}
}

func TestStatusStrings(t *testing.T) {
	for _, c := range []struct {
		s          Status
		name, text string
	}{
		{StatusInvalidParameter, "QUIC_STATUS_INVALID_PARAMETER", "quic: invalid parameter"},
		{StatusPending, "QUIC_STATUS_PENDING", "quic: pending"},
		{StatusBadCertificate, "QUIC_STATUS_BAD_CERTIFICATE", "quic: TLS alert bad_certificate"},
		{TLSAlertStatus(40), "QUIC_STATUS_TLS_ALERT(40)", "quic: TLS alert handshake_failure(40)"},
		{TLSAlertStatus(200), "QUIC_STATUS_TLS_ALERT(200)", "quic: TLS alert alert(200)"},
		{StatusCertUntrustedRoot, "QUIC_STATUS_CERT_UNTRUSTED_ROOT", "quic: certificate chains to an untrusted root"},
		{statusCertErrorBase + 9, "QUIC_STATUS_CERT_ERROR(9)", "quic: certificate error 9"},
		{Status(4242), "QUIC_STATUS(0x1092)", "quic: status 0x1092"},
	} {
		if got := c.s.String(); got != c.name {
			t.Errorf("String() = %q, want %q", got, c.name)
		}
		if got := c.s.Error(); got != c.text {
			t.Errorf("Error() = %q, want %q", got, c.text)
		}
	}
}

func TestSentinelsAreTheirStatuses(t *testing.T) {
	for _, c := range []struct {
		err error
		s   Status
	}{
		{ErrInvalidParameter, StatusInvalidParameter},
		{ErrInvalidState, StatusInvalidState},
		{ErrAborted, StatusAborted},
		{ErrConnectionIdle, StatusConnectionIdle},
		{ErrConnectionTimeout, StatusConnectionTimeout},
		{ErrConnectionRefused, StatusConnectionRefused},
		{ErrHandshakeFailure, StatusHandshakeFailure},
		{ErrALPNNegotiationFailure, StatusALPNNegotiationFailure},
		{ErrAddressInUse, StatusAddressInUse},
		{ErrNotFound, StatusNotFound},
		{ErrNotSupported, StatusNotSupported},
		{ErrUserCanceled, StatusUserCanceled},
		{ErrExpiredCertificate, StatusExpiredCertificate},
		{ErrCertExpired, StatusCertExpired},
	} {
		if !errors.Is(c.s, c.err) {
			t.Errorf("errors.Is(%v, sentinel) = false", c.s)
		}
	}
}

func TestOpErrorMatchesStatusAndDetail(t *testing.T) {
	err := error(&OpError{Op: "Configuration.LoadCredential", Status: StatusNotFound, Err: fs.ErrNotExist})
	if !errors.Is(err, ErrNotFound) {
		t.Error("errors.Is(err, ErrNotFound) = false")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is(err, fs.ErrNotExist) = false")
	}
	if errors.Is(err, ErrInvalidParameter) {
		t.Error("errors.Is(err, ErrInvalidParameter) = true")
	}
	var s Status
	if !errors.As(err, &s) || s != StatusNotFound {
		t.Errorf("errors.As Status = %v", s)
	}
	var op *OpError
	if !errors.As(err, &op) || op.Op != "Configuration.LoadCredential" {
		t.Errorf("errors.As *OpError = %v", op)
	}
	want := "quic: Configuration.LoadCredential: not found: file does not exist"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	bare := &OpError{Op: "Library.Close", Status: StatusInvalidState}
	if bare.Error() != "quic: Library.Close: invalid state" || !errors.Is(bare, ErrInvalidState) {
		t.Errorf("bare OpError: %q", bare.Error())
	}
	wrapped := opError("X.Y", StatusInvalidParameter, "field %s: %w", "F", fs.ErrPermission)
	if !errors.Is(wrapped, fs.ErrPermission) || !errors.Is(wrapped, ErrInvalidParameter) {
		t.Error("opError does not wrap its %w argument")
	}
}
