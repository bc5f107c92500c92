package main

import (
	"fmt"
	"os"
	"sync"
	"text/tabwriter"
	"time"
)

// measure runs warm-up, flood and cool-down against srv and prints the
// report.
func measure(o *options, srv *server) error {
	hellos := make([]hello, o.hellos)
	for i := range hellos {
		h, err := newHello("localhost", o.alpn, o.mlkem)
		if err != nil {
			return err
		}
		hellos[i] = h
	}
	f, err := newFlooder(srv.addr, o.addrs, hellos)
	if err != nil {
		return err
	}
	defer f.close()
	if o.pool > 0 {
		f.fillPool(o.pool)
	}

	var (
		mu      sync.Mutex
		samples []procSample
	)
	sampleStop := make(chan struct{})
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if s, err := sampleProc(srv.pid); err == nil {
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
			select {
			case <-sampleStop:
				return
			case <-t.C:
			}
		}
	}()

	legit := &legitClients{server: srv.addr, alpn: o.alpn, size: o.size, timeout: o.timeout}
	legitStop := make(chan struct{})
	legitDone := make(chan struct{})
	start := time.Now()
	go func() { legit.run(o.legitRate, legitStop); close(legitDone) }()
	est := &established{}
	estStop := make(chan struct{})
	est.start(o.established, srv.addr, o.alpn, estStop)

	time.Sleep(o.warmup)
	base, err := sampleProc(srv.pid)
	if err != nil {
		return err
	}
	selfBase := selfCPU()
	dropsBase := udpDrops(srv.addr.Port())
	floodStart := time.Now()
	floodStop := make(chan struct{})
	floodDone := make(chan struct{})
	go func() { f.run(o.rate, o.senders, floodStop); close(floodDone) }()
	time.Sleep(o.duration)
	close(floodStop)
	<-floodDone
	floodEnd := time.Now()
	end, err := sampleProc(srv.pid)
	if err != nil {
		return err
	}
	selfUsed := selfCPU() - selfBase
	kernelDrops := udpDrops(srv.addr.Port()) - dropsBase
	time.Sleep(o.cooldown)
	close(legitStop)
	<-legitDone
	close(estStop)
	est.wg.Wait()
	after, _ := sampleProc(srv.pid)
	close(sampleStop)
	<-sampleDone

	r := report{
		o: o, srv: srv, start: start, floodStart: floodStart, floodEnd: floodEnd,
		base: base, end: end, after: after, samples: samples, attempts: legit.results(),
		sent: f.sent.Load(), sendErr: f.sendErr.Load(), selfCPU: selfUsed, kernelDrops: kernelDrops,
		retries: f.retries.Load(), initials: f.initials.Load(), vns: f.vns.Load(), others: f.others.Load(),
		est: est, pool: f.pool,
	}
	return r.print()
}

// report is the outcome of a run.
type report struct {
	o                              *options
	srv                            *server
	start, floodStart, floodEnd    time.Time
	base, end, after               procSample
	samples                        []procSample
	attempts                       []attempt
	sent, sendErr                  uint64
	retries, initials, vns, others uint64
	selfCPU                        time.Duration
	kernelDrops                    uint64
	est                            *established
	pool                           []pooled
}

// second summarises one second of the run.
type second struct {
	phase        string
	tried, ok    int
	slowest      time.Duration
	cpu          time.Duration
	rss          int64
	firstFailure error
}

func (r *report) seconds() []second {
	total := int(r.floodEnd.Sub(r.start).Seconds()+r.o.cooldown.Seconds()) + 1
	out := make([]second, total)
	for i := range out {
		at := r.start.Add(time.Duration(i) * time.Second)
		switch {
		case at.Before(r.floodStart.Add(-time.Second / 2)):
			out[i].phase = "warm-up"
		case at.Before(r.floodEnd.Add(-time.Second / 2)):
			out[i].phase = "flood"
		default:
			out[i].phase = "cool-down"
		}
	}
	for _, a := range r.attempts {
		i := int(a.start.Sub(r.start) / time.Second)
		if i < 0 || i >= len(out) {
			continue
		}
		out[i].tried++
		if a.err == nil {
			out[i].ok++
			out[i].slowest = max(out[i].slowest, a.elapsed)
		} else if out[i].firstFailure == nil {
			out[i].firstFailure = a.err
		}
	}
	for j := 1; j < len(r.samples); j++ {
		s := r.samples[j]
		i := int(s.at.Sub(r.start) / time.Second)
		if i < 0 || i >= len(out) {
			continue
		}
		out[i].cpu += s.cpu - r.samples[j-1].cpu
		out[i].rss = max(out[i].rss, s.rss)
	}
	return out
}

func (r *report) print() error {
	fmt.Printf("server %s (pid %d) at %v; flood %.0f Initials/s from %d addresses for %v; legitimate %.0f/s, %d-byte echo, %v timeout\n",
		r.o.impl, r.srv.pid, r.srv.addr, r.o.rate, r.o.addrs, r.o.duration, r.o.legitRate, r.o.size, r.o.timeout)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "s\tphase\tlegit ok\ttried\tslowest\tserver CPU\tRSS MiB\tRetries sent\tdropped\thalf-open\test. worst\t")
	secs := r.seconds()
	var prev serverStats
	minFlood := 1.0
	floodTried, floodOK := 0, 0
	for i, s := range secs {
		st, _ := r.srv.lastStats(r.start.Add(time.Duration(i+1) * time.Second))
		retries := st.Listener.RetriesSent - prev.Listener.RetriesSent
		dropped := st.Listener.BindingRecvDroppedPackets - prev.Listener.BindingRecvDroppedPackets
		prev = st
		from := r.start.Add(time.Duration(i) * time.Second)
		_, _, _, estWorst := r.est.summary(from, from.Add(time.Second))
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%v\t%.2f\t%.0f\t%d\t%d\t%d\t%v\t\n", i, s.phase, s.ok, s.tried,
			s.slowest.Round(time.Millisecond), s.cpu.Seconds(), float64(s.rss)/(1<<20), retries, dropped, st.HalfOpen,
			estWorst.Round(100*time.Microsecond))
		if s.phase == "flood" && s.tried > 0 {
			floodTried += s.tried
			floodOK += s.ok
			minFlood = min(minFlood, float64(s.ok)/float64(s.tried))
		}
	}
	w.Flush()
	for _, s := range secs {
		if s.firstFailure != nil {
			fmt.Printf("first failure in a %s second: %v\n", s.phase, s.firstFailure)
			break
		}
	}
	peak := r.base.rss
	for _, s := range r.samples {
		if s.at.After(r.floodStart) {
			peak = max(peak, s.rss)
		}
	}
	dur := r.floodEnd.Sub(r.floodStart)
	fmt.Printf("legitimate attempts during the flood: %d of %d succeeded; worst second %.1f%%\n",
		floodOK, floodTried, 100*minFlood)
	fmt.Printf("server CPU during the flood: %.2f cores (%.2fs in %.1fs)\n",
		(r.end.cpu-r.base.cpu).Seconds()/dur.Seconds(), (r.end.cpu - r.base.cpu).Seconds(), dur.Seconds())
	fmt.Printf("server RSS: baseline %.1f MiB, peak %.1f MiB (growth %.1f MiB), VmHWM %.1f MiB, after cool-down %.1f MiB\n",
		mib(r.base.rss), mib(peak), mib(peak-r.base.rss), mib(r.after.hwm), mib(r.after.rss))
	fmt.Printf("generator: %d Initials sent (%.0f/s, %d send errors), %.2f cores for flood and clients; replies: %d Retry, %d Initial, %d VN, %d other\n",
		r.sent, float64(r.sent)/dur.Seconds(), r.sendErr, r.selfCPU.Seconds()/dur.Seconds(), r.retries, r.initials, r.vns, r.others)
	if r.o.pool > 0 {
		fmt.Printf("generator pool: %d sealed datagrams (%d distinct DCIDs), each sent %.1f times on average\n",
			len(r.pool), r.o.pool, float64(r.sent)/float64(len(r.pool)))
	}
	for _, ph := range []struct {
		name     string
		from, to time.Time
	}{{"warm-up", r.start, r.floodStart}, {"flood", r.floodStart, r.floodEnd}} {
		if n, p50, p99, worst := r.est.summary(ph.from, ph.to); n > 0 {
			fmt.Printf("established connections, %s: %d echo round trips, median %v, p99 %v, worst %v\n",
				ph.name, n, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), worst.Round(10*time.Microsecond))
		}
	}
	r.est.mu.Lock()
	for _, err := range r.est.errs {
		fmt.Printf("established connection failed: %v\n", err)
	}
	r.est.mu.Unlock()
	fmt.Printf("kernel receive-buffer drops on the server's port during the flood: %d\n", r.kernelDrops)
	r.srv.mu.Lock()
	for _, m := range r.srv.dos {
		fmt.Printf("server DoS mode %v at %+.2fs from the flood's start\n", m.on, m.at.Sub(r.floodStart).Seconds())
	}
	r.srv.mu.Unlock()
	if st, ok := r.srv.lastStats(time.Now()); ok {
		fmt.Printf("server listener statistics: %+v\n", st.Listener)
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
