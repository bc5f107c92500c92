package conn

import (
	"testing"
	"time"

	"github.com/hquic/quic/internal/wire"
)

// Protocol violations by the peer, injected as authenticated 1-RTT packets
// (seal1RTT), must close the connection with the transport error code the
// RFC names, and the peer must see that code.

func TestPeerViolationsCloseWithTheRightTransportError(t *testing.T) {
	type frames = []wire.DebugFrame
	stream := func(id, off uint64, data string, fin bool) wire.DebugFrame {
		return wire.DebugStream{ID: id, Off: off, Data: []byte(data), Fin: fin}
	}
	cases := []struct {
		name     string
		toServer bool
		f        frames
		want     wire.ErrorCode
		settings func(s *Settings)
	}{
		// RFC 9000 §4.1: data beyond the stream's limit.
		{"stream data beyond MAX_STREAM_DATA", true, frames{stream(0, 64<<10, "x", false)}, wire.FlowControlError, nil},
		// RFC 9000 §4.1: data beyond the connection's limit.
		{"stream data beyond MAX_DATA", true, frames{
			stream(0, 60000, "x", false), stream(4, 60000, "x", false), stream(8, 60000, "x", false), stream(12, 60000, "x", false),
		}, wire.FlowControlError, func(s *Settings) { s.ConnFlowControlWindow = 100 << 10 }},
		// RFC 9000 §4.6: a stream beyond the advertised limit.
		{"stream beyond MAX_STREAMS", true, frames{stream(4*100, 0, "x", false)}, wire.StreamLimitError, nil},
		// RFC 9000 §4.5: data beyond the final size.
		{"data beyond the final size", true, frames{stream(0, 0, "abc", true), stream(0, 0, "abcdef", false)}, wire.FinalSizeError, nil},
		{"final size changed", true, frames{stream(0, 0, "abc", true), stream(0, 0, "ab", true)}, wire.FinalSizeError, nil},
		{"reset below the received data", true, frames{stream(0, 0, "abcdef", false), wire.DebugResetStream{ID: 0, Code: 1, FinalSize: 2}}, wire.FinalSizeError, nil},
		// RFC 9000 §19.8, §19.10, §19.5: frames for a part that does not exist.
		{"STREAM for a local stream not yet opened", false, frames{stream(0, 0, "x", false)}, wire.StreamStateError, nil},
		{"STREAM on our send-only stream", true, frames{stream(3, 0, "x", false)}, wire.StreamStateError, nil},
		{"MAX_STREAM_DATA on a receive-only stream", true, frames{stream(2, 0, "x", false), wire.DebugMaxStreamData{ID: 2, Max: 1 << 20}}, wire.StreamStateError, nil},
		{"STOP_SENDING on a receive-only stream", true, frames{stream(2, 0, "x", false), wire.DebugStopSending{ID: 2, Code: 1}}, wire.StreamStateError, nil},
		{"RESET_STREAM on our send-only stream", false, frames{wire.DebugResetStream{ID: 2, Code: 1}}, wire.StreamStateError, nil},
		// RFC 9000 §19.20, §19.7: server-only frames from a client.
		{"HANDSHAKE_DONE from the client", true, frames{wire.DebugHandshakeDone{}}, wire.ProtocolViolation, nil},
		{"NEW_TOKEN from the client", true, frames{wire.DebugNewToken{Token: []byte("t")}}, wire.ProtocolViolation, nil},
		// RFC 9000 §13.1: acknowledging a packet never sent.
		{"ACK of an unsent packet", false, frames{wire.DebugAck{Ranges: []wire.DebugAckRange{{Smallest: 0, Largest: 100000}}}}, wire.ProtocolViolation, nil},
		// RFC 9000 §12.4: unknown frame type.
		{"unknown frame type", true, nil, wire.FrameEncodingError, nil},
		// RFC 9000 §5.1.1: more IDs than active_connection_id_limit.
		{"NEW_CONNECTION_ID beyond the limit", false, frames{
			wire.DebugNewConnectionID{Seq: 20, CID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Token: [16]byte{1}},
		}, wire.ConnectionIDLimitError, nil},
		// RFC 9000 §19.16: retiring an ID never issued.
		{"RETIRE_CONNECTION_ID never issued", true, frames{wire.DebugRetireConnectionID{Seq: 100}}, wire.ProtocolViolation, nil},
		// RFC 9221 §3: DATAGRAM without having advertised support.
		{"DATAGRAM not negotiated", true, frames{wire.DebugDatagram{Data: []byte("d")}}, wire.ProtocolViolation, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t)
			if tc.settings != nil {
				tc.settings(&p.serverSettings)
			}
			p.handshake()
			to := p.client
			if tc.toServer {
				to = p.server
			}
			var payload []byte
			for _, f := range tc.f {
				payload = f.Append(payload)
			}
			if tc.f == nil {
				payload = []byte{0x1f}
			}
			to.c.QueueDatagram(Datagram{Data: seal1RTT(p, to.peer, payload), Peer: to.peer.addr})
			if !p.runUntil(10*time.Second, p.bothDone) {
				t.Fatalf("not closed: %s %v, %s %v", to.name, to.names(), to.peer.name, to.peer.names())
			}
			ev, _ := to.find("ShutdownByTransport")
			if ev.r.Remote || ev.r.App || ev.r.Code != uint64(tc.want) {
				t.Errorf("%s closed with %+v, want %v", to.name, ev.r, tc.want)
			}
			pev, _ := to.peer.find("ShutdownByTransport")
			if !pev.r.Remote || pev.r.Code != uint64(tc.want) {
				t.Errorf("%s saw %+v, want %v from the peer", to.peer.name, pev.r, tc.want)
			}
		})
	}
}
