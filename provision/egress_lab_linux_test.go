package provision

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// egressLab is the topology, all throwaway namespaces:
//
//	client C 10.5.0.2 ── router R 10.5.0.1 │ 10.1.0.1 ─┐
//	                    (radvd on its inbound side)     bridge brin in host H (10.1.0.254)
//	witness W (accepts RAs) ───────────────────────────┤
//	                                  daemon's in0 10.1.0.5 (veth, bridged)
//	daemon's out0 10.2.0.5 ── H 10.2.0.1 ── H up0 192.168.50.1 ── L 192.168.50.2 (the uplink LAN:
//	                                                                server, neighbour, client)
//
// and another network of the host's, H 172.16.0.1 ── O 172.16.0.2, that
// is none of the namespace's business.
type egressLab struct {
	host, lan, router, client, witness, other string
}

func newEgressLab(t *testing.T) *egressLab {
	t.Helper()
	lab := &egressLab{host: nstest.NS(t, "eh"), lan: nstest.NS(t, "el"), router: nstest.NS(t, "er"),
		client: nstest.NS(t, "ec"), witness: nstest.NS(t, "ew"), other: nstest.NS(t, "eo")}
	h := lab.host
	// No DAD on the lab's own interfaces: a router whose link-local
	// address is still tentative delays its first neighbour solicitation
	// past a client's first SYN.
	for _, ns := range []string{lab.lan, lab.router, lab.client, lab.witness, lab.other} {
		nstest.Sh(t, ns, "sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0")
	}
	// The host takes no advertisements itself and needs no DAD, so that
	// its routes are settled before the first snapshot.
	nstest.Sh(t, h, "sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0")
	nstest.Sh(t, h, "ip link add brin type bridge && ip addr add 10.1.0.254/24 dev brin && ip addr add fd00:1::254/64 dev brin nodad && ip link set brin up")
	nstest.Veth(t, h, "up0", "192.168.50.1/24", lab.lan, "eth0", "192.168.50.2/24")
	nstest.Veth(t, h, "r0", "", lab.router, "in", "10.1.0.1/24")
	nstest.Veth(t, h, "w0", "", lab.witness, "in", "")
	nstest.Sh(t, h, "ip link set r0 master brin && ip link set w0 master brin")
	nstest.Sh(t, lab.router, "ip addr add fd00:1::1/64 dev in nodad && ip addr add 198.51.100.1/32 dev lo && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
	nstest.Veth(t, lab.router, "cl", "10.5.0.1/24", lab.client, "eth0", "10.5.0.2/24")
	nstest.Sh(t, lab.router, "ip addr add fd00:5::1/64 dev cl nodad")
	nstest.Sh(t, lab.client, "ip addr add fd00:5::2/64 dev eth0 nodad && ip route add default via 10.5.0.1 && ip -6 route add default via fd00:5::1")
	// The LAN neighbour tries to route through the host into the
	// namespace's networks.
	nstest.Sh(t, lab.lan, "ip route add 10.0.0.0/8 via 192.168.50.1 && ip route add 172.16.0.0/24 via 192.168.50.1")
	nstest.Veth(t, h, "o0", "172.16.0.1/24", lab.other, "eth0", "172.16.0.2/24")
	// Settled before a test takes its first snapshot: every link has its
	// carrier (and so its link-local address and routes).
	waitFor(t, "the lab's links to come up", func() bool {
		return !strings.Contains(nstest.IP(t, "-n", h, "route", "show", "table", "all"), "linkdown")
	})
	return lab
}

// egressSpec is the example in the lab: reply routing through
// the router, NAT out of up0, the guard, published TCP and UDP ports.
func (lab *egressLab) spec(name string) *Spec {
	return &Spec{Name: name, HostNetns: lab.host,
		Inbound: &Iface{Bridge: "brin", Addresses: []string{"10.1.0.5/24", "fd00:1::5/64"},
			ReplyVia: "10.1.0.1", ReplyVia6: "fd00:1::1"},
		Outbound: &Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1", Masquerade: "up0"},
		DNS:      DNS{Nameservers: []string{"10.2.0.1"}},
		Egress:   Egress{Only: []string{"out0"}},
		Sysctl:   map[string]string{},
		Publish:  []Publish{{"tcp", "0.0.0.0:8080", "10.2.0.5:80"}, {"udp", "0.0.0.0:8080", "10.2.0.5:80"}},
	}
}

// whoServer answers each TCP connection (or UDP datagram) with the
// address it came from.
func whoServer(t *testing.T, ns, proto, addr string) {
	t.Helper()
	if proto == "udp" {
		var pc net.PacketConn
		var err error
		nstest.Do(t, ns, func() { pc, err = net.ListenPacket("udp", addr) })
		if err != nil {
			t.Fatalf("listening on udp %s in %q: %v", addr, ns, err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 512)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo([]byte(from.(*net.UDPAddr).IP.String()), from)
			}
		}()
		return
	}
	ln := nstest.Listen(t, ns, addr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(c.RemoteAddr().(*net.TCPAddr).IP.String()))
			c.Close()
		}
	}()
}

// ask connects from ns and returns what the server says ("" and the
// error if nothing came back within a second).
func ask(t *testing.T, ns, proto, addr string) (string, error) {
	t.Helper()
	var c net.Conn
	var err error
	nstest.Do(t, ns, func() { c, err = net.DialTimeout(proto, addr, time.Second) })
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if proto == "udp" {
		if _, err := c.Write([]byte("?")); err != nil {
			return "", err
		}
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

func wantAnswer(t *testing.T, ns, proto, addr, want string) {
	t.Helper()
	got, err := ask(t, ns, proto, addr)
	if err != nil || got != want {
		t.Errorf("%s %s from %q: got %q, %v; want %q", proto, addr, ns, got, err, want)
	}
}

func wantNothing(t *testing.T, ns, proto, addr string) {
	t.Helper()
	if got, err := ask(t, ns, proto, addr); err == nil {
		t.Errorf("%s %s from %q: got %q; want no answer", proto, addr, ns, got)
	}
}

// udpSink counts the datagrams that reach addr in ns.
func udpSink(t *testing.T, ns, addr string) func() int {
	t.Helper()
	var pc net.PacketConn
	var err error
	nstest.Do(t, ns, func() { pc, err = net.ListenPacket("udp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	n := make(chan int, 1)
	n <- 0
	go func() {
		buf := make([]byte, 64)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			n <- <-n + 1
		}
	}()
	return func() int { v := <-n; n <- v; return v }
}

func send(t *testing.T, ns, addr string) {
	t.Helper()
	nstest.Do(t, ns, func() {
		if c, err := net.Dial("udp", addr); err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
	})
}

// snapshot is what start may change in ns and stop must put back: the
// ruleset, the rules, every table's routes and the sysctls it touches.
func snapshot(t *testing.T, ns string) string {
	t.Helper()
	return nstest.Sh(t, ns, `nft list ruleset; ip rule; ip -6 rule; ip route show table all; ip -6 route show table all
		for f in /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv6/conf/*/accept_ra \
			/proc/sys/net/ipv6/conf/*/autoconf /proc/sys/net/ipv6/conf/*/disable_ipv6 /proc/sys/net/ipv4/ip_forward; do
			echo "$f $(cat $f)"; done`)
}

// driftOf lists what status would show as drifted, one line each.
func driftOf(t *testing.T, name string) string {
	t.Helper()
	st, err := ReadState(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range Drift(st) {
		out = append(out, d.Object+": "+d.What)
	}
	return strings.Join(out, "\n")
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// radvd runs radvd in ns, advertising prefix and itself as a default
// router on dev, until the test ends; false if there is no radvd.
func radvd(t *testing.T, ns, dev, prefix string) bool {
	t.Helper()
	bin, err := exec.LookPath("radvd")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/radvd"); err != nil {
			return false
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "radvd.conf")
	body := fmt.Sprintf("interface %s {\n AdvSendAdvert on;\n MinRtrAdvInterval 3;\n MaxRtrAdvInterval 4;\n AdvDefaultLifetime 600;\n prefix %s {\n  AdvOnLink on;\n  AdvAutonomous on;\n };\n};\n", dev, prefix)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, bin, "-n", "-C", conf, "-p", filepath.Join(dir, "radvd.pid"), "-m", "stderr")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return true
}

// lineDiff shows the lines only one of a and b has.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// egressKey reports the objects this issue added, where a failure is
// injected in turn.
func egressKey(o object) bool {
	switch o := o.(type) {
	case nftObj, ruleObj, hostSysctlObj:
		return true
	case routeObj:
		return o.Table != 0
	case sysctlObj:
		return strings.HasPrefix(o.Key, "net.ipv6.")
	}
	return false
}

// waitPeersGone waits until the kernel has reaped s's veth peers (a
// rollback does not wait for them).
func waitPeersGone(t *testing.T, host string, s *Spec) {
	t.Helper()
	waitFor(t, "the veth peers to go", func() bool {
		out := nstest.IP(t, "-n", host, "link", "show")
		return !strings.Contains(out, s.Name+"-in") && !strings.Contains(out, s.Name+"-out")
	})
}
