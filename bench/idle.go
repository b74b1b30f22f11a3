//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// idleResult is the memory of one proxy holding N idle proxied connections.
type idleResult struct {
	name      string
	skip      string
	base, rss series // KiB: before opening, while holding
	errs      []string
}

// idleMemory starts a fresh HAProxy and a fresh netns-proxy for each run
// (proxying to the sink only), reads its RSS, opens N connections through
// it, reads its RSS while they are held, then closes them and stops it.
func (l *lab) idleMemory(n, reps int) []*idleResult {
	e := l.e
	out := []*idleResult{{name: "haproxy"}, {name: "netns-proxy"}}
	if e.bin("netns-proxy") == "" {
		out[1].skip = skipped("netns-proxy")
	}
	logf("proxy: idle memory, %d × %d connections", reps, n)
	for rep := 0; rep < reps && e.ctx.Err() == nil; rep++ {
		for _, r := range out {
			if r.skip != "" || len(r.errs) > 2 {
				continue
			}
			t := time.Now()
			base, rss, err := l.holdFresh(r.name, n)
			if err != nil {
				r.errs = append(r.errs, err.Error())
				logf("proxy: idle memory, %s: %v", r.name, err)
				continue
			}
			logf("proxy: idle memory, %s: %d connections held and released in %v", r.name, n, time.Since(t).Round(100*time.Millisecond))
			r.base, r.rss = append(r.base, base), append(r.rss, rss)
		}
	}
	return out
}

// holdFresh starts a proxy for the sink service alone and measures it.
func (l *lab) holdFresh(name string, n int) (base, rss float64, err error) {
	e := l.e
	sinkOnly := []int{2}
	p := &path{name: name + "-idle", ns: l.pp, host: proxyCIP}
	cfg := filepath.Join(e.tmp, name+"-idle.cfg")
	var args []string
	if name == "haproxy" {
		p.base = 20000
		err = l.haproxyCfg(cfg, proxyCIP, p.base, "", "", serverIP, sinkOnly)
		args = []string{"haproxy", "-db", "-f", cfg}
	} else {
		p.base = 22000
		err = l.nproxyCfg(cfg, proxyCIP, p.base, "", "", serverIP, sinkOnly)
		args = []string{e.bin("netns-proxy"), "-c", cfg}
	}
	if err != nil {
		return 0, 0, err
	}
	l.startProxy(p, l.pp, args, sinkOnly)
	if p.skip != "" {
		return 0, 0, errors.New(p.skip)
	}
	defer e.stop(p.cmd)
	time.Sleep(500 * time.Millisecond) // let start-up allocations settle
	return l.holdOnce(p, n)
}

func (l *lab) holdOnce(p *path, n int) (base, rss float64, err error) {
	e := l.e
	if err := l.waitConns(0, 30*time.Second); err != nil {
		return 0, 0, err
	}
	pid := p.pid(2)
	base = rssKiB(pid)
	cmd := exec.CommandContext(e.ctx, "ip", e.inNS(l.pc, e.self, "hold", p.addr(2), fmt.Sprint(n), "64")[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	var ok, failed int
	select {
	case s := <-line:
		if _, err := fmt.Sscanf(s, "ready %d %d", &ok, &failed); err != nil {
			return 0, 0, fmt.Errorf("hold: %q", strings.TrimSpace(s))
		}
	case <-time.After(3 * time.Minute):
		return 0, 0, fmt.Errorf("hold: no answer after 3 minutes")
	}
	if failed > 0 {
		return 0, 0, fmt.Errorf("%d of %d connections failed", failed, n)
	}
	if err := l.waitConns(n, 60*time.Second); err != nil {
		return 0, 0, err
	}
	// Idle means idle: give both proxies time to settle (netns-proxy parks
	// a direction after a second without traffic).
	time.Sleep(3 * time.Second)
	return base, rssKiB(pid), nil
}

// waitConns waits until the sink holds exactly want proxied connections.
func (l *lab) waitConns(want int, d time.Duration) error {
	deadline := time.Now().Add(d)
	got := -1
	for time.Now().Before(deadline) && l.e.ctx.Err() == nil {
		if got = l.e.countEstablished(l.ps, sinkPort); got == want {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("sink holds %d connections, want %d", got, want)
}
