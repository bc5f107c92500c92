// Package stream implements QUIC streams without the wire format: stream IDs
// (RFC 9000, Section 2.1), the sending and receiving state machines
// (Section 3), stream flow control (Section 4) and stream-count limits
// (Section 4.6), MsQuic's send model (application-owned buffers referenced
// until acknowledged, optional send buffering) and receive model (RECEIVE
// indications of contiguous data that the application consumes fully or in
// part), and send scheduling by priority.
//
// The connection owns everything here and drives it from its goroutine: it
// parses frames and calls the On* methods, asks for what to send while
// building a packet and encodes the frames itself, and reports acknowledgement
// and loss of what it sent. Nothing in this package reads the clock, locks,
// starts goroutines, or allocates per frame in steady state.
//
// Three types do the work:
//   - SendState: the sending part of one stream.
//   - RecvState: the receiving part of one stream, with its reassembly buffer.
//   - Set: the streams of a connection, ID allocation, stream limits in both
//     directions, and the send scheduler.
package stream
