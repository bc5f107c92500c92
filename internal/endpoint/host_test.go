package endpoint

import (
	"bytes"
	"testing"
)

// TestAttachCopiesIDs: a server's first route is the DCID of the client's
// Initial, which points into a receive buffer that is reused for later
// datagrams; the host must keep its own copy (a data race otherwise).
func TestAttachCopiesIDs(t *testing.T) {
	tb := newTestBinding(t, false)
	h := tb.b.NewHost()
	id := bytes.Clone(testDCID)
	h.Attach(nil, id)
	id[0] ^= 0xff
	if got := h.RoutedCIDs(); len(got) != 1 || !bytes.Equal(got[0], testDCID) {
		t.Fatalf("routed IDs %x, want [%x]", got, testDCID)
	}
}
