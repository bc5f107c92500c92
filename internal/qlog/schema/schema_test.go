package schema

import (
	"strings"
	"testing"
)

const hdr = "\x1e{\"file_schema\":\"urn:ietf:params:qlog:file:sequential\",\"serialization_format\":\"application/qlog+json-seq\"," +
	"\"trace\":{\"event_schemas\":[\"urn:ietf:params:qlog:events:quic-12\"],\"vantage_point\":{\"type\":\"client\"}}}\n"

func file(events ...string) []byte {
	var b strings.Builder
	b.WriteString(hdr)
	for _, e := range events {
		b.WriteString("\x1e" + e + "\n")
	}
	return []byte(b.String())
}

func TestCheckAcceptsAValidFile(t *testing.T) {
	f, err := Check(file(
		`{"time":0,"name":"quic:packet_sent","data":{"header":{"packet_type":"1RTT","packet_number":3,"key_phase":1,"dcid":"0a0b"},`+
			`"frames":[{"frame_type":"stream","stream_id":0,"offset":0,"raw":{"length":10}},{"frame_type":"ack","acked_ranges":[[1,2],[4]]}],"raw":{"length":40}}}`,
		`{"time":1.5,"name":"quic:packet_lost","data":{"header":{"packet_type":"1RTT","packet_number":3},"frames":[{"frame_type":"reset_stream","stream_id":4}],"trigger":"time_threshold"}}`,
		`{"time":2,"name":"quic:connection_closed","data":{"initiator":"remote","connection_error":"crypto_error_0x12a","trigger":"error"}}`,
	))
	if err != nil {
		t.Fatal(err)
	}
	if f.VantagePoint != "client" || len(f.Events) != 3 || f.Counts["quic:packet_sent"] != 1 {
		t.Errorf("got %+v", f)
	}
}

func TestCheckRejects(t *testing.T) {
	for name, ev := range map[string]string{
		"unknown event":       `{"time":0,"name":"quic:nonsense","data":{}}`,
		"missing data":        `{"time":0,"name":"quic:mtu_updated"}`,
		"missing required":    `{"time":0,"name":"quic:mtu_updated","data":{"old":1200}}`,
		"wrong type":          `{"time":0,"name":"quic:mtu_updated","data":{"new":"1200"}}`,
		"negative integer":    `{"time":0,"name":"quic:mtu_updated","data":{"new":-1}}`,
		"fraction":            `{"time":0,"name":"quic:mtu_updated","data":{"new":1.5}}`,
		"undefined field":     `{"time":0,"name":"quic:mtu_updated","data":{"new":1200,"newest":1}}`,
		"bad enum":            `{"time":0,"name":"quic:timer_updated","data":{"event_type":"fired"}}`,
		"uppercase hex":       `{"time":0,"name":"quic:key_updated","data":{"key_type":"client_1rtt_secret","new":"ABCD"}}`,
		"odd hex":             `{"time":0,"name":"quic:key_updated","data":{"key_type":"client_1rtt_secret","new":"abc"}}`,
		"unknown frame":       `{"time":0,"name":"quic:packet_received","data":{"header":{"packet_type":"1RTT"},"frames":[{"frame_type":"jumbo"}]}}`,
		"frame lacks a field": `{"time":0,"name":"quic:packet_received","data":{"header":{"packet_type":"1RTT"},"frames":[{"frame_type":"crypto","offset":0}]}}`,
		"backward ack range":  `{"time":0,"name":"quic:packet_received","data":{"header":{"packet_type":"1RTT"},"frames":[{"frame_type":"ack","acked_ranges":[[5,2]]}]}}`,
		"bad transport error": `{"time":0,"name":"quic:connection_closed","data":{"connection_error":"oops"}}`,
		"empty metrics":       `{"time":0,"name":"quic:recovery_metrics_updated","data":{}}`,
		"no header":           `{"time":0,"name":"quic:packet_sent","data":{"frames":[]}}`,
	} {
		if _, err := Check(file(ev)); err == nil {
			t.Errorf("%s: accepted %s", name, ev)
		}
	}
	if _, err := Check(file(`{"time":2,"name":"loglevel:warning","data":{}}`, `{"time":1,"name":"loglevel:warning","data":{}}`)); err == nil {
		t.Error("accepted a time going back")
	}
	if _, err := Check([]byte(strings.TrimPrefix(hdr, "\x1e"))); err == nil {
		t.Error("accepted a file without a record separator")
	}
	if _, err := Check([]byte("\x1e{\"file_schema\":\"x\"}\n")); err == nil {
		t.Error("accepted a header without its required fields")
	}
}
