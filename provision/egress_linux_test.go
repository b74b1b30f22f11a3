package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

func TestEgress(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	lab := newEgressLab(t)
	s := lab.spec(newName())
	before := snapshot(t, lab.host)

	// radvd advertises a prefix and a default router on the inbound
	// segment; the witness, which accepts them, shows that it does.
	advertising := radvd(t, lab.router, "in", "fd00:77::/64")

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
		if !advertising {
			t.Skip("needs radvd (scripts/deps.sh installs it)")
		}
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
	if !radvd(t, s.Name, "out0", "fd00:88::/64") {
		t.Skip("needs radvd (scripts/deps.sh installs it)")
	}
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
