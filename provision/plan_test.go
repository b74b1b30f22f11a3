package provision

import (
	"strings"
	"testing"
)

func transcriptSpec() *Spec {
	s := &Spec{Name: "web", HostNetns: "host",
		Inbound: &Iface{Kind: KindMacvlan, Parent: "eth0", Addresses: []string{"192.0.2.10/24"}, Hairpin: true},
		Outbound: &Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1",
			Routes: []Route{{To: "10.9.0.0/16", Via: "10.2.0.1"}}},
		DNS: DNS{Nameservers: []string{"10.2.0.1"}},
	}
	s.Normalize()
	return s
}

// The plan, rendered as commands, is the dry-run: compare a transcript.
func TestPlanTranscript(t *testing.T) {
	s := transcriptSpec()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := `ip netns add web && ip -n web link set lo up
ip netns exec web sysctl -qw net.ipv6.conf.default.accept_ra=0
ip netns exec web sysctl -qw net.ipv6.conf.default.autoconf=0
ip -n host link add link eth0 name in0 type macvlan mode bridge netns web && ip -n web link set in0 up
ip -n web addr add 192.0.2.10/24 dev in0
ip -n host link add link eth0 name web-hpi type macvlan mode bridge && ip -n host link set web-hpi up
ip -n host route add 192.0.2.10/32 dev web-hpi
ip -n host link add web-out type veth peer name out0 netns web && ip -n host link set web-out up && ip -n web link set out0 up
ip -n host addr add 10.2.0.1/24 dev web-out
ip -n web addr add 10.2.0.5/24 dev out0
ip -n web route add 10.9.0.0/16 via 10.2.0.1 dev out0
ip -n web route add default via 10.2.0.1 dev out0
ip netns exec web sysctl -qw net.ipv4.conf.all.rp_filter=1
ip netns exec web sysctl -qw net.ipv4.conf.in0.rp_filter=2
ip netns exec web sysctl -qw net.ipv4.conf.out0.rp_filter=1
ip netns exec web sysctl -qw net.ipv6.conf.in0.accept_ra=0
ip netns exec web sysctl -qw net.ipv6.conf.in0.autoconf=0
ip netns exec web sysctl -qw net.ipv6.conf.out0.accept_ra=0
ip netns exec web sysctl -qw net.ipv6.conf.out0.autoconf=0
ip netns exec host sysctl -qw net.ipv6.conf.web-hpi.accept_ra=0
ip netns exec host sysctl -qw net.ipv6.conf.web-hpi.autoconf=0
ip netns exec host sysctl -qw net.ipv6.conf.web-out.accept_ra=0
ip netns exec host sysctl -qw net.ipv6.conf.web-out.autoconf=0
mkdir -p /etc/netns/web
write /etc/netns/web/resolv.conf (70 bytes)`
	if got := strings.Join(Plan(s), "\n"); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

// A changed spec renders as only its difference.
func TestDiffTranscript(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"unchanged", func(*Spec) {}, ""},
		{"add an address and a route", func(s *Spec) {
			s.Outbound.Addresses = append(s.Outbound.Addresses, "10.2.0.6/24")
			s.Outbound.Routes = append(s.Outbound.Routes, Route{To: "10.8.0.0/16", Via: "10.2.0.1"})
		}, `ip -n web addr add 10.2.0.6/24 dev out0
ip -n web route add 10.8.0.0/16 via 10.2.0.1 dev out0`},
		{"drop a route, a sysctl and the DNS", func(s *Spec) {
			s.Outbound.Routes = nil
			s.DNS = DNS{}
			s.Sysctl = nil
		}, `rm /etc/netns/web/resolv.conf (if it still holds what start wrote)
rmdir /etc/netns/web (if start made it and it is empty)
ip -n web route del 10.9.0.0/16 via 10.2.0.1 dev out0`},
		{"change a sysctl in place", func(s *Spec) { s.Outbound.RPFilter = "loose" },
			`ip netns exec web sysctl -qw net.ipv4.conf.all.rp_filter=2
ip netns exec web sysctl -qw net.ipv4.conf.out0.rp_filter=2`},
		{"a new peer name recreates that veth only", func(s *Spec) { s.Outbound.Peer = "web-up" },
			`ip -n web link del out0
ip -n host link add web-up type veth peer name out0 netns web && ip -n host link set web-up up && ip -n web link set out0 up
ip -n host addr add 10.2.0.1/24 dev web-up
ip -n web addr add 10.2.0.5/24 dev out0
ip -n web route add 10.9.0.0/16 via 10.2.0.1 dev out0
ip -n web route add default via 10.2.0.1 dev out0
ip netns exec web sysctl -qw net.ipv4.conf.out0.rp_filter=1
ip netns exec web sysctl -qw net.ipv6.conf.out0.accept_ra=0
ip netns exec web sysctl -qw net.ipv6.conf.out0.autoconf=0
ip netns exec host sysctl -qw net.ipv6.conf.web-up.accept_ra=0
ip netns exec host sysctl -qw net.ipv6.conf.web-up.autoconf=0`},
		{"reply routing", func(s *Spec) { s.Inbound.ReplyVia = "192.0.2.1" },
			`ip netns exec web nft 'table inet netns_daemon_reply { chain tag_in { type filter hook prerouting priority -150; iifname "in0" ct state new ct mark set 0x6e64; }; chain route_out { type route hook output priority -150; ct mark 0x6e64 meta mark set ct mark; }; }'
ip -n web -4 rule add from 192.0.2.10/32 lookup 1000 pref 1000
ip -n web -4 rule add fwmark 0x6e64 lookup 1000 pref 1001
ip -n web route add 192.0.2.0/24 dev in0 table 1000
ip -n web route add default via 192.0.2.1 dev in0 table 1000`},
		{"the leak guard", func(s *Spec) { s.Egress.Only = []string{"out0"} },
			`ip netns exec web nft 'table inet netns_daemon_guard { chain allowed { oifname "out0" accept; }; chain out { type filter hook output priority 0; policy drop; ct state established,related accept; oifname "lo" accept; meta nfproto ipv6 icmpv6 type nd-neighbor-solicit accept; meta nfproto ipv6 icmpv6 type nd-neighbor-advert accept; meta nfproto ipv6 icmpv6 type mld2-listener-report accept; meta nfproto ipv4 ip daddr 10.2.0.1 udp dport 53 jump allowed; meta nfproto ipv4 ip daddr 10.2.0.1 tcp dport 53 jump allowed; udp dport 53 drop; tcp dport 53 drop; jump allowed; }; }'`},
		{"NAT and a published port", func(s *Spec) {
			s.Outbound.Masquerade = "eth1"
			s.Publish = []Publish{{Proto: "tcp", Host: "0.0.0.0:8080", To: "10.2.0.5:80"}}
		}, `ip netns exec host nft 'table ip netns_daemon_web_nat { chain post { type nat hook postrouting priority 100; oifname "eth1" ip saddr 10.2.0.0/24 masquerade; }; chain guard_forward { type filter hook forward priority 0; iifname "eth1" ip daddr 192.0.2.0/24 ct state new ct status != dnat drop; iifname "eth1" ip daddr 10.2.0.0/24 ct state new ct status != dnat drop; }; }' && { [ "$(ip netns exec host cat /proc/sys/net/ipv4/conf/eth1/forwarding)" = 1 ] || ip netns exec host nft 'add rule ip netns_daemon_web_nat guard_forward iifname "eth1" ct state new ct status != dnat drop'; }
ip netns exec host sysctl -qw net.ipv4.conf.eth1.forwarding=1
ip netns exec host sysctl -qw net.ipv4.conf.web-out.forwarding=1
ip netns exec host nft 'table ip netns_daemon_web_publish { chain pre { type nat hook prerouting priority -100; ip daddr != 127.0.0.0/8 fib daddr type local tcp dport 8080 dnat to 10.2.0.5:80; }; chain out { type nat hook output priority -100; ip daddr != 127.0.0.0/8 fib daddr type local tcp dport 8080 dnat to 10.2.0.5:80; }; }'`},
		{"drop the hairpin", func(s *Spec) { s.Inbound.Hairpin = false },
			`ip -n host link del web-hpi`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			was := transcriptSpec()
			s := transcriptSpec()
			tc.change(s)
			s.Normalize()
			got := strings.Join(planChange(desired(was), s), "\n")
			if got != tc.want {
				t.Errorf("difference:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// A changed table is swapped in one transaction, not deleted and added:
// the guard has no gap.
func TestDiffSwapsTable(t *testing.T) {
	was := transcriptSpec()
	was.Egress.Only = []string{"out0"}
	s := transcriptSpec()
	s.Egress.Only = []string{"out0"}
	s.DNS.Nameservers = []string{"10.2.0.9"}
	got := planChange(desired(was), s)
	var nft []string
	for _, l := range got {
		if strings.Contains(l, "nft ") {
			nft = append(nft, l)
		}
	}
	if len(nft) != 1 || !strings.HasPrefix(nft[0], "ip netns exec web nft 'delete table inet netns_daemon_guard; table inet netns_daemon_guard {") ||
		!strings.Contains(nft[0], "ip daddr 10.2.0.9 udp dport 53") {
		t.Errorf("difference:\n%s\nwant one nft line swapping the guard", strings.Join(got, "\n"))
	}
}
