//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

type report struct {
	quick   bool
	started time.Time
	load    [2]string // /proc/loadavg at the start and the end of the run
	elapsed time.Duration
	prov    *provResult
	proxy   *proxyResult
	notes   []string
}

func sh(args ...string) string {
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func (r *report) markdown() string {
	var b strings.Builder
	mode := "full"
	if r.quick {
		mode = "quick (`make bench QUICK=1`: reduced set, fewer repetitions)"
	}
	fmt.Fprintf(&b, "# netns-daemon benchmarks\n\n")
	fmt.Fprintf(&b, "- Machine: %s cores (nproc), kernel %s, %s\n", sh("nproc"), sh("uname", "-r"), runtime.GOARCH)
	fmt.Fprintf(&b, "- Date: %s; mode: %s; run took %v\n", r.started.UTC().Format("2006-01-02 15:04 MST"), mode, r.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "- Load average (1/5/15 min, /proc/loadavg): %s at the start, %s at the end\n", r.load[0], r.load[1])
	fmt.Fprintf(&b, "- Tools: %s; %s; %s; %s; %s\n", sh("haproxy", "-v"), sh("iperf3", "--version"), socatVersion(), "wrk "+wrkVersion(), runtime.Version())
	b.WriteString("- Every figure is the median (min–max) of the runs named in its section; every ratio divides two medians from this same run. The machine is shared and noisy: compare ratios, not absolute figures, across runs.\n\n")
	r.provMD(&b)
	r.proxyMD(&b)
	r.targetsMD(&b)
	r.targets15MD(&b)
	if len(r.notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	f := strings.Fields(string(out))
	if len(f) > 1 {
		return f[1]
	}
	return ""
}

func (r *report) note(format string, a ...any) { r.notes = append(r.notes, fmt.Sprintf(format, a...)) }

func row(b *strings.Builder, cells ...string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func header(b *strings.Builder, cells ...string) {
	row(b, cells...)
	seps := make([]string, len(cells))
	for i := range seps {
		seps[i] = "---"
	}
	row(b, seps...)
}

func mib(s series) series {
	out := make(series, len(s))
	for i, v := range s {
		out[i] = v / 1024
	}
	return out
}

func socatVersion() string {
	out, _ := exec.Command("socat", "-V").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "socat" && f[1] == "version" {
			return "socat " + f[2]
		}
	}
	return "socat ?"
}
