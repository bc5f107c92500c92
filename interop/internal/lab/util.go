package lab

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// lockedBuffer collects an endpoint's output lines.
type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	b.mu.Unlock()
}

func (b *lockedBuffer) last() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) == 0 {
		return "(no output)"
	}
	return b.lines[len(b.lines)-1]
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// file is a served file.
type file struct {
	name string
	size int
}

// writeFiles creates random files of the given sizes with random
// lower-case names of nameLen letters (10 unless the size list says
// otherwise), as the runner does.
func writeFiles(www string, spec FileSpec) ([]file, error) {
	nameLen := spec.NameLen
	if nameLen == 0 {
		nameLen = 10
	}
	var out []file
	for _, size := range spec.Sizes {
		name := randomName(nameLen)
		data := make([]byte, size)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(www, name), data, 0o644); err != nil {
			return nil, err
		}
		out = append(out, file{name: name, size: size})
	}
	return out, nil
}

func randomName(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

// checkFiles compares the downloads with the served files: every file
// present and identical, nothing else.
func (t *trial) checkFiles() error {
	entries, err := os.ReadDir(t.path("downloads"))
	if err != nil {
		return err
	}
	want := make(map[string]bool)
	for _, f := range t.files {
		want[f.name] = true
	}
	for _, e := range entries {
		if !want[e.Name()] {
			return fmt.Errorf("unexpected download %s", e.Name())
		}
	}
	for _, f := range t.files {
		got, err := os.ReadFile(t.path("downloads", f.name))
		if err != nil {
			return fmt.Errorf("missing download %s", f.name)
		}
		orig, err := os.ReadFile(t.path("www", f.name))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, orig) {
			return fmt.Errorf("%s: downloaded %d bytes that differ from the %d served", f.name, len(got), len(orig))
		}
	}
	return nil
}
