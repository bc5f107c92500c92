package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	qgo "github.com/quic-go/quic-go"
)

// The churn soak: an hquic echo server (a child process reporting its
// goroutines, open connections, half-open connections and live heap each
// second) under a steady churn of connections that open, echo a little and
// close; connections abandoned after their echo without a close (the
// server must idle them out); and abandoned half-open handshakes (real
// ClientHellos that never continue). Afterwards, once the idle timeouts
// have passed, the server must be back at its starting goroutines, zero
// connections and its starting live heap.

// soakOptions are the soak's flags.
type soakOptions struct {
	duration     time.Duration
	churn        float64 // connections opened, echoed and closed per second
	abandon      float64 // connections echoed then abandoned per second
	halfOpen     float64 // abandoned handshakes per second
	size         int
	workers      int
	settle       time.Duration // longest wait for the server to return to baseline
	heapSlack    int64
	goroutineTol int
	memprofile   string
}

func runSoak(args []string) error {
	var o soakOptions
	fs := flag.NewFlagSet("flood soak", flag.ExitOnError)
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "churn duration")
	fs.Float64Var(&o.churn, "churn", 50, "connections per second that open, echo and close")
	fs.Float64Var(&o.abandon, "abandon", 2, "connections per second that echo, then vanish without closing")
	fs.Float64Var(&o.halfOpen, "halfopen", 20, "handshakes per second abandoned after the ClientHello")
	fs.IntVar(&o.size, "size", 4096, "bytes each connection echoes")
	fs.IntVar(&o.workers, "workers", 16, "concurrent churning clients")
	fs.DurationVar(&o.settle, "settle", 90*time.Second, "longest wait after the churn for the server to return to its baseline")
	fs.Int64Var(&o.heapSlack, "heapslack", 1<<20, "live heap growth over the baseline still counted as back (bytes)")
	fs.IntVar(&o.goroutineTol, "goroutines", 0, "goroutines over the baseline still counted as back")
	fs.StringVar(&o.memprofile, "memprofile", "", "keep the server's heap profile here at the end, and at the baseline in FILE.baseline (compare with go tool pprof -base)")
	fs.Parse(args)
	fo := &options{impl: "hquic", alpn: "echo", gcStats: true, memprofile: o.memprofile}
	srv, err := startServer(fo)
	if err != nil {
		return err
	}
	defer srv.stop()
	return soak(&o, srv)
}

func soak(o *soakOptions, srv *server) error {
	fmt.Printf("soak: hquic server pid %d at %v; %v of %.0f churning connections/s, %.0f abandoned/s, %.0f abandoned handshakes/s (%d-byte echoes)\n",
		srv.pid, srv.addr, o.duration, o.churn, o.abandon, o.halfOpen, o.size)
	time.Sleep(3 * time.Second)
	base, ok := srv.lastStats(time.Now())
	if !ok {
		return errors.New("the server reports no statistics")
	}
	baseRSS, _ := sampleProc(srv.pid)
	if o.memprofile != "" {
		if b, err := os.ReadFile(o.memprofile); err == nil {
			os.WriteFile(o.memprofile+".baseline", b, 0o644)
		}
	}

	h, err := newHello("localhost", "echo", false)
	if err != nil {
		return err
	}
	f, err := newFlooder(srv.addr, 256, []hello{h})
	if err != nil {
		return err
	}
	defer f.close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var opened, failed, abandoned atomic.Uint64
	legit := &legitClients{server: srv.addr, alpn: "echo", size: o.size, timeout: 10 * time.Second}
	tick := func(rate float64, do func()) {
		defer wg.Done()
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		sem := make(chan struct{}, o.workers)
		for {
			select {
			case <-stop:
				for range o.workers {
					sem <- struct{}{}
				}
				return
			case <-t.C:
				select {
				case sem <- struct{}{}:
					go func() { do(); <-sem }()
				default: // all workers busy: skip this tick
				}
			}
		}
	}
	wg.Add(2)
	go tick(o.churn, func() {
		if legit.once().err != nil {
			failed.Add(1)
		} else {
			opened.Add(1)
		}
	})
	go tick(o.abandon, func() {
		if abandonAfterEcho(srv, o.size) == nil {
			abandoned.Add(1)
		} else {
			failed.Add(1)
		}
	})
	floodStop := make(chan struct{})
	go f.run(o.halfOpen, 1, floodStop)

	const rowFormat = "%12s %10v %10v %8v %14v %10v %11v %14v %8v\n"
	fmt.Printf(rowFormat, "t", "closed ok", "abandoned", "failed", "accepted open", "half-open", "goroutines", "live heap MiB", "RSS MiB")
	row := func(label string) {
		st, _ := srv.lastStats(time.Now())
		p, _ := sampleProc(srv.pid)
		fmt.Printf(rowFormat, label, opened.Load(), abandoned.Load(), failed.Load(), st.Conns, st.HalfOpen, st.Goroutines,
			fmt.Sprintf("%.2f", mib(int64(st.HeapLive))), fmt.Sprintf("%.1f", mib(p.rss)))
	}
	row("baseline")
	start := time.Now()
	for elapsed := time.Duration(0); elapsed < o.duration; elapsed = time.Since(start) {
		time.Sleep(min(time.Minute, o.duration-elapsed))
		row(time.Since(start).Round(time.Second).String())
	}
	close(floodStop)
	close(stop)
	wg.Wait()
	row("churn over")

	// Wait for the idle timeouts: every connection closed, no handshake
	// left, goroutines and heap back.
	deadline := time.Now().Add(o.settle)
	back := func(st serverStats) bool {
		return st.Conns == base.Conns && st.HalfOpen == 0 && st.Goroutines <= base.Goroutines+o.goroutineTol &&
			int64(st.HeapLive) <= int64(base.HeapLive)+o.heapSlack
	}
	var st serverStats
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		st, _ = srv.lastStats(time.Now())
		if back(st) {
			break
		}
	}
	row(fmt.Sprintf("+%v", o.settle-time.Until(deadline).Round(time.Second)))
	end, _ := sampleProc(srv.pid)
	fmt.Printf("baseline: %d goroutines, %d connections, %.2f MiB live heap, %.1f MiB RSS\n",
		base.Goroutines, base.Conns, mib(int64(base.HeapLive)), mib(baseRSS.rss))
	fmt.Printf("end:      %d goroutines, %d connections (%d half-open), %.2f MiB live heap, %.1f MiB RSS\n",
		st.Goroutines, st.Conns, st.HalfOpen, mib(int64(st.HeapLive)), mib(end.rss))
	fmt.Printf("load: %d connections opened, echoed and closed, %d abandoned, %d failed; %d abandoned handshakes sent\n",
		opened.Load(), abandoned.Load(), failed.Load(), f.sent.Load())
	if !back(st) {
		return fmt.Errorf("the server did not return to its baseline within %v", o.settle)
	}
	fmt.Println("soak passed: goroutines, connections and live heap back at the baseline")
	return nil
}

// abandonAfterEcho connects, echoes size bytes, then closes its socket
// without a CONNECTION_CLOSE, leaving the server to idle the connection
// out.
func abandonAfterEcho(srv *server, size int) error {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	tr := &qgo.Transport{Conn: uc}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tr.Dial(ctx, net.UDPAddrFromAddrPort(srv.addr),
		&tls.Config{ServerName: "localhost", NextProtos: []string{"echo"}, InsecureSkipVerify: true}, nil)
	if err != nil {
		return err
	}
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	s.SetDeadline(time.Now().Add(10 * time.Second))
	msg := make([]byte, size)
	if _, err := s.Write(msg); err != nil {
		return err
	}
	s.Close()
	buf := make([]byte, size)
	n := 0
	for n < size {
		m, err := s.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	if n != size {
		return fmt.Errorf("echo of %d bytes, got %d", size, n)
	}
	uc.Close() // the server hears nothing more, not even a close
	return nil
}
