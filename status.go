package quic

import (
	"fmt"
	"strconv"
)

// Status is an MsQuic QUIC_STATUS code. The numeric values are those of
// MsQuic on Linux (errno numbers, plus MsQuic's own codes above 200,000,000),
// so logs line up with MsQuic's. A Status is an error; failures are the values
// for which Failed reports true. Use errors.Is with the Err* variables to test
// for one:
//
//	if errors.Is(err, quic.ErrConnectionIdle) { ... }
type Status uint32

// Status values (QUIC_STATUS_*), Linux numbering.
const (
	StatusSuccess                 Status = 0
	StatusPending                 Status = 0xFFFFFFFE // -2: accepted, completes asynchronously
	StatusContinue                Status = 0xFFFFFFFF // -1: keep indicating (receive handlers)
	StatusOutOfMemory             Status = 12         // ENOMEM
	StatusInvalidParameter        Status = 22         // EINVAL
	StatusInvalidState            Status = 1          // EPERM
	StatusNotSupported            Status = 95         // EOPNOTSUPP
	StatusNotFound                Status = 2          // ENOENT
	StatusFileNotFound            Status = StatusNotFound
	StatusBufferTooSmall          Status = 75  // EOVERFLOW
	StatusHandshakeFailure        Status = 103 // ECONNABORTED
	StatusAborted                 Status = 125 // ECANCELED
	StatusAddressInUse            Status = 98  // EADDRINUSE
	StatusInvalidAddress          Status = 97  // EAFNOSUPPORT
	StatusConnectionTimeout       Status = 110 // ETIMEDOUT
	StatusConnectionIdle          Status = 62  // ETIME
	StatusInternalError           Status = 5   // EIO
	StatusConnectionRefused       Status = 111 // ECONNREFUSED
	StatusProtocolError           Status = 71  // EPROTO
	StatusVersionNegotiationError Status = 93  // EPROTONOSUPPORT
	StatusUnreachable             Status = 113 // EHOSTUNREACH
	StatusTLSError                Status = 126 // ENOKEY
	StatusUserCanceled            Status = 130 // EOWNERDEAD
	StatusALPNNegotiationFailure  Status = 92  // ENOPROTOOPT
	StatusStreamLimitReached      Status = 86  // ESTRPIPE
	StatusALPNInUse               Status = 91  // EPROTOTYPE
	StatusAddressNotAvailable     Status = 99  // EADDRNOTAVAIL

	// TLS alerts received or sent: 200000256 + alert (see TLSAlertStatus).
	StatusCloseNotify            Status = statusTLSAlertBase + 0
	StatusBadCertificate         Status = statusTLSAlertBase + 42
	StatusUnsupportedCertificate Status = statusTLSAlertBase + 43
	StatusRevokedCertificate     Status = statusTLSAlertBase + 44
	StatusExpiredCertificate     Status = statusTLSAlertBase + 45
	StatusUnknownCertificate     Status = statusTLSAlertBase + 46
	StatusRequiredCertificate    Status = statusTLSAlertBase + 116

	// Local certificate validation results (deferred validation).
	StatusCertExpired       Status = statusCertErrorBase + 1
	StatusCertUntrustedRoot Status = statusCertErrorBase + 2
	StatusCertNoCertificate Status = statusCertErrorBase + 3
)

// MsQuic's private status ranges (ERROR_BASE, TLS_ERROR_BASE, CERT_ERROR_BASE).
const (
	statusErrorBase      Status = 200000000
	statusTLSAlertBase   Status = statusErrorBase + 256
	statusCertErrorBase  Status = statusErrorBase + 512
	statusCertErrorLimit Status = statusErrorBase + 768
)

// Sentinel errors, one per failure Status. They are the Status values
// themselves, so errors.Is(err, ErrInvalidState) matches a bare Status as well
// as an *OpError carrying it.
var (
	ErrOutOfMemory             error = StatusOutOfMemory
	ErrInvalidParameter        error = StatusInvalidParameter
	ErrInvalidState            error = StatusInvalidState
	ErrNotSupported            error = StatusNotSupported
	ErrNotFound                error = StatusNotFound
	ErrBufferTooSmall          error = StatusBufferTooSmall
	ErrHandshakeFailure        error = StatusHandshakeFailure
	ErrAborted                 error = StatusAborted
	ErrAddressInUse            error = StatusAddressInUse
	ErrInvalidAddress          error = StatusInvalidAddress
	ErrConnectionTimeout       error = StatusConnectionTimeout
	ErrConnectionIdle          error = StatusConnectionIdle
	ErrInternalError           error = StatusInternalError
	ErrConnectionRefused       error = StatusConnectionRefused
	ErrProtocolError           error = StatusProtocolError
	ErrVersionNegotiationError error = StatusVersionNegotiationError
	ErrUnreachable             error = StatusUnreachable
	ErrTLSError                error = StatusTLSError
	ErrUserCanceled            error = StatusUserCanceled
	ErrALPNNegotiationFailure  error = StatusALPNNegotiationFailure
	ErrStreamLimitReached      error = StatusStreamLimitReached
	ErrALPNInUse               error = StatusALPNInUse
	ErrAddressNotAvailable     error = StatusAddressNotAvailable
	ErrCloseNotify             error = StatusCloseNotify
	ErrBadCertificate          error = StatusBadCertificate
	ErrUnsupportedCertificate  error = StatusUnsupportedCertificate
	ErrRevokedCertificate      error = StatusRevokedCertificate
	ErrExpiredCertificate      error = StatusExpiredCertificate
	ErrUnknownCertificate      error = StatusUnknownCertificate
	ErrRequiredCertificate     error = StatusRequiredCertificate
	ErrCertExpired             error = StatusCertExpired
	ErrCertUntrustedRoot       error = StatusCertUntrustedRoot
	ErrCertNoCertificate       error = StatusCertNoCertificate
)

// Handler return values with MsQuic's meaning. They are successful statuses
// (Failed reports false).
var (
	// Pending tells the library the handler will finish the work later, for
	// example by calling ReceiveComplete or CertificateValidationComplete.
	Pending error = StatusPending
	// Continue asks a receive handler to be called again with more data.
	Continue error = StatusContinue
)

// TLSAlertStatus returns the Status for TLS alert alert, MsQuic's
// QUIC_STATUS_TLS_ALERT: 200000256 + alert.
func TLSAlertStatus(alert uint8) Status { return statusTLSAlertBase + Status(alert) }

// TLSAlert reports the TLS alert carried by s, if s is a TLS alert status.
func (s Status) TLSAlert() (alert uint8, ok bool) {
	if s >= statusTLSAlertBase && s < statusTLSAlertBase+256 {
		return uint8(s - statusTLSAlertBase), true
	}
	return 0, false
}

// Succeeded reports whether s is a success (QUIC_SUCCEEDED: int32(s) <= 0),
// which includes StatusPending and StatusContinue.
func (s Status) Succeeded() bool { return int32(s) <= 0 }

// Failed reports whether s is a failure (QUIC_FAILED: int32(s) > 0).
func (s Status) Failed() bool { return int32(s) > 0 }

// Error returns a readable description prefixed with "quic: ".
func (s Status) Error() string { return "quic: " + s.text() }

// String returns MsQuic's name for s, such as "QUIC_STATUS_INVALID_PARAMETER".
func (s Status) String() string {
	if info, ok := statusNames[s]; ok {
		return "QUIC_STATUS_" + info.name
	}
	if a, ok := s.TLSAlert(); ok {
		return "QUIC_STATUS_TLS_ALERT(" + strconv.Itoa(int(a)) + ")"
	}
	if s > statusCertErrorBase && s < statusCertErrorLimit {
		return "QUIC_STATUS_CERT_ERROR(" + strconv.Itoa(int(s-statusCertErrorBase)) + ")"
	}
	return fmt.Sprintf("QUIC_STATUS(%#x)", uint32(s))
}

// text is the description without the "quic: " prefix.
func (s Status) text() string {
	if info, ok := statusNames[s]; ok {
		return info.text
	}
	if a, ok := s.TLSAlert(); ok {
		return "TLS alert " + TLSAlertCode(a).String()
	}
	if s > statusCertErrorBase && s < statusCertErrorLimit {
		return "certificate error " + strconv.Itoa(int(s-statusCertErrorBase))
	}
	return fmt.Sprintf("status %#x", uint32(s))
}

// statusNames is an immutable table of MsQuic names and descriptions.
var statusNames = map[Status]struct{ name, text string }{
	StatusSuccess:                 {"SUCCESS", "success"},
	StatusPending:                 {"PENDING", "pending"},
	StatusContinue:                {"CONTINUE", "continue"},
	StatusOutOfMemory:             {"OUT_OF_MEMORY", "out of memory"},
	StatusInvalidParameter:        {"INVALID_PARAMETER", "invalid parameter"},
	StatusInvalidState:            {"INVALID_STATE", "invalid state"},
	StatusNotSupported:            {"NOT_SUPPORTED", "not supported"},
	StatusNotFound:                {"NOT_FOUND", "not found"},
	StatusBufferTooSmall:          {"BUFFER_TOO_SMALL", "buffer too small"},
	StatusHandshakeFailure:        {"HANDSHAKE_FAILURE", "handshake failure"},
	StatusAborted:                 {"ABORTED", "aborted"},
	StatusAddressInUse:            {"ADDRESS_IN_USE", "address in use"},
	StatusInvalidAddress:          {"INVALID_ADDRESS", "invalid address"},
	StatusConnectionTimeout:       {"CONNECTION_TIMEOUT", "connection timed out"},
	StatusConnectionIdle:          {"CONNECTION_IDLE", "connection idle timeout"},
	StatusInternalError:           {"INTERNAL_ERROR", "internal error"},
	StatusConnectionRefused:       {"CONNECTION_REFUSED", "connection refused"},
	StatusProtocolError:           {"PROTOCOL_ERROR", "protocol error"},
	StatusVersionNegotiationError: {"VER_NEG_ERROR", "version negotiation error"},
	StatusUnreachable:             {"UNREACHABLE", "destination unreachable"},
	StatusTLSError:                {"TLS_ERROR", "TLS error"},
	StatusUserCanceled:            {"USER_CANCELED", "canceled by the peer application"},
	StatusALPNNegotiationFailure:  {"ALPN_NEG_FAILURE", "no common application protocol (ALPN)"},
	StatusStreamLimitReached:      {"STREAM_LIMIT_REACHED", "stream limit reached"},
	StatusALPNInUse:               {"ALPN_IN_USE", "ALPN already in use on this address"},
	StatusAddressNotAvailable:     {"ADDRESS_NOT_AVAILABLE", "address not available"},
	StatusCloseNotify:             {"CLOSE_NOTIFY", "TLS alert close_notify"},
	StatusBadCertificate:          {"BAD_CERTIFICATE", "TLS alert bad_certificate"},
	StatusUnsupportedCertificate:  {"UNSUPPORTED_CERTIFICATE", "TLS alert unsupported_certificate"},
	StatusRevokedCertificate:      {"REVOKED_CERTIFICATE", "TLS alert certificate_revoked"},
	StatusExpiredCertificate:      {"EXPIRED_CERTIFICATE", "TLS alert certificate_expired"},
	StatusUnknownCertificate:      {"UNKNOWN_CERTIFICATE", "TLS alert certificate_unknown"},
	StatusRequiredCertificate:     {"REQUIRED_CERTIFICATE", "TLS alert certificate_required"},
	StatusCertExpired:             {"CERT_EXPIRED", "certificate expired"},
	StatusCertUntrustedRoot:       {"CERT_UNTRUSTED_ROOT", "certificate chains to an untrusted root"},
	StatusCertNoCertificate:       {"CERT_NO_CERT", "no certificate"},
}

// OpError is the error returned by a failed API call: the operation (e.g.
// "Configuration.LoadCredential"), the MsQuic status, and an optional detail
// error. errors.Is matches both the Status and the detail, so
//
//	errors.Is(err, quic.ErrInvalidParameter)
//	errors.Is(err, fs.ErrNotExist)
//
// both work where they apply.
type OpError struct {
	Op     string
	Status Status
	Err    error
}

// Error formats the error as "quic: Op: status description: detail".
func (e *OpError) Error() string {
	s := "quic: " + e.Op + ": " + e.Status.text()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the Status and, if present, the detail error.
func (e *OpError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Status}
	}
	return []error{e.Status, e.Err}
}

// opError builds an *OpError with a formatted detail.
func opError(op string, s Status, format string, args ...any) *OpError {
	return &OpError{Op: op, Status: s, Err: fmt.Errorf(format, args...)}
}
