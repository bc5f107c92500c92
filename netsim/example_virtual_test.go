package netsim_test

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestExampleInVirtualTime runs the package example inside a synctest
// bubble: a hundred connections over a lossy 50 ms link take the bubble's
// clock at least the handshake's two round trips and nothing of the
// machine's.
func TestExampleInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		n, err := echoOverLossyLink(100)
		if err != nil || n != 100 {
			t.Fatalf("%d clients got their echo (%v)", n, err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("finished after %v of virtual time, less than two round trips", d)
		}
		t.Logf("%v of virtual time", time.Since(start))
	})
}
