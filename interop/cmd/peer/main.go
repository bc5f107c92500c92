// Command peer gives other QUIC stacks the interop runner's endpoint
// interface (ROLE, TESTCASE, REQUESTS, SSLKEYLOGFILE and the -www, -certs,
// -downloads and -listen flags of cmd/endpoint), as each stack's
// run_endpoint.sh does in the runner's images, so that the lab can pair
// them with hquic:
//
//	peer msquic [runner flags]   # MsQuic's quicinteropserver / quicinterop
//	peer quiche [runner flags]   # Cloudflare quiche via @matrixai/quic (node)
//	peer msquic -installed       # exit 0 if installed, else 127 saying what is missing
//
// The stacks are found under the peers directory ($HQUIC_PEERS, default
// _peers at the repository root; see runner.PeersDir): MsQuic's binaries
// in msquic/build/bin/Release, the npm install of @matrixai/quic in
// quiche. Exit codes are the runner's: 0, 1, and 127 for a test case the
// stack does not support; a stack that is not installed also exits 127,
// saying so ("peer not installed"), which the lab reports as skipped.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/hquic/quic/interop/internal/runner"
)

// NotInstalled starts the message of a peer that is absent; the lab looks
// for it.
const NotInstalled = "peer not installed"

// stack is one peer's adapter.
type stack struct {
	// installed returns "" if the stack can run, or what is missing.
	installed func(peers string) string
	// unsupported returns why the stack cannot run env's test case, or "".
	unsupported func(env *runner.Env) string
	serve       func(peers string, env *runner.Env) error
	client      func(peers string, env *runner.Env) error
}

var stacks = map[string]stack{
	"msquic": {installed: msquicInstalled, unsupported: msquicUnsupported, serve: msquicServe, client: msquicClient},
	"quiche": {installed: quicheInstalled, unsupported: quicheUnsupported, serve: quicheServe, client: quicheClient},
}

func main() {
	if len(os.Args) < 2 || stacks[os.Args[1]].serve == nil {
		fmt.Fprintln(os.Stderr, "usage: peer msquic|quiche [runner flags]")
		os.Exit(runner.ExitFailure)
	}
	name := os.Args[1]
	st := stacks[name]
	peers := runner.PeersDir()
	if len(os.Args) == 3 && os.Args[2] == "-installed" {
		// The lab asks before pairing: exit 0 if installed, else say
		// what is missing.
		if missing := st.installed(peers); missing != "" {
			fmt.Println(missing)
			os.Exit(runner.ExitUnsupported)
		}
		return
	}
	os.Args = append(os.Args[:1], os.Args[2:]...)
	runner.Main(runner.Endpoint{
		Name: "peer " + name,
		Unsupported: func(env *runner.Env) string {
			if missing := st.installed(peers); missing != "" {
				return NotInstalled + ": " + missing
			}
			return st.unsupported(env)
		},
		Serve:  func(env *runner.Env) error { return st.serve(peers, env) },
		Client: func(env *runner.Env) error { return st.client(peers, env) },
	})
}

// run runs cmd until it exits, forwarding SIGINT and SIGTERM to it. Its
// output goes to ours; when ready is set, "listening on ADDR" is printed
// once a line of its output contains ready.
func run(cmd *exec.Cmd, ready, addr string) error {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	var stopped atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sig:
			stopped.Store(true)
			cmd.Process.Signal(s)
		case <-done:
		}
	}()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signaled := ready == ""
	for sc.Scan() {
		line := sc.Text()
		fmt.Println(line)
		if !signaled && strings.Contains(line, ready) {
			signaled = true
			fmt.Printf("listening on %s\n", addr)
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if stopped.Load() {
		return nil // stopped on request: a server's normal end
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%s exited with %d", cmd.Path, ee.ExitCode())
	}
	return err
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
