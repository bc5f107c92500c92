package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	mrand "math/rand/v2"
)

// This file builds the flood's client Initial packets independently of the
// library: a real TLS 1.3 ClientHello from crypto/tls's QUIC API in a
// CRYPTO frame, padded to 1200 bytes and protected with the Initial keys of
// a fresh random Destination Connection ID (RFC 9001 §5.2, §5.4).

// initialSaltV1 is QUIC v1's Initial salt (RFC 9001 §5.2).
var initialSaltV1 = []byte{
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
}

const (
	quicV1        = 0x00000001
	initialSize   = 1200 // RFC 9000 §14.1: a client pads its Initial datagrams to 1200 bytes
	pnLen         = 4
	aeadOverhead  = 16
	floodDCIDLen  = 8
	floodSCIDLen  = 8
	maxHelloBytes = initialSize - 100 // room for the header, CRYPTO frame header and tag
)

// sealer builds flood Initials for one sender goroutine. It keeps an
// HMAC-SHA256 keyed with the Initial salt, so that HKDF-Extract costs two
// SHA-256 blocks and no allocation per DCID: key derivation through
// crypto/hkdf took three quarters of the generator's time per Initial.
type sealer struct {
	salted hash.Hash // HMAC-SHA256 keyed with initialSaltV1
	rng    *mrand.ChaCha8
	pkts   [][]byte
	// Scratch for the secrets and keys of the Initial being sealed.
	initial, client, key, iv, hp [sha256.Size]byte
}

func newSealer() *sealer {
	var seed [32]byte
	rand.Read(seed[:])
	return &sealer{salted: hmac.New(sha256.New, initialSaltV1), rng: mrand.NewChaCha8(seed)}
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1)
// for n ≤ 32 bytes: the first HKDF-Expand block, HMAC(secret, info || 1),
// with m an HMAC keyed with the secret; the result goes to out.
func expandLabel(m hash.Hash, label string, n int, out *[sha256.Size]byte) []byte {
	const prefix = "tls13 "
	m.Reset()
	m.Write([]byte{byte(n >> 8), byte(n), byte(len(prefix) + len(label))})
	io.WriteString(m, prefix)
	io.WriteString(m, label)
	m.Write([]byte{0, 1}) // empty context, then the block counter
	return m.Sum(out[:0])[:n]
}

// keys derives the client's Initial key, IV and header protection key for
// dcid (RFC 9001 §5.2), valid until the next call.
func (s *sealer) keys(dcid []byte) (key, iv, hp []byte) {
	s.salted.Reset()
	s.salted.Write(dcid)
	initial := s.salted.Sum(s.initial[:0])
	client := expandLabel(hmac.New(sha256.New, initial), "client in", 32, &s.client)
	m := hmac.New(sha256.New, client)
	return expandLabel(m, "quic key", 16, &s.key), expandLabel(m, "quic iv", 12, &s.iv), expandLabel(m, "quic hp", 16, &s.hp)
}

// hello is one pre-generated ClientHello and the Source Connection ID its
// transport parameters name (initial_source_connection_id must match the
// packet's, RFC 9000 §7.3).
type hello struct {
	scid []byte
	msg  []byte
}

// newHello runs crypto/tls's QUIC client far enough to produce its
// ClientHello. With mlkem unset the client offers only X25519, so the
// ClientHello fits one Initial packet; with it, crypto/tls's default key
// shares (X25519MLKEM768 too) make it span two.
func newHello(serverName, alpn string, mlkem bool) (hello, error) {
	scid := make([]byte, floodSCIDLen)
	rand.Read(scid)
	cfg := &tls.Config{ServerName: serverName, NextProtos: []string{alpn}, MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	if !mlkem {
		cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: cfg})
	defer q.Close()
	q.SetTransportParameters(transportParams(scid))
	if err := q.Start(context.Background()); err != nil {
		return hello{}, err
	}
	var msg []byte
	for {
		ev := q.NextEvent()
		if ev.Kind == tls.QUICNoEvent {
			break
		}
		if ev.Kind == tls.QUICWriteData && ev.Level == tls.QUICEncryptionLevelInitial {
			msg = append(msg, ev.Data...)
		}
	}
	if len(msg) == 0 {
		return hello{}, errors.New("crypto/tls produced no ClientHello")
	}
	if len(msg) > 2*maxHelloBytes {
		return hello{}, fmt.Errorf("ClientHello of %d bytes does not fit two Initial packets", len(msg))
	}
	return hello{scid: scid, msg: msg}, nil
}

// transportParams encodes the client's transport parameters (RFC 9000
// §18.2): typical limits and initial_source_connection_id.
func transportParams(scid []byte) []byte {
	var b []byte
	param := func(id uint64, v []byte) {
		b = appendVarint(b, id)
		b = appendVarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	num := func(id, v uint64) { param(id, appendVarint(nil, v)) }
	num(0x01, 30000)  // max_idle_timeout
	num(0x04, 1<<20)  // initial_max_data
	num(0x05, 1<<18)  // initial_max_stream_data_bidi_local
	num(0x06, 1<<18)  // initial_max_stream_data_bidi_remote
	num(0x07, 1<<18)  // initial_max_stream_data_uni
	num(0x08, 100)    // initial_max_streams_bidi
	num(0x09, 100)    // initial_max_streams_uni
	param(0x0f, scid) // initial_source_connection_id
	return b
}

// appendVarint appends v as a QUIC variable-length integer (RFC 9000 §16).
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return binary.BigEndian.AppendUint16(b, uint16(v)|0x4000)
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, uint32(v)|0x8000_0000)
	}
	return binary.BigEndian.AppendUint64(b, v|0xc000_0000_0000_0000)
}

// datagrams returns how many Initial datagrams h's ClientHello takes.
func (h *hello) datagrams() int { return (len(h.msg) + maxHelloBytes - 1) / maxHelloBytes }

// seal fills bufs[:h.datagrams()] with the 1200-byte client Initial
// datagrams carrying h's ClientHello to a new random DCID, packet numbers
// 0 and up, and returns them (valid until the next call) and the DCID.
func (s *sealer) seal(bufs [][]byte, h *hello) (pkts [][]byte, dcid []byte) {
	dcid = make([]byte, floodDCIDLen)
	s.rng.Read(dcid)
	key, iv, hpKey := s.keys(dcid)
	s.pkts = s.pkts[:0]
	for i := range h.datagrams() {
		off := i * maxHelloBytes
		chunk := h.msg[off:min(off+maxHelloBytes, len(h.msg))]
		s.pkts = append(s.pkts, sealInitial(bufs[i], h.scid, dcid, key, iv, hpKey, uint32(i), uint64(off), chunk))
	}
	return s.pkts, dcid
}

// sealInitial appends to buf one 1200-byte Initial datagram with packet
// number pn carrying chunk at CRYPTO offset off.
func sealInitial(buf, scid, dcid, key, iv, hpKey []byte, pn uint32, off uint64, chunk []byte) []byte {
	b := buf[:0]
	b = append(b, 0xc0|byte(pnLen-1)) // long header, fixed bit, Initial, 4-byte packet number
	b = binary.BigEndian.AppendUint32(b, quicV1)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	b = append(b, 0) // no token
	// The Length field takes two bytes: what follows it fills the datagram.
	length := initialSize - len(b) - 2
	b = binary.BigEndian.AppendUint16(b, uint16(length)|0x4000)
	pnOff := len(b)
	b = binary.BigEndian.AppendUint32(b, pn)
	hdrLen := len(b)

	payload := append(b[hdrLen:], 0x06) // CRYPTO frame
	payload = appendVarint(payload, off)
	payload = appendVarint(payload, uint64(len(chunk)))
	payload = append(payload, chunk...)
	for len(payload) < length-pnLen-aeadOverhead {
		payload = append(payload, 0) // PADDING frames
	}

	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		panic(err)
	}
	// The nonce is the IV XORed with the packet number (RFC 9001 §5.3).
	nonce := append([]byte(nil), iv...)
	for i := range 4 {
		nonce[len(nonce)-1-i] ^= byte(pn >> (8 * i))
	}
	pkt := aead.Seal(b[:hdrLen], nonce, payload, b[:hdrLen])

	// Header protection samples 16 bytes starting 4 bytes after the start
	// of the packet number (RFC 9001 §5.4.2).
	hp, err := aes.NewCipher(hpKey)
	if err != nil {
		panic(err)
	}
	var mask [16]byte
	hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	for i := range pnLen {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt
}
