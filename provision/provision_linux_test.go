package provision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	xnetns "github.com/netns-daemon/netns-daemon/internal/netns"
	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

func TestSeedTopology(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)

	if got, want := addrsOf(t, s.Name, "in0"), []string{"10.1.0.5/24", "fd00:1::5/64"}; !slices.Equal(got, want) {
		t.Errorf("in0 addresses: got %q; want %q", got, want)
	}
	if got, want := addrsOf(t, host, s.Inbound.Peer), []string{"10.1.0.1/24", "fd00:1::1/64"}; !slices.Equal(got, want) {
		t.Errorf("host-side peer addresses: got %q; want %q", got, want)
	}
	// The gateway landed on the outbound veth's host side.
	if got, want := addrsOf(t, host, s.Outbound.Peer), []string{"10.2.0.1/24", "fd00:2::1/64"}; !slices.Equal(got, want) {
		t.Errorf("outbound peer addresses: got %q; want %q", got, want)
	}
	h := handleIn(t, s.Name)
	defer h.Close()
	for _, dst := range []string{"192.0.2.1", "10.9.0.7", "2001:db8::1"} {
		rs, err := h.RouteGet(net.ParseIP(dst))
		if err != nil {
			t.Fatalf("route get %s: %v", dst, err)
		}
		out, _ := h.LinkByName("out0")
		if rs[0].LinkIndex != out.Attrs().Index {
			t.Errorf("route to %s leaves via index %d; want out0 (%d)", dst, rs[0].LinkIndex, out.Attrs().Index)
		}
	}
	// The inbound peer reaches the namespace's inbound address.
	echoServer(t, s.Name, "10.1.0.5:7000")
	roundTrip(t, host, "10.1.0.5:7000")
	echoServer(t, s.Name, "[fd00:1::5]:7000")
	roundTrip(t, host, "[fd00:1::5]:7000")

	if got := readSysctl(t, s.Name, "net.ipv4.conf.out0.arp_notify"); got != "1" {
		t.Errorf("arp_notify: got %q; want \"1\"", got)
	}
	resolv, _ := os.ReadFile(filepath.Join(EtcNetnsDir, s.Name, "resolv.conf"))
	if !strings.Contains(string(resolv), "nameserver 10.2.0.1\n") {
		t.Errorf("resolv.conf: got %q", resolv)
	}
	hosts, _ := os.ReadFile(filepath.Join(EtcNetnsDir, s.Name, "hosts"))
	if !strings.Contains(string(hosts), "10.9.0.7\tdb.internal\n") {
		t.Errorf("hosts: got %q", hosts)
	}
	// `ip netns exec` works on it, as on one made by `ip netns add`.
	if out := nstest.Sh(t, s.Name, "ip -br addr show dev in0"); !strings.Contains(out, "10.1.0.5/24") {
		t.Errorf("ip netns exec: got %q", out)
	}

	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, s.Name, host)
}

func TestRPFilterEffective(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	for _, tc := range []struct {
		in, out         string
		wantIn, wantOut int
	}{
		{"loose", "", 2, 1},
		{"off", "strict", 0, 1},
		{"off", "off", 0, 0},
		{"strict", "loose", 1, 2},
	} {
		t.Run(tc.in+"-"+tc.out, func(t *testing.T) {
			host := nstest.NS(t, "ndh")
			s := seed(newName(), host)
			s.Inbound.RPFilter, s.Outbound.RPFilter = tc.in, tc.out
			// A new namespace may inherit conf.all from the host: make it
			// strict inside before our sysctl step, as a strict host would.
			opt := Options{beforeCreate: func(key string) error {
				if key == "sysctl/net.ipv4.conf.all.rp_filter" {
					ns, _ := xnetns.Open(NetnsPath(s.Name))
					defer ns.Close()
					return xnetns.Do(ns, func() error {
						return os.WriteFile(sysctlPath("net.ipv4.conf.all.rp_filter"), []byte("1"), 0)
					})
				}
				return nil
			}}
			if _, err := Start(context.Background(), s, opt); err != nil {
				t.Fatal(err)
			}
			defer Stop(context.Background(), s.Name, Options{Wait: true})
			all := atoi(readSysctl(t, s.Name, "net.ipv4.conf.all.rp_filter"))
			for dev, want := range map[string]int{"in0": tc.wantIn, "out0": tc.wantOut} {
				eff := max(all, atoi(readSysctl(t, s.Name, "net.ipv4.conf."+dev+".rp_filter")))
				if eff != want {
					t.Errorf("effective rp_filter on %s: got %d; want %d", dev, eff, want)
				}
			}
		})
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestMacvlanHairpin(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	lan := nstest.NS(t, "ndl")
	// The host's uplink: a veth whose other end is a LAN neighbour.
	nstest.Veth(t, host, "uplink0", "10.3.0.1/24", lan, "eth0", "10.3.0.2/24")
	s := &Spec{Name: newName(), HostNetns: host,
		Inbound: &Iface{Kind: KindMacvlan, Parent: "uplink0", Name: "mv0", Addresses: []string{"10.3.0.10/24", "10.3.0.11/24"}, Hairpin: true}}
	start(t, s)
	echoServer(t, s.Name, ":7001")
	for _, vip := range []string{"10.3.0.10", "10.3.0.11"} {
		roundTrip(t, host, vip+":7001") // the host itself, through the shim
		roundTrip(t, lan, vip+":7001")  // a neighbour on the wire
	}
	if err := Stop(context.Background(), s.Name, Options{Wait: true}); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, s.Name, host, "uplink0")
}

func TestDeviceMovedInAndBack(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	nstest.IP(t, "-n", host, "link", "add", "dummy7", "type", "veth", "peer", "name", "dummy7b")
	s := &Spec{Name: newName(), HostNetns: host,
		Outbound: &Iface{Kind: KindDevice, Parent: "dummy7", Addresses: []string{"10.4.0.5/24"}, Gateway: "10.4.0.1", MTU: 1400}}
	start(t, s)
	if got := linkNames(t, s.Name); !slices.Equal(got, []string{"lo", "out0"}) {
		t.Errorf("links inside: got %q; want [lo out0]", got)
	}
	if got := addrsOf(t, s.Name, "out0"); !slices.Equal(got, []string{"10.4.0.5/24"}) {
		t.Errorf("out0 addresses: got %q", got)
	}
	if err := Stop(context.Background(), s.Name, Options{}); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, s.Name, host, "dummy7", "dummy7b")
}

func TestIPv6UsableAtOnce(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	// Without nodad the address would be tentative and bind would fail.
	var err error
	nstest.Do(t, s.Name, func() {
		var ln net.Listener
		if ln, err = net.Listen("tcp", "[fd00:2::5]:7002"); err == nil {
			ln.Close()
		}
	})
	if err != nil {
		t.Fatalf("binding the new IPv6 address at once: %v", err)
	}
	h := handleIn(t, s.Name)
	defer h.Close()
	rs, err := h.RouteGet(net.ParseIP("2001:db8::7"))
	if err != nil || len(rs) == 0 || rs[0].Gw.String() != "fd00:2::1" {
		t.Fatalf("IPv6 route: got %v, %v; want via fd00:2::1", rs, err)
	}
}

func TestStartTwiceSameAndChangedSpec(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	again := seed(s.Name, host)
	if got, err := Start(context.Background(), again, Options{}); err != nil || got != Unchanged {
		t.Fatalf("same spec: got %v, %v; want unchanged", got, err)
	}
	before, _ := cookieAt(NetnsPath(s.Name))
	changed := seed(s.Name, host)
	changed.Inbound.Addresses = []string{"10.1.0.6/24"}
	if got, err := Start(context.Background(), changed, Options{}); err != nil || got != Changed {
		t.Fatalf("changed spec: got %v, %v; want changed in place", got, err)
	}
	if got := addrsOf(t, s.Name, "in0"); !slices.Equal(got, []string{"10.1.0.6/24"}) {
		t.Errorf("in0 after the change: got %q; want [10.1.0.6/24]", got)
	}
	if after, _ := cookieAt(NetnsPath(s.Name)); after != before {
		t.Errorf("namespace cookie %v after the change; want the same %v", after, before)
	}
	if got, err := Start(context.Background(), changed, Options{Recreate: true}); err != nil || got != Reprovision {
		t.Fatalf("--recreate: got %v, %v; want re-provisioned", got, err)
	}
	// Not the inode: a namespace made after ours was freed may get it again.
	if after, _ := cookieAt(NetnsPath(s.Name)); after == before {
		t.Errorf("namespace cookie %v after --recreate; want a new one", after)
	}
}

func TestStopIdempotent(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	s := seed(newName(), host)
	start(t, s)
	for i := range 2 {
		if err := Stop(context.Background(), s.Name, Options{}); err != nil {
			t.Fatalf("stop #%d: %v", i+1, err)
		}
	}
	if err := Stop(context.Background(), newName(), Options{}); err != nil {
		t.Fatalf("stop of a name never started: %v", err)
	}
	assertNothingLeft(t, s.Name, host)
}

func TestStopKillsProcessesInside(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	s := &Spec{Name: newName()}
	start(t, s)
	nstest.Sh(t, s.Name, "sleep 60 >/dev/null 2>&1 & echo")
	if pids, _ := PIDsInside(s.Name); len(pids) != 1 {
		t.Fatalf("processes inside: got %v; want one", pids)
	}
	if err := Stop(context.Background(), s.Name, Options{}); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, s.Name, "")
}

func TestFailureAtEachStepLeavesNothing(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	nstest.IP(t, "-n", host, "link", "add", "dummy8", "type", "veth", "peer", "name", "dummy8b")
	full := func(name string) *Spec {
		s := seed(name, host)
		s.Inbound.Bridge = ""
		s.Outbound = &Iface{Kind: KindDevice, Parent: "dummy8", Addresses: []string{"10.4.0.5/24"}, Gateway: "10.4.0.1"}
		return s
	}
	probe := full("probe")
	probe.Normalize()
	n := len(desired(probe))
	for i := range n {
		s := full(newName())
		forced := errors.New("forced failure")
		j := 0
		_, err := Start(context.Background(), s, Options{beforeCreate: func(string) error {
			j++
			if j-1 == i {
				return forced
			}
			return nil
		}})
		if !errors.Is(err, forced) {
			t.Fatalf("step %d: got %v; want the forced failure", i, err)
		}
		assertNothingLeft(t, s.Name, host, "dummy8", "dummy8b")
	}
}

func TestRealFailuresRollBack(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	nstest.IP(t, "-n", host, "link", "add", "taken0", "type", "veth", "peer", "name", "taken0b")
	for name, mod := range map[string]func(*Spec){
		"peer name taken": func(s *Spec) { s.Outbound.Peer = "taken0" },
		"missing parent": func(s *Spec) {
			s.Outbound = &Iface{Kind: KindMacvlan, Parent: "nosuch0", Addresses: []string{"10.2.0.5/24"}}
		},
		"missing bridge": func(s *Spec) { s.Outbound.Bridge = "nobr0" },
		"missing device": func(s *Spec) { s.Outbound = &Iface{Kind: KindDevice, Parent: "nosuch1"} },
	} {
		t.Run(name, func(t *testing.T) {
			s := seed(newName(), host)
			mod(s)
			if _, err := Start(context.Background(), s, Options{}); err == nil || errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("got %v; want a provisioning failure", err)
			}
			assertNothingLeft(t, s.Name, host, "taken0", "taken0b")
		})
	}
}

func TestParallelStartStop(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	names := make([]string, 20)
	for i := range names {
		names[i] = newName()
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			s := seed(name, host)
			if _, err := Start(context.Background(), s, Options{}); err != nil {
				errs <- fmt.Errorf("start %s: %w", name, err)
				Stop(context.Background(), name, Options{})
				return
			}
			if got := addrsOf(t, name, "in0"); len(got) != 2 {
				errs <- fmt.Errorf("%s: in0 addresses %q", name, got)
			}
			if err := Stop(context.Background(), name, Options{}); err != nil {
				errs <- fmt.Errorf("stop %s: %w", name, err)
			}
		}(names[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, n := range names {
		assertNothingLeft(t, n, "")
	}
	assertNothingLeft(t, names[0], host)
}
