package conn

import (
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/stream"
)

// SetStreamScheduling selects how streams of equal priority share the
// connection's sending (MsQuic's QUIC_PARAM_CONN_STREAM_SCHEDULING_SCHEME):
// round robin, the default, moves a stream behind the others of its
// priority after each packet it fills; FIFO serves each stream until it
// has nothing left to send. It may be called from any goroutine at any
// time, also before Start; the change applies from the next packet.
func (c *Conn) SetStreamScheduling(roundRobin bool) {
	scheme := stream.SchemeFIFO
	if roundRobin {
		scheme = stream.SchemeRoundRobin
	}
	c.enqueue(laneNormal, op{kind: opFunc, fn: func(c *Conn, _ mono.Time) { c.streams.set.SetScheme(scheme) }})
}
