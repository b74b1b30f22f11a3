//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// env is the harness's shared state: where things live and what must be
// cleaned up on every path.
type env struct {
	ctx    context.Context
	root   string // repository root (bin/ lives here)
	tmp    string // scratch directory, removed at the end
	prefix string // every namespace we create starts with it: nb-<pid>-
	quick  bool
	only   string // sections asked for (--only)
	self   string // this executable, re-run inside namespaces for helpers
	floor  string // bench/floor and bench/floor/noop, built by run.sh
	noop   string
	nofile uint64 // RLIMIT_NOFILE we and our children run with

	mu    sync.Mutex
	procs map[*exec.Cmd]bool
	once  sync.Once
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

// bin returns the path of bin/NAME, or "" when it has not been built.
func (e *env) bin(name string) string {
	if p := filepath.Join(e.root, "bin", name); executable(p) {
		return p
	}
	return ""
}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func skipped(name string) string { return "skipped: bin/" + name + " not built" }

// run executes a command to completion and returns its combined output.
func (e *env) run(args ...string) (string, error) {
	return runCtx(e.ctx, args...)
}

func runCtx(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	noteCPU(cmd)
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, lastLines(string(out), 3))
	}
	return string(out), nil
}

// lastCPU is the user+system time of the command run last (with the
// children it waited for): on a loaded machine wall time follows CPU time,
// so the CPU columns compare ways where wall times are noise.
var lastCPU atomic.Int64

func noteCPU(cmd *exec.Cmd) {
	if ps := cmd.ProcessState; ps != nil {
		lastCPU.Store(int64(ps.UserTime() + ps.SystemTime()))
	}
}

func cpuOfLast() time.Duration { return time.Duration(lastCPU.Load()) }

// runT is run with a time limit.
func (e *env) runT(d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(e.ctx, d)
	defer cancel()
	return runCtx(ctx, args...)
}

func (e *env) inNS(ns string, args ...string) []string {
	return append([]string{"ip", "netns", "exec", ns}, args...)
}

// nsAdd creates a throwaway namespace with loopback up.
func (e *env) nsAdd(suffix string) (string, error) {
	name := e.prefix + suffix
	if _, err := e.run("ip", "netns", "add", name); err != nil {
		return "", err
	}
	_, err := e.run("ip", "-n", name, "link", "set", "lo", "up")
	return name, err
}

// sysctlNS writes a sysctl inside a namespace we own.
func (e *env) sysctlNS(ns, key, val string) error {
	_, err := e.run(e.inNS(ns, "sysctl", "-q", "-w", key+"="+val)...)
	return err
}

// start launches a long-running process in its own process group, tracked
// for cleanup. Its output goes to logfile (or /dev/null when "").
func (e *env) start(logfile string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if logfile != "" {
		f, err := os.Create(logfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.procs[cmd] = true
	e.mu.Unlock()
	return cmd, nil
}

// stop ends a process started by start: SIGTERM to its group, SIGKILL after 3 s.
func (e *env) stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	e.mu.Lock()
	tracked := e.procs[cmd]
	delete(e.procs, cmd)
	e.mu.Unlock()
	if !tracked {
		return
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // forked children (socat) left in the group
}

// alive reports whether a started process is still running (not a zombie).
func alive(cmd *exec.Cmd) bool {
	if cmd == nil || cmd.Process == nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// ourNamespaces lists the namespaces under /run/netns that carry our prefix.
func (e *env) ourNamespaces() []string {
	ents, _ := os.ReadDir("/run/netns")
	var out []string
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), e.prefix) {
			out = append(out, d.Name())
		}
	}
	return out
}

// removeNS deletes one of our namespaces with whatever made it: the
// product's stop when it left a state file, then processes, mount, DNS dir.
func (e *env) removeNS(ctx context.Context, name string) {
	if stop := e.bin("netns-daemon-stop"); stop != "" {
		if _, err := os.Stat("/run/netns-daemon/" + name + ".json"); err == nil {
			c, cancel := context.WithTimeout(ctx, 15*time.Second)
			_, _ = runCtx(c, stop, "--timeout", "1s", name)
			cancel()
		}
	}
	if out, err := runCtx(ctx, "ip", "netns", "pids", name); err == nil {
		for _, f := range strings.Fields(out) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if _, err := os.Stat("/run/netns/" + name); err == nil {
		_, _ = runCtx(ctx, "ip", "netns", "del", name)
	}
	_ = os.RemoveAll("/etc/netns/" + name)
}

// cleanup stops every process and removes every namespace we made. Safe to
// call more than once and from a signal path.
func (e *env) cleanup() {
	e.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		e.mu.Lock()
		var cmds []*exec.Cmd
		for c := range e.procs {
			cmds = append(cmds, c)
		}
		e.mu.Unlock()
		for _, c := range cmds {
			e.stop(c)
		}
		names := e.ourNamespaces()
		if len(names) > 0 {
			logf("cleanup: removing %d namespaces", len(names))
		}
		for _, n := range names {
			e.removeNS(ctx, n)
		}
		if e.tmp != "" {
			_ = os.RemoveAll(e.tmp)
		}
	})
}

// procTree returns pid and its living descendants: netns-proxy is a master
// and a worker, and both count.
func procTree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out) && i < 64; i++ {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", out[i]))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", out[i], t.Name()))
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// cpuSeconds returns utime+stime of a process and its living descendants,
// plus what its reaped children used, in seconds.
func cpuSeconds(pid int) float64 {
	var t float64
	for i, p := range procTree(pid) {
		t += cpuOf(p, i == 0)
	}
	return t
}

func cpuOf(pid int, reaped bool) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// fields after ")": state(0) ... utime(11) stime(12) cutime(13) cstime(14)
	if len(f) < 15 {
		return 0
	}
	fields := []int{11, 12}
	if reaped {
		fields = append(fields, 13, 14)
	}
	var t float64
	for _, k := range fields {
		v, _ := strconv.ParseFloat(f[k], 64)
		t += v
	}
	return t / 100 // USER_HZ
}

// rssKiB returns the VmRSS of a process and its living descendants, in KiB.
func rssKiB(pid int) float64 {
	var sum float64
	for _, p := range procTree(pid) {
		sum += rssOf(p)
	}
	return sum
}

func rssOf(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return v
		}
	}
	return 0
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// waitListen polls until something listens on port inside ns.
func (e *env) waitListen(ns string, port int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		out, err := e.run(e.inNS(ns, "ss", "-Htln", fmt.Sprintf("sport = :%d", port))...)
		if err == nil && strings.TrimSpace(out) != "" {
			return nil
		}
		if e.ctx.Err() != nil {
			return e.ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on :%d in %s after %v", port, ns, d)
}

// countEstablished counts established TCP sockets with a local port in ns.
func (e *env) countEstablished(ns string, port int) int {
	out, err := e.run(e.inNS(ns, "ss", "-Htn", "state", "established", fmt.Sprintf("sport = :%d", port))...)
	if err != nil {
		return -1
	}
	return strings.Count(out, "\n")
}

// alerts returns the ALERT lines of a proxy log, or its last lines.
func alerts(path string) string {
	b, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "ALERT") || strings.Contains(strings.ToLower(l), "error") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	if len(out) == 0 {
		return lastLines(string(b), 3)
	}
	return lastLines(strings.Join(out, "\n"), 3)
}
