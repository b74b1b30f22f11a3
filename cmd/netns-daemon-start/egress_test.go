package main

import (
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// The egress flags reach the plan: --dry-run shows each as the nft or ip
// rule command start would run.
func TestEgressFlagsInDryRun(t *testing.T) {
	name := nstest.Name("ndc")
	out, code := run(t, "--dry-run", "--network", "10.1.0.5/24", "--peer-address", "10.1.0.1/24", "--reply-via", "10.1.0.1",
		"--outbound", "10.2.0.5/24", "--gateway", "10.2.0.1", "--masquerade", "eth0", "--egress-only", "out0",
		"--publish", "udp:0.0.0.0:5353=10.1.0.5:53", name)
	if code != 0 {
		t.Fatalf("got exit %d: %s", code, out)
	}
	for _, want := range []string{
		"ip -n " + name + " -4 rule add from 10.1.0.5/32 lookup 1000 pref 1000",
		"ip -n " + name + " route add default via 10.1.0.1 dev in0 table 1000",
		`oifname "eth0" ip saddr 10.2.0.0/24 masquerade`,
		`table inet netns_daemon_guard { chain allowed { oifname "out0" accept; };`,
		"udp dport 5353 dnat to 10.1.0.5:53",
		"sysctl -qw net.ipv6.conf.in0.accept_ra=0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

func TestEgressFlagsBadInputExit2(t *testing.T) {
	name := nstest.Name("ndc")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--reply-via", "10.1.0.1", name}, "--reply-via needs an inbound interface"},
		{[]string{"--masquerade", "eth0", name}, "--masquerade needs an outbound interface"},
		{[]string{"--network", "10.1.0.5/24", "--publish", "tcp:8080", name}, `--publish "tcp:8080"`},
		{[]string{"--network", "10.1.0.5/24", "--publish", "tcp:0.0.0.0:0=10.1.0.5:80", name}, `publish[0].host = "0.0.0.0:0"`},
		{[]string{"--network", "10.1.0.5/24", "--egress-only", "eth0", name}, `egress.only[0] = "eth0"`},
		{[]string{"--network", "10.1.0.5/24", "--reply-via", "10.9.0.1", name}, `inbound.reply_via = "10.9.0.1"`},
	} {
		out, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%q: got exit %d, %q; want exit 2 with %q", tc.args, code, out, tc.want)
		}
	}
}
