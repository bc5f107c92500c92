package endpoint

import (
	"sync"

	"github.com/hquic/quic/internal/conn"
	"github.com/hquic/quic/internal/wire"
)

// cidKey is a connection ID as a comparable map key, so lookups with a
// slice of the datagram do not allocate.
type cidKey struct {
	n uint8
	b [wire.MaxCIDLen]byte
}

func keyOf(cid []byte) cidKey {
	var k cidKey
	k.n = uint8(copy(k.b[:], cid))
	return k
}

const numShards = 16

type shard struct {
	mu sync.RWMutex
	m  map[cidKey]*conn.Conn
}

// lookup maps connection IDs and stateless-reset tokens to connections.
// It is sharded so readers and connections adding IDs rarely contend.
type lookup struct {
	shards [numShards]shard
	tokMu  sync.RWMutex
	tokens map[[16]byte]*conn.Conn
}

func (l *lookup) init() {
	for i := range l.shards {
		l.shards[i].m = make(map[cidKey]*conn.Conn)
	}
	l.tokens = make(map[[16]byte]*conn.Conn)
}

func (l *lookup) shardOf(cid []byte) *shard {
	var h byte
	for _, c := range cid {
		h = h*31 + c
	}
	return &l.shards[h%numShards]
}

func (l *lookup) get(cid []byte) *conn.Conn {
	s := l.shardOf(cid)
	k := keyOf(cid)
	s.mu.RLock()
	c := s.m[k]
	s.mu.RUnlock()
	return c
}

// add routes cid to c unless it already routes elsewhere; it reports
// whether the route is c's.
func (l *lookup) add(cid []byte, c *conn.Conn) bool {
	s := l.shardOf(cid)
	k := keyOf(cid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[k]; ok {
		return old == c
	}
	s.m[k] = c
	return true
}

// remove drops the route of cid if it belongs to c.
func (l *lookup) remove(cid []byte, c *conn.Conn) {
	s := l.shardOf(cid)
	k := keyOf(cid)
	s.mu.Lock()
	if s.m[k] == c {
		delete(s.m, k)
	}
	s.mu.Unlock()
}

func (l *lookup) addToken(t [16]byte, c *conn.Conn) {
	l.tokMu.Lock()
	l.tokens[t] = c
	l.tokMu.Unlock()
}

func (l *lookup) removeToken(t [16]byte, c *conn.Conn) {
	l.tokMu.Lock()
	if l.tokens[t] == c {
		delete(l.tokens, t)
	}
	l.tokMu.Unlock()
}

func (l *lookup) byToken(t [16]byte) *conn.Conn {
	l.tokMu.RLock()
	c := l.tokens[t]
	l.tokMu.RUnlock()
	return c
}

// parseDCID extracts the destination connection ID of a datagram's first
// packet.
func parseDCID(b []byte, shortLen int) ([]byte, bool) {
	return wire.ParseDCID(b, shortLen)
}
