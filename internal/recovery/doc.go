// Package recovery implements QUIC loss recovery, congestion control, pacing
// and the receive-side ACK policy.
//
// The sender side is one State per connection (per path later). It keeps a
// record of every sent packet per packet-number space, processes ACK frames
// (RTT estimation, RFC 9002 Section 5; loss detection by packet and time
// threshold, Section 6.1; the probe timeout, Section 6.2; persistent
// congestion, Section 7.6), validates ECN feedback (RFC 9000 Section 13.4),
// runs a congestion controller (NewReno as RFC 9002 Section 7, CUBIC as RFC
// 9438 with HyStart++ as RFC 9406, or BBRv3 as draft-ietf-ccwg-bbr over the
// draft's delivery rate samples) and a pacer (RFC 9002 Section 7.7; BBR
// sets its rate).
//
// The receive side is one AckTracker per packet-number space: it remembers
// which packet numbers arrived (in a bounded range set), detects duplicates
// and decides when an ACK frame must be sent (RFC 9000 Section 13.2).
//
// Nothing in this package reads the clock: every method that depends on time
// takes the current time as an argument. Nothing is safe for concurrent use;
// the connection that owns a State or AckTracker serialises all calls. Once a
// connection has reached its working set of packets in flight, sending and
// acknowledging packets does not allocate.
package recovery
