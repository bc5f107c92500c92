// Package netsim is an in-memory IP network for tests: hosts exchange UDP
// datagrams over links with latency, jitter, reordering, bandwidth and a
// bottleneck queue, random and bursty loss and duplication, an MTU, and NAT
// rebinding. Its sockets are net.PacketConns, so anything that speaks UDP
// through that interface can run over it; a Host also plugs straight into
// hquic (quic.Library.SetPacketNetwork), which then runs its listeners and
// connections over the simulated network with the public API unchanged.
//
// # Virtual time
//
// The network reads the clock with time.Now and waits with timers only, and
// its sockets block on channels, never on file descriptors. Inside a
// testing/synctest bubble time is therefore virtual: a 50 ms link delays a
// datagram by 50 ms of the bubble's clock, which advances as soon as every
// goroutine of the bubble is blocked. A test of a hundred connections over
// a lossy long-delay link takes as long as the CPU work it does, whatever
// the machine's speed or load, and a stalled protocol surfaces as a
// synctest deadlock or as a timeout of the bubble's clock rather than a
// hung test. Create the Network, and everything that uses it, inside one
// bubble. Outside a bubble the network works on the real clock.
//
// Each link draws its randomness from a generator of its own, seeded from
// Config.Seed and the link's addresses: with a fixed Seed, the nth datagram
// sent on a link meets the same fate in every run. Goroutines of a bubble
// still run in parallel and in no fixed order, so when the order or the
// number of datagrams on a link depends on scheduling, which datagram a
// random loss hits can still differ from run to run; tests should assert
// outcomes that hold for every order.
//
// # Model
//
// Each datagram sent from address A to address B takes the link A→B (set
// with SetLink, else the network's default link). The link drops it with
// probability Loss, independently or in bursts of LossBurst datagrams on
// average, and when it exceeds the MTU (as with the don't-fragment
// bit set), queues it behind the datagrams still being serialised at its
// Bandwidth (dropping it when the queue holds more than QueueBytes), then
// delivers it Latency plus a random Jitter later, possibly a second time
// (Duplicate), possibly held back by ReorderDelay so that later datagrams
// overtake it (Reorder). A datagram whose destination has no socket when
// it arrives is dropped, as is one that finds its socket's receive queue
// full.
//
// Sockets have the address they were bound to and, as seen from the
// network, an external address that is the same until Rebind gives the
// socket a new one, as a NAT does when its mapping times out: the peers
// then see datagrams from the new address, and datagrams to the old one
// are dropped.
//
// # What it does not model
//
// There is no ECN codepoint, no segmentation offload, no ICMP, and no
// packet information: a receiver learns the sender's address and nothing
// else. hquic degrades cleanly over it: it sends one datagram per write,
// and its ECN validation fails, so it stops marking (RFC 9000 §13.4.2).
//
// # Certificates
//
// A synctest bubble's clock starts at 2000-01-01 UTC, before most
// certificates' validity. A test can move the bubble's clock into it
// first, which costs nothing: time.Sleep(time.Until(t)) with t a date the
// certificates cover.
package netsim
