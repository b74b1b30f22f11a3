//go:build linux

package main

import (
	"fmt"
	"strings"
)

func (r *report) get(key, path string) *measure {
	if r.proxy == nil || r.proxy.m[key] == nil || r.proxy.m[key][path] == nil {
		return &measure{}
	}
	return r.proxy.m[key][path]
}

// cell formats a figure or the reason a path has none.
func cell(p *path, m *measure, s series, verb string) string {
	if p.skip != "" {
		return short(p.skip)
	}
	if len(s) == 0 && len(m.errs) > 0 {
		return "failed (see notes)"
	}
	if len(m.errs) > 0 {
		return fmtS(s, verb, "") + " (some runs failed, see notes)"
	}
	return fmtS(s, verb, "")
}

func (r *report) proxyMD(b *strings.Builder) {
	x := r.proxy
	if x == nil {
		return
	}
	b.WriteString("## 2. Proxy\n\n")
	if x.err != "" {
		fmt.Fprintf(b, "Failed: %s\n\n", x.err)
		return
	}
	fmt.Fprintf(b, "Client ns → proxy ns → server ns over two veth pairs. Direct: routed through the proxy namespace (ip_forward=1 there only). HAProxy: `mode tcp`, `option splice-request` + `option splice-response`. socat: `TCP-LISTEN:…,fork`. netns-proxy: `bin/netns-proxy -c cfg.toml` in the proxy namespace. %d rounds, each running every test on every path in rotating order; iperf3 %v, wrk `-t2 -c32 --latency` %v against a minimal HTTP/1.1 responder in the server namespace. CPU is the proxy's utime+stime from /proc/PID/stat over each run, its living descendants included (netns-proxy: master + worker; socat: + its reaped children); RSS likewise sums the process tree. Both HAProxy (`option tcplog`, `log stdout`) and netns-proxy write one log line per connection, to a file; socat logs nothing. HAProxy runs with `maxconn` %d and `maxpipes 256`; every proxy idle timeout is 10 min.\n\n",
		x.reps, x.dur, x.wrkDur, x.maxConns)
	hap := "haproxy"
	if len(x.tests) < len(proxyTests) {
		b.WriteString("Quick mode: no 4-stream test and no keep-alive crossing test.\n\n")
	}
	chartsMD(b)
	header(b, "path", "1 stream (Gbit/s)", "/ direct", "/ haproxy", "4 streams (Gbit/s)", "/ direct", "/ haproxy", "CPU s/GB (1 / 4 streams)")
	for _, p := range x.paths {
		m1, m4 := r.get("s1", p.name), r.get("s4", p.name)
		cpu := "—"
		if len(m1.cpu)+len(m4.cpu) > 0 {
			cpu = fmtS(m1.cpu, "%.2f", "") + " / " + fmtS(m4.cpu, "%.2f", "")
		}
		row(b, p.name, cell(p, m1, m1.val, "%.2f"),
			fmtRatio(ratio(m1.val, r.get("s1", "direct (routed)").val)), fmtRatio(ratio(m1.val, r.get("s1", hap).val)),
			cell(p, m4, m4.val, "%.2f"),
			fmtRatio(ratio(m4.val, r.get("s4", "direct (routed)").val)), fmtRatio(ratio(m4.val, r.get("s4", hap).val)), cpu)
	}
	b.WriteString("\n")
	r.wrkTable(b, x.paths, hap)
	fmt.Fprintf(b, "### Namespace crossing\n\nThe proxy runs in a third, empty namespace; it listens on 127.0.0.1 in the client namespace (HAProxy `bind … namespace`, netns-proxy frontend `namespace =`) and connects to 127.0.0.1 in the server namespace (`server … namespace` / server `namespace =`). iperf3 %v, wrk as above.\n\n", x.crossDur)
	hx := "haproxy, namespace crossing"
	header(b, "path", "1 stream (Gbit/s)", "/ haproxy", "CPU s/GB")
	for _, p := range x.cross {
		m := r.get("s1", p.name)
		row(b, p.name, cell(p, m, m.val, "%.2f"), fmtRatio(ratio(m.val, r.get("s1", hx).val)), fmtS(m.cpu, "%.2f", ""))
	}
	b.WriteString("\n")
	r.wrkTable(b, x.cross, hx)
	r.idleMD(b)
	r.errorsMD(b)
}

func (r *report) wrkTable(b *strings.Builder, paths []*path, hap string) {
	header(b, "path", "close: req/s", "/ haproxy", "p50 ms", "p99 ms", "µs CPU/req", "keep-alive: req/s", "/ haproxy", "p50 ms", "p99 ms", "µs CPU/req")
	for _, p := range paths {
		mc, mk := r.get("close", p.name), r.get("keep", p.name)
		row(b, p.name,
			cell(p, mc, mc.val, "%.0f"), fmtRatio(ratio(mc.val, r.get("close", hap).val)), fmtS(mc.p50, "%.2f", ""), fmtS(mc.p99, "%.2f", ""), fmtS(mc.cpu, "%.1f", ""),
			cell(p, mk, mk.val, "%.0f"), fmtRatio(ratio(mk.val, r.get("keep", hap).val)), fmtS(mk.p50, "%.2f", ""), fmtS(mk.p99, "%.2f", ""), fmtS(mk.cpu, "%.1f", ""))
	}
	b.WriteString("\n")
}

func (r *report) idleMD(b *strings.Builder) {
	x := r.proxy
	if len(x.idle) == 0 {
		return
	}
	fmt.Fprintf(b, "### Memory: %d idle proxied connections\n\nEach run starts a fresh proxy (HAProxy with the same global/defaults, netns-proxy with the same [defaults]) in the proxy namespace for this test alone; a client in the client namespace opens %d connections through it to a sink in the server namespace; RSS (VmRSS) is read before, and once all are established on the server side. %d runs.\n\n", x.idleConns, x.idleConns, x.idleReps)
	if x.idleCapped != "" {
		fmt.Fprintf(b, "Connections: %s.\n\n", x.idleCapped)
	}
	header(b, "proxy", "RSS before (MiB)", "RSS holding (MiB)", "KiB per connection", "/ haproxy")
	var hap series
	for _, i := range x.idle {
		if i.name == "haproxy" {
			hap = i.rss
		}
	}
	for _, i := range x.idle {
		if i.skip != "" {
			row(b, i.name, short(i.skip), "", "", "")
			continue
		}
		if len(i.errs) > 0 {
			r.note("%s, idle memory: %s", i.name, strings.Join(i.errs, "; "))
		}
		if len(i.rss) == 0 {
			row(b, i.name, "failed (see notes)", "", "", "")
			continue
		}
		per := make(series, len(i.rss))
		for k := range i.rss {
			per[k] = (i.rss[k] - i.base[k]) / float64(x.idleConns)
		}
		row(b, i.name, fmtS(mib(i.base), "%.1f", ""), fmtS(mib(i.rss), "%.1f", ""), fmtS(per, "%.2f", ""), fmtRatio(ratio(i.rss, hap)))
	}
	b.WriteString("\n")
}

func (r *report) errorsMD(b *strings.Builder) {
	x := r.proxy
	for _, p := range append(x.paths, x.cross...) {
		if strings.HasPrefix(p.skip, "failed") {
			r.note("%s: %s", p.name, p.skip)
		}
	}
	for key, byPath := range x.m {
		for name, m := range byPath {
			for _, e := range m.errs {
				r.note("%s, %s: %s", name, key, e)
			}
		}
	}
}

// short keeps table cells readable: "skipped: …" as is, failures to notes.
func short(skip string) string {
	if skip == "" || strings.HasPrefix(skip, "skipped") {
		return skip
	}
	return "failed (see notes)"
}
