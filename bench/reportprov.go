//go:build linux

package main

import (
	"fmt"
	"strings"
)

func (r *report) provMD(b *strings.Builder) {
	p := r.prov
	if p == nil {
		return
	}
	b.WriteString("## 1. Provisioning\n\n")
	for _, s := range []string{p.oursSkip, p.floorSkip} {
		if strings.HasPrefix(s, "failed") {
			r.note("%s", s)
		}
	}
	for _, n := range p.note {
		r.note("%s", n)
	}
	if p.err != "" {
		fmt.Fprintf(b, "Failed: %s\n\n", p.err)
	}
	b.WriteString("Seed topology (inbound veth with host-side address, outbound veth with gateway, rp_filter, one sysctl, DNS), host side in a throwaway namespace. " +
		"Ours: `netns-daemon-start --host-netns H -c seed.toml NAME` and `netns-daemon-stop NAME` (no `--wait`). " +
		"Floor: `bench/floor`, a static Go program doing the same kernel work in-process with netlink and nothing else (no validation, state, logging or checks): " +
		"namespace + bind mount, both veths with their peers born inside, addresses, lo and links up, the default route, the four sysctls, the DNS file; its stop unmounts and removes the namespace file and the DNS directory. " +
		"Script: `ip`/`sysctl` commands, one per step; its stop deletes the namespace. " +
		"Every way is timed as a process from exec to exit; stop ends when its own work is done, and the kernel's asynchronous reap of the host-side veth peers (all three ways leave it to the namespace's cleanup) is timed after it, apart.\n\n")
	skipOr := func(skip string, s series) string {
		if skip != "" {
			return short(skip)
		}
		return fmtS(s, "%.1f", "")
	}
	oursProcs := fmt.Sprint(p.oursProcs)
	if !p.oursCounted {
		oursProcs += " (by design)"
	}
	header(b, "one start, one stop", "start (ms)", "stop (ms)", "reap of the host-side peers (ms)", "start + stop + reap (ms)", "CPU: start / stop (ms)", "processes per namespace (execs)")
	way := func(name, skip string, o once, procs string) {
		cpu := skipOr(skip, o.upCPU)
		if skip == "" {
			cpu += " / " + fmtS(o.downCPU, "%.1f", "")
		}
		row(b, name, skipOr(skip, o.up), skipOr(skip, o.down), skipOr(skip, o.reap), skipOr(skip, o.total), cpu, procs)
	}
	way("floor (bench/floor)", p.floorSkip, p.floor, "2 (by design)")
	way("netns-daemon-start/stop", p.oursSkip, p.ours, oursProcs)
	way("ip/sysctl script", "", p.script, fmt.Sprint(p.scriptProc))
	if compareRoot != "" {
		way("B: "+compareRoot+"/bin (--compare)", p.bSkip, p.oursB, "")
	}
	ratios := func(name string, a, b2 once) {
		row(b, name, fmtRatio(ratio(a.up, b2.up)), fmtRatio(ratio(a.down, b2.down)), fmtRatio(ratio(a.reap, b2.reap)), fmtRatio(ratio(a.total, b2.total)),
			fmtRatio(ratio(a.upCPU, b2.upCPU))+" / "+fmtRatio(ratio(a.downCPU, b2.downCPU)), "")
	}
	ratios("**ours / floor**", p.ours, p.floor)
	ratios("**script / ours**", p.script, p.ours)
	if compareRoot != "" {
		ratios("**B / floor**", p.oursB, p.floor)
	}
	how := "by design (perf not available): sh + one per command"
	if p.procsCounted {
		how = "counted by the kernel: `perf stat -e sched:sched_process_exec` over one start and one stop"
	}
	fmt.Fprintf(b, "\nCPU is the process's user+system time (wait4 rusage, with the children it waited for): on a loaded machine wall time follows it, so it compares the ways where wall times are noise. "+
		"%d rounds, every way once per round in rotating order. A do-nothing static Go program (`bench/floor/noop`), exec to exit: %s ms. Processes per namespace: %s.\n\n",
		len(p.ours.up), skipOr(p.floorSkip, p.noop), how)

	header(b, "reconcile: add one address to a provisioned namespace", "wall time (ms)", "CPU (ms)")
	row(b, "netns-daemon-start, the spec with one more in0 address", skipOr(p.oursSkip, p.rec), skipOr(p.oursSkip, p.recCPU))
	row(b, "floor: a Go process and that one netlink call (`floor addr add`)", skipOr(p.floorSkip, p.recFloor), skipOr(p.floorSkip, p.recFloorCPU))
	row(b, "**ours / floor**", fmtRatio(ratio(p.rec, p.recFloor)), fmtRatio(ratio(p.recCPU, p.recFloorCPU)))
	b.WriteString("\nIn the same rounds; each add is undone (untimed) before the next: ours by starting with the spec before, the floor by `floor addr del`. The address is checked in the kernel after each of ours.\n\n")

	if len(p.ns) == 0 {
		return
	}
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
		runs := max(len(s.total), len(o.total))
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
	b.WriteString("\nRemoval in these rows runs until the kernel has reaped the host-side peers of all N.\n")
	b.WriteString("\nPeak RSS of netns-daemon-start (wait4 rusage, every start in this section): ")
	if p.oursSkip != "" {
		b.WriteString(short(p.oursSkip) + "\n\n")
	} else {
		fmt.Fprintf(b, "%s\n\n", fmtS(mib(p.peakRSS), "%.1f", " MiB"))
	}
}
