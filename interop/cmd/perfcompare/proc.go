//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a running child process with its stdout lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		io.Copy(io.Discard, out)
	}()
	return p, nil
}

// line waits for the next output line starting with prefix.
func (p *proc) line(prefix string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before printing %q", filepath.Base(p.cmd.Path), prefix)
			}
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return l, nil
			}
		case <-deadline:
			return "", fmt.Errorf("%s did not print %q", filepath.Base(p.cmd.Path), prefix)
		}
	}
}

// output collects the lines the process prints until it exits.
func (p *proc) output() []string {
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	return out
}

// wait waits for the process and returns its CPU seconds (user + system).
func (p *proc) wait() (float64, error) {
	err := p.cmd.Wait()
	return cpuSeconds(p.cmd.ProcessState), err
}

// stop ends a server with SIGTERM and returns its CPU seconds.
func (p *proc) stop() float64 {
	p.cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for range p.lines {
		}
	}()
	cpu, _ := p.wait()
	return cpu
}

func cpuSeconds(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	sec := func(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime)
}

// fields parses a key=value line.
func fields(line string) map[string]float64 {
	m := map[string]float64{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = x
			}
		}
	}
	return m
}

func parseSize(s string) uint64 {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		fatal(errors.New("bad -size"))
	}
	return n * mult
}
