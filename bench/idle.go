package main

import (
	"bufio"
	"fmt"
	"os/exec"
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

// idleMemory opens N connections through each proxy (HAProxy, netns-proxy)
// to the sink, reads the proxy's RSS while they are held, then closes them.
func (l *lab) idleMemory(paths []*path, n, reps int) []*idleResult {
	e := l.e
	var out []*idleResult
	var live []*path
	for _, p := range paths {
		if p.name != "haproxy" && p.name != "netns-proxy" {
			continue
		}
		out = append(out, &idleResult{name: p.name, skip: p.skip})
		live = append(live, p)
	}
	logf("proxy: idle memory, %d × %d connections", reps, n)
	for rep := 0; rep < reps && e.ctx.Err() == nil; rep++ {
		for i, p := range live {
			r := out[i]
			if p.skip != "" || len(r.errs) > 0 {
				continue
			}
			base, rss, err := l.holdOnce(p, n)
			if err != nil {
				r.errs = append(r.errs, err.Error())
				continue
			}
			r.base, r.rss = append(r.base, base), append(r.rss, rss)
		}
	}
	return out
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
	time.Sleep(time.Second)
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
