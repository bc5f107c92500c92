package token

import (
	"container/list"
	"sync"
)

// Cache is a client's store of NEW_TOKEN tokens, keyed by server name. It
// keeps at most perServer tokens for each of at most maxServers servers,
// evicting the least recently used server and, within a server, the oldest
// token. Each token is handed out once: a client SHOULD NOT reuse a token
// (RFC 9000, Section 8.1.3). It is safe for concurrent use.
type Cache struct {
	mu         sync.Mutex
	maxServers int
	perServer  int
	lru        list.List // of *cacheEntry, most recently used first
	servers    map[string]*list.Element
}

type cacheEntry struct {
	server string
	tokens [][]byte // oldest first
}

// NewCache returns a cache for maxServers servers with perServer tokens
// each. Values below 1 are treated as 1.
func NewCache(maxServers, perServer int) *Cache {
	return &Cache{
		maxServers: max(maxServers, 1),
		perServer:  max(perServer, 1),
		servers:    make(map[string]*list.Element),
	}
}

// Put stores a copy of token for serverName, received in a NEW_TOKEN frame
// from that server. An empty token is ignored (RFC 9000, Section 19.7
// forbids them).
func (c *Cache) Put(serverName string, token []byte) {
	if len(token) == 0 {
		return
	}
	t := append([]byte(nil), token...)
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.servers[serverName]
	if !ok {
		if c.lru.Len() >= c.maxServers {
			oldest := c.lru.Back()
			delete(c.servers, oldest.Value.(*cacheEntry).server)
			c.lru.Remove(oldest)
		}
		el = c.lru.PushFront(&cacheEntry{server: serverName})
		c.servers[serverName] = el
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	if len(e.tokens) >= c.perServer {
		e.tokens[0] = nil
		e.tokens = e.tokens[1:]
	}
	e.tokens = append(e.tokens, t)
}

// Get removes and returns the most recently stored token for serverName, or
// nil if there is none.
func (c *Cache) Get(serverName string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.servers[serverName]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	last := len(e.tokens) - 1
	t := e.tokens[last]
	e.tokens[last] = nil
	e.tokens = e.tokens[:last]
	if len(e.tokens) == 0 {
		delete(c.servers, serverName)
		c.lru.Remove(el)
	} else {
		c.lru.MoveToFront(el)
	}
	return t
}

// Len returns the number of tokens in the cache.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for el := c.lru.Front(); el != nil; el = el.Next() {
		n += len(el.Value.(*cacheEntry).tokens)
	}
	return n
}
