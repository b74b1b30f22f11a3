//go:build linux

package main

import (
	"fmt"
	"strings"
)

// targets15MD reports the targets of issue 15 (data path v2), every ratio
// from this run's medians; shown, not asserted.
func (r *report) targets15MD(b *strings.Builder) {
	x := r.proxy
	if x == nil || x.err != "" {
		return
	}
	b.WriteString("## 4. Targets (issue 15: data path v2; shown, not asserted)\n\n")
	header(b, "target", "measured", "result")
	val := func(m *measure) series { return m.val }
	cpu := func(m *measure) series { return m.cpu }
	p99 := func(m *measure) series { return m.p99 }
	cmp := func(title, key, ours, theirs string, get func(*measure) series, bound float64, higher bool) {
		v := ratio(get(r.get(key, ours)), get(r.get(key, theirs)))
		res := "not measured"
		if v != 0 {
			res = "**missed**"
			if higher && v >= bound || !higher && v <= bound {
				res = "met"
			}
		}
		row(b, title, fmtRatio(v)+" of HAProxy", res)
	}
	for _, pair := range [][2]string{{"netns-proxy", "haproxy"}, {"netns-proxy, namespace crossing", "haproxy, namespace crossing"}} {
		n, h := pair[0], pair[1]
		cmp(n+": short connections/s ≥ 1.10×", "close", n, h, val, 1.10, true)
		cmp(n+": µs CPU per short connection ≤ 1.0×", "close", n, h, cpu, 1, false)
		cmp(n+": keep-alive req/s ≥ 1.0×", "keep", n, h, val, 1, true)
		cmp(n+": p99 (close) ≤ 1.0×", "close", n, h, p99, 1, false)
		cmp(n+": p99 (keep-alive) ≤ 1.0×", "keep", n, h, p99, 1, false)
		cmp(n+": one stream ≥ 1.0×", "s1", n, h, val, 1, true)
		if !strings.Contains(n, "crossing") { // the crossing test runs one stream only
			cmp(n+": four streams ≥ 1.0×", "s4", n, h, val, 1, true)
		}
	}
	per := map[string]series{}
	for _, i := range x.idle {
		for k := range i.rss {
			per[i.name] = append(per[i.name], (i.rss[k]-i.base[k])/float64(x.idleConns))
		}
	}
	v := ratio(per["netns-proxy"], per["haproxy"])
	res := "not measured"
	if v != 0 {
		res = map[bool]string{true: "met", false: "**missed**"}[v <= 0.5]
	}
	row(b, fmt.Sprintf("RSS per idle connection (%d held) ≤ 0.5×", x.idleConns), fmtRatio(v)+" of HAProxy", res)
	b.WriteString("\n")
}
