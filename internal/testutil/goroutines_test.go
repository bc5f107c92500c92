package testutil

import (
	"strings"
	"testing"
	"testing/synctest"
)

// A goroutine that appears outside the bubble while the test runs, as the
// runtime's cleanup goroutines do after a collection, changes the process's
// count but not the bubble's.
func TestBubbleGoroutinesCountsOnlyTheCallersBubble(t *testing.T) {
	spawn, spawned, outside := make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer close(outside)
	go func() { // of no bubble
		<-spawn
		go func() { <-outside }()
		close(spawned)
		<-outside
	}()
	synctest.Test(t, func(t *testing.T) {
		base, _, err := BubbleGoroutines()
		if err != nil {
			t.Fatal(err)
		}
		if base < 1 {
			t.Fatalf("%d goroutines in the bubble, the caller not among them", base)
		}
		release := make(chan struct{})
		released := false
		defer func() {
			if !released {
				close(release)
			}
		}()
		for range 3 {
			go func() { <-release }()
		}
		synctest.Wait()
		close(spawn)
		<-spawned
		n, stacks, err := BubbleGoroutines()
		if err != nil {
			t.Fatal(err)
		}
		if n != base+3 {
			t.Errorf("%d goroutines with three started, %d before:\n%s", n, base, stacks)
		}
		if !strings.Contains(stacks, "TestBubbleGoroutinesCountsOnlyTheCallersBubble") {
			t.Errorf("the tracebacks lack the test's goroutines:\n%s", stacks)
		}
		close(release)
		released = true
		synctest.Wait()
		if n, stacks, _ := BubbleGoroutines(); n != base {
			t.Errorf("%d goroutines after they exited, %d before:\n%s", n, base, stacks)
		}
	})
}

func TestBubbleGoroutinesFailsOutsideABubble(t *testing.T) {
	if _, _, err := BubbleGoroutines(); err == nil {
		t.Fatal("no error outside a bubble")
	}
}
