package cni

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// stock returns a plugin of Debian's containernetworking-plugins, or skips.
func stock(t *testing.T, name string) string {
	t.Helper()
	p := "/usr/lib/cni/" + name
	if _, err := os.Stat(p); err != nil {
		t.Skipf("needs %s (Debian's containernetworking-plugins; scripts/deps.sh installs it)", p)
	}
	return p
}

// TestChainedAfterPtp: inbound after ptp takes the default route ptp made
// away (and puts it back at DEL), relaxes rp_filter and passes ptp's
// result on without a default route.
func TestChainedAfterPtp(t *testing.T) {
	e := newEnv(t)
	ptpConf := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"cnitest-ptp","type":"ptp",
		"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.50.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}`, t.TempDir())
	ptp := e.call("ADD", "eth0", ptpConf)
	ptp.plugin = stock(t, "ptp")
	prev := ptp.ok(t)
	if got := defaults(t, e.ctr); len(got) != 1 {
		t.Fatalf("after ptp: default routes %q; want ptp's one", got)
	}
	conf := withPrev(t, `{"cniVersion":"1.0.0","name":"cnitest-ptp","type":"netns-daemon-cni","role":"inbound",
		"sysctl":{"net.ipv4.conf.eth0.arp_ignore":"1"}}`, prev)
	add := e.call("ADD", "eth0", conf)
	res := add.ok(t)
	r := parseResult(t, res)
	if got := defaults(t, e.ctr); len(got) != 0 {
		t.Errorf("default routes after inbound: got %q; want none", got)
	}
	for key, want := range map[string]string{"net.ipv4.conf.eth0.rp_filter": "2", "net.ipv4.conf.eth0.arp_ignore": "1"} {
		if got := sysctlIn(t, e.ctr, key); got != want {
			t.Errorf("%s: got %s; want %s", key, got, want)
		}
	}
	pr := parseResult(t, prev)
	if len(r.Interfaces) != len(pr.Interfaces) || len(r.IPs) != 1 || r.IPs[0].Address != pr.IPs[0].Address {
		t.Errorf("result: got %+v; want ptp's interfaces and address passed on", r)
	}
	for _, rt := range r.Routes {
		if rt.Dst == "0.0.0.0/0" {
			t.Errorf("result route %+v: inbound passes on no default route", rt)
		}
	}
	chk := add
	chk.cmd, chk.conf = "CHECK", withPrev(t, conf, res)
	chk.ok(t)
	ipIn(t, e.ctr, "route", "add", "default", "via", pr.IPs[0].Gateway, "dev", "eth0")
	if msg := chk.fails(t, 999); !strings.Contains(msg, "is back") {
		t.Errorf("CHECK with the default route back: got %q", msg)
	}
	ipIn(t, e.ctr, "route", "del", "default")
	del := add
	del.cmd = "DEL"
	del.ok(t)
	if got := defaults(t, e.ctr); len(got) != 1 || !strings.Contains(got[0], "dev eth0") {
		t.Errorf("after DEL: default routes %q; want ptp's back", got)
	}
	if got := sysctlIn(t, e.ctr, "net.ipv4.conf.eth0.arp_ignore"); got != "0" {
		t.Errorf("arp_ignore after DEL: got %s; want 0 as before", got)
	}
	ptp.cmd = "DEL"
	ptp.ok(t)
	e.assertClean(t, attachment{Network: "cnitest-ptp", ContainerID: e.id, IfName: "eth0"})
}

// TestChainedAfterMacvlan: outbound after macvlan keeps the default route
// the macvlan's IPAM made, applies sysctls and passes the result on.
func TestChainedAfterMacvlan(t *testing.T) {
	e := newEnv(t)
	ipIn(t, e.host, "link", "add", "taken-par0", "type", "veth", "peer", "name", "taken-par1")
	ipIn(t, e.host, "link", "set", "taken-par0", "up")
	mvConf := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"cnitest-mv","type":"macvlan","master":"taken-par0","mode":"bridge",
		"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.60.0.0/24","gateway":"10.60.0.1"}]],"routes":[{"dst":"0.0.0.0/0"}]}}`, t.TempDir())
	mv := e.call("ADD", "out0", mvConf)
	mv.plugin = stock(t, "macvlan")
	prev := mv.ok(t)
	conf := withPrev(t, `{"cniVersion":"1.0.0","name":"cnitest-mv","type":"netns-daemon-cni","role":"outbound",
		"routes":[{"to":"10.61.0.0/16","via":"10.60.0.1"}],"sysctl":{"net.ipv4.conf.out0.arp_notify":"1"}}`, prev)
	add := e.call("ADD", "out0", conf)
	res := add.ok(t)
	r := parseResult(t, res)
	if got := defaults(t, e.ctr); len(got) != 1 || !strings.Contains(got[0], "via 10.60.0.1 dev out0") {
		t.Errorf("default routes: got %q; want macvlan's one kept", got)
	}
	if got := ipIn(t, e.ctr, "route", "show", "10.61.0.0/16"); !strings.Contains(got, "via 10.60.0.1 dev out0") {
		t.Errorf("route 10.61.0.0/16: got %q", got)
	}
	for key, want := range map[string]string{"net.ipv4.conf.out0.rp_filter": "1", "net.ipv4.conf.out0.arp_notify": "1"} {
		if got := sysctlIn(t, e.ctr, key); got != want {
			t.Errorf("%s: got %s; want %s", key, got, want)
		}
	}
	if len(r.Interfaces) != 1 || r.Interfaces[0].Name != "out0" || r.Interfaces[0].Mac == "" || len(r.IPs) != 1 {
		t.Errorf("result: got %+v; want macvlan's interface and address passed on", r)
	}
	chk := add
	chk.cmd, chk.conf = "CHECK", withPrev(t, conf, res)
	chk.ok(t)
	del := add
	del.cmd = "DEL"
	del.ok(t)
	if got := ipIn(t, e.ctr, "route", "show", "10.61.0.0/16"); got != "" {
		t.Errorf("route 10.61.0.0/16 after DEL: got %q; want it gone", got)
	}
	if got := ipIn(t, e.ctr, "-br", "link", "show", "out0"); !strings.Contains(got, "out0") {
		t.Errorf("after DEL: out0 %q; want macvlan's interface left to macvlan", got)
	}
	mv.cmd = "DEL"
	mv.ok(t)
	e.assertClean(t, attachment{Network: "cnitest-mv", ContainerID: e.id, IfName: "out0"})
}
