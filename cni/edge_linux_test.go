package cni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netns-daemon/netns-daemon/internal/nstest"
)

// TestBadConfig: unknown keys (top level and nested) and bad values are
// error 7 naming them, before anything is touched.
func TestBadConfig(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		conf string
		code uint
		want string
	}{
		{`"colour":"blue","zone":1`, 7, `unknown key(s) "colour", "zone"`},
		{`"routes":[{"to":"10.0.0.0/8","gw":"10.0.0.1"}]`, 7, `unknown key "gw"`},
		{`"dns":{"nameservers":["10.0.0.1"],"domain":"x"}`, 7, `unknown key "domain"`},
		{`"role":"sideways"`, 7, `role = "sideways"`},
		{`"kind":"ipvlan"`, 7, `kind = "ipvlan"`},
		{`"addresses":["10.0.0.300/24"]`, 7, `addresses[0] = "10.0.0.300/24"`},
		{`"mtu":20`, 7, `mtu = 20`},
		{`"sysctl":{"kernel.panic":"1"}`, 7, `kernel.panic`},
		{`"reply_via":"10.0.0.1"`, 7, `only for role inbound`},
		{`"ipam":{"type":"../../bin/sh"}`, 7, `a plugin name, not a path`},
		{`"dns":{"nameservers":["resolver.example"]}`, 7, `dns.nameservers[0]`},
	} {
		conf := `{"cniVersion":"1.0.0","name":"cnitest-bad","type":"netns-daemon-cni","role":"outbound",` + tc.conf + `}`
		if strings.Contains(tc.conf, `"role"`) {
			conf = `{"cniVersion":"1.0.0","name":"cnitest-bad","type":"netns-daemon-cni",` + tc.conf + `}`
		}
		if msg := e.call("ADD", "out0", conf).fails(t, tc.code); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: got %q; want it to name %s", tc.conf, msg, tc.want)
		}
		e.assertClean(t, attachment{Network: "cnitest-bad", ContainerID: e.id, IfName: "out0"})
	}
}

// TestReplyVia: an inbound attachment with reply_via gets return routing in
// the container (a rule from its address to a table of its own whose
// default goes through the router on in0), and DEL takes it away.
func TestReplyVia(t *testing.T) {
	e := newEnv(t)
	conf := `{"cniVersion":"1.0.0","name":"cnitest-reply","type":"netns-daemon-cni","role":"inbound",
		"addresses":["10.10.0.5/24"],"peer_addresses":["10.10.0.1/24"],"reply_via":"10.10.0.1"}`
	e.call("ADD", "in0", conf).ok(t)
	if got := ipIn(t, e.ctr, "rule"); !strings.Contains(got, "from 10.10.0.5 lookup") {
		t.Errorf("rules after ADD: %q; want one from 10.10.0.5", got)
	}
	if got := ipIn(t, e.ctr, "route", "get", "192.0.2.1", "from", "10.10.0.5"); !strings.Contains(got, "via 10.10.0.1 dev in0") {
		t.Errorf("a reply from 10.10.0.5: %q; want via 10.10.0.1 dev in0", got)
	}
	if got := defaults(t, e.ctr); len(got) != 0 {
		t.Errorf("default routes in the main table: %q; want none (inbound)", got)
	}
	e.call("DEL", "in0", conf).ok(t)
	if got := ipIn(t, e.ctr, "rule"); strings.Contains(got, "10.10.0.5") {
		t.Errorf("rules after DEL: %q", got)
	}
	e.assertClean(t, attachment{Network: "cnitest-reply", ContainerID: e.id, IfName: "in0"})
}

// TestAddRefusesExistingIfname: CNI_IFNAME in the container already is an
// error, and that interface is left alone.
func TestAddRefusesExistingIfname(t *testing.T) {
	e := newEnv(t)
	nstest.Sh(t, e.ctr, "ip link add out0 type veth peer name other0")
	if msg := e.call("ADD", "out0", outboundConf("1.0.0", "cnitest-dup")).fails(t, ErrIfaceExists); !strings.Contains(msg, `"out0" exists`) {
		t.Errorf("got %q", msg)
	}
	e.assertClean(t, attachment{Network: "cnitest-dup", ContainerID: e.id, IfName: "out0"}, "out0", "other0")
}

// TestDelEdgeCases: DEL succeeds and cleans the host side whatever is left
// of the container: nothing ever added, an empty CNI_NETNS (containerd),
// the namespace gone, the interface gone.
func TestDelEdgeCases(t *testing.T) {
	conf := inboundConf("1.0.0", "cnitest-del")
	t.Run("never added", func(t *testing.T) {
		e := newEnv(t)
		e.call("DEL", "in0", conf).ok(t)
		d := e.call("DEL", "in0", conf)
		d.netns = ""
		d.ok(t)
	})
	t.Run("empty CNI_NETNS", func(t *testing.T) {
		e := newEnv(t)
		e.call("ADD", "in0", conf).ok(t)
		d := e.call("DEL", "in0", conf)
		d.netns = ""
		d.ok(t)
		d.ok(t)
		// the container lives on, but its end went with the host side
		e.assertClean(t, attachment{Network: "cnitest-del", ContainerID: e.id, IfName: "in0"})
	})
	t.Run("namespace gone", func(t *testing.T) {
		e := newEnv(t)
		e.call("ADD", "in0", conf).ok(t)
		nstest.IP(t, "netns", "del", e.ctr)
		e.call("DEL", "in0", conf).ok(t)
		e.ctr = nstest.NS(t, "cnic") // for assertClean
		e.assertClean(t, attachment{Network: "cnitest-del", ContainerID: e.id, IfName: "in0"})
	})
	t.Run("interface gone", func(t *testing.T) {
		e := newEnv(t)
		e.call("ADD", "in0", conf).ok(t)
		ipIn(t, e.ctr, "link", "del", "in0")
		e.call("DEL", "in0", conf).ok(t)
		e.call("DEL", "in0", conf).ok(t)
		e.assertClean(t, attachment{Network: "cnitest-del", ContainerID: e.id, IfName: "in0"})
	})
}

// TestFailedAddLeavesNothing fails ADD at each step the engine takes (the
// link, an address, a route, a sysctl) and after IPAM: nothing is left in
// either namespace or in the state directory, and the IPAM address is
// released.
func TestFailedAddLeavesNothing(t *testing.T) {
	dataDir := t.TempDir()
	ipam := fmt.Sprintf(`"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.30.0.0/24"}]]}`, dataDir)
	for _, tc := range []struct{ name, keys, want string }{
		{"link", `"kind":"macvlan","parent":"nosuch0"`, "nosuch0"},
		// IPv6 off in the container: the kernel refuses the address
		{"address", `"addresses":["fd00:30::5/64"]`, "fd00:30::5/64"},
		{"peer taken", `"peer":"taken0"`, "is already taken"},
		{"route", `"routes":[{"to":"10.77.0.0/16","via":"10.30.0.1"},{"to":"10.77.0.0/16","via":"10.30.0.2"}]`, "10.77.0.0/16"},
		{"sysctl", `"sysctl":{"net.ipv4.conf.in0.no_such_knob":"1"}`, "no_such_knob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ipIn(t, e.host, "link", "add", "taken0", "type", "veth", "peer", "name", "taken1")
			nstest.Sh(t, e.ctr, "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
			conf := `{"cniVersion":"1.0.0","name":"cnitest-fail","type":"netns-daemon-cni","role":"inbound",` + ipam + `,` + tc.keys + `}`
			out, code := e.call("ADD", "in0", conf).run(t)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("ADD: exit %d, %s; want an error naming %s", code, out, tc.want)
			}
			var cerr struct{ Code uint }
			if json.Unmarshal([]byte(out), &cerr) != nil || cerr.Code == 0 {
				t.Errorf("not CNI error JSON: %s", out)
			}
			e.assertClean(t, attachment{Network: "cnitest-fail", ContainerID: e.id, IfName: "in0"})
			if got := ipIn(t, e.ctr, "-o", "addr"); strings.Contains(got, "10.30.") {
				t.Errorf("container addresses: %s", got)
			}
			leased, _ := filepath.Glob(filepath.Join(dataDir, "cnitest-fail", "10.*"))
			if len(leased) > 0 {
				t.Errorf("IPAM addresses not released: %v", leased)
			}
		})
	}
}

// TestIPAMHostLocal: addresses, gateway and routes from host-local, the
// default route only for outbound, released at DEL.
func TestIPAMHostLocal(t *testing.T) {
	for _, role := range []string{"outbound", "inbound"} {
		t.Run(role, func(t *testing.T) {
			e := newEnv(t)
			dataDir := t.TempDir()
			conf := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"cnitest-ipam","type":"netns-daemon-cni","role":%q,
				"ipam":{"type":"host-local","dataDir":%q,"ranges":[[{"subnet":"10.40.0.0/24","gateway":"10.40.0.1"}]],
				"routes":[{"dst":"0.0.0.0/0"},{"dst":"10.41.0.0/16"}]}}`, role, dataDir)
			r := parseResult(t, e.call("ADD", "eth1", conf).ok(t))
			if len(r.IPs) != 1 || !strings.HasPrefix(r.IPs[0].Address, "10.40.0.") {
				t.Fatalf("ips: got %+v; want one from 10.40.0.0/24", r.IPs)
			}
			addr := r.IPs[0].Address
			if got := ipIn(t, e.ctr, "-br", "addr", "show", "eth1"); !strings.Contains(got, addr) {
				t.Errorf("eth1: got %q; want %s", got, addr)
			}
			if got := ipIn(t, e.ctr, "route", "show", "10.41.0.0/16"); !strings.Contains(got, "via 10.40.0.1 dev eth1") {
				t.Errorf("route to 10.41.0.0/16: got %q", got)
			}
			got := defaults(t, e.ctr)
			if role == "outbound" && (len(got) != 1 || !strings.Contains(got[0], "via 10.40.0.1 dev eth1")) {
				t.Errorf("default routes: got %q; want one via 10.40.0.1", got)
			}
			if role == "inbound" && len(got) != 0 {
				t.Errorf("default routes: got %q; inbound never carries one", got)
			}
			ip := strings.SplitN(addr, "/", 2)[0]
			if _, err := os.Stat(filepath.Join(dataDir, "cnitest-ipam", ip)); err != nil {
				t.Errorf("host-local lease: %v", err)
			}
			e.call("DEL", "eth1", conf).ok(t)
			if _, err := os.Stat(filepath.Join(dataDir, "cnitest-ipam", ip)); err == nil {
				t.Errorf("host-local lease of %s still there after DEL", ip)
			}
			e.assertClean(t, attachment{Network: "cnitest-ipam", ContainerID: e.id, IfName: "eth1"})
		})
	}
}

// TestMacvlan: kind macvlan on a parent in the host namespace: one
// sandbox interface in the result, with its MAC.
func TestMacvlan(t *testing.T) {
	e := newEnv(t)
	ipIn(t, e.host, "link", "add", "taken-par0", "type", "veth", "peer", "name", "taken-par1")
	conf := `{"cniVersion":"1.1.0","name":"cnitest-mvl","type":"netns-daemon-cni","role":"outbound","kind":"macvlan","parent":"taken-par0",
		"addresses":["10.85.0.5/24"],"gateway":"10.85.0.1"}`
	add := e.call("ADD", "out0", conf)
	res := add.ok(t)
	r := parseResult(t, res)
	if len(r.Interfaces) != 1 || r.Interfaces[0].Sandbox == "" || r.Interfaces[0].Mac == "" || *r.IPs[0].Interface != 0 {
		t.Errorf("result: %s; want one sandbox interface with a mac, ips pointing at it", res)
	}
	if got := ipIn(t, e.ctr, "-d", "link", "show", "out0"); !strings.Contains(got, "macvlan mode bridge") || !strings.Contains(got, r.Interfaces[0].Mac) {
		t.Errorf("out0: %s; want a bridge-mode macvlan with mac %s", got, r.Interfaces[0].Mac)
	}
	chk := add
	chk.cmd, chk.conf = "CHECK", withPrev(t, conf, res)
	chk.ok(t)
	// CHECK compares the kernel with prevResult too
	ipIn(t, e.ctr, "link", "set", "out0", "address", "02:00:00:00:85:99")
	if msg := chk.fails(t, 999); !strings.Contains(msg, "02:00:00:00:85:99") {
		t.Errorf("CHECK with another mac: got %q", msg)
	}
	add.cmd = "DEL"
	add.ok(t)
	e.assertClean(t, attachment{Network: "cnitest-mvl", ContainerID: e.id, IfName: "out0"})
}

// TestAddTwice: ADD again for a live attachment is refused (code 101); an
// attachment whose namespace went without DEL is cleaned up by the next
// ADD of the same container and interface; the plugin's own namespace is
// never a container (code 8).
func TestAddTwice(t *testing.T) {
	e := newEnv(t)
	conf := inboundConf("1.0.0", "cnitest-twice")
	add := e.call("ADD", "in0", conf)
	first := parseResult(t, add.ok(t))
	ipIn(t, e.ctr, "link", "set", "in0", "name", "moved0") // so the interface check passes
	if msg := add.fails(t, ErrAttachmentTwin); !strings.Contains(msg, "DEL it first") {
		t.Errorf("got %q", msg)
	}
	ipIn(t, e.ctr, "link", "set", "moved0", "name", "in0")
	// the container dies without DEL; its ID comes back in a new namespace
	nstest.IP(t, "netns", "del", e.ctr)
	e.ctr = nstest.NS(t, "cnic")
	again := e.call("ADD", "in0", conf)
	second := parseResult(t, again.ok(t))
	if got := links(t, e.host); len(got) != 2 || got[1] != second.Interfaces[0].Name {
		t.Errorf("host links: %v; want lo and the new peer %s (the old %s gone)", got, second.Interfaces[0].Name, first.Interfaces[0].Name)
	}
	again.cmd = "DEL"
	again.ok(t)
	e.assertClean(t, attachment{Network: "cnitest-twice", ContainerID: e.id, IfName: "in0"})

	self := e.call("ADD", "in0", conf)
	self.netns = "/run/netns/" + e.host
	self.fails(t, 8)
	e.assertClean(t, attachment{Network: "cnitest-twice", ContainerID: e.id, IfName: "in0"})
}
