//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// runProvisioning is section 1: seed topology start+stop and N-in-a-row,
// the ip/sysctl script against netns-daemon-start/stop, interleaved.
func runProvisioning(e *env) *provResult {
	r := &provResult{scriptPer: map[int]*batch{}, oursPer: map[int]*batch{}, scriptProc: scriptProcs, oursProcs: 2}
	reps, bReps, ns := 7, 5, []int{10, 100, 1000}
	if e.quick {
		reps, bReps, ns = 5, 3, []int{10, 50}
	}
	if repsOverride > 0 {
		reps = repsOverride
	}
	r.ns = ns
	// The script at N=1000 alone costs ~10 minutes over 5 rounds; the issue's
	// scaling target is about ours, so it runs only when asked.
	r.scriptMaxN = 100
	if e.quick || scriptAll {
		r.scriptMaxN = ns[len(ns)-1]
	}
	host, err := e.nsAdd("h")
	if err != nil {
		r.err = err.Error()
		return r
	}
	p := &provisioner{e: e, host: host,
		up: filepath.Join(e.tmp, "up.sh"), down: filepath.Join(e.tmp, "down.sh"),
		start: e.bin("netns-daemon-start"), stop: e.bin("netns-daemon-stop"),
		floor: e.floor, noop: e.noop}
	defer func() { e.stop(p.watch) }()
	_ = os.WriteFile(p.up, []byte(upScript), 0o755)
	_ = os.WriteFile(p.down, []byte(downScript), 0o755)
	switch {
	case p.start == "":
		r.oursSkip = skipped("netns-daemon-start")
	case p.stop == "":
		r.oursSkip = skipped("netns-daemon-stop")
	}
	if !executable(p.floor) || !executable(p.noop) {
		r.floorSkip = "skipped: the floor programs were not built (run.sh builds bench/floor and bench/floor/noop)"
	}
	ours := r.oursSkip == ""
	if ours {
		for i := 0; i < ns[len(ns)-1]; i++ {
			if _, err := p.tomlFor(e.spec("d", i)); err != nil {
				r.err = err.Error()
				return r
			}
		}
	}
	oursUp := func(s nsSpec) error {
		rss, err := p.oursUp(s, filepath.Join(e.tmp, s.name+".toml"))
		if rss > 0 {
			r.peakRSS = append(r.peakRSS, rss)
		}
		return err
	}

	// Warm-up and correctness check, untimed.
	if !p.warmUp(r, oursUp) {
		return r
	}
	ours = r.oursSkip == ""
	p.countProcs(r, ours)
	logf("provisioning: %d × one start, one stop (script, floor, ours) and one reconcile", reps)
	(&onceTimer{p: p, r: r, ours: ours, up: oursUp}).run(reps)
	if r.err != "" {
		return r
	}
	ours = ours && r.oursSkip == ""
	if onceOnly {
		r.ns = nil
		return r
	}
	p.inARow(r, bReps, ours, oursUp)
	return r
}

// inARow is N namespaces created in a row, then removed, for every N.
func (p *provisioner) inARow(r *provResult, bReps int, ours bool, oursUp func(nsSpec) error) {
	e, ns := p.e, r.ns
	// Rounds outermost so that noise from the shared machine spreads over
	// every N and both ways alike.
	for _, n := range ns {
		r.scriptPer[n], r.oursPer[n] = &batch{}, &batch{}
	}
	logf("provisioning: %d rounds of N=%v in a row", bReps, ns)
	for i := 0; i < bReps && e.ctx.Err() == nil; i++ {
		logf("provisioning: round %d of %d", i+1, bReps)
		for _, n := range ns {
			if n <= r.scriptMaxN {
				if err := r.scriptPer[n].add(p.batch("s", n, p.scriptUp, p.scriptDown)); err != nil {
					r.err = err.Error()
					return
				}
			}
			if ours {
				if err := r.oursPer[n].add(p.batch("d", n, oursUp, p.oursDown)); err != nil {
					r.oursSkip, ours = "failed: "+err.Error(), false
				}
			}
		}
	}
}

func (b *batch) add(n int, create, remove time.Duration, err error) error {
	if err != nil {
		return err
	}
	b.create = append(b.create, ms(create)/float64(n))
	b.remove = append(b.remove, ms(remove)/float64(n))
	b.total = append(b.total, ms(create+remove)/float64(n))
	return nil
}

// checked provisions one namespace, verifies it and removes it.
func (p *provisioner) checked(kind string, up, down func(nsSpec) error) error {
	s := p.e.spec(kind, 0)
	defer p.waitReaped()
	if err := up(s); err != nil {
		p.e.removeNS(p.e.ctx, s.name)
		return err
	}
	if err := p.verify(s); err != nil {
		p.e.removeNS(p.e.ctx, s.name)
		return err
	}
	if err := down(s); err != nil {
		p.e.removeNS(p.e.ctx, s.name)
		return err
	}
	if _, err := os.Stat("/run/netns/" + s.name); err == nil {
		p.e.removeNS(p.e.ctx, s.name)
		return fmt.Errorf("stop left /run/netns/%s behind", s.name)
	}
	return nil
}

// batch creates n namespaces in a row, then removes them; on failure it
// removes what was made.
func (p *provisioner) batch(kind string, n int, up, down func(nsSpec) error) (int, time.Duration, time.Duration, error) {
	defer p.waitReaped()
	fail := func(err error) (int, time.Duration, time.Duration, error) {
		for i := 0; i < n; i++ {
			p.e.removeNS(p.e.ctx, p.e.spec(kind, i).name)
		}
		return n, 0, 0, err
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if err := up(p.e.spec(kind, i)); err != nil {
			return fail(err)
		}
	}
	create := time.Since(t0)
	t1 := time.Now()
	for i := 0; i < n; i++ {
		if err := down(p.e.spec(kind, i)); err != nil {
			return fail(err)
		}
	}
	// Removal ends when the kernel has reaped the host-side peers too: both
	// ways leave that to the namespace's asynchronous cleanup, and it would
	// otherwise be charged to whatever runs next.
	p.waitReaped()
	return n, create, time.Since(t1), nil
}

// countProcs counts processes per namespace by the kernel (perf), else
// leaves the numbers by design.
func (p *provisioner) countProcs(r *provResult, ours bool) {
	e, host := p.e, p.host
	s0, d0 := e.spec("s", 0), e.spec("d", 0)
	if n := p.countExecs("s", []string{"sh", p.up, s0.name, host, s0.peerIn, s0.peerOut, s0.in, s0.out},
		[]string{"sh", p.down, s0.name}); n > 0 {
		r.scriptProc, r.procsCounted = n, true
	}
	if ours {
		if n := p.countExecs("d", []string{p.start, "--quiet", "--host-netns", host, "-c", filepath.Join(e.tmp, d0.name+".toml"), d0.name},
			[]string{p.stop, "--quiet", d0.name}); n > 0 {
			r.oursProcs, r.oursCounted = n, true
		}
	}
}

// warmUp provisions, verifies and removes one namespace each way, untimed;
// false if the script fails (nothing to compare with then).
func (p *provisioner) warmUp(r *provResult, oursUp func(nsSpec) error) bool {
	if err := p.checked("s", p.scriptUp, p.scriptDown); err != nil {
		r.err = "ip script: " + err.Error()
		return false
	}
	if r.floorSkip == "" {
		if err := p.checked("f", p.floorUp, p.floorDown); err != nil {
			r.floorSkip = "failed: " + err.Error()
		}
	}
	if r.oursSkip == "" {
		if err := p.checked("d", oursUp, p.oursDown); err != nil {
			r.oursSkip = "failed: " + err.Error()
		}
	}
	return true
}
