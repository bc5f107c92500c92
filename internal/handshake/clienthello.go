package handshake

import (
	"encoding/binary"
	"errors"
)

// A server raises its NEW_CONNECTION event before TLS runs, so the
// application can choose a configuration (and so certificates and ALPN)
// from the client's server name and ALPN list, as MsQuic does with
// QUIC_NEW_CONNECTION_INFO. The ClientHello is therefore read here first.

// ClientHello is what the server learns from a client's first flight.
type ClientHello struct {
	ServerName string   // the SNI host name, empty if absent
	ALPNs      []string // the client's ALPN list in its preference order
	Raw        []byte   // the whole handshake message, header included
	// TransportParameters is the body of the quic_transport_parameters
	// extension (RFC 9001 §8.2), aliasing Raw; nil if absent.
	TransportParameters []byte
}

// errBadClientHello is returned for a malformed ClientHello; the caller
// closes the connection with a TLS decode_error alert.
var errBadClientHello = errors.New("quic: malformed TLS ClientHello")

// maxClientHello bounds how much Initial CRYPTO data a server buffers
// before the ClientHello is complete.
const maxClientHello = MaxCryptoBuffer

// ClientHelloLength reports the total size of the ClientHello message at the
// start of b once its 4-byte header has arrived. ok is false while the header
// is incomplete. An error means the data cannot be a ClientHello.
func ClientHelloLength(b []byte) (n int, ok bool, err error) {
	if len(b) < 4 {
		return 0, false, nil
	}
	if b[0] != 1 { // handshake type client_hello (RFC 8446 §4)
		return 0, false, errBadClientHello
	}
	n = 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
	if n > maxClientHello {
		return 0, false, errBadClientHello
	}
	return n, true, nil
}

// ParseClientHello extracts the server name and ALPN list from a complete
// ClientHello message (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301 §3.1).
func ParseClientHello(msg []byte) (ClientHello, error) {
	n, ok, err := ClientHelloLength(msg)
	if err != nil {
		return ClientHello{}, err
	}
	if !ok || len(msg) < n {
		return ClientHello{}, errBadClientHello
	}
	ch := ClientHello{Raw: msg[:n]}
	r := reader(msg[4:n])
	if !r.skip(2+32) || !r.skipVec8() || !r.skipVec16() || !r.skipVec8() {
		return ClientHello{}, errBadClientHello
	}
	if len(r) == 0 {
		return ch, nil // no extensions
	}
	exts, ok := r.vec16()
	if !ok || len(r) != 0 {
		return ClientHello{}, errBadClientHello
	}
	for len(exts) > 0 {
		typ, ok1 := exts.u16()
		body, ok2 := exts.vec16()
		if !ok1 || !ok2 {
			return ClientHello{}, errBadClientHello
		}
		switch typ {
		case 0: // server_name
			if ch.ServerName, ok = parseSNI(body); !ok {
				return ClientHello{}, errBadClientHello
			}
		case 16: // application_layer_protocol_negotiation
			if ch.ALPNs, ok = parseALPN(body); !ok {
				return ClientHello{}, errBadClientHello
			}
		case 57: // quic_transport_parameters
			ch.TransportParameters = body
		}
	}
	return ch, nil
}

func parseSNI(b reader) (string, bool) {
	list, ok := b.vec16()
	if !ok || len(b) != 0 {
		return "", false
	}
	for len(list) > 0 {
		nameType := list[0]
		list = list[1:]
		name, ok := list.vec16()
		if !ok {
			return "", false
		}
		if nameType == 0 {
			return string(name), true
		}
	}
	return "", true
}

func parseALPN(b reader) ([]string, bool) {
	list, ok := b.vec16()
	if !ok || len(b) != 0 || len(list) == 0 {
		return nil, false
	}
	var out []string
	for len(list) > 0 {
		p, ok := list.vec8()
		if !ok || len(p) == 0 {
			return nil, false
		}
		out = append(out, string(p))
	}
	return out, true
}

// reader consumes a TLS-encoded byte string.
type reader []byte

func (r *reader) skip(n int) bool {
	if len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

func (r *reader) u16() (uint16, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(*r)
	*r = (*r)[2:]
	return v, true
}

func (r *reader) vec8() (reader, bool) {
	if len(*r) < 1 {
		return nil, false
	}
	n := int((*r)[0])
	if len(*r) < 1+n {
		return nil, false
	}
	v := (*r)[1 : 1+n]
	*r = (*r)[1+n:]
	return v, true
}

func (r *reader) vec16() (reader, bool) {
	n, ok := r.u16()
	if !ok || len(*r) < int(n) {
		return nil, false
	}
	v := (*r)[:n]
	*r = (*r)[n:]
	return v, true
}

func (r *reader) skipVec8() bool  { _, ok := r.vec8(); return ok }
func (r *reader) skipVec16() bool { _, ok := r.vec16(); return ok }
