//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Addresses of the proxy topology: client ns (pc) → proxy ns (pp) → server
// ns (ps) over two veth pairs; px is an empty namespace for the crossing
// test, where the proxy runs outside both ends.
const (
	clientIP  = "10.201.1.2"
	proxyCIP  = "10.201.1.1" // proxy's client-facing address
	proxySIP  = "10.201.2.1"
	serverIP  = "10.201.2.2"
	iperfPort = 5201
	httpPort  = 8080
	sinkPort  = 9100
)

// Service ports on each proxy: base+1 iperf, base+2 http, base+3 sink.
var (
	svcPorts = []int{iperfPort, httpPort, sinkPort}
	twoSvcs  = []int{0, 1} // iperf and http: the throughput and wrk tests
)

type lab struct {
	e              *env
	pc, pp, ps, px string
	servers        []*exec.Cmd
}

// path is one way from the client to the servers.
type path struct {
	name string
	ns   string // where the listener lives (for readiness checks)
	host string
	base int // 0: connect to the servers' own ports
	cmd  *exec.Cmd
	svc  []*exec.Cmd // socat: one process per service
	skip string
}

func (p *path) addr(svc int) string {
	port := svcPorts[svc]
	if p.base != 0 {
		port = p.base + 1 + svc
	}
	return fmt.Sprintf("%s:%d", p.host, port)
}

// dead reports whether a proxy process of the path has exited.
func (p *path) dead() bool {
	for _, c := range append([]*exec.Cmd{p.cmd}, p.svc...) {
		if c != nil && !alive(c) {
			return true
		}
	}
	return false
}

// pid is the process serving svc (0 for the direct path).
func (p *path) pid(svc int) int {
	c := p.cmd
	if svc < len(p.svc) {
		c = p.svc[svc]
	}
	if c == nil || c.Process == nil {
		return 0
	}
	return c.Process.Pid
}

func (l *lab) setup() error {
	e := l.e
	var err error
	for _, n := range []struct {
		dst *string
		sfx string
	}{{&l.pc, "pc"}, {&l.pp, "pp"}, {&l.ps, "ps"}, {&l.px, "px"}} {
		if *n.dst, err = e.nsAdd(n.sfx); err != nil {
			return err
		}
	}
	cmds := [][]string{
		{"ip", "-n", l.pp, "link", "add", "pc0", "type", "veth", "peer", "name", "c0", "netns", l.pc},
		{"ip", "-n", l.pp, "link", "add", "ps0", "type", "veth", "peer", "name", "s0", "netns", l.ps},
		{"ip", "-n", l.pp, "addr", "add", proxyCIP + "/24", "dev", "pc0"},
		{"ip", "-n", l.pp, "addr", "add", proxySIP + "/24", "dev", "ps0"},
		{"ip", "-n", l.pc, "addr", "add", clientIP + "/24", "dev", "c0"},
		{"ip", "-n", l.ps, "addr", "add", serverIP + "/24", "dev", "s0"},
		{"ip", "-n", l.pp, "link", "set", "pc0", "up"},
		{"ip", "-n", l.pp, "link", "set", "ps0", "up"},
		{"ip", "-n", l.pc, "link", "set", "c0", "up"},
		{"ip", "-n", l.ps, "link", "set", "s0", "up"},
		{"ip", "-n", l.pc, "route", "add", "default", "via", proxyCIP},
		{"ip", "-n", l.ps, "route", "add", "default", "via", proxySIP},
	}
	for _, c := range cmds {
		if _, err := e.run(c...); err != nil {
			return err
		}
	}
	if err := e.sysctlNS(l.pp, "net.ipv4.ip_forward", "1"); err != nil {
		return err
	}
	for _, ns := range []string{l.pc, l.pp, l.ps, l.px} {
		for k, v := range map[string]string{
			"net.ipv4.tcp_tw_reuse":        "1",
			"net.ipv4.ip_local_port_range": "1024 65000",
			"net.core.somaxconn":           "8192",
			"net.ipv4.tcp_max_syn_backlog": "8192",
		} {
			if err := e.sysctlNS(ns, k, v); err != nil {
				return err
			}
		}
	}
	// Servers, all in the server namespace.
	for _, args := range [][]string{
		iperfServer,
		{e.self, "httpd", fmt.Sprintf("0.0.0.0:%d", httpPort)},
		{e.self, "sink", fmt.Sprintf("0.0.0.0:%d", sinkPort)},
	} {
		cmd, err := e.start(filepath.Join(e.tmp, "srv-"+filepath.Base(args[0])+".log"), e.inNS(l.ps, args...)...)
		if err != nil {
			return err
		}
		l.servers = append(l.servers, cmd)
	}
	for _, p := range svcPorts {
		if err := e.waitListen(l.ps, p, 5*time.Second); err != nil {
			return err
		}
	}
	return nil
}

var iperfServer = []string{"iperf3", "-s", "-p", fmt.Sprint(iperfPort), "--rcv-timeout", "10000"}

// restartIperf replaces the iperf3 server (servers[0]).
func (l *lab) restartIperf() {
	e := l.e
	e.stop(l.servers[0])
	cmd, err := e.start(filepath.Join(e.tmp, "srv-iperf3.log"), e.inNS(l.ps, iperfServer...)...)
	if err != nil {
		logf("restarting iperf3: %v", err)
		return
	}
	l.servers[0] = cmd
	if err := e.waitListen(l.ps, iperfPort, 5*time.Second); err != nil {
		logf("restarting iperf3: %v", err)
	}
}

func (l *lab) teardown() {
	for _, c := range l.servers {
		l.e.stop(c)
	}
}

// HAProxy 2.6, mode tcp, splice forced both ways; one tcplog line per
// connection to stdout, the same work netns-proxy does.
const haproxyHead = `global
    maxconn %[1]d
    maxpipes 256
    log stdout format raw daemon
defaults
    mode tcp
    log global
    option tcplog
    option splice-request
    option splice-response
    timeout connect 5s
    timeout client 10m
    timeout server 10m
    maxconn %[1]d
`

// haproxyCfg writes a config with one frontend/backend per service. bindNS
// and srvNS set `namespace` on bind and server lines (crossing test).
func (l *lab) haproxyCfg(file, bindHost string, base int, bindNS, srvNS, srvHost string, svcs []int) error {
	var b strings.Builder
	fmt.Fprintf(&b, haproxyHead, l.e.maxConns())
	for _, i := range svcs {
		bns, sns := "", ""
		if bindNS != "" {
			bns = " namespace " + bindNS
		}
		if srvNS != "" {
			sns = " namespace " + srvNS
		}
		fmt.Fprintf(&b, "frontend f%d\n    bind %s:%d%s\n    default_backend b%d\n", i, bindHost, base+1+i, bns, i)
		fmt.Fprintf(&b, "backend b%d\n    server s1 %s:%d%s\n", i, srvHost, svcPorts[i], sns)
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// nproxyCfg writes the netns-proxy config of issue 4 for the same services.
func (l *lab) nproxyCfg(file, bindHost string, base int, bindNS, srvNS, srvHost string, svcs []int) error {
	var b strings.Builder
	var names []string
	for _, n := range []string{bindNS, srvNS} {
		if n != "" {
			names = append(names, fmt.Sprintf("%q", n))
		}
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, "namespaces = [%s]\n\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(&b, "[defaults]\nconnect_timeout = \"5s\"\nclient_timeout = \"10m\"\nserver_timeout = \"10m\"\nmax_connections = %d\n\n[log]\nformat = \"text\"\n\n", l.e.maxConns())
	for _, i := range svcs {
		fmt.Fprintf(&b, "[[frontend]]\nname = \"f%d\"\nbind = [\"%s:%d\"]\n", i, bindHost, base+1+i)
		if bindNS != "" {
			fmt.Fprintf(&b, "namespace = %q\n", bindNS)
		}
		fmt.Fprintf(&b, "backend = \"b%d\"\n\n[[backend]]\nname = \"b%d\"\n\n[[backend.server]]\nname = \"s1\"\naddress = \"%s:%d\"\n", i, i, srvHost, svcPorts[i])
		if srvNS != "" {
			fmt.Fprintf(&b, "namespace = %q\n", srvNS)
		}
		b.WriteString("\n")
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// startProxy runs a proxy in ns and waits for its listeners (in lns).
func (l *lab) startProxy(p *path, runNS string, args []string, svcs []int) {
	e := l.e
	logFile := filepath.Join(e.tmp, strings.ReplaceAll(p.name, " ", "_")+".log")
	cmd, err := e.start(logFile, e.inNS(runNS, args...)...)
	if err != nil {
		p.skip = "failed: " + err.Error()
		return
	}
	p.cmd = cmd
	for _, i := range svcs {
		if err := e.waitListen(p.ns, p.base+1+i, 5*time.Second); err != nil {
			p.skip = "failed: " + err.Error() + ": " + alerts(logFile)
			e.stop(cmd)
			p.cmd = nil
			return
		}
	}
}

// paths starts the routed paths: direct, haproxy, socat, netns-proxy, all
// listening in the proxy namespace at once (idle ones cost nothing).
func (l *lab) paths() []*path {
	e := l.e
	direct := &path{name: "direct (routed)", host: serverIP}
	hap := &path{name: "haproxy", ns: l.pp, host: proxyCIP, base: 10000}
	soc := &path{name: "socat", ns: l.pp, host: proxyCIP, base: 11000}
	npx := &path{name: "netns-proxy", ns: l.pp, host: proxyCIP, base: 12000}

	hcfg := filepath.Join(e.tmp, "haproxy.cfg")
	if err := l.haproxyCfg(hcfg, proxyCIP, hap.base, "", "", serverIP, twoSvcs); err != nil {
		hap.skip = err.Error()
	} else if out, err := e.run("haproxy", "-c", "-q", "-f", hcfg); err != nil {
		hap.skip = "failed: haproxy -c: " + lastLines(out, 2)
	} else {
		l.startProxy(hap, l.pp, []string{"haproxy", "-db", "-f", hcfg}, twoSvcs)
	}

	// socat forks a process per connection; one listener per service.
	for i := 0; i < 2 && soc.skip == ""; i++ {
		p := &path{name: fmt.Sprintf("socat%d", i), ns: l.pp, base: soc.base}
		l.startProxy(p, l.pp, []string{"socat", "-lf", "/dev/null",
			fmt.Sprintf("TCP-LISTEN:%d,bind=%s,fork,reuseaddr,backlog=4096", soc.base+1+i, proxyCIP),
			fmt.Sprintf("TCP:%s:%d", serverIP, svcPorts[i])}, []int{i})
		soc.skip = p.skip
		soc.svc = append(soc.svc, p.cmd)
	}

	if bin := e.bin("netns-proxy"); bin == "" {
		npx.skip = skipped("netns-proxy")
	} else {
		cfg := filepath.Join(e.tmp, "netns-proxy.toml")
		if err := l.nproxyCfg(cfg, proxyCIP, npx.base, "", "", serverIP, twoSvcs); err != nil {
			npx.skip = err.Error()
		} else if out, err := e.run(bin, "-c", cfg, "--check"); err != nil {
			npx.skip = "failed: netns-proxy --check: " + lastLines(out, 2)
		} else {
			l.startProxy(npx, l.pp, []string{bin, "-c", cfg}, twoSvcs)
		}
	}
	return []*path{direct, hap, soc, npx}
}

// maxConns is what a proxy may hold with our RLIMIT_NOFILE: two fds per
// proxied connection plus HAProxy's 256 splice pipes, listeners and poller.
func (e *env) maxConns() int {
	n := (int(e.nofile) - 700) / 2
	if n > 40000 {
		n = 40000
	}
	return n
}
