//go:build linux

// Command bench is the harness behind `make bench` (issue 6): provisioning
// against an ip/sysctl script, netns-proxy against HAProxy, socat and the
// direct path, all in throwaway namespaces. It writes BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] { // helpers re-run inside namespaces
		case "httpd":
			httpd(os.Args[2:])
			return
		case "sink":
			sink(os.Args[2:])
			return
		case "hold":
			hold(os.Args[2:])
			return
		}
	}
	quick := flag.Bool("quick", false, "reduced set for development (under 2 minutes)")
	root := flag.String("root", ".", "repository root (bin/ and BENCHMARKS.md)")
	out := flag.String("out", "", "report file (default ROOT/BENCHMARKS.md)")
	only := flag.String("only", "provision,proxy", "sections to run")
	flag.IntVar(&idleOverride, "idle-conns", 0, "idle connections for the memory test (default 10000, quick 1000)")
	flag.BoolVar(&scriptAll, "script-1000", false, "also run the ip script at N=1000 (adds ~10 minutes)")
	tmpdir := flag.String("tmp", "", "directory for scratch files (default: the system's)")
	flag.StringVar(&floorBin, "floor", "", "the floor program (default: floor next to this executable)")
	flag.StringVar(&noopBin, "noop", "", "the do-nothing Go program (default: noop next to this executable)")
	flag.StringVar(&compareRoot, "compare", "", "provisioning: also time DIR/bin's start and stop in the same rounds (A/B of a change)")
	flag.BoolVar(&onceOnly, "once-only", false, "provisioning: only the one start/stop and reconcile rows (development)")
	flag.IntVar(&repsOverride, "reps", 0, "provisioning: rounds of one start/stop (default 7, quick 5)")
	flag.Parse()
	os.Exit(run(*quick, *root, *out, *only, *tmpdir))
}

var (
	idleOverride      int
	scriptAll         bool
	floorBin, noopBin string
	onceOnly          bool
	compareRoot       string
	repsOverride      int
)

func run(quick bool, root, out, only, tmpdir string) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root (it creates network namespaces)")
		return 1
	}
	root, _ = filepath.Abs(root)
	if out == "" {
		out = filepath.Join(root, "BENCHMARKS.md")
	}
	self, _ := os.Executable()
	tmp, err := os.MkdirTemp(tmpdir, "netns-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := &env{ctx: ctx, root: root, tmp: tmp, quick: quick, self: self, only: only,
		prefix: fmt.Sprintf("nb-%d-", os.Getpid()), procs: map[*exec.Cmd]bool{},
		floor: floorBin, noop: noopBin}
	if e.floor == "" {
		e.floor = filepath.Join(filepath.Dir(self), "floor")
	}
	if e.noop == "" {
		e.noop = filepath.Join(filepath.Dir(self), "noop")
	}
	defer e.cleanup()

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		logf("%v: stopping and cleaning up", s)
		cancel()
		select { // the main path cleans up; force it if that stalls
		case <-sig:
		case <-time.After(20 * time.Second):
		}
		e.cleanup()
		os.Exit(130)
	}()
	e.nofile = raiseNofile()

	start := time.Now()
	rep := &report{quick: quick, started: start}
	rep.load[0] = loadavg()
	if strings.Contains(only, "provision") {
		t := time.Now()
		rep.prov = runProvisioning(e)
		logf("provisioning took %v", time.Since(t).Round(time.Second))
	}
	if strings.Contains(only, "proxy") && ctx.Err() == nil {
		t := time.Now()
		rep.proxy = runProxy(e)
		logf("proxy took %v", time.Since(t).Round(time.Second))
	}
	if ctx.Err() != nil {
		return 130
	}
	rep.elapsed = time.Since(start)
	rep.load[1] = loadavg()
	md := rep.markdown()
	fmt.Print(md)
	// Written aside and renamed, so an interrupted run never leaves half a report.
	part := filepath.Join(filepath.Dir(out), fmt.Sprintf("BENCHMARKS.tmp.%d", os.Getpid()))
	if err := os.WriteFile(part, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if err := os.Rename(part, out); err != nil {
		_ = os.Remove(part)
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	logf("report written to %s (%v)", out, rep.elapsed.Round(time.Second))
	if err := rep.writeCharts(filepath.Dir(out)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err) // the report stands without them
	}
	return 0
}

// raiseNofile lifts RLIMIT_NOFILE for us and everything we start (haproxy,
// the idle-connection client and sink) and returns the limit obtained.
// Calling Setrlimit also stops Go from restoring the old limit in children.
// Without CAP_SYS_RESOURCE only the soft limit can rise, to the hard one.
func raiseNofile() uint64 {
	var cur syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur)
	want := uint64(1 << 20)
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		var n uint64
		if _, err := fmt.Sscan(string(b), &n); err == nil && n > 0 && n < want {
			want = n
		}
	}
	if cur.Max < want {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err == nil {
			return want
		}
	}
	lim := syscall.Rlimit{Cur: cur.Max, Max: cur.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		logf("cannot raise RLIMIT_NOFILE: %v", err)
		return cur.Cur
	}
	return lim.Max
}
