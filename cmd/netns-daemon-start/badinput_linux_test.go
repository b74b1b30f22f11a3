package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
	"github.com/netns-daemon/netns-daemon/provision"
)

// baseTOML is a valid spec; each case appends to it or replaces a line.
const baseTOML = `[inbound]
addresses = ["10.1.0.5/24", "fd00:1::5/64"]
peer_addresses = ["10.1.0.1/24"]
[outbound]
addresses = ["10.2.0.5/24", "fd00:2::5/64"]
gateway = "10.2.0.1"
gateway6 = "fd00:2::1"
`

// A representative subset of provision's bad cases per class, through the
// real command as an init script runs it: exit 2, key and value named,
// nothing made (provision's own tests run every case through Start).
func TestBadInputByClassExits2AndMakesNothing(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	for _, c := range []struct {
		class, toml string
		flags       []string
		key, value  string
	}{
		{"literal", `[dns]` + "\n" + `nameservers = ["fe80::1%x\nnameserver 6.6.6.6"]`, nil, "dns.nameservers[0]", `"fe80::1%x\nnameserver 6.6.6.6"`},
		{"literal", "", []string{"--gateway6", "fe80::1%out0"}, "outbound.gateway6", `"fe80::1%out0"`},
		{"literal", "", []string{"--network", "::ffff:10.1.0.5/120"}, "inbound.addresses[0]", `"::ffff:10.1.0.5/120"`},
		{"host-address", "", []string{"--network", "0.0.0.0/0"}, "inbound.addresses[0]", `"0.0.0.0/0"`},
		{"host-address", "", []string{"--network", "10.1.0.255/24"}, "inbound.addresses[0]", `"10.1.0.255/24"`},
		{"duplicate", "", []string{"--outbound", "10.1.0.6/24", "--gateway", "10.1.0.1", "--gateway6", "fe80::1"}, "outbound.addresses[0]", `"10.1.0.6/24"`},
		{"duplicate", "", []string{"--peer-address", "10.1.0.5/24"}, "inbound.peer_addresses[0]", `"10.1.0.5/24"`},
		{"gateway", "", []string{"--gateway", "10.2.0.5"}, "outbound.gateway", `"10.2.0.5"`},
		{"gateway", "", []string{"--gateway", "10.2.0.255"}, "outbound.gateway", `"10.2.0.255"`},
		{"route", "[inbound]\nroutes = [{to = \"0.0.0.0/1\"}, {to = \"128.0.0.0/1\"}]", nil, "inbound.routes", `"0.0.0.0/1, 128.0.0.0/1"`},
		{"route", "[outbound]\nroutes = [{to = \"10.9.0.0/16\", via = \"10.3.0.1\"}]", nil, "outbound.routes[0].via", `"10.3.0.1"`},
		{"ifname", "[inbound]\nname = \"all\"", nil, "inbound.name", `"all"`},
		{"ifname", "[inbound]\nname = \"in%d\"", nil, "inbound.name", `"in%d"`},
		{"link", "", []string{"--inbound-kind", "macvlan"}, "inbound.parent", "required for kind macvlan"},
		{"mac", "[inbound]\nmac = \"ff:ff:ff:ff:ff:ff\"", nil, "inbound.mac", `"ff:ff:ff:ff:ff:ff"`},
		{"mtu", "[inbound]\nmtu = 1279", nil, "inbound.mtu", "1279"},
		{"sysctl", "[sysctl]\n\"kernel.panic\" = \"1\"", nil, `sysctl."kernel.panic"`, `"1"`},
		{"sysctl", "", []string{"--sysctl", "net.ipv4.ip_forward="}, `sysctl."net.ipv4.ip_forward"`, `""`},
		{"dns", "[dns]\nsearch = [\"a..b\"]", nil, "dns.search[0]", `"a..b"`},
		{"names", "", []string{"--host-netns=-x"}, "host_netns", `"-x"`},
		{"spec file", strings.Repeat("#", provision.MaxSpecSize), nil, "config", "larger than 1048576 bytes"},
	} {
		t.Run(c.class+"/"+c.key, func(t *testing.T) {
			name := nstest.Name("ndb")
			file := filepath.Join(t.TempDir(), "spec.toml")
			if err := os.WriteFile(file, []byte(mergeTOML(baseTOML, c.toml)), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { provision.Stop(t.Context(), name, provision.Options{}) }) // only if the test fails
			args := append([]string{"--host-netns", host, "-c", file}, c.flags...)
			out, code := run(t, append(args, name)...)
			if code != 2 || !hasLine(out, c.key, c.value) {
				t.Errorf("got exit %d, %q; want exit 2 and a line naming %s and %s", code, out, c.key, c.value)
			}
			assertNothingMade(t, name, host)
		})
	}
	// The name itself. One starting with '-' is a flag to the parser
	// already; Validate refuses it too, for callers of the library.
	for _, n := range []string{"../x", "a/b", "-rf"} {
		out, code := run(t, "--host-netns", host, n)
		if code != 2 || !strings.HasPrefix(n, "-") && !strings.Contains(out, fmt.Sprintf("namespace name %q", n)) {
			t.Errorf("name %q: got exit %d, %q; want exit 2 naming it", n, code, out)
		}
		if _, err := os.Lstat(provision.NetnsPath(n)); err == nil {
			t.Errorf("%s was made", provision.NetnsPath(n))
		}
	}
}

// mergeTOML adds extra's keys to base's tables: a table already in base
// gets extra's lines right after its header.
func mergeTOML(base, extra string) string {
	var table string
	for _, l := range strings.Split(extra, "\n") {
		switch {
		case strings.HasPrefix(l, "[") && strings.Contains(base, l+"\n"):
			table = l
		case strings.HasPrefix(l, "["):
			table = ""
			base += l + "\n"
		case table != "":
			base = strings.Replace(base, table+"\n", table+"\n"+l+"\n", 1)
		default:
			base += l + "\n"
		}
	}
	return base
}

func hasLine(out, key, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, key) && strings.Contains(l, value) {
			return true
		}
	}
	return false
}

// assertNothingMade: no namespace, state, lock or /etc/netns/NAME, and the
// host namespace holds only its loopback.
func assertNothingMade(t *testing.T, name, host string) {
	t.Helper()
	for _, p := range []string{provision.NetnsPath(name), filepath.Join(provision.StateDir, name+".json"),
		filepath.Join(provision.StateDir, name+".lock"), filepath.Join(provision.EtcNetnsDir, name)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was made by bad input", p)
		}
	}
	if links := nstest.IP(t, "-n", host, "-o", "link", "show"); strings.Count(links, "\n") != 1 || !strings.Contains(links, ": lo:") {
		t.Errorf("links in the host namespace: %s; want lo only", links)
	}
}

// Values at the kernel's edges are accepted and work: dotted interface
// names with their rp_filter and [sysctl] keys, an IPv6 link-local gateway
// given as --gateway6 (the documented spelling), MTU 1280 with IPv6.
func TestEdgeValuesWork(t *testing.T) {
	nstest.SkipUnlessRoot(t)
	host := nstest.NS(t, "ndh")
	name := nstest.Name("nde")
	stopAfter(t, name)
	nstest.IP(t, "-n", host, "addr", "add", "2001:db8::1/128", "dev", "lo")
	file := filepath.Join(t.TempDir(), "spec.toml")
	os.WriteFile(file, []byte(`[inbound]
name = "in.0"
addresses = ["10.1.0.5/24"]
[outbound]
name = "out.0"
mtu = 1280
addresses = ["fd00:2::5/64"]
peer_addresses = ["fd00:2::1/64", "fe80::1/64"]
[sysctl]
"net.ipv4.conf.in/0.arp_notify" = "1"
"net.ipv6.conf.out/0.hop_limit" = "33"
`), 0o644)
	if out, code := run(t, "--host-netns", host, "-c", file, "--gateway6", "fe80::1", "-q", name); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for key, want := range map[string]string{
		"ipv4/conf/in.0/rp_filter": "2", "ipv4/conf/out.0/rp_filter": "1", "ipv4/conf/in.0/arp_notify": "1",
		"ipv6/conf/out.0/hop_limit": "33", "ipv6/conf/out.0/mtu": "1280",
	} {
		if got := strings.TrimSpace(nstest.Sh(t, name, "cat /proc/sys/net/"+key)); got != want {
			t.Errorf("%s: got %q; want %q", key, got, want)
		}
	}
	if r := nstest.IP(t, "-n", name, "-6", "route", "show", "default"); !strings.Contains(r, "via fe80::1 dev out.0") {
		t.Errorf("default route: got %q; want via fe80::1 dev out.0", r)
	}
	// A connection out through the link-local gateway, answered by the host.
	ln := nstest.Listen(t, host, "[2001:db8::1]:0")
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
	c, err := nstest.Dial(t, name, ln.Addr().String())
	if err != nil {
		t.Fatalf("dialing %s from %s through fe80::1: %v", ln.Addr(), name, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" {
		t.Errorf("read: got %q, %v; want \"ok\"", buf, err)
	}
}
