//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// proxyResult holds section 2.
type proxyResult struct {
	err        string
	dur        time.Duration
	wrkDur     time.Duration
	crossDur   time.Duration // iperf3 in the crossing test
	maxConns   int
	reps       int
	tests      []test
	paths      []*path
	m          map[string]map[string]*measure // test key → path name → figures
	crossT     []test
	cross      []*path
	idle       []*idleResult
	idleConns  int
	idleCapped string
	idleReps   int
}

var proxyTests = []test{
	{key: "s1", title: "iperf3, 1 stream", streams: 1},
	{key: "s4", title: "iperf3, 4 streams", streams: 4},
	{key: "close", title: "wrk, Connection: close", wrk: true, close: true},
	{key: "keep", title: "wrk, keep-alive", wrk: true},
}

// runProxy is section 2: the routed paths, the namespace-crossing proxies
// and idle memory, every path interleaved within each repetition.
func runProxy(e *env) *proxyResult {
	r := &proxyResult{dur: 5 * time.Second, wrkDur: 3 * time.Second, reps: 5, tests: proxyTests,
		m: map[string]map[string]*measure{}, idleConns: 10000}
	r.crossT = []test{proxyTests[0], proxyTests[2], proxyTests[3]}
	r.idleReps, r.crossDur = 5, 3*time.Second
	if e.quick { // must stay under 2 minutes with every path live
		r.dur, r.wrkDur, r.crossDur, r.reps, r.idleConns, r.idleReps = time.Second, time.Second, time.Second, 3, 1000, 2
		r.crossT = r.crossT[:2]
		r.tests = []test{proxyTests[0], proxyTests[2], proxyTests[3]}
	}
	if idleOverride > 0 {
		r.idleConns = idleOverride
	}
	if max := (e.maxConns() - 50) / 100 * 100; r.idleConns > max {
		r.idleCapped = fmt.Sprintf("%d requested; capped to %d by RLIMIT_NOFILE %d (raising the hard limit needs CAP_SYS_RESOURCE)", r.idleConns, max, e.nofile)
		r.idleConns = max
	}
	r.maxConns = e.maxConns()
	l := &lab{e: e}
	defer l.teardown()
	if err := l.setup(); err != nil {
		r.err = err.Error()
		return r
	}
	r.paths = l.paths()
	r.cross = l.crossPaths()
	defer func() {
		for _, p := range append(r.paths, r.cross...) {
			e.stop(p.cmd)
			for _, c := range p.svc {
				e.stop(c)
			}
		}
	}()

	logf("proxy: %d repetitions of %d tests on %d paths, %d crossing tests", r.reps, len(r.tests), len(r.paths), len(r.crossT))
	if !strings.Contains(e.only, "idle-only") { // development: memory test alone
		t := time.Now()
		r.loop(l, r.tests, r.paths, r.dur)
		logf("proxy: routed paths took %v", time.Since(t).Round(time.Second))
		t = time.Now()
		r.loop(l, r.crossT, r.cross, r.crossDur)
		logf("proxy: crossing took %v", time.Since(t).Round(time.Second))
	}
	if e.ctx.Err() == nil {
		r.idle = l.idleMemory(r.idleConns, r.idleReps)
	}
	return r
}

// loop runs reps rounds; each round runs every test on every live path,
// rotating the order so no path always goes first.
func (r *proxyResult) loop(l *lab, tests []test, paths []*path, iperfDur time.Duration) {
	e := l.e
	for rep := 0; rep < r.reps && e.ctx.Err() == nil; rep++ {
		logf("proxy: round %d of %d", rep+1, r.reps)
		for _, t := range tests {
			d := iperfDur
			if t.wrk {
				d = r.wrkDur
			}
			for i := range paths {
				p := paths[(i+rep)%len(paths)]
				if p.skip != "" || e.ctx.Err() != nil {
					continue
				}
				if p.dead() {
					p.skip = "failed: the proxy process exited during the tests"
					continue
				}
				if r.m[t.key] == nil {
					r.m[t.key] = map[string]*measure{}
				}
				m := r.m[t.key][p.name]
				if m == nil {
					m = &measure{}
					r.m[t.key][p.name] = m
				}
				l.runTest(t, p, d, m)
			}
		}
	}
}

// crossPaths starts HAProxy and netns-proxy in the empty namespace px,
// listening in the client namespace and connecting in the server
// namespace, both over loopback there: the proxy is outside both.
func (l *lab) crossPaths() []*path {
	e := l.e
	hap := &path{name: "haproxy, namespace crossing", ns: l.pc, host: "127.0.0.1", base: 10100}
	npx := &path{name: "netns-proxy, namespace crossing", ns: l.pc, host: "127.0.0.1", base: 12100}
	hcfg := filepath.Join(e.tmp, "haproxy-cross.cfg")
	if err := l.haproxyCfg(hcfg, "127.0.0.1", hap.base, l.pc, l.ps, "127.0.0.1", twoSvcs); err != nil {
		hap.skip = err.Error()
	} else {
		l.startProxy(hap, l.px, []string{"haproxy", "-db", "-f", hcfg}, twoSvcs)
	}
	if bin := e.bin("netns-proxy"); bin == "" {
		npx.skip = skipped("netns-proxy")
	} else {
		cfg := filepath.Join(e.tmp, "netns-proxy-cross.toml")
		if err := l.nproxyCfg(cfg, "127.0.0.1", npx.base, l.pc, l.ps, "127.0.0.1", twoSvcs); err != nil {
			npx.skip = err.Error()
		} else if out, err := e.run(bin, "-c", cfg, "--check"); err != nil {
			npx.skip = "failed: netns-proxy --check: " + lastLines(out, 2)
		} else {
			l.startProxy(npx, l.px, []string{bin, "-c", cfg}, twoSvcs)
		}
	}
	return []*path{hap, npx}
}
