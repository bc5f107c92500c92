// Package wire encodes and decodes the QUIC wire format: variable-length
// integers (RFC 9000 §16), packet numbers (RFC 9000 §17.1, Appendix A),
// packet headers of versions 1 and 2 and the version-independent invariants
// (RFC 9000 §17, RFC 9369 §3.2, RFC 8999), Version Negotiation and Retry
// packet layouts, every frame of RFC 9000 §19 and RFC 9221, and transport
// parameters (RFC 9000 §18, RFC 9221, RFC 9287, RFC 9368).
//
// The package knows nothing of cryptography or connection state. Parsers
// follow one style: ConsumeX(b) takes the bytes of a frame, header or
// parameter block, returns the decoded fields with slices aliasing b, and
// reports the number of bytes consumed, or n < 0 when the input is
// truncated or malformed. They never allocate and never panic on hostile
// input. Encoders are AppendX(b, ...) []byte; SizeX predicts their length.
//
// The DebugFrame types are a readable model of frames for tests and logs;
// they allocate and are not meant for hot paths.
package wire
