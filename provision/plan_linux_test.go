package provision

import (
	"strings"
	"testing"
)

// The plan, rendered as commands, is the dry-run: compare a transcript.
func TestPlanTranscript(t *testing.T) {
	s := &Spec{Name: "web", HostNetns: "host",
		Inbound: &Iface{Kind: KindMacvlan, Parent: "eth0", Addresses: []string{"192.0.2.10/24"}, Hairpin: true},
		Outbound: &Iface{Addresses: []string{"10.2.0.5/24"}, Gateway: "10.2.0.1",
			Routes: []Route{{To: "10.9.0.0/16", Via: "10.2.0.1"}}},
		DNS: DNS{Nameservers: []string{"10.2.0.1"}},
	}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := `ip netns add web
ip -n web link set lo up
ip -n host link add link eth0 name in0 type macvlan mode bridge netns web
ip -n web addr add 192.0.2.10/24 dev in0
ip -n web link set in0 up
ip -n host link add link eth0 name web-hpi type macvlan mode bridge
ip -n host link set web-hpi up
ip -n host route add 192.0.2.10/32 dev web-hpi
ip -n host link add web-out type veth peer name out0 netns web
ip -n host addr add 10.2.0.1/24 dev web-out
ip -n host link set web-out up
ip -n web addr add 10.2.0.5/24 dev out0
ip -n web link set out0 up
ip -n web route add 10.9.0.0/16 via 10.2.0.1 dev out0
ip -n web route add default via 10.2.0.1 dev out0
ip netns exec web sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.in0.rp_filter=2 net.ipv4.conf.out0.rp_filter=1
mkdir -p /etc/netns/web && write /etc/netns/web/resolv.conf`
	if got := strings.Join(Plan(s), "\n"); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}
