package protect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"encoding/binary"

	"golang.org/x/crypto/chacha20"
)

// sampleLen is the size of the ciphertext sample header protection takes
// (RFC 9001, Section 5.4.2).
const sampleLen = 16

// HeaderProtection masks the first byte and the packet number of a packet
// (RFC 9001, Section 5.4). It keeps a scratch block, so a value must not be
// used by two goroutines at once. Copies share the key.
type HeaderProtection struct {
	block  cipher.Block // AES-based header protection (Section 5.4.3)
	chacha [32]byte     // ChaCha20 key (Section 5.4.4), used when block is nil
	mask   [sampleLen]byte
}

// newHeaderProtection builds the header protection of suite from key, which
// has suiteKeyLen(suite) bytes.
func newHeaderProtection(suite uint16, key []byte) (HeaderProtection, error) {
	var h HeaderProtection
	switch suite {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384:
		b, err := aes.NewCipher(key)
		if err != nil {
			return HeaderProtection{}, err
		}
		h.block = b
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		copy(h.chacha[:], key)
	default:
		return HeaderProtection{}, ErrSuite
	}
	return h, nil
}

// makeMask computes the 5-byte mask from a 16-byte sample into h.mask.
func (h *HeaderProtection) makeMask(sample []byte) {
	if h.block != nil {
		// mask = AES-ECB(hp_key, sample) (RFC 9001, Section 5.4.3).
		h.block.Encrypt(h.mask[:], sample)
		return
	}
	// counter = sample[0..3] little-endian, nonce = sample[4..15],
	// mask = ChaCha20(hp_key, counter, nonce, {0,0,0,0,0})
	// (RFC 9001, Section 5.4.4).
	c, err := chacha20.NewUnauthenticatedCipher(h.chacha[:], sample[4:sampleLen])
	if err != nil {
		panic("quic: chacha20 header protection: " + err.Error())
	}
	c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
	h.mask = [sampleLen]byte{}
	c.XORKeyStream(h.mask[:5], h.mask[:5])
}

// firstByteMask returns the bits of the first byte that header protection
// covers: the low 4 bits of a long header, the low 5 bits of a short header
// (RFC 9001, Section 5.4.1).
func firstByteMask(b byte) byte {
	if b&0x80 != 0 {
		return 0x0f
	}
	return 0x1f
}

// Apply protects the header of a sealed packet in place (RFC 9001,
// Section 5.4.1). pnOffset is the offset of the packet number field, pnLen
// its length (1 to 4). The sample is pkt[pnOffset+4 : pnOffset+20]
// (Section 5.4.2); the caller guarantees the packet is long enough, which
// padding ensures (Section 5.4.2 requires senders to pad short packets).
func (h *HeaderProtection) Apply(pkt []byte, pnOffset, pnLen int) {
	h.makeMask(pkt[pnOffset+4 : pnOffset+4+sampleLen])
	pkt[0] ^= h.mask[0] & firstByteMask(pkt[0])
	for i := range pnLen {
		pkt[pnOffset+i] ^= h.mask[1+i]
	}
}

// Remove removes header protection in place and returns the packet number
// length read from the unmasked first byte (RFC 9001, Section 5.4.1). It
// returns ok=false, leaving pkt untouched, if pkt is too short to hold the
// sample at pkt[pnOffset+4 : pnOffset+20] or pnOffset is not positive.
func (h *HeaderProtection) Remove(pkt []byte, pnOffset int) (pnLen int, ok bool) {
	if pnOffset < 1 || pnOffset > len(pkt)-4-sampleLen {
		return 0, false
	}
	h.makeMask(pkt[pnOffset+4 : pnOffset+4+sampleLen])
	pkt[0] ^= h.mask[0] & firstByteMask(pkt[0])
	pnLen = int(pkt[0]&0x03) + 1
	for i := range pnLen {
		pkt[pnOffset+i] ^= h.mask[1+i]
	}
	return pnLen, true
}
