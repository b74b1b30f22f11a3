//go:build linux

package main

import (
	"fmt"
	"strings"
)

// targetsMD reports the targets; they are shown, not asserted.
func (r *report) targetsMD(b *strings.Builder) {
	b.WriteString("## 3. Targets (issues 6 and 9; shown, not asserted)\n\n")
	header(b, "target", "measured", "result")
	verdict := func(v float64, ok bool, skip string) string {
		switch {
		case skip != "":
			return "not measured (" + short(skip) + ")"
		case v == 0:
			return "not measured"
		case ok:
			return "met"
		}
		return "**missed**"
	}
	if p := r.prov; p != nil {
		skip := p.oursSkip
		if skip == "" {
			skip = p.floorSkip
		}
		floor := func(title string, ours, fl, oursCPU, flCPU series) {
			v := ratio(ours, fl)
			m := fmtRatio(v)
			if v != 0 {
				m = fmt.Sprintf("ours %.1f ms / floor %.1f ms = %s (CPU %.1f / %.1f ms = %s)", ours.median(), fl.median(), m,
					oursCPU.median(), flCPU.median(), fmtRatio(ratio(oursCPU, flCPU)))
			}
			row(b, title, m, verdict(v, v > 0 && v <= 1.25, skip))
		}
		floor("one start ≤ 1.25× the floor", p.ours.up, p.floor.up, p.ours.upCPU, p.floor.upCPU)
		floor("one stop (its own work, no --wait) ≤ 1.25× the floor", p.ours.down, p.floor.down, p.ours.downCPU, p.floor.downCPU)
		floor("reconcile adding one address ≤ 1.25× (Go process + one netlink call)", p.rec, p.recFloor, p.recCPU, p.recFloorCPU)
		v := ratio(p.script.total, p.ours.total)
		row(b, "provisioning ≥ 25× faster than the script (one start+stop+reap)", fmtRatio(v), verdict(v, v >= 25, p.oursSkip))
		if len(p.ns) > 1 {
			lo, hi := p.ns[0], p.ns[len(p.ns)-1]
			var v float64
			if p.oursPer[hi] != nil && p.oursPer[lo] != nil {
				v = ratio(p.oursPer[hi].total, p.oursPer[lo].total)
			}
			row(b, fmt.Sprintf("per-ns(%d) / per-ns(%d) ≤ 1.5", hi, lo), fmtRatio(v), verdict(v, v > 0 && v <= 1.5, p.oursSkip))
		}
	}
	if x := r.proxy; x != nil && x.err == "" {
		var skip string
		for _, p := range x.paths {
			if p.name == "netns-proxy" {
				skip = p.skip
			}
		}
		higher := func(title, key string, val func(*measure) series, wantHigher bool) {
			n, h := val(r.get(key, "netns-proxy")), val(r.get(key, "haproxy"))
			v := ratio(n, h)
			ok := v >= 1
			if !wantHigher {
				ok = v > 0 && v <= 1
			}
			res := verdict(v, ok, skip)
			if v != 0 && (noisy(n) || noisy(h)) {
				res += " (noisy: a min–max spread over 3×; repeat on a quiet machine)"
			}
			row(b, title, fmtRatio(v)+" of HAProxy", res)
		}
		rate := func(m *measure) series { return m.val }
		p99 := func(m *measure) series { return m.p99 }
		higher("one-stream throughput ≥ HAProxy's", "s1", rate, true)
		higher("short connections/s (Connection: close) ≥ HAProxy's", "close", rate, true)
		higher("p99 ≤ HAProxy's (Connection: close)", "close", p99, false)
		higher("p99 ≤ HAProxy's (keep-alive)", "keep", p99, false)
		var hr, nr series
		for _, i := range x.idle {
			switch i.name {
			case "haproxy":
				hr = i.rss
			case "netns-proxy":
				nr = i.rss
			}
		}
		v := ratio(nr, hr)
		row(b, fmt.Sprintf("RSS at %d idle connections ≤ HAProxy's", x.idleConns), fmtRatio(v)+" of HAProxy", verdict(v, v > 0 && v <= 1, skip))
	}
	b.WriteString("\n")
}

// noisy reports a series whose spread makes its median unreliable.
func noisy(s series) bool { return len(s) > 1 && s.min() > 0 && s.max()/s.min() > 3 }
