//go:build linux

// Command reload measures what clients lose while a proxy is reloaded
// under load: netns-proxy (SIGHUP to its master) against HAProxy reloaded
// with -sf, without and with -x (listening sockets fetched over the stats
// socket). Everything runs on loopback inside a throwaway namespace.
//
//	go run ./bench/reload [-clients 200] [-reloads 20] [-span 10s]
//
// Needs root, ip(8) and /usr/sbin/haproxy. Bench code: it shells out.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	front   = "127.0.0.1:8080"
	backend = "127.0.0.1:9000"
)

var (
	clients = flag.Int("clients", 200, "concurrent clients")
	reloads = flag.Int("reloads", 20, "reloads per run")
	span    = flag.Duration("span", 10*time.Second, "load duration per run")
	maxLen  = flag.Int("payload", 32<<10, "largest payload in bytes (each connection sends 1 to this many)")
	haproxy = flag.String("haproxy", "/usr/sbin/haproxy", "haproxy binary")
	inner   = flag.Bool("inner", false, "internal: run inside the namespace")
)

func main() {
	flag.Parse()
	if *inner {
		os.Exit(runAll())
	}
	os.Exit(outer())
}

// outer builds netns-proxy, makes the namespace, runs itself inside it and
// always deletes the namespace.
func outer() int {
	dir, err := os.MkdirTemp("", "bench-reload-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if out, err := exec.Command("go", "build", "-o", dir+"/netns-proxy", "./cmd/netns-proxy").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building netns-proxy (run from the repository root): %v\n%s", err, out)
		return 1
	}
	b := make([]byte, 3)
	rand.Read(b)
	ns := "bench-reload-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "ip netns add: %v: %s", err, out)
		return 1
	}
	defer func() { _ = exec.Command("ip", "netns", "del", ns).Run() }()
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM) // the child stops; we clean up
	_ = exec.Command("ip", "-n", ns, "link", "set", "lo", "up").Run()
	self, _ := os.Executable()
	cmd := exec.Command("ip", "netns", "exec", ns, self, "-inner", "-haproxy", *haproxy,
		"-clients", fmt.Sprint(*clients), "-payload", fmt.Sprint(*maxLen), "-reloads", fmt.Sprint(*reloads), "-span", span.String())
	cmd.Stdout, cmd.Stderr, cmd.Dir = os.Stdout, os.Stderr, dir
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

type result struct{ ok, connectFailed, broken atomic.Int64 }

// proxyUnderTest starts a proxy and reloads it.
type proxyUnderTest interface {
	start() error
	reload() error
	stop()
}

func runAll() int {
	ln, err := net.Listen("tcp", backend)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go echo(ln)
	dir, _ := os.Getwd()
	fmt.Printf("%d clients, %d reloads in %v each (payload 1-%d bytes, full echo checked)\n", *clients, *reloads, *span, *maxLen)
	fmt.Printf("%-32s %10s %15s %15s\n", "proxy", "echoes ok", "failed connect", "broken stream")
	for _, p := range []struct {
		name string
		p    proxyUnderTest
	}{
		{"netns-proxy (SIGHUP)", &netnsProxy{dir: dir}},
		{"haproxy -sf", &haproxyRun{dir: dir}},
		{"haproxy -sf -x (expose-fd)", &haproxyRun{dir: dir, transfer: true}},
	} {
		r, err := measure(p.p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", p.name, err)
			return 1
		}
		fmt.Printf("%-32s %10d %15d %15d\n", p.name, r.ok.Load(), r.connectFailed.Load(), r.broken.Load())
	}
	return 0
}

func measure(p proxyUnderTest) (*result, error) {
	if err := p.start(); err != nil {
		return nil, err
	}
	defer p.stop()
	if err := waitUp(); err != nil {
		return nil, err
	}
	var r result
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range *clients {
		wg.Go(func() { client(i, &r, stop) })
	}
	start := time.Now()
	var rerr error
	for i := range *reloads {
		time.Sleep(time.Until(start.Add(*span * time.Duration(i+1) / time.Duration(*reloads+1))))
		if err := p.reload(); err != nil && rerr == nil {
			rerr = err
		}
	}
	time.Sleep(time.Until(start.Add(*span)))
	close(stop)
	wg.Wait()
	return &r, rerr
}

func client(seed int, r *result, stop <-chan struct{}) {
	payload := make([]byte, *maxLen)
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		p := payload[:1+(seed*7919+n*104729)%len(payload)]
		rand.Read(p)
		c, err := net.DialTimeout("tcp", front, 5*time.Second)
		if err != nil {
			r.connectFailed.Add(1)
			continue
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() { _, _ = c.Write(p); _ = c.(*net.TCPConn).CloseWrite() }()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || !bytes.Equal(got, p) {
			r.broken.Add(1)
			continue
		}
		r.ok.Add(1)
	}
}

func waitUp() error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", front); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("%s not up", front)
}

func echo(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); _, _ = io.Copy(c, c); _ = c.(*net.TCPConn).CloseWrite() }()
	}
}

type netnsProxy struct {
	dir string
	cmd *exec.Cmd
	n   int
}

func (p *netnsProxy) start() error {
	cfg := fmt.Sprintf("[defaults]\ngrace = \"10s\"\n[log]\nformat = \"json\"\n[[frontend]]\nname = \"in\"\nbind = [%q]\nbackend = \"app\"\n"+
		"[[backend]]\nname = \"app\"\n[[backend.server]]\nname = \"echo\"\naddress = %q\n", front, backend)
	path := filepath.Join(p.dir, "proxy.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return err
	}
	p.cmd = exec.Command(filepath.Join(p.dir, "netns-proxy"), "-c", path)
	return p.cmd.Start() // logs go to the void: one line per connection
}

func (p *netnsProxy) reload() error {
	p.n++
	return p.cmd.Process.Signal(syscall.SIGHUP)
}

func (p *netnsProxy) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
}

// haproxyRun is the classic reload: a new process started with -sf OLD
// binds (SO_REUSEPORT), then tells the old one to stop listening.
type haproxyRun struct {
	dir      string
	transfer bool // -x: take the listening sockets over the stats socket
	procs    []*exec.Cmd
}

func (h *haproxyRun) cfg() string  { return filepath.Join(h.dir, "haproxy.cfg") }
func (h *haproxyRun) sock() string { return filepath.Join(h.dir, "stats.sock") }

func (h *haproxyRun) start() error {
	stats := ""
	if h.transfer {
		stats = fmt.Sprintf("\tstats socket %s mode 600 level admin expose-fd listeners\n", h.sock())
	}
	cfg := "global\n\tmaxconn 4000\n" + stats +
		"defaults\n\tmode tcp\n\ttimeout connect 5s\n\ttimeout client 1m\n\ttimeout server 1m\n" +
		"frontend in\n\tbind " + front + "\n\tdefault_backend app\n" +
		"backend app\n\tserver echo " + backend + "\n"
	if err := os.WriteFile(h.cfg(), []byte(cfg), 0o600); err != nil {
		return err
	}
	return h.spawn()
}

func (h *haproxyRun) spawn(extra ...string) error {
	cmd := exec.Command(*haproxy, append([]string{"-db", "-q", "-f", h.cfg()}, extra...)...)
	if err := cmd.Start(); err != nil {
		return err
	}
	h.procs = append(h.procs, cmd)
	go func() { _ = cmd.Wait() }()
	return nil
}

func (h *haproxyRun) reload() error {
	old := h.procs[len(h.procs)-1].Process.Pid
	args := []string{"-sf", fmt.Sprint(old)}
	if h.transfer {
		args = append([]string{"-x", h.sock()}, args...)
	}
	return h.spawn(args...)
}

func (h *haproxyRun) stop() {
	for _, c := range h.procs {
		_ = c.Process.Kill()
	}
	time.Sleep(100 * time.Millisecond)
	os.Remove(h.sock())
}
