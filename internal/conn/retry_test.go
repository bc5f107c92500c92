package conn

import (
	"bytes"
	"testing"
	"time"

	"github.com/hquic/quic/internal/protect"
	"github.com/hquic/quic/internal/wire"
)

// retryPacket builds a Retry for a client Initial with odcid/clientSCID.
func retryPacket(version uint32, odcid, clientSCID, retrySCID, tok []byte) []byte {
	pkt := wire.AppendRetry(nil, version, 0, clientSCID, retrySCID, tok)
	tag := protect.RetryIntegrityTag(version, wire.AppendRetryPseudoPacket(nil, odcid, pkt))
	return append(pkt, tag[:]...)
}

// The client follows one Retry: it sends its Initial again to the Retry's
// Source Connection ID with the token, keeping its packet numbers, checks
// retry_source_connection_id, and completes; the application sees one
// CONNECTED (RFC 9000 §8.1.2, §17.2.5.2).
func TestRetryRoundTrip(t *testing.T) {
	p := newPair(t)
	h := firstClientInitial(t, p)
	odcid := bytes.Clone(h.DCID)
	retrySCID := []byte{9, 9, 9, 9, 9, 9, 9, 9}
	tok := []byte("retry-token")
	var sawToken bool
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client {
			if lh, ok := wire.ParseLongHeader(data); ok && lh.Type == wire.PacketInitial {
				sawToken = sawToken || bytes.Equal(lh.Token, tok) && bytes.Equal(lh.DCID, retrySCID)
			}
		}
		return false
	}
	p.serverRetryODCID = odcid
	retry := retryPacket(wire.Version1, odcid, h.SCID, retrySCID, tok)
	p.client.c.QueueDatagram(Datagram{Data: retry, Peer: serverAddr})
	// A second Retry must be ignored.
	p.client.c.QueueDatagram(Datagram{Data: retryPacket(wire.Version1, odcid, h.SCID, []byte{7, 7, 7, 7, 7, 7, 7, 7}, []byte("other")), Peer: serverAddr})
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("Connected") && p.server.has("Connected") }) {
		t.Fatalf("no handshake after Retry: client %v server %v", p.client.names(), p.server.names())
	}
	if !sawToken {
		t.Error("the client's Initial did not carry the Retry token to the Retry's connection ID")
	}
	if p.client.count("Connected") != 1 || !p.client.c.stats.StatelessRetry {
		t.Errorf("client events %v", p.client.names())
	}
}

// A Retry with a bad integrity tag is dropped (RFC 9001 §5.8).
func TestRetryWithBadTagIgnored(t *testing.T) {
	p := newPair(t)
	h := firstClientInitial(t, p)
	retry := retryPacket(wire.Version1, h.DCID, h.SCID, []byte{9, 9, 9, 9, 9, 9, 9, 9}, []byte("tok"))
	retry[len(retry)-1] ^= 1
	p.client.c.QueueDatagram(Datagram{Data: retry, Peer: serverAddr})
	p.step()
	if p.client.c.cids.retried {
		t.Fatal("the client followed a Retry with a bad integrity tag")
	}
}

// A server connection created after a Retry puts the token's original DCID
// and the Retry SCID in its transport parameters; a client that never got
// that Retry rejects them (RFC 9000 §7.3).
func TestRetrySourceCIDWithoutRetryRejected(t *testing.T) {
	p := newPair(t)
	p.serverRetryODCID = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	p.client.c.Start()
	p.runUntil(5*time.Second, func() bool { return p.client.has("ShutdownByTransport") })
	ev, ok := p.client.find("ShutdownByTransport")
	if !ok || ev.r.Code != uint64(wire.TransportParameterError) {
		t.Fatalf("client events %v (reason %+v), want TRANSPORT_PARAMETER_ERROR", p.client.names(), ev.r)
	}
}

// When the client's Initial after the Retry is lost, its retransmission
// still carries the token and the handshake completes.
func TestRetryWithLostInitialAfterRetry(t *testing.T) {
	p := newPair(t)
	h := firstClientInitial(t, p)
	retrySCID := []byte{9, 9, 9, 9, 9, 9, 9, 9}
	tok := []byte("retry-token")
	dropped := 0
	p.drop = func(from *endpoint, n int, data []byte) bool {
		if from == p.client && dropped < 2 {
			dropped++
			return true
		}
		return false
	}
	p.serverRetryODCID = bytes.Clone(h.DCID)
	p.client.c.QueueDatagram(Datagram{Data: retryPacket(wire.Version1, h.DCID, h.SCID, retrySCID, tok), Peer: serverAddr})
	if !p.runUntil(10*time.Second, func() bool { return p.client.has("Connected") && p.server.has("Connected") }) {
		t.Fatalf("no handshake: client %v server %v", p.client.names(), p.server.names())
	}
}
