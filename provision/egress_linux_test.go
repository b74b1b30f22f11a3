package provision

import (
	"context"
	"errors"
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
// error if nothing came back). The connect may take a retransmission (a
// neighbour entry just made on a fresh path), the answer one second.
func ask(t *testing.T, ns, proto, addr string) (string, error) {
	t.Helper()
	var c net.Conn
	var err error
	nstest.Do(t, ns, func() { c, err = net.DialTimeout(proto, addr, 3*time.Second) })
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

func TestEgress(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	lab := newEgressLab(t)
	s := lab.spec(newName())
	before := snapshot(t, lab.host)

	// radvd advertises a prefix and a default router on the inbound
	// segment; the witness, which accepts them, shows that it does.
	radvd(t, lab.router, "in", "fd00:77::/64")

	start(t, s)
	ns := s.Name
	for _, srv := range []struct{ ns, proto, addr string }{
		{ns, "tcp", "10.1.0.5:7000"}, {ns, "tcp", "[fd00:1::5]:7000"}, {ns, "tcp", "0.0.0.0:7001"}, {ns, "tcp", "[::]:7002"},
		{ns, "tcp", "10.2.0.5:80"}, {ns, "udp", "10.2.0.5:80"},
		{lab.lan, "tcp", "192.168.50.2:9000"}, {lab.lan, "udp", "192.168.50.2:53"},
		{lab.router, "tcp", "198.51.100.1:9000"}, {lab.host, "udp", "10.2.0.1:53"},
	} {
		whoServer(t, srv.ns, srv.proto, srv.addr)
	}

	// IPv6 answers once in0's link-local address has passed DAD.
	waitFor(t, "in0's link-local address", func() bool {
		return !strings.Contains(nstest.IP(t, "-n", ns, "-6", "addr", "show", "dev", "in0"), "tentative")
	})
	t.Run("a client beyond the router reaches daemons on the inbound address and on the wildcard", func(t *testing.T) {
		wantAnswer(t, lab.client, "tcp", "10.1.0.5:7000", "10.5.0.2")
		wantAnswer(t, lab.client, "tcp", "[fd00:1::5]:7000", "fd00:5::2")
		wantAnswer(t, lab.client, "tcp", "10.1.0.5:7001", "10.5.0.2")
		wantAnswer(t, lab.client, "tcp", "[fd00:1::5]:7002", "fd00:5::2")
	})
	t.Run("own connections leave via out0, NATed to the uplink's address", func(t *testing.T) {
		wantAnswer(t, ns, "tcp", "192.168.50.2:9000", "192.168.50.1")
	})
	t.Run("published ports show the client's address", func(t *testing.T) {
		wantAnswer(t, lab.lan, "tcp", "192.168.50.1:8080", "192.168.50.2")
		wantAnswer(t, lab.lan, "udp", "192.168.50.1:8080", "192.168.50.2")
		wantAnswer(t, lab.host, "tcp", "192.168.50.1:8080", "192.168.50.1") // from the host itself
	})
	t.Run("a LAN neighbour cannot route through the host, into the namespace or elsewhere", func(t *testing.T) {
		for _, to := range [][2]string{{ns, "10.1.0.5:7003"}, {ns, "10.2.0.5:7003"}, {lab.other, "172.16.0.2:7003"}} {
			addr := to[1]
			got := udpSink(t, to[0], addr)
			send(t, lab.lan, addr)
			send(t, lab.host, addr) // the host itself may: the sink works
			time.Sleep(300 * time.Millisecond)
			if n := got(); n != 1 {
				t.Errorf("datagrams at %s: got %d; want 1, from the host, none from the LAN", addr, n)
			}
		}
	})
	t.Run("guard: no new traffic through a route added by hand, DNS only to the listed server", func(t *testing.T) {
		nstest.IP(t, "-n", ns, "route", "add", "198.51.100.0/24", "via", "10.1.0.1", "dev", "in0")
		defer nstest.IP(t, "-n", ns, "route", "del", "198.51.100.0/24", "via", "10.1.0.1", "dev", "in0")
		wantNothing(t, ns, "tcp", "198.51.100.1:9000")
		wantNothing(t, ns, "udp", "192.168.50.2:53")
		wantAnswer(t, ns, "udp", "10.2.0.1:53", "10.2.0.5")
		wantAnswer(t, lab.client, "tcp", "10.1.0.5:7001", "10.5.0.2")
		wantAnswer(t, lab.lan, "tcp", "192.168.50.1:8080", "192.168.50.2")
	})
	t.Run("router advertisements change nothing inside", func(t *testing.T) {
		waitFor(t, "the witness to take the advertised prefix", func() bool {
			return strings.Contains(nstest.IP(t, "-n", lab.witness, "-6", "addr", "show", "dev", "in"), "fd00:77:")
		})
		if got := nstest.IP(t, "-n", ns, "-6", "addr", "show", "dev", "in0"); strings.Contains(got, "fd00:77:") {
			t.Errorf("in0 took an address from the advertisement:\n%s", got)
		}
		if got := nstest.IP(t, "-n", ns, "-6", "route", "show", "table", "all"); strings.Contains(got, "fd00:77:") || strings.Contains(got, "default via fe80") {
			t.Errorf("a route from the advertisement:\n%s", got)
		}
	})
	t.Run("status lists no drift; a deleted table is drift", func(t *testing.T) {
		if d := driftOf(t, ns); d != "" {
			t.Fatalf("drift right after start: %s", d)
		}
		nstest.Sh(t, ns, "nft delete table inet "+nftGuard)
		if d := driftOf(t, ns); !strings.Contains(d, nftGuard) {
			t.Errorf("drift: got %q; want the guard table missing", d)
		}
		if _, err := Start(context.Background(), s, Options{}); err != nil {
			t.Fatalf("repairing: %v", err)
		}
		if d := driftOf(t, ns); d != "" {
			t.Errorf("drift after repair: %s", d)
		}
	})

	if err := Stop(context.Background(), ns, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, lab.host); after != before {
		t.Errorf("host namespace after stop differs:\n%s", lineDiff(before, after))
	}
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
// router on dev, until the test ends.
func radvd(t *testing.T, ns, dev, prefix string) {
	t.Helper()
	bin, err := exec.LookPath("radvd")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/radvd"); err != nil {
			t.Skip("needs radvd (scripts/deps.sh installs it)")
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

// Into a namespace that exists already, so that its state before can be
// compared too: a start that fails at any egress object, and a start and
// stop, leave the host and the namespace as they were.
func TestEgressUndoneExactly(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	lab := newEgressLab(t)
	ctr := nstest.NS(t, "ex")
	name := newName()
	spec := func() *Spec {
		s := lab.spec(name)
		s.NetnsFile = NetnsPath(ctr)
		s.Egress.IPv6 = nil
		return s
	}
	hostBefore, nsBefore := snapshot(t, lab.host), snapshot(t, ctr)
	same := func(t *testing.T, when string) {
		t.Helper()
		if got := snapshot(t, lab.host); got != hostBefore {
			t.Errorf("host namespace %s:\n%s", when, lineDiff(hostBefore, got))
		}
		if got := snapshot(t, ctr); got != nsBefore {
			t.Errorf("the namespace %s:\n%s", when, lineDiff(nsBefore, got))
		}
	}
	probe := spec()
	probe.Normalize()
	var keys []string
	for _, o := range desired(probe) {
		if egressKey(o) {
			keys = append(keys, o.key())
		}
	}
	if len(keys) < 20 {
		t.Fatalf("only %d egress objects: %q", len(keys), keys)
	}
	for _, key := range keys {
		s := spec()
		_, err := Start(context.Background(), s, Options{Wait: true, beforeCreate: func(k string) error {
			if k == key {
				return fmt.Errorf("injected before %s", k)
			}
			return nil
		}})
		if err == nil || !strings.Contains(err.Error(), "injected") {
			Stop(context.Background(), s.Name, Options{Wait: true})
			t.Fatalf("failing at %s: got %v; want the injected error", key, err)
		}
		waitPeersGone(t, lab.host, s)
		same(t, "after a failure at "+key)
	}
	s := spec()
	start(t, s)
	if snapshot(t, ctr) == nsBefore || snapshot(t, lab.host) == hostBefore {
		t.Fatal("start changed nothing the snapshots show")
	}
	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	same(t, "after stop")
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

// The guard and a published port come and go in place: the namespace,
// and a connection into it, stay.
func TestEgressReconciledInPlace(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	v4 := func(name string) *Spec {
		s := seed(name, host)
		s.Inbound.Addresses, s.Inbound.PeerAddresses = []string{"10.1.0.5/24"}, []string{"10.1.0.1/24"}
		s.Outbound.Addresses, s.Outbound.Gateway6 = []string{"10.2.0.5/24"}, ""
		return s
	}
	s := v4(newName())
	start(t, s)
	echoServer(t, s.Name, "10.1.0.5:7000")
	c, err := nstest.Dial(t, host, "10.1.0.5:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tables := func() string { return nstest.Sh(t, s.Name, "nft list tables") + nstest.Sh(t, host, "nft list tables") }

	s2 := v4(s.Name)
	s2.Egress = Egress{Only: []string{"out0"}, IPv6: f(false)}
	s2.Publish = []Publish{{"tcp", "0.0.0.0:8080", "10.1.0.5:7000"}}
	if got, err := Start(context.Background(), s2, Options{}); err != nil || got != Changed {
		t.Fatalf("adding the guard: got %v, %v; want changed in place", got, err)
	}
	if got := tables(); !strings.Contains(got, nftGuard) || !strings.Contains(got, hostTable(s, "publish")) {
		t.Errorf("tables: got %q; want the guard and the published port", got)
	}
	for _, k := range []string{"all", "default", "in0", "out0"} {
		if got := readSysctl(t, s.Name, "net.ipv6.conf."+k+".disable_ipv6"); got != "1" {
			t.Errorf("%s.disable_ipv6: got %s; want 1", k, got)
		}
	}
	s3 := v4(s.Name)
	s3.Egress, s3.Publish = s2.Egress, s2.Publish
	s3.DNS.Nameservers = []string{"10.2.0.9"}
	if got, err := Start(context.Background(), s3, Options{}); err != nil || got != Changed {
		t.Fatalf("changing the nameserver: got %v, %v; want changed in place", got, err)
	}
	if got := nstest.Sh(t, s.Name, "nft list table inet "+nftGuard); !strings.Contains(got, "10.2.0.9") || strings.Contains(got, "10.2.0.1 ") {
		t.Errorf("guard after the change: got\n%s\nwant DNS to 10.2.0.9 only", got)
	}
	if d := driftOf(t, s.Name); d != "" {
		t.Errorf("drift after swapping the guard: %s", d)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); err != nil || string(buf) != "ping" {
		t.Fatalf("the connection from before: got %q, %v; want it alive", buf, err)
	}

	if got, err := Start(context.Background(), v4(s.Name), Options{}); err != nil || got != Changed {
		t.Fatalf("dropping the guard: got %v, %v; want changed in place", got, err)
	}
	if got := tables(); strings.Contains(got, "netns_daemon") {
		t.Errorf("tables after dropping them: got %q; want none of ours", got)
	}
	if got := readSysctl(t, s.Name, "net.ipv6.conf.in0.disable_ipv6"); got != "0" {
		t.Errorf("in0.disable_ipv6 after dropping ipv6 = false: got %s; want 0", got)
	}
}

// Two namespaces NATed out of one uplink: the first to stop leaves the
// uplink's forwarding on for the other; the last puts it back.
func TestEgressSharedUplink(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	lab := newEgressLab(t)
	whoServer(t, lab.lan, "tcp", "192.168.50.2:9000")
	mk := func(sub string) *Spec {
		return &Spec{Name: newName(), HostNetns: lab.host,
			Outbound: &Iface{Addresses: []string{"10." + sub + ".0.5/24"}, Gateway: "10." + sub + ".0.1", Masquerade: "up0"}}
	}
	a, b := mk("2"), mk("3")
	start(t, a)
	start(t, b)
	fwd := func() string { return readSysctl(t, lab.host, "net.ipv4.conf.up0.forwarding") }
	if err := Stop(context.Background(), a.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if got := fwd(); got != "1" {
		t.Errorf("up0 forwarding with one namespace still NATed: got %s; want 1", got)
	}
	wantAnswer(t, b.Name, "tcp", "192.168.50.2:9000", "192.168.50.1")
	if err := Stop(context.Background(), b.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if got := fwd(); got != "0" {
		t.Errorf("up0 forwarding after both stopped: got %s; want 0, as before", got)
	}
}

// What only the kernel can tell is refused before anything is made: a
// masquerade interface the host lacks, a reply table already in use in an
// existing namespace.
func TestEgressPreflight(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	lab := newEgressLab(t)
	s := lab.spec(newName())
	s.Outbound.Masquerade = "nope0"
	before := snapshot(t, lab.host)
	if _, err := Start(context.Background(), s, Options{}); err == nil || !strings.Contains(err.Error(), `"nope0"`) || errors.Is(err, ErrInvalidSpec) {
		t.Errorf("a missing masquerade interface: got %v; want a failure naming it, not invalid input", err)
	}
	ctr := nstest.NS(t, "ex")
	nstest.IP(t, "-n", ctr, "rule", "add", "pref", "500", "lookup", fmt.Sprint(replyTable))
	s = lab.spec(newName())
	s.NetnsFile = NetnsPath(ctr)
	if _, err := Start(context.Background(), s, Options{}); err == nil || !strings.Contains(err.Error(), "table 1000") {
		t.Errorf("a reply table in use: got %v; want a failure naming it", err)
	}
	if got := snapshot(t, lab.host); got != before {
		t.Errorf("host namespace changed:\n%s", lineDiff(before, got))
	}
}

// On a host that forwarded from the uplink before (a router), NAT for
// the namespace changes nothing of that, and stop leaves forwarding on.
func TestEgressOnARouter(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	lab := newEgressLab(t)
	nstest.Sh(t, lab.host, "sysctl -qw net.ipv4.conf.up0.forwarding=1")
	s := lab.spec(newName())
	start(t, s)
	got := udpSink(t, lab.other, "172.16.0.2:7003")
	send(t, lab.lan, "172.16.0.2:7003")
	time.Sleep(300 * time.Millisecond)
	if n := got(); n != 1 {
		t.Errorf("datagrams routed by the host from the LAN: got %d; want 1, as before", n)
	}
	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if v := readSysctl(t, lab.host, "net.ipv4.conf.up0.forwarding"); v != "1" {
		t.Errorf("up0 forwarding after stop: got %s; want 1, as before", v)
	}
}

// A daemon inside that advertises itself as a router hands the host
// nothing: the veth's host side takes no advertisement (until told to,
// which shows that the advertisements did reach it).
func TestEgressNoRAIntoHost(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	peer := s.Outbound.Peer
	nstest.Sh(t, s.Name, "sysctl -qw net.ipv6.conf.all.forwarding=1")
	radvd(t, s.Name, "out0", "fd00:88::/64")
	if got := readSysctl(t, host, "net.ipv6.conf."+peer+".accept_ra"); got != "0" {
		t.Fatalf("%s accept_ra: got %s; want 0", peer, got)
	}
	time.Sleep(5 * time.Second)
	if got := nstest.IP(t, "-n", host, "-6", "addr", "show", "dev", peer); strings.Contains(got, "fd00:88:") {
		t.Errorf("the host side took an address from inside:\n%s", got)
	}
	if got := nstest.IP(t, "-n", host, "-6", "route"); strings.Contains(got, "default") {
		t.Errorf("the host took a route from inside:\n%s", got)
	}
	nstest.Sh(t, host, "sysctl -qw net.ipv6.conf."+peer+".accept_ra=1 net.ipv6.conf."+peer+".autoconf=1")
	waitFor(t, "the advertisement to reach the host side once accepted", func() bool {
		return strings.Contains(nstest.IP(t, "-n", host, "-6", "addr", "show", "dev", peer), "fd00:88:")
	})
}
