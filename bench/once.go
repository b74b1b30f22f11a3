//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// onceTimer times one start and one stop at a time, every way interleaved
// in rotating order (issue 9): the ip script, the floor (bench/floor),
// ours, a do-nothing Go program, and a reconcile that adds one address,
// ours against the floor's Go process plus that one netlink call.
type onceTimer struct {
	p    *provisioner
	r    *provResult
	ours bool
	up   func(nsSpec) error // ours, recording peak RSS

	rHost        string // host of the reconcile namespaces, see setupRec
	rOurs, rFl   nsSpec
	cfgA, cfgVIP string
	recOK        bool
}

// timeOnce starts and stops namespace kind/0, each as a process from exec
// to exit, then waits for the kernel to reap the host-side peers.
func (p *provisioner) timeOnce(kind string, up, down func(nsSpec) error, o *once) error {
	s := p.e.spec(kind, 0)
	fail := func(err error) error {
		p.e.removeNS(p.e.ctx, s.name)
		p.waitReaped()
		return err
	}
	t0 := time.Now()
	if err := up(s); err != nil {
		return fail(err)
	}
	t1, upCPU := time.Now(), cpuOfLast()
	if err := down(s); err != nil {
		return fail(err)
	}
	t2, downCPU := time.Now(), cpuOfLast()
	p.waitReaped()
	o.add(t1.Sub(t0), t2.Sub(t1), time.Since(t2), upCPU, downCPU)
	return nil
}

// setupRec provisions the two namespaces the reconcile rows change, with
// their own host namespace so that waitReaped on the main one is not
// kept waiting by their peers.
func (t *onceTimer) setupRec() error {
	p, e := t.p, t.p.e
	host, err := e.nsAdd("h2")
	if err != nil {
		return err
	}
	t.rHost = host
	t.rOurs, t.rFl = e.spec("r", 3000), e.spec("g", 3001)
	if t.ours {
		if t.cfgA, err = p.tomlFor(t.rOurs); err == nil {
			t.cfgVIP, err = p.tomlPlusVIP(t.rOurs)
		}
		if err == nil {
			_, err = p.oursUpIn(t.rOurs, host, t.cfgA)
		}
		if err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
	}
	if t.r.floorSkip == "" {
		s := t.rFl
		if _, err := e.run(p.floor, "start", s.name, host, s.peerIn, s.peerOut, s.in, s.out); err != nil {
			return fmt.Errorf("reconcile (floor): %w", err)
		}
	}
	t.recOK = true
	return nil
}

func (t *onceTimer) teardownRec() {
	if t.rHost == "" {
		return
	}
	e := t.p.e
	if t.ours {
		_, _ = e.run(t.p.stop, "--quiet", t.rOurs.name)
	}
	if t.r.floorSkip == "" {
		_, _ = e.run(t.p.floor, "stop", t.rFl.name)
	}
	e.removeNS(e.ctx, t.rOurs.name)
	e.removeNS(e.ctx, t.rFl.name)
}

// recOurs times netns-daemon-start with one address more than the
// provisioned spec, checks the kernel has it, and puts the spec back
// (untimed).
func (t *onceTimer) recOurs() error {
	s := t.rOurs
	t0 := time.Now()
	if _, err := t.p.oursUpIn(s, t.rHost, t.cfgVIP); err != nil {
		return err
	}
	d, cpu := time.Since(t0), cpuOfLast()
	out, err := t.p.e.run("ip", "-n", s.name, "-o", "-4", "addr", "show", "dev", "in0")
	if err == nil && !strings.Contains(out, s.vip()) {
		err = fmt.Errorf("reconcile did not add %s to in0 in %s: %q", s.vip(), s.name, out)
	}
	if err != nil {
		return err
	}
	if _, err := t.p.oursUpIn(s, t.rHost, t.cfgA); err != nil {
		return err
	}
	t.r.rec, t.r.recCPU = append(t.r.rec, ms(d)), append(t.r.recCPU, ms(cpu))
	return nil
}

// recFloor times the floor's one address add, then deletes it (untimed).
func (t *onceTimer) recFloor() error {
	s, e := t.rFl, t.p.e
	t0 := time.Now()
	if _, err := e.run(t.p.floor, "addr", "add", s.name, "in0", s.vip()); err != nil {
		return err
	}
	d, cpu := time.Since(t0), cpuOfLast()
	if _, err := e.run(t.p.floor, "addr", "del", s.name, "in0", s.vip()); err != nil {
		return err
	}
	t.r.recFloor, t.r.recFloorCPU = append(t.r.recFloor, ms(d)), append(t.r.recFloorCPU, ms(cpu))
	return nil
}

func (t *onceTimer) noop() error {
	t0 := time.Now()
	if _, err := t.p.e.run(t.p.noop); err != nil {
		return err
	}
	t.r.noop = append(t.r.noop, ms(time.Since(t0)))
	return nil
}

// run does reps rounds; a failing way is reported and dropped, the rest go on.
func (t *onceTimer) run(reps int) {
	p, r := t.p, t.r
	if err := t.setupRec(); err != nil {
		r.note = append(r.note, err.Error())
	}
	defer t.teardownRec()
	type way struct {
		name string
		fn   func() error
		skip *string
	}
	var scriptErr string
	ways := []way{
		{"ip script", func() error { return p.timeOnce("s", p.scriptUp, p.scriptDown, &r.script) }, &scriptErr},
		{"floor", func() error { return p.timeOnce("f", p.floorUp, p.floorDown, &r.floor) }, &r.floorSkip},
		{"ours", func() error { return p.timeOnce("d", t.up, p.oursDown, &r.ours) }, &r.oursSkip},
		{"noop", t.noop, &r.floorSkip},
	}
	if b := compareRoot; b != "" && t.ours {
		ways = append(ways, way{"ours B", t.oursB(b), &r.bSkip})
	}
	if t.recOK {
		ways = append(ways, way{"reconcile (ours)", t.recOurs, &r.oursSkip}, way{"reconcile (floor)", t.recFloor, &r.floorSkip})
	}
	for i := 0; i < reps && p.e.ctx.Err() == nil; i++ {
		for j := range ways {
			w := ways[(i+j)%len(ways)]
			if *w.skip != "" {
				continue
			}
			if err := w.fn(); err != nil {
				*w.skip = "failed: " + w.name + ": " + err.Error()
			}
		}
	}
	if scriptErr != "" {
		r.err = scriptErr
	}
}

// oursB times the start and stop in DIR/bin (--compare) in the same rounds:
// an A/B of a change, both against the same floor.
func (t *onceTimer) oursB(dir string) func() error {
	p := t.p
	start, stop := filepath.Join(dir, "bin", "netns-daemon-start"), filepath.Join(dir, "bin", "netns-daemon-stop")
	up := func(s nsSpec) error {
		cfg, err := p.tomlFor(s)
		if err == nil {
			_, err = p.e.run(start, "--quiet", "--host-netns", p.host, "-c", cfg, s.name)
		}
		return err
	}
	down := func(s nsSpec) error {
		_, err := p.e.run(stop, "--quiet", s.name)
		return err
	}
	return func() error { return p.timeOnce("b", up, down, &t.r.oursB) }
}
