//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

type report struct {
	quick   bool
	started time.Time
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

func (r *report) provMD(b *strings.Builder) {
	p := r.prov
	if p == nil {
		return
	}
	b.WriteString("## 1. Provisioning\n\n")
	if strings.HasPrefix(p.oursSkip, "failed") {
		r.note("netns-daemon-start/stop: %s", p.oursSkip)
	}
	if p.err != "" {
		fmt.Fprintf(b, "Failed: %s\n\n", p.err)
	}
	fmt.Fprintf(b, "Seed topology (inbound veth with host-side address, outbound veth with gateway, rp_filter, one sysctl, DNS), host side in a throwaway namespace. Script: `ip`/`sysctl` commands, one per step; its teardown deletes the namespace and lets the kernel reap the veths. Ours: `netns-daemon-start --host-netns H -c seed.toml NAME` + `netns-daemon-stop NAME`. Stop and remove times run until the kernel has reaped the host-side veth peers (both ways leave that to the namespace's asynchronous cleanup).\n\n")
	ours := func(s series, verb string) string {
		if p.oursSkip != "" {
			return short(p.oursSkip)
		}
		return fmtS(s, verb, "")
	}
	oursProcs := fmt.Sprint(p.oursProcs)
	if !p.oursCounted {
		oursProcs += " (by design)"
	}
	header(b, "one start+stop", "wall time (ms)", "start (ms)", "stop (ms)", "processes per namespace (execs)")
	row(b, "ip/sysctl script", fmtS(p.script, "%.1f", ""), fmtS(p.scriptUp, "%.1f", ""), fmtS(p.scriptDown, "%.1f", ""), fmt.Sprint(p.scriptProc))
	row(b, "netns-daemon-start/stop", ours(p.ours, "%.1f"), ours(p.oursUpT, "%.1f"), ours(p.oursDownT, "%.1f"), oursProcs)
	row(b, "**script / ours**", fmtRatio(ratio(p.script, p.ours)), fmtRatio(ratio(p.scriptUp, p.oursUpT)), fmtRatio(ratio(p.scriptDown, p.oursDownT)), "")
	how := "by design (perf not available): sh + one per command"
	if p.procsCounted {
		how = "counted by the kernel: `perf stat -e sched:sched_process_exec` over one start and one stop"
	}
	fmt.Fprintf(b, "\n%d runs each, interleaved. Processes per namespace: %s.\n\n", len(p.script), how)

	header(b, "N in a row, then removed", "script: create / remove / total per ns (ms)", "ours: create / remove / total per ns (ms)", "script / ours")
	sHi := 0
	for _, n := range p.ns {
		s, o := p.scriptPer[n], p.oursPer[n]
		if s == nil || o == nil {
			continue
		}
		sc := "not run at this N (adds ~10 min; `--script-1000`)"
		if len(s.total) > 0 {
			sHi = n
			sc = fmt.Sprintf("%s / %s / %s", fmtS(s.create, "%.1f", ""), fmtS(s.remove, "%.1f", ""), fmtS(s.total, "%.1f", ""))
		}
		oc := short(p.oursSkip)
		if oc == "" {
			oc = fmt.Sprintf("%s / %s / %s", fmtS(o.create, "%.1f", ""), fmtS(o.remove, "%.1f", ""), fmtS(o.total, "%.1f", ""))
		}
		runs := len(s.total)
		if len(o.total) > runs {
			runs = len(o.total)
		}
		row(b, fmt.Sprintf("N = %d (%d runs)", n, runs), sc, oc, fmtRatio(ratio(s.total, o.total)))
	}
	if len(p.ns) > 1 {
		lo, hi := p.ns[0], p.ns[len(p.ns)-1]
		var ro, rs float64
		if p.oursPer[hi] != nil && p.oursPer[lo] != nil {
			ro = ratio(p.oursPer[hi].total, p.oursPer[lo].total)
		}
		sr := "—"
		if sHi > lo {
			rs = ratio(p.scriptPer[sHi].total, p.scriptPer[lo].total)
			sr = fmtRatio(rs)
			if sHi != hi {
				sr += fmt.Sprintf(" (per-ns(%d) / per-ns(%d))", sHi, lo)
			}
		}
		row(b, fmt.Sprintf("**per-ns(%d) / per-ns(%d)**", hi, lo), sr, fmtRatio(ro), "")
	}
	b.WriteString("\nPeak RSS of netns-daemon-start (wait4 rusage, every start in this section): ")
	if p.oursSkip != "" {
		b.WriteString(short(p.oursSkip) + "\n\n")
	} else {
		fmt.Fprintf(b, "%s\n\n", fmtS(mib(p.peakRSS), "%.1f", " MiB"))
	}
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
