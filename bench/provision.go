//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The operator's way: one ip/sysctl command per step, as in a unit file.
// Args: NAME HOSTNS PEER_IN PEER_OUT IN_NET OUT_NET (nets as "10.64.3").
const upScript = `#!/bin/sh
set -e
ns=$1 h=$2 pi=$3 po=$4 a=$5 b=$6
ip netns add "$ns"
ip -n "$h" link add "$pi" type veth peer name in0 netns "$ns"
ip -n "$h" addr add "$a.1/24" dev "$pi"
ip -n "$h" link set "$pi" up
ip -n "$h" link add "$po" type veth peer name out0 netns "$ns"
ip -n "$h" addr add "$b.1/24" dev "$po"
ip -n "$h" link set "$po" up
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$a.5/24" dev in0
ip -n "$ns" link set in0 up
ip -n "$ns" addr add "$b.5/24" dev out0
ip -n "$ns" link set out0 up
ip -n "$ns" route add default via "$b.1"
ip netns exec "$ns" sysctl -q -w net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.in0.rp_filter=2 net.ipv4.conf.out0.rp_filter=1 net.ipv4.conf.out0.arp_notify=1
mkdir -p "/etc/netns/$ns"
echo "nameserver $b.1" > "/etc/netns/$ns/resolv.conf"
`

// Deleting the namespace lets the kernel reap both veth pairs (faster than
// deleting each veth).
const downScript = `#!/bin/sh
ns=$1
ip netns del "$ns"
rm -rf "/etc/netns/$ns"
`

// Processes per namespace: sh + 15 commands up, sh + 2 commands down.
const scriptProcs = 16 + 3

const seedTOML = `[inbound]
kind = "veth"
peer = "%[1]s"
addresses = ["%[3]s.5/24"]
peer_addresses = ["%[3]s.1/24"]
rp_filter = "loose"

[outbound]
kind = "veth"
peer = "%[2]s"
addresses = ["%[4]s.5/24"]
peer_addresses = ["%[4]s.1/24"]
gateway = "%[4]s.1"

[sysctl]
"net.ipv4.conf.out0.arp_notify" = "1"

[dns]
nameservers = ["%[4]s.1"]
`

// provResult holds section 1.
type provResult struct {
	err          string
	script       once // one start, one stop, ms
	ours         once
	oursB        once // --compare: another build of ours, same rounds
	bSkip        string
	floor        once   // bench/floor: the same kernel work, nothing else
	noop         series // a do-nothing static Go program, exec to exit
	rec          series // ours: start with one address more on a provisioned name
	recFloor     series // floor: a Go process and that one netlink call
	recCPU       series // their user+system time
	recFloorCPU  series
	oursSkip     string
	floorSkip    string
	note         []string // what went wrong without stopping the section
	peakRSS      series   // KiB, netns-daemon-start
	oursProcs    int
	ns           []int
	scriptMaxN   int // largest N the script runs at
	scriptPer    map[int]*batch
	oursPer      map[int]*batch
	scriptProc   int
	procsCounted bool // by perf's sched_process_exec count, not by design
	oursCounted  bool
}

type batch struct{ create, remove, total series } // ms per namespace

// once is one start and one stop, timed apart: stop until its own work is
// done, then the kernel's asynchronous reap of the host-side veth peers.
// upCPU and downCPU are the processes' user+system time.
type once struct{ up, down, reap, total, upCPU, downCPU series }

func (o *once) add(up, down, reap, upCPU, downCPU time.Duration) {
	o.up, o.down, o.reap = append(o.up, ms(up)), append(o.down, ms(down)), append(o.reap, ms(reap))
	o.total = append(o.total, ms(up+down+reap))
	o.upCPU, o.downCPU = append(o.upCPU, ms(upCPU)), append(o.downCPU, ms(downCPU))
}

// nsSpec is namespace number i of a run: names and addresses.
type nsSpec struct{ name, peerIn, peerOut, in, out string }

func (e *env) spec(kind string, i int) nsSpec {
	return nsSpec{
		name:    fmt.Sprintf("%s%s%04d", e.prefix, kind, i),
		peerIn:  fmt.Sprintf("%si%04d", kind, i),
		peerOut: fmt.Sprintf("%so%04d", kind, i),
		in:      fmt.Sprintf("10.%d.%d", 64+i/256, i%256),
		out:     fmt.Sprintf("10.%d.%d", 128+i/256, i%256),
	}
}

type provisioner struct {
	e           *env
	watch       *exec.Cmd // a sleeper in the host namespace, see waitReaped
	host        string
	up, down    string
	start, stop string
	floor, noop string // bench/floor and bench/floor/noop, built by run.sh
}

func (p *provisioner) floorUp(s nsSpec) error {
	_, err := p.e.run(p.floor, "start", s.name, p.host, s.peerIn, s.peerOut, s.in, s.out)
	return err
}

func (p *provisioner) floorDown(s nsSpec) error {
	_, err := p.e.run(p.floor, "stop", s.name)
	return err
}

func (p *provisioner) scriptUp(s nsSpec) error {
	_, err := p.e.run("sh", p.up, s.name, p.host, s.peerIn, s.peerOut, s.in, s.out)
	return err
}

func (p *provisioner) scriptDown(s nsSpec) error {
	_, err := p.e.run("sh", p.down, s.name)
	return err
}

func (p *provisioner) tomlFor(s nsSpec) (string, error) {
	f := filepath.Join(p.e.tmp, s.name+".toml")
	return f, os.WriteFile(f, []byte(fmt.Sprintf(seedTOML, s.peerIn, s.peerOut, s.in, s.out)), 0o644)
}

// vip is the one address the reconcile rows add to in0.
func (s nsSpec) vip() string { return s.in + ".7/24" }

// tomlPlusVIP writes the seed spec of s with vip() as a second address
// of in0: starting with it on a provisioned name is a reconcile.
func (p *provisioner) tomlPlusVIP(s nsSpec) (string, error) {
	f := filepath.Join(p.e.tmp, s.name+"+vip.toml")
	body := fmt.Sprintf(seedTOML, s.peerIn, s.peerOut, s.in, s.out)
	body = strings.Replace(body, `.5/24"]`, `.5/24", "`+s.vip()+`"]`, 1)
	return f, os.WriteFile(f, []byte(body), 0o644)
}

// oursUp runs netns-daemon-start and returns its peak RSS in KiB.
func (p *provisioner) oursUp(s nsSpec, cfg string) (float64, error) {
	return p.oursUpIn(s, p.host, cfg)
}

func (p *provisioner) oursUpIn(s nsSpec, host, cfg string) (float64, error) {
	cmd := exec.CommandContext(p.e.ctx, p.start, "--quiet", "--host-netns", host, "-c", cfg, s.name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	noteCPU(cmd)
	if err != nil {
		return 0, fmt.Errorf("netns-daemon-start %s: %w: %s", s.name, err, lastLines(string(out), 3))
	}
	var rss float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss)
	}
	return rss, nil
}

func (p *provisioner) oursDown(s nsSpec) error {
	_, err := p.e.run(p.stop, "--quiet", s.name)
	return err
}

// verify checks that a provisioned namespace has both addresses and the
// default route via outbound, so a no-op binary cannot look fast.
func (p *provisioner) verify(s nsSpec) error {
	addrs, err := p.e.run("ip", "-n", s.name, "-o", "-4", "addr")
	if err != nil {
		return err
	}
	routes, err := p.e.run("ip", "-n", s.name, "route", "show", "default")
	if err != nil {
		return err
	}
	if !strings.Contains(addrs, s.in+".5/24") || !strings.Contains(addrs, s.out+".5/24") ||
		!strings.Contains(routes, "via "+s.out+".1") {
		return fmt.Errorf("%s not provisioned as asked: %q %q", s.name, addrs, routes)
	}
	return nil
}

// waitReaped waits until the kernel has reaped the host-side peers of
// removed namespaces (the host namespace holds only lo again), polling the
// namespace's /proc/PID/net/dev through a sleeper living there, every
// millisecond, at most 2 minutes.
func (p *provisioner) waitReaped() {
	if p.watch == nil {
		cmd, err := p.e.start("", p.e.inNS(p.host, "sleep", "86400")...)
		if err != nil {
			logf("host namespace watcher: %v", err)
			return
		}
		p.watch = cmd
		comm := fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)
		for i := 0; i < 200; i++ { // until ip netns exec has entered and exec'd
			if b, _ := os.ReadFile(comm); strings.TrimSpace(string(b)) == "sleep" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	dev := fmt.Sprintf("/proc/%d/net/dev", p.watch.Process.Pid)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && p.e.ctx.Err() == nil {
		b, err := os.ReadFile(dev)
		// two header lines, then one line per device: lo alone is 3
		if err != nil || strings.Count(string(b), "\n") <= 3 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// execs counts the programs a command runs (itself included), from the
// sched_process_exec tracepoint through perf stat; -1 without perf.
func (e *env) execs(args ...string) int {
	if _, err := exec.LookPath("perf"); err != nil {
		return -1
	}
	out := filepath.Join(e.tmp, "perf.csv")
	a := append([]string{"perf", "stat", "-x,", "-e", "sched:sched_process_exec", "-o", out, "--"}, args...)
	if _, err := e.run(a...); err != nil {
		return -1
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Split(l, ","); len(f) > 2 && strings.Contains(l, "sched_process_exec") {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return -1
}

// countExecs measures processes per namespace for one way: up then down.
func (p *provisioner) countExecs(kind string, up, down []string) int {
	a, b := p.e.execs(up...), p.e.execs(down...)
	p.waitReaped()
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}
