// Command quicperf measures hquic with the QUIC performance protocol
// (draft-banks-quic-performance), written only against package quic.
//
// Protocol (ALPN "perf"): on each client-initiated stream the client sends
// an 8-byte big-endian count of the bytes it wants back, then its upload,
// then FIN. The server reads to the FIN, then sends that many bytes and FIN:
// on the same stream when it is bidirectional, on a new unidirectional
// stream when the request came on a unidirectional one.
//
// Usage:
//
//	quicperf server -addr HOST:PORT [-cert F -key F] [-exec lowlat|maxtput]
//	                [-cc cubic|bbr|newreno]
//	quicperf client -addr HOST:PORT -mode throughput|rps|hps|idle [-upload N]
//	                [-download N] [-streams S] [-conns C] [-duration D]
//	                [-warmup W] [-uni] [-exec lowlat|maxtput] [-cc cubic|bbr|newreno]
//	                [-limit D]
//
// -exec picks the registration's execution profile on either side: lowlat
// (ProfileLowLatency, the default) writes datagrams from the worker that
// built them; maxtput (ProfileMaxThroughput) gives each socket a sender
// goroutine that writes while the worker builds the next batch.
//
// -cc picks the congestion controller of that side's connections
// (Settings.CongestionControlAlgorithm): cubic (the default), bbr (BBRv3)
// or newreno. It
// governs what that side sends: the server's for downloads, the client's
// for uploads.
//
// The server prints "listening addr=ADDR" once ready and, on SIGUSR1, one
// line
//
//	stats conns_open=N heap_inuse=B rss_kb=K goroutines=G cpu_user_s=X cpu_sys_s=Y
//
// It stops on SIGINT or SIGTERM.
//
// The client prints exactly one line of key=value pairs and exits with a
// non-zero status on any failure:
//
//   - throughput: one connection sends -upload bytes and asks for -download
//     bytes on each of -streams streams (default 1) and prints
//     throughput_mbps= (bytes moved in both directions over the time from
//     the first stream's start to the last stream's end) and elapsed_s=.
//     With -limit D a transfer not finished D after the dial stops there
//     and prints the response bytes that arrived: received_bytes= and
//     incomplete=1, throughput_mbps= counting those bytes only.
//   - rps: one connection keeps -streams requests (default 100) of -upload
//     bytes up and -download bytes down (defaults 512 and 4096) in flight
//     for -duration after -warmup and prints rps= p50_us= p99_us=.
//   - hps: -conns clients (default 16) each repeatedly connect, make one
//     empty request and close, for -duration after -warmup; prints hps=
//     failures=.
//   - idle: opens -conns connections (default 1000), prints idle_ready once
//     all are connected and holds them until SIGINT, SIGTERM or -duration.
//
// Sizes accept the suffixes K, M and G (powers of 1024). Both commands take
// -cpuprofile FILE; the server also -memprofile FILE, a heap profile written
// at each SIGUSR1.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/hquic/quic"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "client":
		os.Exit(runClient(os.Args[2:]))
	}
	usage()
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: quicperf server -addr HOST:PORT [-cert F -key F] [-exec lowlat|maxtput] [-cc cubic|bbr|newreno] [-limit D]")
	fmt.Fprintln(os.Stderr, "       quicperf client -addr HOST:PORT -mode throughput|rps|hps|idle [-upload N] [-download N] [-streams S] [-conns C] [-duration D] [-warmup W] [-uni] [-exec lowlat|maxtput] [-cc cubic|bbr|newreno] [-limit D]")
	os.Exit(2)
}

// execHelp documents the -exec flag of both sides.
const execHelp = "execution profile: lowlat (write datagrams from the worker that built them) or maxtput (plus a sender goroutine per socket, fed by a bounded queue)"

// parseProfile maps the -exec flag to an execution profile.
func parseProfile(s string) (quic.ExecutionProfile, error) {
	switch s {
	case "lowlat":
		return quic.ProfileLowLatency, nil
	case "maxtput":
		return quic.ProfileMaxThroughput, nil
	}
	return 0, fmt.Errorf("-exec: want lowlat or maxtput, got %q", s)
}

// ccHelp documents the -cc flag of both sides.
const ccHelp = "congestion controller of this side's connections: cubic, bbr or newreno"

// parseCC maps the -cc flag to a congestion control algorithm.
func parseCC(s string) (quic.CongestionControlAlgorithm, error) {
	switch s {
	case "cubic":
		return quic.CongestionControlCubic, nil
	case "bbr":
		return quic.CongestionControlBBR, nil
	case "newreno":
		return quic.CongestionControlNewReno, nil
	}
	return 0, fmt.Errorf("-cc: want cubic, bbr or newreno, got %q", s)
}

// open opens the library and a registration with the given profile.
func open(profile quic.ExecutionProfile) (*quic.Library, *quic.Registration, error) {
	lib, err := quic.Open()
	if err != nil {
		return nil, nil, err
	}
	reg, err := lib.NewRegistration(&quic.RegistrationConfig{AppName: "quicperf", ExecutionProfile: profile})
	if err != nil {
		lib.Close()
		return nil, nil, err
	}
	return lib, reg, nil
}

// startCPUProfile starts a CPU profile into path (nothing if empty) and
// returns the function that stops it.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeHeapProfile writes the heap profile to path (nothing if empty).
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.WriteHeapProfile(f)
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "quicperf:", err)
	return 1
}
