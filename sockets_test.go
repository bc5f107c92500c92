package quic

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hquic/quic/internal/endpoint"
	"github.com/hquic/quic/internal/mono"
	"github.com/hquic/quic/internal/qlog"
	"github.com/hquic/quic/internal/qlog/schema"
	"github.com/hquic/quic/internal/udp"
)

// socketEvents keeps the events of the library's sockets a Tracer gets
// (those with no connection).
type socketEvents struct {
	mu     sync.Mutex
	events []socketEventRec
}

type socketEventRec struct {
	name string
	data map[string]any
}

func (s *socketEvents) TraceEvent(ev *TraceEvent) {
	if ev.Connection != "" {
		return
	}
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		data = map[string]any{"invalid": string(ev.Data)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, socketEventRec{ev.Name, data})
}

func (s *socketEvents) get() []socketEventRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func TestSocketProblemsAreCountedAndTraced(t *testing.T) {
	l, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	var rec socketEvents
	if err := l.SetSettings(&Settings{Extensions: ExtensionSettings{Tracer: Some[Tracer](&rec)}}); err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddrPort("127.0.0.1:4433")
	l.socketOpened(local, udp.Capabilities{RecvBuffer: 425984, SendBuffer: 425984,
		Refused: udp.Refusals{RecvBuffer: true, SendBuffer: true, GSO: true, GRO: true, ECN: true}})
	l.socketOpened(local, udp.Capabilities{RecvBuffer: 8 << 20, SendBuffer: 8 << 20})
	for _, n := range []udp.Notice{udp.NoticeGSOFallback, udp.NoticeECNFallback, udp.NoticeICMPError, udp.NoticeTruncated} {
		l.socketNotice(local, n)
	}
	l.socketWriteError(local, errors.New("no route"))
	l.socketDrop(local, endpoint.DropQueueFull)
	if err := l.Close(); err != nil { // delivers every event
		t.Fatal(err)
	}

	want := SocketStatistics{Sockets: 2, RecvBufferRefused: 1, SendBufferRefused: 1,
		GSOUnavailable: 1, GROUnavailable: 1, ECNUnavailable: 1, GSOFallbacks: 1, ECNFallbacks: 1,
		ICMPErrors: 1, Truncated: 1, WriteErrors: 1, Dropped: DropStatistics{QueueFull: 1}}
	if got := l.SocketStatistics(); got != want {
		t.Errorf("SocketStatistics\n got %+v\nwant %+v", got, want)
	}
	var codes []SocketProblem
	var drops []string
	for _, ev := range rec.get() {
		switch ev.name {
		case "loglevel:warning":
			codes = append(codes, SocketProblem(ev.data["code"].(float64)))
			if msg, _ := ev.data["message"].(string); !bytes.Contains([]byte(msg), []byte(local.String())) {
				t.Errorf("warning %q does not name the socket", msg)
			}
		case "quic:packet_dropped":
			details, _ := ev.data["details"].(map[string]any)
			if details["local"] != local.String() {
				t.Errorf("drop of socket %v, want %v", details["local"], local)
			}
			drops = append(drops, details["reason"].(string)+"/"+ev.data["trigger"].(string))
		default:
			t.Errorf("unexpected event %s", ev.name)
		}
	}
	wantCodes := []SocketProblem{SocketRecvBufferRefused, SocketSendBufferRefused, SocketGSOUnavailable,
		SocketGROUnavailable, SocketECNUnavailable, SocketGSOFallback, SocketECNFallback, SocketICMPError, SocketWriteError}
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("warnings %v, want %v", codes, wantCodes)
	}
	if want := []string{"truncated/general", "queue_full/general"}; !slices.Equal(drops, want) {
		t.Errorf("drops %v, want %v", drops, want)
	}

	// After Close, problems are still counted, and no trace starts again.
	l.socketDrop(local, endpoint.DropQueueFull)
	if got := l.SocketStatistics().Dropped.QueueFull; got != 2 {
		t.Errorf("QueueFull %d after Close, want 2", got)
	}
	if l.sockets.trace.t != nil {
		t.Error("a socket trace started after Close")
	}
}

func TestSocketProblemsWithoutTracerAreOnlyCounted(t *testing.T) {
	l, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddrPort("[::1]:443")
	l.socketOpened(local, udp.Capabilities{Refused: udp.Refusals{GRO: true}})
	l.socketDrop(local, endpoint.DropMalformed)
	if s := l.SocketStatistics(); s.GROUnavailable != 1 || s.Dropped.Malformed != 1 || s.Sockets != 1 {
		t.Errorf("SocketStatistics %+v", s)
	}
	if l.sockets.trace.t != nil {
		t.Error("a socket trace without a Tracer")
	}
}

// The socket events are valid qlog: written as a trace's events, the file
// passes the schema checker.
func TestSocketEventsPassTheSchema(t *testing.T) {
	var f traceBuffer
	tr := qlog.New(qlog.Options{Out: &f, WallClock: time.Now()})
	local := netip.MustParseAddrPort("127.0.0.1:4433")
	now := mono.Now()
	for r := range endpoint.NumDropReasons {
		socketDropped(tr, now, local, dropReasons[r].name, dropReasons[r].trigger)
	}
	tr.Warn(now, uint64(SocketGSOFallback), "socket 127.0.0.1:4433: GSO turned off")
	tr.Close()
	<-tr.Done()
	file, err := schema.Check(f.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := file.Counts["quic:packet_dropped"]; n != int(endpoint.NumDropReasons) {
		t.Errorf("%d packet_dropped events, want %d", n, endpoint.NumDropReasons)
	}
	for r, d := range dropReasons {
		if d.name == "" || d.trigger == "" {
			t.Errorf("drop reason %v has no name or trigger", endpoint.DropReason(r))
		}
	}
}

// traceBuffer is an in-memory qlog file.
type traceBuffer struct{ bytes.Buffer }

func (*traceBuffer) Close() error { return nil }

// Datagrams a listener's socket drops reach the library's counters and its
// Tracer, with their reason.
func TestSocketDropsAreCountedAndTraced(t *testing.T) {
	simTest(t, func(t *testing.T) {
		e := newE2E(t, "echo", nil)
		var rec socketEvents
		if err := e.lib.SetSettings(&Settings{Extensions: ExtensionSettings{Tracer: Some[Tracer](&rec)}}); err != nil {
			t.Fatal(err)
		}
		e.listenEcho()
		peer, err := e.host.Listen("udp4", netip.MustParseAddrPort("127.0.0.2:0"))
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		malformed := []byte{0xc0, 0, 0, 0, 1, 30}
		small := append([]byte{0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, make([]byte, 100)...)
		for _, d := range [][]byte{malformed, small} {
			if _, err := peer.WriteToUDPAddrPort(d, e.addr); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		s := e.lib.SocketStatistics()
		if s.Dropped.Malformed != 1 || s.Dropped.TooSmall != 1 || s.Sockets != 1 {
			t.Errorf("SocketStatistics %+v, want one socket, one malformed and one too small datagram", s)
		}
		if ls := e.listener.Statistics(); ls.Dropped.Malformed != 1 || ls.Dropped.TooSmall != 1 {
			t.Errorf("listener drops %+v", ls.Dropped)
		}
		var got []string
		for _, ev := range rec.get() {
			if ev.name != "quic:packet_dropped" {
				continue
			}
			details, _ := ev.data["details"].(map[string]any)
			if details["local"] != e.addr.String() {
				t.Errorf("drop on %v, the listener is on %v", details["local"], e.addr)
			}
			got = append(got, details["reason"].(string)+"/"+ev.data["trigger"].(string))
		}
		if want := []string{"malformed/invalid", "too_small/invalid"}; !slices.Equal(got, want) {
			t.Errorf("the Tracer got drops %v, want %v", got, want)
		}
	})
}
