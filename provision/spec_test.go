package provision

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadRejectsUnknownKeys(t *testing.T) {
	_, err := Load(strings.NewReader("[inbound]\naddress = [\"10.0.0.1/24\"]\n"))
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "inbound.address") {
		t.Fatalf("got %v; want an unknown key error naming inbound.address", err)
	}
}

func TestValidate(t *testing.T) {
	ok := func() *Spec {
		return &Spec{Name: "web",
			Inbound:  &Iface{Addresses: []string{"10.1.0.5/24"}},
			Outbound: &Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1"}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Spec)
		want string
	}{
		{"slash in name", func(s *Spec) { s.Name = "a/b" }, `namespace name "a/b"`},
		{"dotdot name", func(s *Spec) { s.Name = ".." }, `namespace name ".."`},
		{"long name", func(s *Spec) { s.Name = strings.Repeat("a", 65) }, "namespace name"},
		{"16-char ifname", func(s *Spec) { s.Inbound.Name = "abcdefghijklmnop" }, `inbound.name = "abcdefghijklmnop"`},
		{"space in ifname", func(s *Spec) { s.Inbound.Name = "in 0" }, `inbound.name = "in 0"`},
		{"bad cidr", func(s *Spec) { s.Inbound.Addresses = []string{"10.1.0.300/24"} }, `"10.1.0.300/24" is not an address/prefix`},
		{"no prefix", func(s *Spec) { s.Inbound.Addresses = []string{"10.1.0.5"} }, `"10.1.0.5" is not an address/prefix`},
		{"gateway outside", func(s *Spec) { s.Outbound.Gateway = "10.9.0.1" }, `outbound.gateway = "10.9.0.1": not inside`},
		{"gateway on inbound", func(s *Spec) { s.Inbound.Gateway = "10.1.0.1" }, "only [outbound] may carry a default route"},
		{"gateway6 v4", func(s *Spec) { s.Outbound.Gateway6 = "10.2.0.1" }, "outbound.gateway6"},
		{"same name twice", func(s *Spec) { s.Outbound.Name = "in0" }, `outbound.name = "in0": already used by inbound.name`},
		{"same peer twice", func(s *Spec) { s.Outbound.Peer = "x"; s.Inbound.Peer = "x" }, `outbound.peer = "x": already used`},
		{"bad kind", func(s *Spec) { s.Inbound.Kind = "tun" }, `inbound.kind = "tun"`},
		{"macvlan without parent", func(s *Spec) { s.Inbound.Kind = KindMacvlan }, "inbound.parent: required"},
		{"bad mode", func(s *Spec) { s.Inbound.Kind, s.Inbound.Parent, s.Inbound.Mode = KindMacvlan, "eth0", "fast" }, `inbound.mode = "fast"`},
		{"hairpin on veth", func(s *Spec) { s.Inbound.Hairpin = true }, "hairpin: only for kind macvlan"},
		{"bad rp_filter", func(s *Spec) { s.Inbound.RPFilter = "medium" }, `inbound.rp_filter = "medium"`},
		{"bad mtu", func(s *Spec) { s.Inbound.MTU = 10 }, "inbound.mtu = 10"},
		{"bad mac", func(s *Spec) { s.Inbound.MAC = "zz" }, `inbound.mac = "zz"`},
		{"bad route", func(s *Spec) { s.Inbound.Routes = []Route{{To: "10.9.0.0", Via: "10.1.0.1"}} }, "inbound.routes[0].to"},
		{"non-net sysctl", func(s *Spec) { s.Sysctl = map[string]string{"kernel.panic": "1"} }, `sysctl "kernel.panic"`},
		{"sysctl escape", func(s *Spec) { s.Sysctl = map[string]string{"net/../../x": "1"} }, "sysctl"},
		{"bad nameserver", func(s *Spec) { s.DNS.Nameservers = []string{"dns.example"} }, "dns.nameservers"},
		{"bad host", func(s *Spec) { s.DNS.Hosts = map[string]string{"db": "x"} }, `dns.hosts."db"`},
		{"bad host netns", func(s *Spec) { s.HostNetns = "../x" }, "host_netns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.mod(s)
			err := s.Validate()
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want ErrInvalidSpec containing %q", err, tc.want)
			}
		})
	}
}

func TestDerivedPeerNamesFit(t *testing.T) {
	s := &Spec{Name: "a-very-long-service-name", Inbound: &Iface{}, Outbound: &Iface{}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s.Inbound.Peer) > 15 || s.Inbound.Peer == s.Outbound.Peer {
		t.Fatalf("derived peers %q, %q: want distinct names of at most 15 characters", s.Inbound.Peer, s.Outbound.Peer)
	}
}
