package flow

import "testing"

func TestSendCreditOnlyIncreases(t *testing.T) {
	var c SendCredit
	c.Init(100)
	if c.OnMaxData(50) || c.Limit() != 100 {
		t.Fatal("a lower MAX_DATA lowered the limit")
	}
	if c.OnMaxData(100) {
		t.Fatal("an equal MAX_DATA reported unblocking")
	}
	if c.OnMaxData(200) {
		t.Fatal("raising the limit of a sender that was never blocked reported unblocking")
	}
	if c.Limit() != 200 {
		t.Fatalf("Limit = %d", c.Limit())
	}
}

func TestSendCreditAvailable(t *testing.T) {
	var c SendCredit
	c.Init(100)
	for _, tc := range []struct{ used, want uint64 }{{0, 100}, {40, 60}, {100, 0}, {150, 0}} {
		if got := c.Available(tc.used); got != tc.want {
			t.Errorf("Available(%d) = %d, want %d", tc.used, got, tc.want)
		}
	}
}

func TestSendCreditBlockedReportedOncePerLimit(t *testing.T) {
	var c SendCredit
	c.Init(100)
	if _, report := c.Blocked(99); report {
		t.Fatal("reported blocked below the limit")
	}
	if lim, report := c.Blocked(100); !report || lim != 100 {
		t.Fatalf("Blocked = %d, %v; want 100, true", lim, report)
	}
	if _, report := c.Blocked(100); report {
		t.Fatal("blocked reported twice for one limit")
	}
	if !c.OnMaxData(300) {
		t.Fatal("raising the limit of a blocked sender did not report unblocking")
	}
	if _, report := c.Blocked(200); report {
		t.Fatal("reported blocked below the new limit")
	}
	if lim, report := c.Blocked(300); !report || lim != 300 {
		t.Fatalf("Blocked at new limit = %d, %v", lim, report)
	}
}

func TestSendCreditBlockedLost(t *testing.T) {
	var c SendCredit
	c.Init(100)
	c.Blocked(100)
	c.OnBlockedLost(50) // an older limit: ignored
	if _, report := c.Blocked(100); report {
		t.Fatal("loss of an old BLOCKED frame re-armed reporting")
	}
	c.OnBlockedLost(100)
	if lim, report := c.Blocked(100); !report || lim != 100 {
		t.Fatal("loss of the current BLOCKED frame did not re-arm reporting")
	}
	c.OnMaxData(200)
	c.OnBlockedLost(100) // no longer blocked at 100
	if _, report := c.Blocked(150); report {
		t.Fatal("reported blocked after being unblocked")
	}
}

func TestSendCreditDoesNotAllocate(t *testing.T) {
	var c SendCredit
	c.Init(0)
	v := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		c.Blocked(v)
		v += 10
		c.OnMaxData(v)
		c.Available(v - 5)
	})
	if allocs != 0 {
		t.Fatalf("SendCredit allocated %v times per run", allocs)
	}
}
