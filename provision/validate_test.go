package provision

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// validSpec is a spec with both sides and both families, which Validate
// accepts; each bad case changes one thing of it.
func validSpec() *Spec {
	return &Spec{Name: "web",
		Inbound: &Iface{Addresses: []string{"10.1.0.5/24", "fd00:1::5/64"}, PeerAddresses: []string{"10.1.0.1/24"}},
		Outbound: &Iface{Addresses: []string{"10.2.0.5/24", "fd00:2::5/64"}, Gateway: "10.2.0.1", Gateway6: "fd00:2::1",
			Routes: []Route{{To: "10.9.0.0/16", Via: "10.2.0.1"}}},
		Sysctl: map[string]string{"net.ipv4.conf.out0.arp_notify": "1"},
		DNS:    DNS{Nameservers: []string{"10.2.0.1"}, Search: []string{"internal"}, Hosts: map[string]string{"db.internal": "10.9.0.7"}},
	}
}

// badCase is one refused value: the message must name key and value.
type badCase struct {
	class string
	name  string
	mod   func(*Spec)
	key   string // as the message names it
	value string // as the message shows it (quoted for strings); {name} is the spec's name
}

// check asserts that err refuses the case's value, naming key and value.
func (c badCase) check(t *testing.T, name string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("got %v; want ErrInvalidSpec", err)
	}
	if value := strings.ReplaceAll(c.value, "{name}", name); !hasLine(err.Error(), c.key, value) {
		t.Errorf("got %q; want a line naming %s and %s", err, c.key, value)
	}
}

func q(s string) string { return fmt.Sprintf("%q", s) }

func in(f func(*Iface)) func(*Spec)  { return func(s *Spec) { f(s.Inbound) } }
func out(f func(*Iface)) func(*Spec) { return func(s *Spec) { f(s.Outbound) } }

// badCases are the refused values, by class. The root tests in
// cmd/netns-daemon-start run a subset through the real binary.
var badCases = []badCase{
	// Literal addresses: no zone, no control character, no IPv4-mapped IPv6.
	{"literal", "zone in address", in(func(i *Iface) { i.Addresses = []string{"fe80::5%in0/64"} }), "inbound.addresses[0]", q("fe80::5%in0/64")},
	{"literal", "newline in address", in(func(i *Iface) { i.Addresses = []string{"10.1.0.5/24\n"} }), "inbound.addresses[0]", q("10.1.0.5/24\n")},
	{"literal", "mapped address", in(func(i *Iface) { i.Addresses = []string{"::ffff:10.1.0.5/120"} }), "inbound.addresses[0]", q("::ffff:10.1.0.5/120")},
	{"literal", "bad cidr", in(func(i *Iface) { i.Addresses = []string{"10.1.0.300/24"} }), "inbound.addresses[0]", q("10.1.0.300/24")},
	{"literal", "no prefix", in(func(i *Iface) { i.Addresses = []string{"10.1.0.5"} }), "inbound.addresses[0]", q("10.1.0.5")},
	{"literal", "mapped peer address", in(func(i *Iface) { i.PeerAddresses = []string{"::ffff:10.1.0.1/120"} }), "inbound.peer_addresses[0]", q("::ffff:10.1.0.1/120")},
	{"literal", "zone in gateway6", out(func(i *Iface) { i.Gateway6 = "fe80::1%out0" }), "outbound.gateway6", q("fe80::1%out0")},
	{"literal", "mapped gateway", out(func(i *Iface) { i.Gateway = "::ffff:10.2.0.1" }), "outbound.gateway", q("::ffff:10.2.0.1")},
	{"literal", "zone in via", out(func(i *Iface) { i.Routes[0].Via = "fe80::1%x" }), "outbound.routes[0].via", q("fe80::1%x")},
	{"literal", "name as via", out(func(i *Iface) { i.Routes[0].Via = "gw.example" }), "outbound.routes[0].via", q("gw.example")},
	{"literal", "mapped route", out(func(i *Iface) { i.Routes[0].To = "::ffff:10.9.0.0/112" }), "outbound.routes[0].to", q("::ffff:10.9.0.0/112")},
	{"literal", "route without prefix", in(func(i *Iface) { i.Routes = []Route{{To: "10.9.0.0"}} }), "inbound.routes[0].to", q("10.9.0.0")},
	{"literal", "nameserver line injection", func(s *Spec) { s.DNS.Nameservers = []string{"fe80::1%x\nnameserver 6.6.6.6"} }, "dns.nameservers[0]", q("fe80::1%x\nnameserver 6.6.6.6")},
	{"literal", "nameserver name", func(s *Spec) { s.DNS.Nameservers = []string{"dns.example"} }, "dns.nameservers[0]", q("dns.example")},
	{"literal", "mapped nameserver", func(s *Spec) { s.DNS.Nameservers = []string{"::ffff:10.2.0.1"} }, "dns.nameservers[0]", q("::ffff:10.2.0.1")},
	{"literal", "host address zone", func(s *Spec) { s.DNS.Hosts = map[string]string{"db": "fe80::7%in0"} }, "dns.hosts.db", q("fe80::7%in0")},
	{"literal", "host address text", func(s *Spec) { s.DNS.Hosts = map[string]string{"db": "x"} }, "dns.hosts.db", q("x")},

	// Interface addresses are usable host addresses.
	{"host-address", "unspecified", in(func(i *Iface) { i.Addresses = []string{"0.0.0.0/0"} }), "inbound.addresses[0]", q("0.0.0.0/0")},
	{"host-address", "unspecified v6", in(func(i *Iface) { i.Addresses = []string{"::/64"} }), "inbound.addresses[0]", q("::/64")},
	{"host-address", "/0 prefix", in(func(i *Iface) { i.Addresses = []string{"10.1.0.5/0"} }), "inbound.addresses[0]", q("10.1.0.5/0")},
	{"host-address", "network address", in(func(i *Iface) { i.Addresses = []string{"10.1.0.0/24"} }), "inbound.addresses[0]", q("10.1.0.0/24")},
	{"host-address", "broadcast address", in(func(i *Iface) { i.Addresses = []string{"10.1.0.255/24"} }), "inbound.addresses[0]", q("10.1.0.255/24")},
	{"host-address", "limited broadcast", in(func(i *Iface) { i.Addresses = []string{"255.255.255.255/32"} }), "inbound.addresses[0]", q("255.255.255.255/32")},
	{"host-address", "loopback", in(func(i *Iface) { i.Addresses = []string{"127.0.0.2/8"} }), "inbound.addresses[0]", q("127.0.0.2/8")},
	{"host-address", "loopback v6", in(func(i *Iface) { i.Addresses = []string{"::1/128"} }), "inbound.addresses[0]", q("::1/128")},
	{"host-address", "multicast", in(func(i *Iface) { i.Addresses = []string{"224.0.0.5/24"} }), "inbound.addresses[0]", q("224.0.0.5/24")},
	{"host-address", "multicast v6", in(func(i *Iface) { i.Addresses = []string{"ff02::5/64"} }), "inbound.addresses[0]", q("ff02::5/64")},
	{"host-address", "peer network address", in(func(i *Iface) { i.PeerAddresses = []string{"10.1.0.0/24"} }), "inbound.peer_addresses[0]", q("10.1.0.0/24")},

	// No address twice, no overlap of inbound and outbound.
	{"duplicate", "same address in and out", out(func(i *Iface) { i.Addresses = []string{"10.1.0.5/16"} }), "outbound.addresses[0]", q("10.1.0.5/16")},
	{"duplicate", "namespace side = peer", in(func(i *Iface) { i.PeerAddresses = []string{"10.1.0.5/24"} }), "inbound.peer_addresses[0]", q("10.1.0.5/24")},
	{"duplicate", "twice on one side", in(func(i *Iface) { i.Addresses = []string{"10.1.0.5/24", "10.1.0.5/25"} }), "inbound.addresses[1]", q("10.1.0.5/25")},
	{"duplicate", "same subnet in and out", out(func(i *Iface) { i.Addresses = []string{"10.1.0.6/24"}; i.Gateway = "10.1.0.1" }), "outbound.addresses[0]", q("10.1.0.6/24")},
	{"duplicate", "overlapping subnets", out(func(i *Iface) { i.Addresses = []string{"10.0.0.6/8"}; i.Gateway = "10.0.0.1" }), "outbound.addresses[0]", q("10.0.0.6/8")},
	{"duplicate", "overlapping v6", out(func(i *Iface) { i.Addresses[1] = "fd00:1::6/64"; i.Gateway6 = "" }), "outbound.addresses[1]", q("fd00:1::6/64")},
	{"duplicate", "peer = other side's address", out(func(i *Iface) { i.PeerAddresses = []string{"10.1.0.5/24"} }), "outbound.peer_addresses[0]", q("10.1.0.5/24")},

	// Gateways: on outbound only, on link, of the right family.
	{"gateway", "outside the subnet", out(func(i *Iface) { i.Gateway = "10.9.0.1" }), "outbound.gateway", q("10.9.0.1")},
	{"gateway", "own address", out(func(i *Iface) { i.Gateway = "10.2.0.5" }), "outbound.gateway", q("10.2.0.5")},
	{"gateway", "network address", out(func(i *Iface) { i.Gateway = "10.2.0.0" }), "outbound.gateway", q("10.2.0.0")},
	{"gateway", "broadcast", out(func(i *Iface) { i.Gateway = "10.2.0.255" }), "outbound.gateway", q("10.2.0.255")},
	{"gateway", "inbound's address", out(func(i *Iface) { i.Gateway = "10.1.0.5" }), "outbound.gateway", q("10.1.0.5")},
	{"gateway", "v6 as gateway", out(func(i *Iface) { i.Gateway = "fd00:2::1" }), "outbound.gateway", q("fd00:2::1")},
	{"gateway", "v4 as gateway6", out(func(i *Iface) { i.Gateway6 = "10.2.0.1" }), "outbound.gateway6", q("10.2.0.1")},
	{"gateway", "multicast", out(func(i *Iface) { i.Gateway6 = "ff02::1" }), "outbound.gateway6", q("ff02::1")},
	{"gateway", "own address v6", out(func(i *Iface) { i.Gateway6 = "fd00:2::5" }), "outbound.gateway6", q("fd00:2::5")},
	{"gateway", "on inbound", in(func(i *Iface) { i.Gateway = "10.1.0.1" }), "inbound.gateway", q("10.1.0.1")},
	{"gateway", "gateway6 on inbound", in(func(i *Iface) { i.Gateway6 = "fe80::1" }), "inbound.gateway6", q("fe80::1")},

	// Routes: via on link and of the family; no default route on inbound.
	{"route", "via outside every subnet", out(func(i *Iface) { i.Routes[0].Via = "10.3.0.1" }), "outbound.routes[0].via", q("10.3.0.1")},
	{"route", "via the other side's subnet", out(func(i *Iface) { i.Routes[0].Via = "10.1.0.1" }), "outbound.routes[0].via", q("10.1.0.1")},
	{"route", "via own address", out(func(i *Iface) { i.Routes[0].Via = "10.2.0.5" }), "outbound.routes[0].via", q("10.2.0.5")},
	{"route", "via network address", out(func(i *Iface) { i.Routes[0].Via = "10.2.0.0" }), "outbound.routes[0].via", q("10.2.0.0")},
	{"route", "family differs", out(func(i *Iface) { i.Routes[0].Via = "fd00:2::1" }), "outbound.routes[0].via", q("fd00:2::1")},
	{"route", "inbound 0/0", in(func(i *Iface) { i.Routes = []Route{{To: "0.0.0.0/0", Via: "10.1.0.1"}} }), "inbound.routes", q("0.0.0.0/0")},
	{"route", "inbound ::/0", in(func(i *Iface) { i.Routes = []Route{{To: "::/0"}} }), "inbound.routes", q("::/0")},
	{"route", "inbound split halves", in(func(i *Iface) { i.Routes = []Route{{To: "0.0.0.0/1"}, {To: "128.0.0.0/1"}} }), "inbound.routes", q("0.0.0.0/1, 128.0.0.0/1")},
	{"route", "inbound quarters, unordered", in(func(i *Iface) {
		i.Routes = []Route{{To: "192.0.0.0/2"}, {To: "0.0.0.0/2"}, {To: "128.0.0.0/2"}, {To: "64.0.0.0/2"}}
	}), "inbound.routes", "0.0.0.0/2, 64.0.0.0/2"},
	{"route", "inbound split v6", in(func(i *Iface) { i.Routes = []Route{{To: "8000::/1"}, {To: "::/1"}} }), "inbound.routes", "::/1, 8000::/1"},
	{"route", "same destination twice", out(func(i *Iface) { i.Routes = append(i.Routes, Route{To: "10.9.0.0/16"}) }), "outbound.routes[1].to", q("10.9.0.0/16")},
	{"route", "default twice", out(func(i *Iface) { i.Routes = append(i.Routes, Route{To: "0.0.0.0/0", Via: "10.2.0.2"}) }), "outbound.routes[1].to", q("0.0.0.0/0")},
	{"route", "a connected subnet", in(func(i *Iface) { i.Routes = []Route{{To: "10.2.0.0/24"}} }), "inbound.routes[0].to", q("10.2.0.0/24")},

	// Interface names as the kernel takes them for links we create.
	{"ifname", "all", in(func(i *Iface) { i.Name = "all" }), "inbound.name", q("all")},
	{"ifname", "default", out(func(i *Iface) { i.Name = "default" }), "outbound.name", q("default")},
	{"ifname", "lo", in(func(i *Iface) { i.Name = "lo" }), "inbound.name", q("lo")},
	{"ifname", "template", in(func(i *Iface) { i.Name = "in%d" }), "inbound.name", q("in%d")},
	{"ifname", "16 characters", in(func(i *Iface) { i.Name = "abcdefghijklmnop" }), "inbound.name", q("abcdefghijklmnop")},
	{"ifname", "space", in(func(i *Iface) { i.Name = "in 0" }), "inbound.name", q("in 0")},
	{"ifname", "slash", in(func(i *Iface) { i.Name = "in/0" }), "inbound.name", q("in/0")},
	{"ifname", "colon", in(func(i *Iface) { i.Name = "in:0" }), "inbound.name", q("in:0")},
	{"ifname", "control character", in(func(i *Iface) { i.Name = "in\x01" }), "inbound.name", q("in\x01")},
	{"ifname", "dotdot", in(func(i *Iface) { i.Name = ".." }), "inbound.name", q("..")},
	{"ifname", "peer all", in(func(i *Iface) { i.Peer = "all" }), "inbound.peer", q("all")},
	{"ifname", "peer template", in(func(i *Iface) { i.Peer = "web%d" }), "inbound.peer", q("web%d")},
	{"ifname", "same name twice", out(func(i *Iface) { i.Name = "in0" }), "outbound.name", q("in0")},
	{"ifname", "same peer twice", func(s *Spec) { s.Outbound.Peer = "x"; s.Inbound.Peer = "x" }, "outbound.peer", q("x")},
	{"ifname", "bridge with space", in(func(i *Iface) { i.Bridge = "br 0" }), "inbound.bridge", q("br 0")},
	{"ifname", "bridge = a peer", func(s *Spec) { s.Inbound.Bridge = s.Name + "-out" }, "inbound.bridge", q("{name}-out")},
	{"ifname", "parent of two", func(s *Spec) {
		s.Inbound = &Iface{Kind: KindDevice, Parent: "eth1", Addresses: []string{"10.1.0.5/24"}}
		s.Outbound.Kind, s.Outbound.Parent = KindMacvlan, "eth1"
	}, "outbound.parent", q("eth1")},

	// Kinds and their keys.
	{"link", "kind", in(func(i *Iface) { i.Kind = "tun" }), "inbound.kind", q("tun")},
	{"link", "macvlan mode", in(func(i *Iface) { i.Kind, i.Parent, i.Mode, i.PeerAddresses = KindMacvlan, "eth0", "fast", nil }), "inbound.mode", q("fast")},
	{"link", "rp_filter", in(func(i *Iface) { i.RPFilter = "medium" }), "inbound.rp_filter", q("medium")},

	// MAC addresses: 6 bytes, unicast, not zero.
	{"mac", "malformed", in(func(i *Iface) { i.MAC = "zz" }), "inbound.mac", q("zz")},
	{"mac", "8 bytes", in(func(i *Iface) { i.MAC = "02:00:00:00:00:00:00:01" }), "inbound.mac", q("02:00:00:00:00:00:00:01")},
	{"mac", "multicast", in(func(i *Iface) { i.MAC = "01:00:5e:00:00:01" }), "inbound.mac", q("01:00:5e:00:00:01")},
	{"mac", "broadcast", in(func(i *Iface) { i.MAC = "ff:ff:ff:ff:ff:ff" }), "inbound.mac", q("ff:ff:ff:ff:ff:ff")},
	{"mac", "zero", out(func(i *Iface) { i.MAC = "00:00:00:00:00:00" }), "outbound.mac", q("00:00:00:00:00:00")},

	// MTU within the link's limits, at least 1280 with IPv6.
	{"mtu", "too low", in(func(i *Iface) { i.MTU = 10 }), "inbound.mtu", "10"},
	{"mtu", "too high", in(func(i *Iface) { i.MTU = 70000 }), "inbound.mtu", "70000"},
	{"mtu", "below IPv6's minimum", in(func(i *Iface) { i.MTU = 1279 }), "inbound.mtu", "1279"},
	{"mtu", "below IPv6's minimum (gateway6)", out(func(i *Iface) { i.Addresses = i.Addresses[:1]; i.MTU = 1000 }), "outbound.mtu", "1000"},
	{"mtu", "below IPv6's minimum (peer)", func(s *Spec) {
		s.Inbound.Addresses, s.Inbound.PeerAddresses, s.Inbound.MTU = s.Inbound.Addresses[:1], []string{"fd00:1::1/64"}, 576
	}, "inbound.mtu", "576"},

	// Sysctls: net.* keys of plain names, one-line values.
	{"sysctl", "not net", func(s *Spec) { s.Sysctl = map[string]string{"kernel.panic": "1"} }, `sysctl."kernel.panic"`, q("1")},
	{"sysctl", "empty part", func(s *Spec) { s.Sysctl = map[string]string{"net..ipv4": "1"} }, `sysctl."net..ipv4"`, q("1")},
	{"sysctl", "climbs out", func(s *Spec) { s.Sysctl = map[string]string{"net.//.//.kernel.panic": "1"} }, `sysctl."net.//.//.kernel.panic"`, q("1")},
	{"sysctl", "slash path", func(s *Spec) { s.Sysctl = map[string]string{"net/../../x": "1"} }, `sysctl."net/../../x"`, q("1")},
	{"sysctl", "empty value", func(s *Spec) { s.Sysctl = map[string]string{"net.ipv4.ip_forward": ""} }, `sysctl."net.ipv4.ip_forward"`, q("")},
	{"sysctl", "blank value", func(s *Spec) { s.Sysctl = map[string]string{"net.ipv4.ip_forward": " \t"} }, `sysctl."net.ipv4.ip_forward"`, q(" \t")},
	{"sysctl", "two lines", func(s *Spec) { s.Sysctl = map[string]string{"net.ipv4.ip_forward": "1\n0"} }, `sysctl."net.ipv4.ip_forward"`, q("1\n0")},
	{"sysctl", "no such interface", func(s *Spec) { s.Sysctl = map[string]string{"net.ipv6.conf.eth0.disable_ipv6": "1"} }, `sysctl."net.ipv6.conf.eth0.disable_ipv6"`, q("1")},
	{"sysctl", "dotted name unescaped", func(s *Spec) {
		s.Inbound.Name = "in.0"
		s.Sysctl = map[string]string{"net.ipv4.conf.in.0.arp_notify": "1"}
	}, `sysctl."net.ipv4.conf.in.0.arp_notify"`, q("1")},

	// DNS: RFC 1123 names, at most three nameservers, unicast.
	{"dns", "search a..b", func(s *Spec) { s.DNS.Search = []string{"a..b"} }, "dns.search[0]", q("a..b")},
	{"dns", "search -a", func(s *Spec) { s.DNS.Search = []string{"-a.example"} }, "dns.search[0]", q("-a.example")},
	{"dns", "search a newline", func(s *Spec) { s.DNS.Search = []string{"a\nnameserver 6.6.6.6"} }, "dns.search[0]", q("a\nnameserver 6.6.6.6")},
	{"dns", "search label of 64", func(s *Spec) { s.DNS.Search = []string{strings.Repeat("a", 64) + ".example"} }, "dns.search[0]", strings.Repeat("a", 64)},
	{"dns", "host name with a space", func(s *Spec) { s.DNS.Hosts = map[string]string{"db evil": "10.9.0.7"} }, `dns.hosts."db evil"`, q("10.9.0.7")},
	{"dns", "host name underscore", func(s *Spec) { s.DNS.Hosts = map[string]string{"d_b": "10.9.0.7"} }, `dns.hosts.d_b`, q("10.9.0.7")},
	{"dns", "fourth nameserver", func(s *Spec) { s.DNS.Nameservers = []string{"10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.4"} }, "dns.nameservers[3]", q("10.2.0.4")},
	{"dns", "link-local nameserver", func(s *Spec) { s.DNS.Nameservers = []string{"fe80::53"} }, "dns.nameservers[0]", q("fe80::53")},
	{"dns", "unspecified nameserver", func(s *Spec) { s.DNS.Nameservers = []string{"0.0.0.0"} }, "dns.nameservers[0]", q("0.0.0.0")},

	// Namespace names.
	{"names", "slash", func(s *Spec) { s.Name = "a/b" }, "namespace name", q("a/b")},
	{"names", "dotdot", func(s *Spec) { s.Name = ".." }, "namespace name", q("..")},
	{"names", "65 characters", func(s *Spec) { s.Name = strings.Repeat("a", 65) }, "namespace name", q(strings.Repeat("a", 65))},
	{"names", "leading dash", func(s *Spec) { s.Name = "-rf" }, "namespace name", q("-rf")},
	{"names", "host_netns leading dash", func(s *Spec) { s.HostNetns = "-x" }, "host_netns", q("-x")},
	{"names", "host_netns path", func(s *Spec) { s.HostNetns = "../x" }, "host_netns", q("../x")},
	{"names", "host_netns = name", func(s *Spec) { s.HostNetns = s.Name }, "host_netns", q("{name}")},
}

func TestValidateRefuses(t *testing.T) {
	s := validSpec()
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatalf("the base spec: %v", err)
	}
	for _, c := range badCases {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			s := validSpec()
			c.mod(s)
			s.Normalize()
			c.check(t, "web", s.Validate())
		})
	}
}

// hasLine reports a line of msg that names both key and value.
func hasLine(msg, key, value string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if strings.Contains(l, key) && strings.Contains(l, value) {
			return true
		}
	}
	return false
}

// TestBadCaseCounts prints the number of cases per class, for the record.
func TestBadCaseCounts(t *testing.T) {
	n := map[string]int{}
	for _, c := range badCases {
		n[c.class]++
	}
	classes := make([]string, 0, len(n))
	for c := range n {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		t.Logf("%-13s %d", c, n[c])
	}
	t.Logf("%-13s %d", "total", len(badCases))
}

// Values at the edges that the kernel takes: they must pass.
func TestValidateAccepts(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Spec)
	}{
		{"dotted names", func(s *Spec) {
			s.Inbound.Name, s.Outbound.Name = "in.0", "out.0"
			s.Sysctl = map[string]string{"net.ipv4.conf.in/0.arp_notify": "1", "net.ipv6.conf.out/0.accept_ra": "0"}
		}},
		{"link-local gateway6", out(func(i *Iface) { i.Gateway6 = "fe80::1" })},
		{"link-local gateway6 alone", out(func(i *Iface) {
			i.Addresses, i.Gateway, i.Routes = []string{"10.2.0.5/24"}, "", nil
			i.Gateway6 = "fe80::1"
		})},
		{"/31 and /32", func(s *Spec) {
			s.Inbound.Addresses, s.Inbound.PeerAddresses = []string{"10.1.0.0/31", "10.1.1.1/32"}, []string{"10.1.0.1/31"}
		}},
		{"gateway on a /31", out(func(i *Iface) {
			i.Addresses, i.Gateway, i.Gateway6, i.Routes = []string{"10.2.0.4/31"}, "10.2.0.5", "", nil
		})},
		{"IPv6 at 1280", in(func(i *Iface) { i.MTU = 1280 })},
		{"IPv4 only at 68", in(func(i *Iface) { i.Addresses, i.MTU = i.Addresses[:1], 68 })},
		{"link-local on both sides", func(s *Spec) {
			s.Inbound.Addresses = append(s.Inbound.Addresses, "fe80::5/64")
			s.Outbound.Addresses = append(s.Outbound.Addresses, "fe80::6/64")
		}},
		{"a split default on outbound", out(func(i *Iface) {
			i.Routes = []Route{{To: "0.0.0.0/1", Via: "10.2.0.1"}, {To: "128.0.0.0/1", Via: "10.2.0.1"}}
		})},
		{"inbound routes that leave a gap", in(func(i *Iface) { i.Routes = []Route{{To: "0.0.0.0/1"}, {To: "128.0.0.0/2"}} })},
		{"a route to a connected IPv6 subnet", in(func(i *Iface) { i.Routes = []Route{{To: "fd00:1::/64"}} })},
		{"sysctl values with spaces", func(s *Spec) { s.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0\t2147483647"} }},
		{"three nameservers", func(s *Spec) { s.DNS.Nameservers = []string{"10.2.0.1", "fd00:2::1", "127.0.0.53"} }},
		{"a locally administered MAC", in(func(i *Iface) { i.MAC = "02:00:00:00:00:01" })},
		{"host 0.0.0.0 (a blocked name)", func(s *Spec) { s.DNS.Hosts = map[string]string{"ads.example": "0.0.0.0"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := validSpec()
			c.mod(s)
			s.Normalize()
			if err := s.Validate(); err != nil {
				t.Errorf("got %v; want it accepted", err)
			}
		})
	}
}

// Validate only reads: a spec that was not normalized stays as it was.
func TestValidateHasNoSideEffects(t *testing.T) {
	s := validSpec()
	before := s.Canonical()
	s.Validate()
	s.Ifaces()
	if after := s.Canonical(); !bytes.Equal(before, after) {
		t.Errorf("Validate changed the spec:\n%s\nbecame\n%s", before, after)
	}
}
