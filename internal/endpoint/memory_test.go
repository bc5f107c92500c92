package endpoint

import "testing"

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"MemTotal:       24589732 kB\nMemFree:        23000000 kB\n", 24589732 << 10, true},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2 << 20, true},
		{"MemTotal:\n", 0, false},
		{"MemTotal: lots kB\n", 0, false},
		{"MemTotal: 99999999999999999999 kB\n", 0, false},
		{"", 0, false},
	} {
		got, ok := parseMemTotal(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseMemTotal(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if SystemMemory() == 0 {
		t.Error("SystemMemory() = 0")
	}
}
