package interop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hquic/quic/internal/qlog/schema"
	"github.com/hquic/quic/interop/internal/lab"
)

// TestQlogOfLossyLabTransfer: hquic's interop endpoints, client and
// server, move 10 MB through the lab relay (the runner's network with 2%
// loss each way, bursts of up to 3) with QLOGDIR set, as the interop
// runner sets it. Each side writes one qlog file, named by the ODCID and
// its role, which passes the schema checker and tells of the losses. With
// HQUIC_QLOG_KEEP=DIR the files are copied to DIR.
func TestQlogOfLossyLabTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the endpoints and moves 10 MB over an impaired loopback link")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	hq, _, err := lab.BuildEndpoints(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := *lab.CaseByName("transferloss")
	c.Files = lab.FileSpec{Sizes: []int{10 << 20}}
	c.Timeout = 5 * time.Minute
	res := lab.Run(ctx, &c, lab.Pairing{Client: hq, Server: hq}, lab.Options{Dir: dir})
	if res.Status != lab.Passed {
		t.Fatalf("transfer %v: %s", res.Status, res.Detail)
	}
	t.Logf("10 MB with 2%% loss in %v", res.Duration.Round(time.Millisecond))
	for _, role := range []string{"client", "server"} {
		names, _ := filepath.Glob(filepath.Join(dir, "transferloss-*", role+"-qlog", "*.sqlog"))
		if len(names) != 1 {
			t.Fatalf("%s: qlog files %v, want one", role, names)
		}
		b, err := os.ReadFile(names[0])
		if err != nil {
			t.Fatal(err)
		}
		f, err := schema.Check(b)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(names[0]), err)
		}
		if want := f.GroupID + "_" + role + ".sqlog"; filepath.Base(names[0]) != want || f.VantagePoint != role {
			t.Errorf("file %s holds the %s trace of %s", filepath.Base(names[0]), f.VantagePoint, f.GroupID)
		}
		if f.Counts["quic:connection_closed"] != 1 || f.Counts["quic:packet_received"] == 0 {
			t.Errorf("%s: events %v", role, f.Counts)
		}
		if role == "server" && (f.Counts["quic:packet_lost"] == 0 || f.Counts["quic:congestion_state_updated"] == 0) {
			t.Errorf("the sender's trace shows no loss: %v", f.Counts)
		}
		if f.Counts["loglevel:warning"] != 0 {
			t.Errorf("%s: %d warnings (dropped trace events?)", role, f.Counts["loglevel:warning"])
		}
		t.Logf("%s: %d bytes, %d events, %v", role, len(b), len(f.Events), f.Counts)
		if role == "server" {
			t.Logf("excerpt:\n%s", lossExcerpt(f))
		}
		if keep := os.Getenv("HQUIC_QLOG_KEEP"); keep != "" {
			if err := os.MkdirAll(keep, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(keep, filepath.Base(names[0])), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// lossExcerpt returns the first packet_lost event of f and the events
// that follow it up to its first recovery_metrics_updated, one per line.
func lossExcerpt(f *schema.File) string {
	var b strings.Builder
	on := false
	for _, ev := range f.Events {
		if ev.Name == "quic:packet_lost" {
			on = true
		}
		if !on {
			continue
		}
		data, _ := json.Marshal(ev.Data)
		if len(data) > 300 {
			data = append(data[:300], "…"...)
		}
		b.WriteString(strings.Join([]string{ev.Name, string(data)}, " "))
		b.WriteByte('\n')
		if ev.Name == "quic:recovery_metrics_updated" {
			break
		}
	}
	return b.String()
}
