package token

import (
	"fmt"
	"testing"
)

func TestCacheSingleUseMostRecentFirst(t *testing.T) {
	c := NewCache(4, 3)
	c.Put("a", []byte("t1"))
	c.Put("a", []byte("t2"))
	if got := string(c.Get("a")); got != "t2" {
		t.Errorf("Get = %q, want t2", got)
	}
	if got := string(c.Get("a")); got != "t1" {
		t.Errorf("Get = %q, want t1", got)
	}
	if got := c.Get("a"); got != nil {
		t.Errorf("token reused: %q", got)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d", c.Len())
	}
}

func TestCacheCopiesToken(t *testing.T) {
	c := NewCache(1, 1)
	b := []byte("token")
	c.Put("a", b)
	b[0] = 'X'
	if got := string(c.Get("a")); got != "token" {
		t.Errorf("Get = %q", got)
	}
}

func TestCachePerServerLimitDropsOldest(t *testing.T) {
	c := NewCache(4, 2)
	for i := range 3 {
		c.Put("a", []byte{byte(i)})
	}
	if got := c.Get("a"); got[0] != 2 {
		t.Errorf("Get = %v, want [2]", got)
	}
	if got := c.Get("a"); got[0] != 1 {
		t.Errorf("Get = %v, want [1]", got)
	}
	if got := c.Get("a"); got != nil {
		t.Errorf("oldest token kept: %v", got)
	}
}

func TestCacheEvictsLeastRecentlyUsedServer(t *testing.T) {
	c := NewCache(2, 2)
	c.Put("a", []byte("a1"))
	c.Put("a", []byte("a2"))
	c.Put("b", []byte("b1"))
	c.Get("a")               // a is now the most recently used
	c.Put("c", []byte("c1")) // evicts b
	if got := c.Get("b"); got != nil {
		t.Errorf("b not evicted: %q", got)
	}
	if got := string(c.Get("a")); got != "a1" {
		t.Errorf("a = %q, want a1", got)
	}
	if got := string(c.Get("c")); got != "c1" {
		t.Errorf("c = %q, want c1", got)
	}
}

func TestCacheBounded(t *testing.T) {
	c := NewCache(3, 2)
	for i := range 100 {
		c.Put(fmt.Sprint("server", i%10), []byte{byte(i)})
	}
	if n := c.Len(); n > 6 {
		t.Errorf("Len = %d, want <= 6", n)
	}
	c.Put("x", nil)
	if c.Get("x") != nil {
		t.Error("empty token stored")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(8, 4)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				name := fmt.Sprint("s", (g+i)%12)
				c.Put(name, []byte{byte(i)})
				c.Get(name)
			}
		}()
	}
	for range 4 {
		<-done
	}
	if c.Len() > 32 {
		t.Errorf("Len = %d", c.Len())
	}
}
